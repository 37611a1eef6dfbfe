"""One Go binary, and two: the ELF, Mach-O and PE readers, the pclntab and build info, where every byte goes
(analyze), and what changed between two binaries (diff)."""
