"""Mach-O reader (64- and 32-bit, little endian; fat/universal files: the first architecture).

Naming: a section keeps its plain name (``__text``, ``__gopclntab``) unless two segments hold a
section of the same name (Go puts ``__rodata`` in both ``__TEXT`` and ``__DATA_CONST``): then each
of those is named ``SEGMENT,section`` (``__TEXT,__rodata``). ``section()`` accepts either form.

Segments with file bytes but no sections (``__LINKEDIT``: symbol table, strings, code signature)
appear as one pseudo-section named after the segment, so every byte that belongs to a load command
is in some section and only headers and padding are left over.

Fat files: ``data``, ``file_size`` and every offset are those of the first architecture's slice;
``container_size`` is the size of the whole file.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Sequence

from sizebot.binary.binaryfile import BinaryFile, check_extent, reader_errors, sizes_from_next_address
from sizebot.binary.symbol import Symbol, SymbolTable
from sizebot.documents.analyze import Section
from sizebot.errors import BinaryFormatError

MH_MAGIC, MH_MAGIC_64 = 0xFEEDFACE, 0xFEEDFACF
FAT_MAGIC, FAT_MAGIC_64 = 0xCAFEBABE, 0xCAFEBABF
LC_SEGMENT, LC_SYMTAB, LC_SEGMENT_64, LC_BUILD_VERSION = 0x1, 0x2, 0x19, 0x32
S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL = 0x1, 0xC, 0x12
S_ATTR_PURE_INSTRUCTIONS, S_ATTR_SOME_INSTRUCTIONS = 0x80000000, 0x400
SG_READ_ONLY = 0x10  # segment made read-only after fixups (__DATA_CONST)
N_STAB, N_TYPE, N_SECT = 0xE0, 0x0E, 0x0E

_CPU = {0x01000007: "amd64", 0x0100000C: "arm64", 7: "386", 12: "arm", 0x02000000 | 12: "arm64_32"}
_PLATFORM = {1: "darwin", 2: "ios", 7: "ios", 6: "ios"}  # macOS, iOS, iOS simulator, Mac Catalyst


def looks_like_macho(mm: mmap.mmap) -> bool:
    """True for Mach-O magics; for 0xcafebabe, only when it is a fat header (Java class files share
    that magic: their next field, the class version, is >= 45, while fat files list a few archs)."""
    magic = int.from_bytes(mm[:4], "big")
    if magic in (FAT_MAGIC, FAT_MAGIC_64):
        return len(mm) >= 8 and 0 < int.from_bytes(mm[4:8], "big") < 32
    return True


class MachOFile(BinaryFile):
    format = "macho"
    _what = "Mach-O file"
    _symbols_what = "Mach-O symbol table"

    def __init__(self, path: str, mm: mmap.mmap):
        self.path = path
        self._mm = mm
        self.container_size = len(mm)
        with reader_errors(path, self._what):
            self._base, size = self._slice(mm)
            self.data = memoryview(mm)[self._base : self._base + size]
            self.file_size = size
            self._parse()

    def _slice(self, mm: mmap.mmap) -> tuple[int, int]:
        magic = int.from_bytes(mm[:4], "big")
        if magic == FAT_MAGIC or magic == FAT_MAGIC_64:
            nfat = int.from_bytes(mm[4:8], "big")
            if nfat == 0:
                raise BinaryFormatError("fat Mach-O file lists no architectures", path=self.path)
            if magic == FAT_MAGIC:
                check_extent(self.path, len(mm), "fat architecture table", 8, 20)
                _cpu, _sub, offset, size, _align = struct.unpack_from(">iiIII", mm, 8)
            else:
                check_extent(self.path, len(mm), "fat architecture table", 8, 32)
                _cpu, _sub, offset, size, _align, _res = struct.unpack_from(">iiQQII", mm, 8)
            check_extent(self.path, len(mm), "first architecture of the fat file", offset, size)
            return offset, size
        head = bytes(mm[:4])
        if head in (b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce"):
            raise BinaryFormatError("big-endian Mach-O files are not supported", path=self.path)
        return 0, len(mm)

    def _parse(self) -> None:
        d = self.data
        check_extent(self.path, self.file_size, "Mach-O header", 0, 28)
        magic = int.from_bytes(d[:4], "little")
        if magic not in (MH_MAGIC, MH_MAGIC_64):
            raise BinaryFormatError("fat file's first architecture is not a little-endian Mach-O", path=self.path)
        is64 = magic == MH_MAGIC_64
        self.byte_order = "little"
        self.ptr_size = 8 if is64 else 4
        cputype, _sub, _filetype, ncmds, sizeofcmds = struct.unpack_from("<iiIII", d, 4)
        self.goarch = _CPU.get(cputype & 0xFFFFFFFF, f"macho-cpu-{cputype:#x}")
        if self.goarch == "arm64_32":
            self.ptr_size = 4
        self.goos = "darwin"
        hdr_size = 32 if is64 else 28
        check_extent(self.path, self.file_size, "load commands", hdr_size, sizeofcmds)
        self._header_end = hdr_size + sizeofcmds
        raw: list[tuple[str, str, Section]] = []  # (segment, sectname, section) in n_sect order
        pseudo: list[Section] = []
        self._symtab_cmd: tuple[int, int, int, int] | None = None
        off = hdr_size
        end = hdr_size + sizeofcmds
        for _ in range(ncmds):
            if off + 8 > end:
                raise BinaryFormatError("load commands run past sizeofcmds", path=self.path)
            cmd, cmdsize = struct.unpack_from("<II", d, off)
            if cmdsize < 8 or off + cmdsize > end:
                raise BinaryFormatError(f"load command at {off:#x} has a bad size {cmdsize}", path=self.path)
            if cmd in (LC_SEGMENT_64, LC_SEGMENT):
                raw_secs, seg_pseudo = self._segment(off, cmd == LC_SEGMENT_64, cmdsize)
                raw.extend(raw_secs)
                if seg_pseudo is not None:
                    pseudo.append(seg_pseudo)
            elif cmd == LC_SYMTAB:
                self._symtab_cmd = struct.unpack_from("<IIII", d, off + 8)
            elif cmd == LC_BUILD_VERSION:
                self.goos = _PLATFORM.get(struct.unpack_from("<I", d, off + 8)[0], "darwin")
            off += cmdsize
        counts: dict[str, int] = {}
        for _seg, name, _s in raw:
            counts[name] = counts.get(name, 0) + 1
        self._raw = raw
        self._segment_of: dict[str, str] = {}
        sections = []
        for seg, name, s in raw:
            full = f"{seg},{name}" if counts[name] > 1 else name
            self._segment_of[full] = seg
            sections.append(s if full == name else _renamed(s, full))
        for p in pseudo:
            self._segment_of[p.name] = p.name
        self._n_sect_names = tuple(s.name for s in sections)  # n_sect - 1 -> reported name
        self.sections = tuple(sections) + tuple(pseudo)

    def _segment(self, off: int, is64: bool, cmdsize: int) -> tuple[list[tuple[str, str, Section]], Section | None]:
        d = self.data
        segname = _cstr(d[off + 8 : off + 24])
        if is64:
            fields = struct.unpack_from("<QQQQiiII", d, off + 24)
            vmaddr, vmsize, fileoff, filesize, _maxprot, initprot, nsects, seg_flags = fields
            sec_fmt, sec_size, first = "<16s16sQQIIIIIIII", 80, off + 72
        else:
            fields = struct.unpack_from("<IIIIiiII", d, off + 24)
            vmaddr, vmsize, fileoff, filesize, _maxprot, initprot, nsects, seg_flags = fields
            sec_fmt, sec_size, first = "<16s16sIIIIIIIII", 68, off + 56
        if first + nsects * sec_size > off + cmdsize:
            raise BinaryFormatError(f"segment {segname} lists more sections than its load command holds",
                                    path=self.path)
        if filesize:
            check_extent(self.path, self.file_size, f"segment {segname}", fileoff, filesize)
        loaded = vmsize > 0 and segname != "__DWARF"
        writable = bool(initprot & 2) and not seg_flags & SG_READ_ONLY
        out = []
        for i in range(nsects):
            fields = struct.unpack_from(sec_fmt, d, first + i * sec_size)
            sectname, addr, size, offset = _cstr(fields[0]), fields[2], fields[3], fields[4]
            flags = fields[8]
            zerofill = (flags & 0xFF) in (S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL)
            file_size = 0 if zerofill else size
            file_off = offset if file_size else 0
            if file_size:
                check_extent(self.path, self.file_size, f"section {segname},{sectname}", file_off, file_size)
            parts = []
            if loaded:
                parts.append("alloc")
                if initprot & 1:
                    parts.append("r")
                if writable:
                    parts.append("w")
                if flags & (S_ATTR_PURE_INSTRUCTIONS | S_ATTR_SOME_INSTRUCTIONS):
                    parts.append("x")
                if (flags & 0xFF) == S_THREAD_LOCAL_ZEROFILL:
                    parts.append("tls")
            if sectname.startswith("__zdebug"):
                parts.append("compressed")
            section = Section(
                name=sectname,
                file_size=file_size,
                mem_size=size if loaded else 0,
                offset=file_off,
                addr=addr if loaded else 0,
                flags=",".join(parts),
                raw_flags=flags,
            )
            out.append((segname, sectname, section))
        pseudo = None
        if nsects == 0 and filesize:
            prot = ["alloc"] if vmsize else []
            prot += [c for bit, c in ((1, "r"), (2, "w"), (4, "x")) if initprot & bit and vmsize]
            pseudo = Section(segname, filesize, vmsize, fileoff, vmaddr, ",".join(prot), initprot)
        return out, pseudo

    def header_extents(self) -> tuple[tuple[int, int], ...]:
        """Mach-O header and load commands."""
        return ((0, self._header_end),)

    def section(self, name: str) -> Section | None:
        """By reported name, or by plain section name (first match) when the name is shared."""
        found = super().section(name)
        if found is None and "," not in name:
            for s in self.sections:
                if s.name.endswith("," + name):
                    return s
        return found

    def segment_of(self, section_name: str) -> str:
        """The segment (``__TEXT``, ``__DATA``...) holding a section, by its reported name."""
        return self._segment_of.get(section_name, "")

    def rodata_sections(self) -> tuple[Section, ...]:
        return tuple(s for s in super().rodata_sections() if self._segment_of.get(s.name) != s.name)  # no __LINKEDIT

    def data_sections(self) -> tuple[Section, ...]:
        names = ("__noptrdata", "__data", "__DATA,__noptrdata", "__DATA,__data")
        return tuple(s for s in self.sections if s.name in names and s.file_size)

    def _read_symbols(self) -> Sequence[Symbol]:
        """nlist symbols defined in a section. nlist has no sizes: a symbol's size is the distance to the
        next higher symbol address in the same section (the last one runs to the section's end).
        Symbols sharing an address: the last one in table order gets the size, the others 0.
        The leading "_" of C-convention names is dropped (as ``go tool nm`` does)."""
        if self._symtab_cmd is None:
            return ()
        symoff, nsyms, stroff, strsize = self._symtab_cmd
        entsize = 16 if self.ptr_size == 8 and self._raw_is64() else 12
        check_extent(self.path, self.file_size, "symbol table", symoff, nsyms * entsize)
        check_extent(self.path, self.file_size, "string table", stroff, strsize)
        fmt = "<IBBHQ" if entsize == 16 else "<IBBHI"
        strtab = bytes(self.data[stroff : stroff + strsize])
        by_sect: dict[int, list[tuple[int, int, str]]] = {}
        where: dict[int, tuple[int, int]] = {}  # table index -> (file offset, bytes) of its name
        nlists = struct.iter_unpack(fmt, self.data[symoff : symoff + nsyms * entsize])
        for i, (strx, ntype, nsect, _desc, value) in enumerate(nlists):
            if ntype & N_STAB or (ntype & N_TYPE) != N_SECT or not 0 < nsect <= len(self._raw):
                continue
            end = strtab.find(b"\0", strx)
            name = strtab[strx : end if end >= 0 else len(strtab)].decode("utf-8", "replace")
            if name.startswith("_"):
                name = name[1:]
            if name:
                by_sect.setdefault(nsect, []).append((value, i, name))
                where[i] = (stroff + strx, (end + 1 if end >= 0 else len(strtab)) - strx)
        rows: list[tuple[int, int, str, int, int, int, int, int, int]] = []
        section_names: list[str] = []
        for nsect, entries in by_sect.items():
            _seg, _plain, raw_sec = self._raw[nsect - 1]
            section = len(section_names)
            section_names.append(self._n_sect_names[nsect - 1])
            sec_end = raw_sec.addr + raw_sec.mem_size
            kind = 0 if raw_sec.raw_flags & (S_ATTR_PURE_INSTRUCTIONS | S_ATTR_SOME_INSTRUCTIONS) else 1  # func, data
            for addr, size, sym_name, i in sizes_from_next_address(entries, sec_end):
                rows.append((addr, size, sym_name, kind, section, symoff + i * entsize, entsize, *where[i]))
        return SymbolTable.from_rows(rows, section_names) if rows else ()

    def _raw_is64(self) -> bool:
        return int.from_bytes(self.data[:4], "little") == MH_MAGIC_64


def _renamed(s: Section, name: str) -> Section:
    return Section(name, s.file_size, s.mem_size, s.offset, s.addr, s.flags, s.raw_flags)


def _cstr(raw: bytes | memoryview) -> str:
    b = bytes(raw)
    return b.split(b"\0", 1)[0].decode("utf-8", "replace")
