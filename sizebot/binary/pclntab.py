"""Pure-Python reader of the Go pclntab, Go 1.18 through 1.27 (runtime/symtab.go, cmd/link/internal/ld/pcln.go).

Layout (offsets in the header are from the header's start)::

    pcHeader   magic u32, pad u8 x2, minLC u8, ptrSize u8, then ptrSize words:
               nfunc, nfiles, textStart (0 since Go 1.26), funcnameOffset, cuOffset,
               filetabOffset, pctabOffset, pclnOffset
    funcnametab  NUL-terminated function names
    cutab        u32 offsets into filetab, one run per compilation unit
    filetab      NUL-terminated file names
    pctab        deduplicated pcvalue streams (varint pairs, 0-terminated)
    pclntable    functab: (entryOff u32, funcOff u32) x nfunc, end entryOff u32;
                 then the _func records, each followed by pcdata u32[npcdata], funcdata u32[nfuncdata]

_func (44 bytes since Go 1.20; 40 in 1.18-1.19, which had no startLine):
entryOff, nameOff, args, deferreturn, pcsp, pcfile, pcln, npcdata, cuOffset, [startLine],
funcID u8, flag u8, pad u8, nfuncdata u8.

Everything here is offsets into the mapped file; the functions are kept in compact arrays (FuncTable)
and their names and tables decoded from the file when asked for.
"""

from __future__ import annotations

import re
import struct
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import add, sub
from typing import overload

from sizebot.binary.binaryfile import BinaryFile
from sizebot.documents.analyze import Section
from sizebot.errors import PclntabError

MAGIC_GO118, MAGIC_GO120 = 0xFFFFFFF0, 0xFFFFFFF1
SUPPORTED_MAGICS = (MAGIC_GO118, MAGIC_GO120)
NO_FUNCDATA = 0xFFFFFFFF
# The linker's 1-byte symbols bracketing the FIPS module's text (Go 1.24+, in every binary): functab
# entries without pc-value tables, so only the linker's rule gives their size; what follows them up
# to the next entry is alignment padding, as after any function
FIPS_TEXT_BRACKETS = ("go:textfipsstart", "go:textfipsend")
FIPS_BRACKET_SIZE = 1
# go:buildid, the first text symbol where the build ID has no note (Mach-O, PE; the linker's
# textbuildid): "\xff Go build ID: " + the quoted ID + "\n \xff", also without pc-value tables
_BUILDID_HEAD = b'\xff Go build ID: "'
_BUILDID_TAIL = b'"\n \xff'
_BUILDID_MAX = 4096


def linker_text_size(name: str, data: bytes | memoryview, offset: int, size: int) -> int:
    """Bytes of the text symbol ``name`` at file ``offset`` that has no pc-value tables, of which
    ``size`` run to the next entry: the linker's own symbols by their format, ``size`` for anything
    else (or a build ID that does not parse)."""
    if name in FIPS_TEXT_BRACKETS:
        return min(size, FIPS_BRACKET_SIZE)
    if name == "go:buildid" and size > len(_BUILDID_HEAD):
        text = bytes(data[offset : offset + min(size, _BUILDID_MAX)])
        end = text.find(_BUILDID_TAIL, len(_BUILDID_HEAD)) if text.startswith(_BUILDID_HEAD) else -1
        if end > 0:
            return end + len(_BUILDID_TAIL)
    return size

# One varint; a pcvalue stream: a first (value, pc) pair, then pairs whose value delta is not the
# one-byte 0, then the terminating 0 byte.
_VARINT = re.compile(rb"[\x80-\xff]*[\x00-\x7f]")
_PCVALUE = re.compile(  # possessive: a varint never gives bytes back, so no backtracking
    rb"[\x80-\xff]*+[\x00-\x7f][\x80-\xff]*+[\x00-\x7f]"
    rb"(?:(?:[\x80-\xff]++[\x00-\x7f]|[\x01-\x7f])[\x80-\xff]*+[\x00-\x7f])*+\x00"
)
# The value delta of each (value, pc) pair.
_VALUE_DELTA = re.compile(rb"([\x80-\xff]*+[\x00-\x7f])[\x80-\xff]*+[\x00-\x7f]")
# The pc delta of each (value, pc) pair.
_PC_DELTA = re.compile(rb"[\x80-\xff]*+[\x00-\x7f]([\x80-\xff]*+[\x00-\x7f])")


