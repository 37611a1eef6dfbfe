"""ELF reader: pyelftools parses the header and section table straight from the mmap.

pyelftools is handed the ``mmap`` object itself (it is file-like: seek/read/tell), so nothing is
copied but the headers it reads. The symbol table is unpacked here with ``struct.iter_unpack`` over
a memoryview: an order of magnitude faster than pyelftools' per-symbol construct parsing.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import IO, cast

import numpy as np
from elftools.common.exceptions import ELFError, ELFParseError
from elftools.construct.core import ConstructError
from elftools.elf.elffile import ELFFile

from sizebot.binary.binaryfile import BinaryFile, check_extent
from sizebot.binary.symbol import Names, Symbol, SymbolTable
from sizebot.documents.analyze import Section
from sizebot.errors import BinaryFormatError

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR, SHF_TLS, SHF_COMPRESSED = 0x1, 0x2, 0x4, 0x400, 0x800
STT_OBJECT, STT_FUNC, STT_SECTION, STT_FILE = 1, 2, 3, 4
SHN_LORESERVE = 0xFF00

# e_machine -> GOARCH; (machine, is_64bit) for the ones whose name depends on the class.
_MACHINES = {62: "amd64", 183: "arm64", 3: "386", 40: "arm", 22: "s390x", 258: "loong64"}
_CLASS_MACHINES = {(243, True): "riscv64", (21, True): "ppc64", (8, False): "mips", (8, True): "mips64"}
_OSABI = {9: "freebsd", 6: "solaris"}
_OS_NOTES = {".note.netbsd.ident": "netbsd", ".note.openbsd.ident": "openbsd"}

_PYELFTOOLS_ERRORS = (ELFError, ELFParseError, ConstructError)


class ElfFile(BinaryFile):
    format = "elf"

    _what = "ELF file"
    _symbols_what = "ELF symbol table"
    _elf: ELFFile | None = None
    _parse_errors = _PYELFTOOLS_ERRORS

    def _parse(self) -> None:
        check_extent(self.path, self.file_size, "ELF header", 0, 52)
        self._precheck()
        elf = ELFFile(cast(IO[bytes], self._mm))  # an mmap reads like a file
        self._elf = elf
        is64 = elf.elfclass == 64
        self.ptr_size = 8 if is64 else 4
        self.byte_order = "little" if elf.little_endian else "big"
        hdr = elf.header
        shnum = elf.num_sections()
        self._header = {k: hdr[k] for k in ("e_ehsize", "e_phoff", "e_phnum", "e_phentsize", "e_shoff", "e_shentsize")}
        self._elf_num_sections = shnum
        if shnum:
            check_extent(self.path, self.file_size, "section header table", hdr["e_shoff"], shnum * hdr["e_shentsize"])
        machine = int.from_bytes(self.data[18:20], self.byte_order)
        arch = _MACHINES.get(machine) or _CLASS_MACHINES.get((machine, is64))
        if arch in ("mips", "mips64", "ppc64") and self.byte_order == "little":
            arch += "le"
        self.goarch = arch or f"elf-machine-{machine}"
        sections: list[Section] = []
        self._symtab: tuple[int, int, int, int] | None = None  # (offset, size, strtab offset, strtab size)
        raw_sections = list(elf.iter_sections())
        for sec in raw_sections[1:]:  # index 0 is the null section
            sh = sec.header
            nobits = sh["sh_type"] == "SHT_NOBITS"
            size = 0 if nobits else sh["sh_size"]
            offset = 0 if nobits or size == 0 else sh["sh_offset"]
            if size:
                check_extent(self.path, self.file_size, f"section {sec.name}", offset, size)
            sections.append(
                Section(
                    name=sec.name,
                    file_size=size,
                    mem_size=sh["sh_size"] if sh["sh_flags"] & SHF_ALLOC else 0,
                    offset=offset,
                    addr=sh["sh_addr"] if sh["sh_flags"] & SHF_ALLOC else 0,
                    flags=_flags(sec.name, sh["sh_flags"]),
                    raw_flags=sh["sh_flags"],
                )
            )
            if sh["sh_type"] == "SHT_SYMTAB" and self._symtab is None:
                link = sh["sh_link"]
                if not 0 < link < len(raw_sections):
                    raise BinaryFormatError(f"symbol table links to missing string table section {link}",
                                            path=self.path)
                strtab = raw_sections[link].header
                check_extent(self.path, self.file_size, "string table", strtab["sh_offset"], strtab["sh_size"])
                self._symtab = (sh["sh_offset"], sh["sh_size"], strtab["sh_offset"], strtab["sh_size"])
        self.sections = tuple(sections)
        self._section_names = tuple(s.name for s in raw_sections)
        self.goos = _goos(hdr["e_ident"]["EI_OSABI"], self._section_names)

    def header_extents(self) -> tuple[tuple[int, int], ...]:
        """ELF header, program header table, section header table."""
        h = self._header
        return ((0, h["e_ehsize"]), (h["e_phoff"], h["e_phnum"] * h["e_phentsize"]),
                (h["e_shoff"], self._elf_num_sections * h["e_shentsize"]))

    def _precheck(self) -> None:
        """pyelftools reads the section header table and the section-name table as it starts: check
        both are inside the file first, so a truncated file reports what is missing."""
        d = self.data
        if d[4] not in (1, 2) or d[5] not in (1, 2):
            raise BinaryFormatError(f"bad ELF class {d[4]} or data encoding {d[5]}", path=self.path)
        bo = "<" if d[5] == 1 else ">"
        if d[4] == 2:
            check_extent(self.path, self.file_size, "ELF header", 0, 64)
            shoff, = struct.unpack_from(bo + "Q", d, 40)
            shentsize, shnum, shstrndx = struct.unpack_from(bo + "HHH", d, 58)
            shdr_fmt, off_field = bo + "QQ", 24
        else:
            shoff, = struct.unpack_from(bo + "I", d, 32)
            shentsize, shnum, shstrndx = struct.unpack_from(bo + "HHH", d, 46)
            shdr_fmt, off_field = bo + "II", 16
        if shoff == 0:
            return
        check_extent(self.path, self.file_size, "section header table", shoff, max(shnum, 1) * shentsize)
        if 0 < shstrndx < shnum:
            entry = shoff + shstrndx * shentsize
            offset, size = struct.unpack_from(shdr_fmt, d, entry + off_field)
            check_extent(self.path, self.file_size, "section name table", offset, size)

    def _read_symbols(self) -> Sequence[Symbol]:
        if self._symtab is None:
            return ()
        off, size, str_off, str_size = self._symtab
        bo = "<" if self.byte_order == "little" else ">"
        if self.ptr_size == 8:
            fields = [("name", "u4"), ("info", "u1"), ("other", "u1"), ("shndx", "u2"), ("value", "u8"), ("size", "u8")]
        else:
            fields = [("name", "u4"), ("value", "u4"), ("size", "u4"), ("info", "u1"), ("other", "u1"), ("shndx", "u2")]
        layout = np.dtype([(f, bo + t) for f, t in fields])
        entsize = layout.itemsize
        size -= size % entsize
        # both tables are inside the file (checked with the section headers); copied, so that no
        # array holds on to the mapping
        entries = np.frombuffer(bytes(self.data[off : off + size]), layout)
        strtab = bytes(self.data[str_off : str_off + str_size])  # one copy of the names, held by the table
        stype = entries["info"] & 0xF
        shndx = entries["shndx"].astype(np.int64)
        st_name = entries["name"].astype(np.int64)
        # each name runs to the first NUL at or after it (or the table's end)
        nuls = np.flatnonzero(np.frombuffer(strtab, np.uint8) == 0)
        j = np.searchsorted(nuls, st_name)
        found = j < len(nuls)
        end = np.where(found, nuls[np.minimum(j, len(nuls) - 1)] if len(nuls) else 0, len(strtab))
        keep = np.flatnonzero((shndx != 0) & (shndx < min(SHN_LORESERVE, len(self._section_names)))
                              & (stype != STT_SECTION) & (stype != STT_FILE) & (end > st_name))
        names = Names(strtab, st_name[keep], end[keep])  # decoded when read
        del strtab
        stype = stype[keep]
        kinds = np.where(stype == STT_FUNC, 0, np.where(stype == STT_OBJECT, 1, 2))  # symbol._KINDS
        used, secs = np.unique(shndx[keep], return_inverse=True)
        out = SymbolTable.from_columns(
            names, entries["value"][keep], entries["size"][keep], kinds, secs, [self._section_names[k] for k in used],
            off + keep * entsize, np.full(len(keep), entsize), str_off + st_name[keep],
            np.where(found[keep], end[keep] + 1, end[keep]) - st_name[keep])
        del entries
        self.release(off, size)  # read through once: the analysis needs only the offsets kept above
        self.release(str_off, str_size)
        return out if len(out) else ()

    def close(self) -> None:
        self._elf = None
        super().close()


def _flags(name: str, sh_flags: int) -> str:
    parts = []
    if sh_flags & SHF_ALLOC:
        parts += ["alloc", "r"]
    if sh_flags & SHF_WRITE:
        parts.append("w")
    if sh_flags & SHF_EXECINSTR:
        parts.append("x")
    if sh_flags & SHF_TLS:
        parts.append("tls")
    if sh_flags & SHF_COMPRESSED or name.startswith(".zdebug"):
        parts.append("compressed")
    return ",".join(parts)


def _goos(osabi: object, section_names: tuple[str, ...]) -> str:
    """Go's linker marks FreeBSD by EI_OSABI and NetBSD/OpenBSD by notes; everything else reads as linux
    (build info's GOOS setting is the authority when present)."""
    for note, goos in _OS_NOTES.items():
        if note in section_names:
            return goos
    code = osabi if isinstance(osabi, int) else {"ELFOSABI_FREEBSD": 9, "ELFOSABI_SOLARIS": 6}.get(str(osabi), 0)
    return _OSABI.get(code, "linux")
