"""One interface over the executable formats Go produces: ELF, Mach-O and PE.

``open_binary(path)`` memory-maps the file once and returns the reader for its format.
Everything above this module (pclntab, buildinfo, attribution) sees only ``BinaryFile``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from sizebot.binary.model import Section, Symbol


class BinaryFile(ABC):
    """A mapped executable. ``data`` is a memoryview over the whole file (an mmap)."""

    path: str
    format: str  # "elf" | "macho" | "pe"
    goos: str  # from the format ("linux", "darwin", "windows", ...); build info may refine it
    goarch: str  # "amd64", "arm64", "386", "arm", ...
    ptr_size: int  # 4 or 8
    byte_order: str  # "little" | "big"
    file_size: int
    data: memoryview
    sections: tuple[Section, ...]

    def section(self, name: str) -> Section | None:
        for s in self.sections:
            if s.name == name:
                return s
        return None

    def section_bytes(self, section: Section) -> memoryview:
        """The section's bytes as stored in the file (empty for zero-fill sections)."""
        return self.data[section.offset : section.offset + section.file_size]

    def vaddr_to_offset(self, addr: int) -> int | None:
        """File offset of a virtual address, or None when it is not backed by file bytes."""
        for s in self.sections:
            if s.file_size and s.addr and s.addr <= addr < s.addr + s.file_size:
                return s.offset + (addr - s.addr)
        return None

    def read_vaddr(self, addr: int, size: int) -> memoryview:
        off = self.vaddr_to_offset(addr)
        if off is None or off + size > self.file_size:
            from sizebot.errors import BinaryFormatError

            raise BinaryFormatError(f"address {addr:#x} (+{size}) is not in the file", path=self.path)
        return self.data[off : off + size]

    @abstractmethod
    def symbols(self) -> tuple[Symbol, ...]:
        """Sized symbols from the symbol table; () for stripped binaries."""

    @abstractmethod
    def pclntab_section(self) -> Section | None:
        """The section holding the pclntab (.gopclntab / __gopclntab); for PE, the section the
        pclntab was found in by scanning read-only data, with offset/addr/size narrowed to it."""

    def text_section(self) -> Section | None:
        """The main code section (.text / __text)."""
        return self.section(".text") or self.section("__text")

    def close(self) -> None:
        """Release the mapping."""

    def __enter__(self) -> "BinaryFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_binary(path: str) -> BinaryFile:
    """Open an ELF, Mach-O or PE file; BinaryFormatError (one line naming the file) otherwise."""
    raise NotImplementedError  # filled in by sizebot.binary.formats
