"""One interface over the executable formats Go produces: ELF, Mach-O and PE.

Everything above the readers (pclntab, buildinfo, attribution) sees only ``BinaryFile``; the readers
(elf.py, macho.py, pe.py) implement it, and container.py's ``open_binary`` picks one by the file's magic.

Readers never copy the file: ``data`` is a memoryview over the mmap and every slice of it is
a view. Format errors anywhere in a reader's constructor (truncated headers, tables past the end
of the file) surface as one ``BinaryFormatError`` naming the file.
"""

from __future__ import annotations

import mmap
import struct
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Literal

from sizebot.binary.symbol import Symbol
from sizebot.documents.analyze import Section
from sizebot.errors import BinaryFormatError

ByteOrder = Literal["little", "big"]

# pclntab header magics (runtime/symtab.go): Go 1.20+, 1.18-1.19, 1.16-1.17, 1.2-1.15.
PCLNTAB_MAGICS = {0xFFFFFFF1: "go1.20", 0xFFFFFFF0: "go1.18", 0xFFFFFFFA: "go1.16", 0xFFFFFFFB: "go1.2"}

# Go's own data sections, in link order, per format (what the pclntab helper scans for moduledata).
_DATA_NAMES = (".noptrdata", ".data", "__noptrdata", "__data")
_MODULEDATA_NAMES = (".go.module", "__go_module")  # Go 1.26+: runtime.firstmoduledata in its own section


