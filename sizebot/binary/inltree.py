"""The inlined function an instruction belongs to, from the pclntab's inline trees (Go 1.18-1.27).

Code the compiler inlined into a function keeps its own identity in two tables of that function:
its PCDATA_InlTreeIndex pc-value table gives, per pc, the index of the innermost inlined call the
instruction comes from (-1: the function's own code), and its FUNCDATA_InlTree object (in go:func.*)
is the array of those calls, ``runtime.inlinedCall``::

    Go 1.20-1.27 (16 bytes): funcID u8, pad [3]u8, nameOff i32, parentPc i32, startLine i32
    Go 1.18-1.19 (20 bytes): parent i16, funcID u8, pad u8, file i32, line i32, nameOff i32, parentPc i32

``nameOff`` is the called function's name in the pclntab's function-name table. The linker writes
the same layout from Go 1.20 to 1.27 (cmd/link genInlTreeSym, ``const size = 16``); the pclntab's
_func size (44 since Go 1.20, 40 before) tells the two apart.

A pc-value table is (value delta, pc delta) varint pairs, the value delta zig-zag encoded, ended by
a value delta of the single byte 0 after the first pair (runtime.step). The tables are decoded as
arrays, all of a thousand functions at once: a varint's last byte is the only one below 0x80, so
the bytes below 0x80 end the varints, and running sums over every other varint give every pc's
inline index by one sorted search.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence

import numpy as np

from sizebot.binary.binaryfile import BinaryFile
from sizebot.binary.distinct import distinct_first_inverse
from sizebot.binary.funcdata import FUNCDATA_INLTREE, PCDATA_INLTREE_INDEX
from sizebot.binary.pclntab import NO_FUNCDATA, FuncTable, Pclntab

# (bytes of one inlinedCall, offset of its nameOff) by the size of the pclntab's _func record
INLINED_CALL = {44: (16, 4), 40: (20, 12)}

_CONTINUATION = bytes(range(0x80, 0x100))  # the bytes a varint goes on after
_NAMES_LIMIT = 1 << 16  # names remembered (a forged tree may have many)
_TABLES_AT_ONCE = 1024  # tables decoded together (a few tens of thousands of pairs)
_WINDOW = 32  # bytes after a table's first pair searched at once for its end marker


def tree_span(binary: BinaryFile, gofunc: int) -> tuple[int, int] | None:
    """(file offset, end) of go:func.* at virtual address ``gofunc``: the inline trees lie in it (its
    section's end bounds them; None when the address has no file bytes)."""
    sec = next((s for s in binary.sections if s.file_size and s.addr and s.addr <= gofunc < s.addr + s.file_size),
               None)
    return None if sec is None else (sec.offset + gofunc - sec.addr, sec.offset + sec.file_size)


def function_runs(
    funcs: FuncTable, pcs: Sequence[int] | np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where each function's pcs lie in ``pcs`` (ascending): (bounds: function f's pcs are
    ``pcs[bounds[f]:bounds[f + 1]]``, with one more bound for the end of the last function; the
    functions with pcs; the first and the end position of each one's pcs)."""
    bounds = np.searchsorted(_u64(pcs), np.frombuffer(funcs.entries, np.uint64))
    referring = np.flatnonzero(bounds[:-1] < bounds[1:])
    return bounds, referring, bounds[referring], bounds[referring + 1]


def _u64(values: Sequence[int] | np.ndarray) -> np.ndarray:
    """``values`` as a uint64 array (without a copy for an ``array('Q')`` or such an array)."""
    if isinstance(values, np.ndarray):
        return values.astype(np.uint64, copy=False)
    if isinstance(values, array) and values.typecode == "Q":
        return np.frombuffer(values, np.uint64)
    return np.array(values, np.uint64)


def inlined_packages(
    funcs: FuncTable,
    span: tuple[int, int],
    package_of: Callable[[str], int | None],
    pcs: Sequence[int] | np.ndarray,
    runs: tuple[Sequence[int] | np.ndarray, Sequence[int] | np.ndarray, Sequence[int] | np.ndarray],
) -> tuple[array, array]:
    """The pcs that lie in inlined code, and the package of the innermost function inlined at each:
    (positions in ``pcs``, package indexes). ``pcs`` are ascending; ``runs`` lists the functions
    with pcs, the first and the end position of each one's pcs (``function_runs``); ``span`` is
    go:func.*'s (file offset, end); ``package_of`` gives a function name's package index, or None
    (called once per name, in the order of the pcs). Each function's inline index table is decoded
    once, and only for the functions in ``runs``. A pc whose inlined call cannot be read (a
    malformed table, an index past go:func.*, a name offset past the name table) is left out: it
    stays its function's."""
    pcln = funcs.pcln
    esize, _name_at = INLINED_CALL.get(pcln.func_size, (0, 0))
    if not esize:
        return array("Q"), array("Q")
    chosen, firsts, lasts, tables, trees = _with_trees(funcs, *(np.asarray(r, np.int64) for r in runs))
    at_pcs = _u64(pcs)
    found, offsets = [], []
    # a bounded number of tables at a time: the arrays of their bytes and pcs stay small
    for at in range(0, len(chosen), _TABLES_AT_ONCE):
        part = slice(at, at + _TABLES_AT_ONCE)
        positions, name_offs = _inlined_part(funcs, span, at_pcs, chosen[part], firsts[part], lasts[part],
                                             tables[part], trees[part])
        found.append(positions)
        offsets.append(name_offs)
        pcln.binary.release(pcln.start, pcln.end - pcln.start)  # this part's tables and trees: not read again
        pcln.binary.release(span[0], span[1] - span[0])
    positions = np.concatenate(found) if found else np.zeros(0, np.int64)
    name_offs = np.concatenate(offsets) if offsets else np.zeros(0, np.int64)
    # each name's package, looked up once, in the order of first sight
    names = _NamePackages(pcln, package_of)
    unique, first, inverse = distinct_first_inverse(name_offs)
    pids = np.full(len(unique), -1, np.int64)
    for k in np.argsort(first, kind="stable").tolist():
        pid = names[int(unique[k])]
        if pid is not None:
            pids[k] = pid
    packages = pids[inverse]
    known = packages >= 0
    # the pclntab's and go:func.*'s pages read here: the steps after read little of them
    pcln.binary.release(pcln.start, pcln.end - pcln.start)
    pcln.binary.release(span[0], span[1] - span[0])
    out_positions, out_pids = array("Q"), array("Q")
    out_positions.frombytes(positions[known].astype(np.uint64).tobytes())
    out_pids.frombytes(packages[known].astype(np.uint64).tobytes())
    return out_positions, out_pids


def _inlined_part(
    funcs: FuncTable, span: tuple[int, int], pcs: np.ndarray, chosen: np.ndarray, firsts: np.ndarray,
    lasts: np.ndarray, tables: np.ndarray, trees: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For the functions ``chosen``, whose pcs lie at [firsts, lasts), with their inline index
    tables and inline trees: the positions of the pcs in inlined code, and the nameOff of the
    innermost inlinedCall at each."""
    pcln = funcs.pcln
    esize, name_at = INLINED_CALL[pcln.func_size]
    ends = _table_ends(pcln, tables)
    good = ends >= 0  # a malformed table: its function's own package
    chosen, firsts, lasts, tables, trees, ends = (c[good] for c in (chosen, firsts, lasts, tables, trees, ends))
    if not len(chosen):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # running sums from 0 of the values and the pc deltas over all tables, table t's pairs from
    # pair firsts_pair[t] (the sums up to the end of its pair k at k + 1)
    start = pcln.pctab_off + tables
    values, pc_ends, firsts_pair = _decode_spans(pcln, start, ends - start)
    # per table: the running pc sum before it minus its function's entry (a pc plus this is its
    # place in the running sums), the bounds of its pairs for the search, the running value sum
    # before it plus one (values start at -1), where its inlinedCalls' name offsets start
    entries = np.frombuffer(funcs.entries, np.uint64)[chosen]
    los = firsts_pair[:-1] + 1
    his = firsts_pair[1:] + 1
    value_base = values[firsts_pair[:-1]] + 1
    names_at = trees + span[0] + name_at
    # per pc of those functions: its table, its position
    counts = lasts - firsts
    table_of = np.repeat(np.arange(len(chosen)), counts)
    positions = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts - firsts, counts)
    # the pair holding each pc: the first whose end is past it (none: the pc is past the table)
    keys = (pcs[positions] - entries[table_of]).astype(np.int64) + pc_ends[firsts_pair[:-1]][table_of]
    steps = np.clip(np.searchsorted(pc_ends, keys, "right"), los[table_of], his[table_of])
    index = np.append(values, 0)[steps] - value_base[table_of]
    inside = (steps < his[table_of]) & (index >= 0)
    positions, index, table_of = positions[inside], index[inside], table_of[inside]
    # each inlinedCall's nameOff, where its record lies wholly in go:func.*
    ats = names_at[table_of] + index * esize
    ok = ats + (esize - name_at) <= span[1]
    positions, ats = positions[ok], ats[ok]
    raw = _gather(pcln.binary.data, ats, 4)
    little = pcln.binary.byte_order == "little"
    name_offs = raw.view("<i4" if little else ">i4").astype(np.int64).ravel()
    return positions, name_offs


def _gather(data: memoryview, offsets: np.ndarray, size: int) -> np.ndarray:
    """The ``size`` bytes at each file offset of ``data``, as rows of a uint8 array (a copy)."""
    buf = np.frombuffer(data, np.uint8)
    try:
        return buf[offsets[:, None] + np.arange(size)]
    finally:
        del buf


def _with_trees(
    funcs: FuncTable, fs: np.ndarray, firsts: np.ndarray, lasts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Of functions ``fs`` (with their pcs' first and end positions), those with an inline index
    table and an inline tree, with (pctab offset of the table, go:func.* offset of the tree). Read
    from the _func records directly (npcdata at +28, nfuncdata in the last byte, then the pcdata and
    funcdata u32 arrays), which the function table's parse bounds-checked."""
    pcln = funcs.pcln
    data, size = pcln.binary.data, pcln.func_size
    u32 = "<u4" if pcln.binary.byte_order == "little" else ">u4"

    def words(at: np.ndarray) -> np.ndarray:
        return _gather(data, at, 4).view(u32).astype(np.int64).ravel()

    recs = np.frombuffer(funcs.func_offs, np.uint64)[fs].astype(np.int64)
    npcdata = words(recs + 28)
    keep = (PCDATA_INLTREE_INDEX < npcdata) & (FUNCDATA_INLTREE < _gather(data, recs + size - 1, 1).ravel())
    fs, firsts, lasts, recs, npcdata = fs[keep], firsts[keep], lasts[keep], recs[keep], npcdata[keep]
    tables = words(recs + size + 4 * PCDATA_INLTREE_INDEX)
    trees = words(recs + size + 4 * npcdata + 4 * FUNCDATA_INLTREE)
    keep = (tables != 0) & (trees != NO_FUNCDATA)
    return fs[keep], firsts[keep], lasts[keep], tables[keep], trees[keep]


def _table_ends(pcln: Pclntab, rels: np.ndarray) -> np.ndarray:
    """The file offset of the end marker of each pc-value table at pctab-relative ``rels`` (-1 for
    a table that runs past the pc-value tables). The end marker is a 0 byte where the third or a
    later varint starts: the first 0 byte after the first pair's shortest encoding nearly always,
    checked by counting the varints before it (a whole even number of them, at least one pair)."""
    binary, start, stop = pcln.binary, pcln.pctab_off, pcln.functab_off
    offs = rels + start
    # the first 0 byte in a window after each table's first two bytes, else searched for further on
    at = offs[:, None] + 2 + np.arange(_WINDOW)
    window = _gather(binary.data, np.minimum(at, max(stop - 1, 0)), 1)[:, :, 0]
    zero = (window == 0) & (at < stop)
    zeros = np.where(zero.any(axis=1), offs + 2 + np.argmax(zero, axis=1), -2)
    for t in np.flatnonzero(zeros == -2).tolist():
        zeros[t] = binary.find_bytes(b"\0", int(offs[t]) + 2, stop)
    ends = np.where(zeros >= offs, zeros, offs)  # -1: no 0 byte at all, an empty span (no pair)
    lens = ends - offs
    varints, last = _varint_counts(binary.data, offs, lens)
    good = (varints % 2 == 0) & (varints >= 2) & (last < 0x80)
    for t in np.flatnonzero(~good).tolist():  # rare: a 0 byte inside the table
        ends[t] = _slow_end(binary.data, binary.find_bytes, int(offs[t]), int(zeros[t]), stop)
    return ends


def _varint_counts(data: memoryview, offs: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The number of varints (bytes below 0x80) in each span [offs, offs + lens) of ``data``, and
    each span's last byte (0x80 for an empty span)."""
    count = np.zeros(len(offs), np.int64)
    last = np.full(len(offs), 0x80, np.int64)
    some = np.flatnonzero(lens > 0)
    if len(some):
        joined = _gather_spans(data, offs[some], lens[some])
        bounds = np.cumsum(lens[some]) - lens[some]
        count[some] = np.add.reduceat((joined < 0x80).astype(np.int64), bounds)
        last[some] = joined[bounds + lens[some] - 1]
    return count, last


def _gather_spans(data: memoryview, offs: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """The bytes of the spans [offs, offs + lens) of ``data`` one after the other."""
    starts = np.cumsum(lens) - lens
    return _gather(data, np.arange(int(lens.sum()), dtype=np.int64) - np.repeat(starts - offs, lens), 1).ravel()


def _slow_end(data: memoryview, find: Callable[[bytes, int, int], int], off: int, zero: int, stop: int) -> int:
    """The end marker of the table at file offset ``off`` when the first 0 byte after its start
    (``zero``, -1: none) is not it: the 0 bytes after it are tried in turn, counting only the
    varints between them (linear in the table's length); -1 when none is."""
    count, pos = 0, off
    while zero >= 0:
        piece = bytes(data[pos:zero])
        count += len(piece.translate(None, _CONTINUATION))
        if count >= 2 and not count & 1 and data[zero - 1] < 0x80:
            return zero
        pos, zero = zero, find(b"\0", zero + 1, stop)
    return -1


def _decode_spans(pcln: Pclntab, offs: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_decode`` of the tables at file offsets ``offs`` of ``lens`` bytes each (each a whole even
    number of varints)."""
    joined = _gather_spans(pcln.binary.data, offs, lens)
    counts = np.add.reduceat((joined < 0x80).astype(np.int64), np.cumsum(lens) - lens)
    return _decode_joined(pcln, joined, counts)


def _decode(pcln: Pclntab, tables: list[bytes], counts: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of ``tables`` (``counts``: each one's number of varints, even) decoded together."""
    return _decode_joined(pcln, np.frombuffer(b"".join(tables), np.uint8), np.array(counts, np.int64))


def _decode_joined(
    pcln: Pclntab, joined: np.ndarray, counts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs of the tables laid one after the other in ``joined`` (``counts``: each one's number
    of varints, even) decoded together: the running sums from 0 of the values and of the pc deltas
    (times the pc quantum), each an array that starts with 0 and holds the sum up to the end of
    pair k at k + 1, and the index of each table's first pair (one more: the number of pairs).
    Varints are read as the runtime reads them (readvarint): 7 bits a byte, lowest first, the shift
    taken modulo 32, a 32-bit value."""
    lasts = np.flatnonzero(joined < 0x80)
    varints = joined[lasts].astype(np.int64)
    if len(lasts) != len(joined):  # multi-byte varints: each byte's 7 bits at its place
        firsts = np.concatenate(([0], lasts[:-1] + 1))
        place = np.arange(len(joined), dtype=np.int64) - np.repeat(firsts, lasts - firsts + 1)
        bits = (joined & 0x7F).astype(np.int64) << ((7 * place) & 31)
        varints = np.bitwise_or.reduceat(bits, firsts) & 0xFFFFFFFF
    deltas = varints[0::2]
    values = np.concatenate(([0], np.cumsum((deltas >> 1) ^ -(deltas & 1))))
    ends = np.concatenate(([0], np.cumsum(varints[1::2] * pcln.min_lc)))
    return values, ends, np.concatenate(([0], np.cumsum(counts >> 1)))


class _NamePackages(dict[int, "int | None"]):
    """nameOff -> the package index of the function named there (None past the name table or
    without a package), looked up on first sight."""

    def __init__(self, pcln: Pclntab, package_of: Callable[[str], int | None]):
        super().__init__()
        self.pcln, self.package_of = pcln, package_of

    def __missing__(self, name_off: int) -> int | None:
        pcln = self.pcln
        start, end = pcln.funcname_off + name_off, pcln.cutab_off
        pid = None
        if 0 <= name_off and start < end:
            nul = pcln.binary.find_bytes(b"\0", start, end)
            if nul > start:
                pid = self.package_of(str(pcln.binary.data[start:nul], "utf-8", "replace"))
        if len(self) >= _NAMES_LIMIT:
            self.clear()
        self[name_off] = pid
        return pid
