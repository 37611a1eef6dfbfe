"""PE reader (PE32 and PE32+): DOS stub -> "PE\\0\\0" -> COFF header -> optional header -> section table.

A section's file bytes are SizeOfRawData at PointerToRawData (FileAlignment-rounded, so they include
the section's tail padding); mem_size is VirtualSize. Long section names ("/123") come from the COFF
string table, which is how Go names its ``.zdebug_*``/``.debug_*`` sections. ``addr`` is
ImageBase + VirtualAddress for every section; "alloc" is left off discardable (debug) sections.

Go gives the pclntab no section on PE: it lives inside ``.rdata`` and ``pclntab_section()`` finds it
through runtime.pclntab/runtime.epclntab or by scanning for its header. Go also merges every data
section into ``.data``, so there is no moduledata section on PE.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from sizebot.binary.binaryfile import BinaryFile, check_extent, sizes_from_next_address
from sizebot.binary.symbol import Symbol, SymbolTable
from sizebot.documents.analyze import Section
from sizebot.errors import BinaryFormatError

IMAGE_SCN_CNT_CODE = 0x20
IMAGE_SCN_CNT_UNINITIALIZED_DATA = 0x80
IMAGE_SCN_MEM_DISCARDABLE = 0x02000000
IMAGE_SCN_MEM_EXECUTE, IMAGE_SCN_MEM_READ, IMAGE_SCN_MEM_WRITE = 0x20000000, 0x40000000, 0x80000000
_MACHINES = {0x8664: "amd64", 0x14C: "386", 0xAA64: "arm64", 0x1C4: "arm", 0x1C0: "arm", 0x5064: "riscv64"}
_SYM_SIZE = 18


class PEFile(BinaryFile):
    format = "pe"
    goos = "windows"
    byte_order = "little"

    _what = "PE file"
    _symbols_what = "COFF symbol table"

    def _parse(self) -> None:
        d = self.data
        check_extent(self.path, self.file_size, "DOS header", 0, 64)
        pe_off = struct.unpack_from("<I", d, 0x3C)[0]
        check_extent(self.path, self.file_size, "PE header", pe_off, 24)
        if bytes(d[pe_off : pe_off + 4]) != b"PE\0\0":
            raise BinaryFormatError("not an ELF, Mach-O or PE executable (MZ header without a PE signature)",
                                    path=self.path)
        fields = struct.unpack_from("<HHIIIHH", d, pe_off + 4)
        machine, nsections, _ts, self._symoff, self._nsyms, opt_size, _chars = fields
        self.goarch = _MACHINES.get(machine, f"pe-machine-{machine:#x}")
        opt = pe_off + 24
        check_extent(self.path, self.file_size, "optional header", opt, opt_size)
        magic = struct.unpack_from("<H", d, opt)[0] if opt_size >= 2 else 0
        if magic == 0x20B:
            self.ptr_size = 8
            self.image_base = struct.unpack_from("<Q", d, opt + 24)[0]
        elif magic == 0x10B:
            self.ptr_size = 4
            self.image_base = struct.unpack_from("<I", d, opt + 28)[0]
        else:
            raise BinaryFormatError(f"unknown PE optional header magic {magic:#x}", path=self.path)
        table = opt + opt_size
        check_extent(self.path, self.file_size, "section table", table, nsections * 40)
        self._headers_end = table + nsections * 40
        self._strtab = self._string_table()
        sections = []
        for i in range(nsections):
            raw_name, vsize, vaddr, raw_size, raw_ptr, _rel, _ln, _nrel, _nln, chars = struct.unpack_from(
                "<8sIIIIIIHHI", d, table + i * 40
            )
            name = self._section_name(raw_name)
            file_size = raw_size
            offset = raw_ptr if file_size else 0
            if file_size:
                check_extent(self.path, self.file_size, f"section {name}", offset, file_size)
            sections.append(
                Section(
                    name=name,
                    file_size=file_size,
                    mem_size=vsize,
                    offset=offset,
                    addr=self.image_base + vaddr,
                    flags=_flags(name, chars),
                    raw_flags=chars,
                )
            )
        self.sections = tuple(sections)

    def header_extents(self) -> tuple[tuple[int, int], ...]:
        """DOS header and stub, PE/COFF/optional headers, section table; the COFF symbol and string
        tables when no section holds them (Go wraps them in a ".symtab" section)."""
        out = [(0, self._headers_end)]
        if self._symoff and self._nsyms:
            start, size = self._strtab
            end = start + size if size else self._symoff + self._nsyms * _SYM_SIZE
            out.append((self._symoff, end - self._symoff))
        return tuple(out)

    def _string_table(self) -> tuple[int, int]:
        """(offset, size) of the COFF string table, (0, 0) when absent or out of the file."""
        if not self._symoff:
            return (0, 0)
        start = self._symoff + self._nsyms * _SYM_SIZE
        if start + 4 > self.file_size:
            return (0, 0)
        size = struct.unpack_from("<I", self.data, start)[0]
        check_extent(self.path, self.file_size, "COFF string table", start, size)
        return (start, size)

    def _string_at(self, off: int) -> str:
        start, size = self._strtab
        if not size or off >= size:
            raise BinaryFormatError(f"name at string table offset {off} is outside the COFF string table",
                                    path=self.path)
        end = self.find_bytes(b"\0", start + off, start + size)
        return bytes(self.data[start + off : end if end >= 0 else start + size]).decode("utf-8", "replace")

    def _section_name(self, raw: bytes) -> str:
        name = raw.split(b"\0", 1)[0].decode("utf-8", "replace")
        if name.startswith("/") and name[1:].isdigit():
            return self._string_at(int(name[1:]))
        return name

    def _read_symbols(self) -> Sequence[Symbol]:
        """COFF symbols defined in a section; sizes run to the next symbol address in the section."""
        if not self._symoff or not self._nsyms:
            return ()
        check_extent(self.path, self.file_size, "COFF symbol table", self._symoff, self._nsyms * _SYM_SIZE)
        start, size = self._strtab
        strtab = bytes(self.data[start : start + size])
        by_sect: dict[int, list[tuple[int, int, str]]] = {}
        where: dict[int, tuple[tuple[int, int], tuple[int, int]]] = {}  # index -> (entry, name) extents
        raw = self.data[self._symoff : self._symoff + self._nsyms * _SYM_SIZE]
        i = 0
        while i < self._nsyms:
            name8, value, sect, _typ, _cls, naux = struct.unpack_from("<8sIhHBB", raw, i * _SYM_SIZE)
            name_bytes = (0, 0)  # a short name sits in the entry itself
            if name8[:4] == b"\0\0\0\0":
                off = int.from_bytes(name8[4:], "little")
                end = strtab.find(b"\0", off)
                name = strtab[off : end if end >= 0 else len(strtab)].decode("utf-8", "replace")
                name_bytes = (start + off, (end + 1 if end >= 0 else len(strtab)) - off)
            else:
                name = name8.split(b"\0", 1)[0].decode("utf-8", "replace")
            if 0 < sect <= len(self.sections) and name:
                by_sect.setdefault(sect, []).append((self.sections[sect - 1].addr + value, i, name))
                where[i] = ((self._symoff + i * _SYM_SIZE, (1 + naux) * _SYM_SIZE), name_bytes)
            i += 1 + naux
        rows: list[tuple[int, int, str, int, int, int, int, int, int]] = []
        section_names: list[str] = []
        for sect, entries in by_sect.items():
            s = self.sections[sect - 1]
            section = len(section_names)
            section_names.append(s.name)
            kind = 0 if s.raw_flags & (IMAGE_SCN_MEM_EXECUTE | IMAGE_SCN_CNT_CODE) else 1  # func, data
            for addr, sym_size, name, i in sizes_from_next_address(entries, s.addr + s.mem_size):
                rows.append((addr, sym_size, name, kind, section, *where[i][0], *where[i][1]))
        return SymbolTable.from_rows(rows, section_names) if rows else ()

    def data_sections(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.name == ".data" and s.file_size)

    def vaddr_to_offset(self, addr: int) -> int | None:
        # Raw data may be shorter than VirtualSize (the rest is zero-filled) or longer (padding).
        for s in self.sections:
            n = min(s.file_size, s.mem_size) if s.mem_size else s.file_size
            if n and s.addr <= addr < s.addr + n:
                return s.offset + (addr - s.addr)
        return None


def _flags(name: str, chars: int) -> str:
    parts = []
    if not chars & IMAGE_SCN_MEM_DISCARDABLE:
        parts.append("alloc")
        if chars & IMAGE_SCN_MEM_READ:
            parts.append("r")
        if chars & IMAGE_SCN_MEM_WRITE:
            parts.append("w")
        if chars & IMAGE_SCN_MEM_EXECUTE:
            parts.append("x")
    if name.startswith(".zdebug"):
        parts.append("compressed")
    return ",".join(parts)