class BinaryFile(ABC):
    """A mapped executable. ``data`` is a memoryview over the whole file (an mmap)."""

    path: str
    format: str  # "elf" | "macho" | "pe"
    goos: str  # from the format ("linux", "darwin", "windows", ...); build info may refine it
    goarch: str  # "amd64", "arm64", "386", "arm", ...
    ptr_size: int  # 4 or 8
    byte_order: ByteOrder
    file_size: int
    data: memoryview
    sections: tuple[Section, ...]

    _mm: mmap.mmap | None = None
    _base: int = 0  # file offset of this executable inside the mapped file (a fat Mach-O's slice)
    _what: str = "executable"  # how format errors name the file: "corrupt or truncated ELF file: ..."
    _parse_errors: tuple[type[BaseException], ...] = ()  # the format library's own exceptions
    _symbols: Sequence[Symbol] | None = None
    _symbol_index: dict[str, Symbol] | None = None

    def __init__(self, path: str, mm: mmap.mmap):
        """The whole mapping is the executable; ``_parse`` fills sections and the format's fields."""
        self.path = path
        self._mm = mm
        self.data = memoryview(mm)
        self.file_size = len(mm)
        with reader_errors(path, self._what, self._parse_errors):
            self._parse()

    @abstractmethod
    def _parse(self) -> None:
        """Read the headers; raise BinaryFormatError (or a READER_ERRORS exception) on a bad file."""

    # -- lookups ---------------------------------------------------------------------------

    def section(self, name: str) -> Section | None:
        for s in self.sections:
            if s.name == name:
                return s
        return None

    def sections_by_prefix(self, prefix: str) -> tuple[Section, ...]:
        """Sections whose name starts with ``prefix`` (".debug_", ".zdebug_", "__zdebug"), in table order."""
        return tuple(s for s in self.sections if s.name.startswith(prefix))

    def section_bytes(self, section: Section) -> memoryview:
        """The section's bytes as stored in the file (empty for zero-fill sections)."""
        return self.data[section.offset : section.offset + section.file_size]

    def section_at_offset(self, offset: int) -> Section | None:
        """The section whose file bytes contain ``offset``."""
        for s in self.sections:
            if s.file_size and s.offset <= offset < s.offset + s.file_size:
                return s
        return None

    def vaddr_to_offset(self, addr: int) -> int | None:
        """File offset of a virtual address, or None when it is not backed by file bytes."""
        for s in self.sections:
            if s.file_size and s.addr and s.addr <= addr < s.addr + s.file_size:
                return s.offset + (addr - s.addr)
        return None

    def read_vaddr(self, addr: int, size: int) -> memoryview:
        off = self.vaddr_to_offset(addr)
        if off is None or off + size > self.file_size:
            raise BinaryFormatError(f"address {addr:#x} (+{size}) is not in the file", path=self.path)
        return self.data[off : off + size]

    def read_uint(self, offset: int, size: int) -> int:
        """An unsigned integer of ``size`` bytes at a file offset, in the binary's byte order."""
        if offset < 0 or offset + size > self.file_size:
            raise BinaryFormatError(f"read of {size} bytes at offset {offset:#x} is past the end of the file",
                                    path=self.path)
        return int.from_bytes(self.data[offset : offset + size], self.byte_order)

    def find_bytes(self, needle: bytes, start: int = 0, end: int | None = None) -> int:
        """File offset of ``needle`` in [start, end), -1 when absent (searches the mmap, no copy)."""
        end = self.file_size if end is None else end
        if self._mm is not None:
            pos = self._mm.find(needle, self._base + start, self._base + end)
            return pos - self._base if pos >= 0 else -1
        idx = bytes(self.data[start:end]).find(needle)
        return idx + start if idx >= 0 else -1

    def release(self, offset: int, size: int) -> None:
        """Drop the pages of [offset, offset + size) from the process' resident memory: a read-only
        file mapping reads them again from the page cache if they are touched later. For the large
        regions (code, DWARF, the symbol table) that one step of the analysis reads through once."""
        mm = self._mm
        if mm is None or size <= 0 or not hasattr(mm, "madvise"):
            return
        start = (self._base + offset) // mmap.PAGESIZE * mmap.PAGESIZE
        end = min(len(mm), self._base + offset + size)
        if end > start:
            try:
                mm.madvise(mmap.MADV_DONTNEED, start, end - start)
            except (OSError, ValueError):
                pass  # advice only

    def header_extents(self) -> tuple[tuple[int, int], ...]:
        """(offset, size) of the format's own header structures (file header, program/section header
        tables, load commands...). Overridden per format."""
        return ()

    def uncovered_ranges(self) -> tuple[tuple[int, int, str], ...]:
        """The file bytes no section covers, as (start, end, kind) with kind "headers" (inside a
        header structure) or "padding" (everything else: alignment, trailing bytes), in file order.
        sum(s.file_size) + sum(end - start) == file_size when no two sections overlap."""
        spans = sorted((s.offset, s.offset + s.file_size) for s in self.sections if s.file_size)
        gaps, pos = [], 0
        for start, end in spans:
            if start > pos:
                gaps.append((pos, start))
            pos = max(pos, end)
        if pos < self.file_size:
            gaps.append((pos, self.file_size))
        headers = sorted((o, o + n) for o, n in self.header_extents() if n > 0)
        out: list[tuple[int, int, str]] = []
        for start, end in gaps:
            cur = start
            for h_start, h_end in headers:
                lo, hi = max(cur, h_start), min(end, h_end)
                if lo >= hi:
                    continue
                if lo > cur:
                    out.append((cur, lo, "padding"))
                out.append((lo, hi, "headers"))
                cur = hi
            if cur < end:
                out.append((cur, end, "padding"))
        merged: list[tuple[int, int, str]] = []
        for r in out:
            if merged and merged[-1][2] == r[2] and merged[-1][1] == r[0]:
                merged[-1] = (merged[-1][0], r[1], r[2])
            else:
                merged.append(r)
        return tuple(merged)

    # -- symbols -----------------------------------------------------------------------------

    _symbols_what: str = "symbol table"  # how errors name the table: "corrupt or truncated ELF symbol table: ..."

    def symbols(self) -> Sequence[Symbol]:
        """Sized symbols from the symbol table; () for stripped binaries. Read once, on first use."""
        if self._symbols is None:
            with reader_errors(self.path, self._symbols_what):
                self._symbols = self._read_symbols()
        return self._symbols

    @abstractmethod
    def _read_symbols(self) -> Sequence[Symbol]:
        """The format's symbol table as Symbols (called once by ``symbols``)."""

    def find_symbol(self, name: str) -> Symbol | None:
        """The first symbol called ``name`` (an index built on first use)."""
        if self._symbol_index is None:
            index: dict[str, Symbol] = {}
            for sym in self.symbols():
                index.setdefault(sym.name, sym)
            self._symbol_index = index
        return self._symbol_index.get(name)

    @property
    def stripped(self) -> bool:
        return not self.symbols()

    # -- Go-specific regions -----------------------------------------------------------------

    def pclntab_section(self) -> Section | None:
        """The section holding the pclntab (.gopclntab / __gopclntab); for PE, the section the
        pclntab was found in by scanning read-only data, with offset/addr/size narrowed to it.

        Order: the named section; else runtime.pclntab..runtime.epclntab from the symbol table;
        else a scan of read-only data for a valid pclntab header (size: to the end of that section).
        """
        for name in (".gopclntab", "__gopclntab"):
            s = self.section(name)
            if s is not None and s.file_size:
                return s
        return self._pclntab_from_symbols() or self._pclntab_by_scan()

    def _pclntab_from_symbols(self) -> Section | None:
        start, end = self.find_symbol("runtime.pclntab"), self.find_symbol("runtime.epclntab")
        if start is None or end is None or end.addr <= start.addr:
            return None
        off = self.vaddr_to_offset(start.addr)
        if off is None:
            return None
        host = self.section_at_offset(off)
        if host is None or off + (end.addr - start.addr) > host.offset + host.file_size:
            return None
        return _narrow(host, off, end.addr - start.addr)

    def _pclntab_by_scan(self) -> Section | None:
        for s in self.rodata_sections() or self.sections:
            off = scan_pclntab(self, s.offset, s.offset + s.file_size)
            if off >= 0:
                return _narrow(s, off, s.offset + s.file_size - off)
        return None

    def data_sections(self) -> tuple[Section, ...]:
        """Go's writable data sections with file bytes (.noptrdata, .data; __noptrdata, __data; PE .data)."""
        return tuple(s for s in self.sections if s.name in _DATA_NAMES and s.file_size)

    def rodata_sections(self) -> tuple[Section, ...]:
        """Loaded, read-only, non-code sections with file bytes, in file order (.rodata, .gopclntab,
        .typelink, ...; __rodata, __gopclntab, ...; PE .rdata first)."""
        out = [s for s in self.sections if s.file_size and _is_rodata(s.flags)]
        return tuple(sorted(out, key=lambda s: (s.name != ".rdata", s.offset)))

    def moduledata_section(self) -> Section | None:
        """Go 1.26+ links runtime.firstmoduledata into its own section (.go.module / __go_module;
        cmd/link/internal/ld/data.go, SMODULEDATA). None for older Go and for PE (merged into .data)."""
        for name in _MODULEDATA_NAMES:
            s = self.section(name)
            if s is not None and s.file_size:
                return s
        return None

    def buildinfo_section(self) -> Section | None:
        """.go.buildinfo / __go_buildinfo when the format gives it a section of its own."""
        for name in (".go.buildinfo", "__go_buildinfo"):
            s = self.section(name)
            if s is not None and s.file_size:
                return s
        return None

    def text_section(self) -> Section | None:
        """The main code section (.text / __text)."""
        return self.section(".text") or self.section("__text")

    def packed_by(self) -> str:
        """"upx" when the file looks UPX-packed (UPX0/UPX1 sections, or "UPX!" in the first 4 KiB), else ""."""
        if any(s.name.startswith(("UPX0", "UPX1", "UPX2")) for s in self.sections):
            return "upx"
        if self.find_bytes(b"UPX!", 0, min(self.file_size, 4096)) >= 0:
            return "upx"
        return ""

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Release the mapping. Views handed out earlier keep it alive until they are released."""
        mm, self._mm = self._mm, None
        if mm is None:
            return
        try:
            self.data.release()
            mm.close()
        except BufferError:
            pass  # a caller still holds a slice; the mapping goes when the last view does

    def __enter__(self) -> BinaryFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.path} {self.goos}/{self.goarch} {len(self.sections)} sections>"


# What a truncated or corrupt header raises inside a reader; converted to one BinaryFormatError.
READER_ERRORS: tuple[type[BaseException], ...] = (
    struct.error, IndexError, ValueError, KeyError, OverflowError, UnicodeDecodeError, EOFError,
    AssertionError,  # pyelftools asserts on some malformed tables
)


@contextmanager
def reader_errors(path: str, what: str, extra: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Turn low-level parse failures into ``BinaryFormatError("corrupt or truncated <what>: ...")``."""
    try:
        yield
    except BinaryFormatError:
        raise
    except READER_ERRORS + extra as e:
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise BinaryFormatError(f"corrupt or truncated {what}: {detail}", path=path) from None