def uvarint(data: bytes | memoryview, pos: int, max_bits: int = 64) -> tuple[int | None, int]:
    """The unsigned varint at ``pos`` and the position after it; None where the data ends first or
    the varint runs past ``max_bits``."""
    v, shift = 0, 0
    while pos < len(data) and shift < max_bits:
        c = data[pos]
        pos += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, pos
    return None, pos


@dataclass(frozen=True, slots=True)
class FuncRecord:
    """One function of the pclntab. ``entry``/``end`` are virtual addresses (end = next entry);
    the other offsets are file offsets, or 0 for an absent table."""

    name: str
    entry: int
    end: int
    name_off: int  # file offset of the name's first byte
    name_len: int  # bytes of the name including its NUL
    func_off: int  # file offset of the _func record
    func_len: int  # _func + pcdata + funcdata arrays + alignment up to the next record
    pc_tables: tuple[int, ...]  # pctab-relative offsets of pcsp, pcfile, pcln and each pcdata table (0 = none)
    funcdata: tuple[int, ...]  # gofunc-relative offsets of funcdata objects (NO_FUNCDATA = none)
    cu_offset: int  # index into cutab (in u32 units)


class FuncTable(Sequence[FuncRecord]):
    """Every function of the pclntab in compact arrays, in address order (a Python object per function
    would be most of the analysis' memory on large programs). ``table[i]`` builds the FuncRecord;
    hot loops read the arrays and the ``iter_*`` generators, which decode names and tables from the
    mapped file as they go."""

    def __init__(self, pcln: Pclntab, text_base: int):
        self.pcln = pcln
        self.text_base = text_base
        self.entries = array("Q")  # n + 1 addresses: each function's entry, then the end of the last
        self.name_offs = array("Q")
        self.name_lens = array("I")
        self.func_offs = array("Q")
        self.func_lens = array("I")
        self.cu_offsets = array("I")

    def __len__(self) -> int:
        return len(self.func_offs)

    @overload
    def __getitem__(self, i: int) -> FuncRecord: ...

    @overload
    def __getitem__(self, i: slice) -> list[FuncRecord]: ...

    def __getitem__(self, i: int | slice) -> FuncRecord | list[FuncRecord]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self.func_offs)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("function index out of range")
        pc_tables, funcdata = self.tables(i)
        return FuncRecord(
            name=self.name(i), entry=self.entries[i], end=self.entries[i + 1], name_off=self.name_offs[i],
            name_len=self.name_lens[i], func_off=self.func_offs[i], func_len=self.func_lens[i],
            pc_tables=pc_tables, funcdata=funcdata, cu_offset=self.cu_offsets[i],
        )

    def __iter__(self) -> Iterator[FuncRecord]:
        for i in range(len(self.func_offs)):
            yield self[i]

    @property
    def starts(self) -> memoryview:
        """Each function's entry (``entries`` without the end of the last)."""
        return memoryview(self.entries)[:-1]

    @property
    def ends(self) -> memoryview:
        """Each function's end (the next entry)."""
        return memoryview(self.entries)[1:]

    def name(self, i: int) -> str:
        off = self.name_offs[i]
        return str(self.pcln.binary.data[off : off + self.name_lens[i] - 1], "utf-8", "replace")

    def names(self) -> Iterator[str]:
        pcln = self.pcln
        data, lo = pcln.binary.data, pcln.funcname_off
        table = bytes(data[lo : pcln.cutab_off])
        if table.isascii():  # the usual case: one decode, then each name is a slice of it
            text = table.decode("ascii")
            del table
            starts = map(sub, self.name_offs, repeat(lo))
            ends = map(sub, map(add, self.name_offs, self.name_lens), repeat(lo + 1))  # before the NUL
            return map(text.__getitem__, map(slice, starts, ends))
        offs, lens = self.name_offs, self.name_lens
        return (str(data[off : off + n - 1], "utf-8", "replace") for off, n in zip(offs, lens, strict=True))

    def tables(self, i: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(pc_tables, funcdata) of function ``i``: pcsp, pcfile, pcln and each pcdata table's
        pctab-relative offset; each funcdata object's go:func.*-relative offset."""
        return _record_tables(self.pcln, self.func_offs[i])

    def iter_tables(self) -> Iterator[tuple[tuple[int, ...], tuple[int, ...]]]:
        """``tables(i)`` of every function, in order."""
        pcln = self.pcln
        for off in self.func_offs:
            yield _record_tables(pcln, off)


def _record_tables(pcln: Pclntab, rec: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """pcsp, pcfile, pcln and npcdata sit at +16 of a _func record, nfuncdata is its last byte;
    the pcdata then funcdata u32 arrays follow it."""
    data, fs = pcln.binary.data, pcln.func_size
    pcsp, pcfile, pcln_t, npcdata = pcln._tables_head.unpack_from(data, rec + 16)
    count = npcdata + data[rec + fs - 1]
    arrays = pcln._arrays.get(count)
    if arrays is None:
        arrays = pcln._arrays[count] = struct.Struct(f"{pcln._bo}{count}I")
    words = arrays.unpack_from(data, rec + fs)
    return (pcsp, pcfile, pcln_t, *words[:npcdata]), words[npcdata:]


class Pclntab:
    """A parsed pclntab header plus its function table. ``parse_functions`` reads every _func."""

    def __init__(self, binary: BinaryFile, section: Section):
        self.binary = binary
        self.section = section
        self.start = section.offset
        self.end = section.offset + section.file_size
        self.addr = section.addr
        data, path = binary.data, binary.path
        if section.file_size < 8:
            raise PclntabError("pclntab is shorter than its header", path=path)
        bo = "<" if binary.byte_order == "little" else ">"
        self._bo = bo
        self.magic = struct.unpack_from(bo + "I", data, self.start)[0]
        if self.magic not in SUPPORTED_MAGICS:
            raise PclntabError(f"unknown pclntab magic {self.magic:#x}", path=path)
        pad1, pad2, self.min_lc, self.ptr_size = data[self.start + 4 : self.start + 8]
        if pad1 or pad2 or self.min_lc not in (1, 2, 4) or self.ptr_size not in (4, 8):
            raise PclntabError("corrupt pclntab header (pad, minLC or pointer size)", path=path)
        word = bo + ("Q" if self.ptr_size == 8 else "I")
        header_len = 8 + 8 * self.ptr_size
        if section.file_size < header_len:
            raise PclntabError("pclntab is shorter than its header", path=path)
        fields = [struct.unpack_from(word, data, self.start + 8 + i * self.ptr_size)[0] for i in range(8)]
        (self.nfunc, self.nfiles, self.text_start, funcname, cu, filetab, pctab, pcln) = fields
        self.header_len = header_len
        offsets = (funcname, cu, filetab, pctab, pcln)
        size = section.file_size
        in_order = list(offsets) == sorted(offsets) and all(header_len <= o <= size for o in offsets)
        if not header_len <= funcname < header_len + 64 or not in_order:
            raise PclntabError("corrupt pclntab header: table offsets out of order or past the section", path=path)
        if self.nfunc <= 0 or pcln + (self.nfunc * 2 + 1) * 4 > size:
            raise PclntabError(f"corrupt pclntab header: {self.nfunc} functions do not fit", path=path)
        s = self.start
        self.funcname_off, self.cutab_off, self.filetab_off, self.pctab_off, self.functab_off = (s + o for o in offsets)
        self.func_size = 44 if self.magic == MAGIC_GO120 else 40
        self.functab_len = (self.nfunc * 2 + 1) * 4
        self.records_end = self.functab_off + self.functab_len  # raised by parse_functions
        self._pctab_bytes: memoryview | None = None
        self._tables_head = struct.Struct(bo + "IIII")  # pcsp, pcfile, pcln, npcdata of a _func record
        self._arrays: dict[int, struct.Struct] = {}  # u32 count -> its unpacker

    @property
    def go_range(self) -> str:
        return "go1.20+" if self.magic == MAGIC_GO120 else "go1.18-1.19"

    def parse_functions(self, text_base: int) -> FuncTable:
        """Every function, in address order. ``text_base`` is runtime.text (entryOff is relative to it)."""
        try:
            return self._parse_functions(text_base)
        except (struct.error, IndexError, ValueError) as e:
            raise PclntabError(f"corrupt pclntab: {e}", path=self.binary.path) from None

    def _parse_functions(self, text_base: int) -> FuncTable:
        b, bo, path = self.binary, self._bo, self.binary.path
        data = b.data
        n = self.nfunc
        pairs = list(struct.iter_unpack(bo + "II", data[self.functab_off : self.functab_off + n * 8]))
        end_off = struct.unpack_from(bo + "I", data, self.functab_off + n * 8)[0]
        pclntable = self.functab_off
        section_end = self.end
        names_off, names_len = self.funcname_off, self.cutab_off - self.funcname_off
        find = b.find_bytes
        fs = self.func_size
        head = struct.Struct(bo + ("IiiIIIIIIiBBBB" if fs == 44 else "IiiIIIIIIBBBB"))
        table = FuncTable(self, text_base)
        name_offs, name_lens, func_offs, func_lens, cus = (
            table.name_offs, table.name_lens, table.func_offs, table.func_lens, table.cu_offsets)
        entries = table.entries
        prev_entry = -1
        records_end = self.records_end
        functab_len = self.functab_len
        for i, (entry_off, func_off) in enumerate(pairs):
            if entry_off < prev_entry:
                raise PclntabError(f"corrupt pclntab: function table not sorted at entry {i}", path=path)
            prev_entry = entry_off
            rec = pclntable + func_off
            if rec + fs > section_end or func_off < functab_len:
                raise PclntabError(f"corrupt pclntab: function record {i} is outside the table", path=path)
            f = head.unpack_from(data, rec)
            if f[0] != entry_off:
                raise PclntabError(f"corrupt pclntab: function record {i} does not match the function table", path=path)
            name_rel, npcdata = f[1], f[7]
            arrays_end = rec + fs + 4 * (npcdata + f[-1])
            if npcdata > 1024 or arrays_end > section_end or not 0 <= name_rel < names_len:
                raise PclntabError(f"corrupt pclntab: function record {i} has bad counts or name offset", path=path)
            name_off = names_off + name_rel
            nul = find(b"\0", name_off, names_off + names_len)
            if nul < 0:
                nul = names_off + names_len - 1
            nxt = pclntable + pairs[i + 1][1] if i + 1 < n else arrays_end
            if nxt < arrays_end or nxt - arrays_end >= 8:  # next record is not right after this one
                nxt = arrays_end
            if nxt > records_end:
                records_end = nxt
            entries.append(text_base + entry_off)
            name_offs.append(name_off)
            name_lens.append(nul - name_off + 1)
            func_offs.append(rec)
            func_lens.append(nxt - rec)
            cus.append(f[8])
        entries.append(text_base + end_off)
        self.records_end = records_end
        return table

    def pcvalue_extent(self, rel: int, *, span: bool = True) -> tuple[int, int]:
        """(bytes, pc span) of the pcvalue stream at pctab-relative offset ``rel``: pairs of a zig-zag
        value delta varint and a pc delta varint (times minLC), ended by a 0 value delta (not first).
        The length comes from one regular-expression match (C speed); the span (skipped when
        ``span`` is false: 0) sums the pc deltas, found by a second one."""
        buf = self.pctab_bytes()
        m = _PCVALUE.match(buf, rel)
        if m is None:
            raise PclntabError(
                f"corrupt pclntab: pc-value table at {rel:#x} runs past the pc-value tables", path=self.binary.path
            )
        end = m.end()
        if not span:
            return end - rel, 0
        deltas = _PC_DELTA.findall(buf, rel, end - 1)
        joined = b"".join(deltas)
        pc = sum(joined)  # one-byte deltas (nearly all) are their own value: summed at C speed
        if len(joined) != len(deltas):  # multi-byte ones: replace their byte sum by their value
            for v in deltas:
                if len(v) > 1:
                    n = 0
                    for j, c in enumerate(v):
                        n |= (c & 0x7F) << (7 * j)
                    pc += n - sum(v)
        return end - rel, pc * self.min_lc

    def pcvalue_stats(self, rel: int) -> tuple[int, bool] | None:
        """(largest value, whether any value is even) of the pcvalue stream at ``rel``; None when
        it is not a well-formed stream."""
        buf = self.pctab_bytes()
        m = _PCVALUE.match(buf, rel)
        if m is None:
            return None
        v, top, even = -1, -1 << 62, False
        for delta in _VALUE_DELTA.findall(buf, rel, m.end() - 1):
            if len(delta) == 1:
                u = delta[0]
            else:
                u = 0
                for j, c in enumerate(delta):
                    u |= (c & 0x7F) << (7 * j)
            v += (u >> 1) ^ -(u & 1)
            if v > top:
                top = v
            if not v & 1:
                even = True
        return top, even

    def pcvalue_at(self, rel: int, entry: int, pc: int) -> int | None:
        """The value the pcvalue stream at ``rel`` (of the function at ``entry``) gives ``pc``."""
        buf = self.pctab_bytes()
        pos, value, at, first = rel, -1, entry, True
        while True:
            u, pos = uvarint(buf, pos)
            if u is None or (u == 0 and not first):
                return None
            first = False
            value += (u >> 1) ^ -(u & 1)
            d, pos = uvarint(buf, pos)
            if d is None:
                return None
            at += d * self.min_lc
            if pc < at:
                return value

    def pcvalue_first(self, rel: int) -> int:
        """The first value of the pcvalue stream at ``rel`` (a zig-zag delta from -1)."""
        m = _VARINT.match(self.pctab_bytes(), rel)
        if m is None:
            return -1
        v = 0
        for j, c in enumerate(m.group()):
            v |= (c & 0x7F) << (7 * j)
        return -1 + ((v >> 1) ^ -(v & 1))

    def pctab_bytes(self) -> memoryview:
        """The pc-value tables (a view of the mapped file: the regular expressions read it in place)."""
        if self._pctab_bytes is None:
            self._pctab_bytes = self.binary.data[self.pctab_off : self.functab_off]
        return self._pctab_bytes

    def cu_files(self, cu_offset: int, count: int) -> tuple[int, ...]:
        """filetab-relative offsets of a compilation unit's files (``count`` cutab entries)."""
        bo = self._bo
        start = self.cutab_off + 4 * cu_offset
        count = max(0, min(count, (self.filetab_off - start) // 4))
        return struct.unpack_from(f"{bo}{count}I", self.binary.data, start) if count else ()

    def string_len(self, offset: int, limit: int) -> int:
        """Length including the NUL of the C string at file offset ``offset`` (bounded by ``limit``)."""
        nul = self.binary.find_bytes(b"\0", offset, limit)
        return nul + 1 - offset if nul >= 0 else limit - offset


def read_magic(binary: BinaryFile, section: Section) -> int:
    if section.file_size < 4:
        return 0
    word = binary.data[section.offset : section.offset + 4]
    return int.from_bytes(word, "little") if binary.byte_order == "little" else int.from_bytes(word, "big")