def check_extent(path: str, file_size: int, what: str, offset: int, size: int) -> None:
    """BinaryFormatError when [offset, offset+size) is not inside the file."""
    if offset < 0 or size < 0 or offset + size > file_size:
        raise BinaryFormatError(
            f"{what} (offset {offset:#x}, {size} bytes) extends past the end of the file ({file_size} bytes): "
            "truncated or corrupt",
            path=path,
        )


def sizes_from_next_address(entries: list[tuple[int, int, str]], section_end: int) -> list[tuple[int, int, str, int]]:
    """Symbol tables without sizes (Mach-O nlist, COFF): ``entries`` are (addr, table index, name) of one
    section; returns (addr, size, name, table index) where size runs to the next higher address (the last
    symbol to ``section_end``). Symbols sharing an address: the last in table order gets the size, the others 0."""
    entries = sorted(entries)
    out = []
    for j, (addr, i, name) in enumerate(entries):
        nxt = entries[j + 1][0] if j + 1 < len(entries) else max(section_end, addr)
        out.append((addr, nxt - addr, name, i))
    return out


def _is_rodata(flags: str) -> bool:
    parts = flags.split(",")
    return "alloc" in parts and "w" not in parts and "x" not in parts


def _narrow(host: Section, offset: int, size: int) -> Section:
    delta = offset - host.offset
    return replace(host, offset=offset, file_size=size, mem_size=size, addr=host.addr + delta if host.addr else 0)


def scan_pclntab(binary: BinaryFile, start: int, end: int) -> int:
    """File offset of the first plausible pclntab header in [start, end), or -1.

    A header is: magic (any of PCLNTAB_MAGICS, binary byte order), two zero pad bytes (one for
    go1.2, whose fifth byte is then minLC), minLC in {1, 2, 4}, ptrSize in {4, 8}; for Go 1.16+ the
    funcname offset right after the counts must be the header size rounded up to an alignment
    (cheap, rules out noise).
    """
    bo = binary.byte_order
    fmt_char = "<" if bo == "little" else ">"
    for magic in PCLNTAB_MAGICS:
        needle = struct.pack(fmt_char + "I", magic)
        pos = binary.find_bytes(needle, start, end)
        while pos >= 0:
            if pos % 4 == 0 and _plausible_pclntab(binary, pos, end, magic):
                return pos
            pos = binary.find_bytes(needle, pos + 1, end)
    return -1


def _plausible_pclntab(binary: BinaryFile, pos: int, end: int, magic: int) -> bool:
    if pos + 8 > end:
        return False
    pad1, pad2, min_lc, ptr = binary.data[pos + 4 : pos + 8]
    if pad1 != 0 or pad2 != 0 or min_lc not in (1, 2, 4) or ptr not in (4, 8):
        return False
    if magic == 0xFFFFFFFB:
        return True
    # 1.18+: nfunc, nfiles, textStart, funcnameOffset...; 1.16: nfunc, nfiles, funcnameOffset...
    fields_before = 3 if magic in (0xFFFFFFF0, 0xFFFFFFF1) else 2
    header = 8 + ptr * (fields_before + 5)
    field = pos + 8 + ptr * fields_before
    if field + ptr > end:
        return False
    # the name table follows the header, rounded up to its alignment (Go 1.21 puts it at 0x60, not 0x48)
    funcname = int.from_bytes(binary.data[field : field + ptr], binary.byte_order)
    return header <= funcname < header + 64 and funcname % ptr == 0
