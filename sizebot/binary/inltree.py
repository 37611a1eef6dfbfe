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
a value delta of the single byte 0 after the first pair (runtime.step). The tables are decoded with
bytes methods (translate, split), not a per-byte loop nor a regular expression: their varints are
nearly all one byte, and a varint's last byte is the only one below 0x80.
"""

from __future__ import annotations

import bisect
import struct
from array import array
from collections.abc import Callable, Sequence
from itertools import accumulate, chain, compress, islice, repeat
from operator import add, and_, is_not, itemgetter, le, lt, mul, not_, rshift, sub
from typing import cast

from sizebot.binary.binaryfile import BinaryFile
from sizebot.binary.funcdata import FUNCDATA_INLTREE, PCDATA_INLTREE_INDEX
from sizebot.binary.pclntab import NO_FUNCDATA, FuncTable, Pclntab

# (bytes of one inlinedCall, offset of its nameOff) by the size of the pclntab's _func record
INLINED_CALL = {44: (16, 4), 40: (20, 12)}

_CONTINUATION = bytes(range(0x80, 0x100))  # the bytes a varint goes on after
_LAST = bytes(range(0x80))  # the last byte of a varint
_KIND = b"t" * 0x80 + b"c" * 0x80  # each byte: a varint's last (t) or not (c)
_NAMES_LIMIT = 1 << 16  # names remembered (a forged tree may have many)
_TABLES_AT_ONCE = 1024  # tables decoded together (a few tens of thousands of pairs)


class _ZigZagValues(dict[int, int]):
    """A zig-zag encoded varint -> its signed value (a C-speed lookup once seen)."""

    def __missing__(self, u: int) -> int:
        v = (u >> 1) ^ -(u & 1)
        if u < 1 << 16:
            self[u] = v
        return v


_ZIGZAG = _ZigZagValues()


def tree_span(binary: BinaryFile, gofunc: int) -> tuple[int, int] | None:
    """(file offset, end) of go:func.* at virtual address ``gofunc``: the inline trees lie in it (its
    section's end bounds them; None when the address has no file bytes)."""
    sec = next((s for s in binary.sections if s.file_size and s.addr and s.addr <= gofunc < s.addr + s.file_size),
               None)
    return None if sec is None else (sec.offset + gofunc - sec.addr, sec.offset + sec.file_size)


def function_runs(funcs: FuncTable, pcs: Sequence[int]) -> tuple[list[int], list[int], list[int], list[int]]:
    """Where each function's pcs lie in ``pcs`` (ascending): (bounds: function f's pcs are
    ``pcs[bounds[f]:bounds[f + 1]]``, with one more bound for the end of the last function; the
    functions with pcs; the first and the end position of each one's pcs)."""
    bounds = list(map(bisect.bisect_left, repeat(pcs), funcs.entries))
    referring = list(compress(range(len(funcs)), map(lt, bounds, islice(bounds, 1, None))))
    firsts = list(map(bounds.__getitem__, referring))
    lasts = list(map(bounds.__getitem__, map(add, referring, repeat(1))))
    return bounds, referring, firsts, lasts


def inlined_packages(
    funcs: FuncTable,
    span: tuple[int, int],
    package_of: Callable[[str], int | None],
    pcs: Sequence[int],
    runs: tuple[list[int], list[int], list[int]],
) -> tuple[array, array]:
    """The pcs that lie in inlined code, and the package of the innermost function inlined at each:
    (positions in ``pcs``, package indexes). ``pcs`` are ascending; ``runs`` lists the functions
    with pcs, the first and the end position of each one's pcs (``function_runs``); ``span`` is
    go:func.*'s (file offset, end); ``package_of`` gives a function name's package index, or None.
    Each function's inline index table is decoded once, and only for the functions in ``runs``. A
    pc whose inlined call cannot be read (a malformed table, an index past go:func.*, a name offset
    past the name table) is left out: it stays its function's."""
    pcln = funcs.pcln
    esize, name_at = INLINED_CALL.get(pcln.func_size, (0, 0))
    if not esize:
        return array("Q"), array("Q")
    chosen, firsts, lasts, tables, trees = _with_trees(funcs, *runs)
    names = _NamePackages(pcln, package_of)
    positions, pids = array("Q"), array("Q")  # compact: a few tens of thousands
    # a bounded number of tables at a time: the lists of their pairs and pcs stay small
    for at in range(0, len(chosen), _TABLES_AT_ONCE):
        part = slice(at, at + _TABLES_AT_ONCE)
        found, packages = _inlined_part(funcs, span, names, pcs, chosen[part], firsts[part], lasts[part], tables[part],
                                        trees[part])
        positions.extend(found)
        pids.extend(packages)
    # the pclntab's and go:func.*'s pages read here: the steps after read little of them
    pcln.binary.release(pcln.start, pcln.end - pcln.start)
    pcln.binary.release(span[0], span[1] - span[0])
    return positions, pids


def _inlined_part(
    funcs: FuncTable, span: tuple[int, int], names: _NamePackages, pcs: Sequence[int], chosen: list[int],
    firsts: list[int], lasts: list[int], tables: list[int], trees: list[int],
) -> tuple[list[int], list[int]]:
    """``inlined_packages`` for the functions ``chosen``, whose pcs lie at [firsts, lasts), with
    their inline index tables and inline trees."""
    pcln = funcs.pcln
    esize, name_at = INLINED_CALL[pcln.func_size]
    pieces, counts = _table_pairs(pcln, tables)
    good = list(map(is_not, pieces, repeat(None)))  # a malformed table: its function's own package
    if not all(good):
        chosen, firsts, lasts, trees, counts = (list(compress(c, good)) for c in (chosen, firsts, lasts, trees, counts))
    if not chosen:
        return [], []
    # running sums from 0 of the values and the pc deltas over all tables, table t's pairs from
    # pair firsts_pair[t] (the sums up to the end of its pair k at k + 1)
    values, ends, firsts_pair = _decode(pcln, cast("list[bytes]", list(compress(pieces, good))), counts)
    del pieces
    # per table: the running pc sum before it minus its function's entry (a pc plus this is its
    # place in the running sums), the bounds of its pairs for the search, the running value sum
    # before it plus one (values start at -1), where its inlinedCalls' name offsets start
    pc_base = list(map(sub, map(ends.__getitem__, firsts_pair), map(funcs.entries.__getitem__, chosen)))
    los = list(map(add, firsts_pair, repeat(1)))
    his = los[1:]
    value_base = list(map(add, map(values.__getitem__, firsts_pair), repeat(1)))
    names_at = list(map(add, trees, repeat(span[0] + name_at)))
    # per pc of those functions: its table, its position
    table_of = list(chain.from_iterable(map(repeat, range(len(chosen)), map(sub, lasts, firsts))))
    positions = list(chain.from_iterable(map(range, firsts, lasts)))
    # the pair holding each pc: the first whose end is past it (none: the pc is past the table)
    keys = map(add, map(pcs.__getitem__, positions), map(pc_base.__getitem__, table_of))
    pc_his = list(map(his.__getitem__, table_of))
    steps = list(map(bisect.bisect_right, repeat(ends), keys, map(los.__getitem__, table_of), pc_his))
    values.append(0)  # the value "past the last table" (a pc past its table's end: not inside)
    index = list(map(sub, map(values.__getitem__, steps), map(value_base.__getitem__, table_of)))
    inside = list(map(and_, map(lt, steps, pc_his), map(le, repeat(0), index)))
    del steps, pc_his, values, ends
    positions, index, table_of = (list(compress(positions, inside)), list(compress(index, inside)),
                                  list(compress(table_of, inside)))
    # each inlinedCall's nameOff, where its record lies wholly in go:func.*
    ats = list(map(add, map(names_at.__getitem__, table_of), map(mul, index, repeat(esize))))
    ok = list(map(le, map(add, ats, repeat(esize - name_at)), repeat(span[1])))
    if not all(ok):
        positions, ats = list(compress(positions, ok)), list(compress(ats, ok))
    i32 = struct.Struct(("<" if pcln.binary.byte_order == "little" else ">") + "i")
    pids = list(map(names.__getitem__, map(itemgetter(0), map(i32.unpack_from, repeat(pcln.binary.data), ats))))
    known = list(map(is_not, pids, repeat(None)))
    return list(compress(positions, known)), cast("list[int]", list(compress(pids, known)))


def _with_trees(
    funcs: FuncTable, fs: list[int], firsts: list[int], lasts: list[int],
) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """Of functions ``fs`` (with their pcs' first and end positions), those with an inline index
    table and an inline tree, with (pctab offset of the table, go:func.* offset of the tree). Read
    from the _func records directly (npcdata at +28, nfuncdata in the last byte, then the pcdata and
    funcdata u32 arrays), which the function table's parse bounds-checked."""
    pcln = funcs.pcln
    data, size = pcln.binary.data, pcln.func_size
    u32 = struct.Struct(("<" if pcln.binary.byte_order == "little" else ">") + "I").unpack_from
    recs = list(map(funcs.func_offs.__getitem__, fs))
    npcdata = list(map(itemgetter(0), map(u32, repeat(data), map(add, recs, repeat(28)))))
    keep = list(map(and_, map(lt, repeat(PCDATA_INLTREE_INDEX), npcdata),
                    map(lt, repeat(FUNCDATA_INLTREE), map(data.__getitem__, map(add, recs, repeat(size - 1))))))
    fs, firsts, lasts, recs, npcdata = (list(compress(c, keep)) for c in (fs, firsts, lasts, recs, npcdata))
    tables = list(map(itemgetter(0), map(u32, repeat(data), map(add, recs, repeat(size + 4 * PCDATA_INLTREE_INDEX)))))
    arrays = map(add, recs, map(mul, npcdata, repeat(4)))
    trees = list(map(itemgetter(0), map(u32, repeat(data), map(add, arrays, repeat(size + 4 * FUNCDATA_INLTREE)))))
    keep = list(map(and_, map(bool, tables), map(NO_FUNCDATA.__ne__, trees)))
    return cast("tuple[list[int], list[int], list[int], list[int], list[int]]",
                tuple(list(compress(c, keep)) for c in (fs, firsts, lasts, tables, trees)))


def _table_pairs(pcln: Pclntab, rels: list[int]) -> tuple[list[bytes | None], list[int]]:
    """The (value, pc) pairs of each pc-value table at pctab-relative ``rels`` (its bytes without the
    end marker; None for a table that runs past the pc-value tables) and the number of varints in
    each. The end marker is a 0 byte where the third or a later varint starts: found with a byte
    search, checked by counting the varints before it."""
    binary, start, stop = pcln.binary, pcln.pctab_off, pcln.functab_off
    data, find = binary.data, binary.find_bytes
    offs = list(map(add, rels, repeat(start)))
    # the first 0 byte after the first pair's shortest encoding: nearly always the end marker
    zeros = list(map(find, repeat(b"\0"), map(add, offs, repeat(2)), repeat(stop)))
    spans = list(map(slice, offs, map(max, zeros, offs)))
    pieces: list[bytes | None] = list(map(bytes, map(data.__getitem__, spans)))
    counts = list(map(len, map(bytes.translate, cast("list[bytes]", pieces), repeat(None), repeat(_CONTINUATION))))
    # an end marker: a whole even number of varints (at least one pair) before it
    good = map(and_, map(and_, map(not_, map(and_, counts, repeat(1))), map(le, repeat(2), counts)),
               map(lt, map(_last_byte, cast("list[bytes]", pieces)), repeat(0x80)))
    for t in compress(range(len(pieces)), map(not_, good)):  # rare: a 0 byte inside the table
        pieces[t], counts[t] = _slow_pairs(data, find, offs[t], zeros[t], stop)
    return pieces, counts


def _last_byte(piece: bytes) -> int:
    return piece[-1] if piece else 0x80


def _slow_pairs(
    data: memoryview, find: Callable[[bytes, int, int], int], off: int, zero: int, stop: int,
) -> tuple[bytes | None, int]:
    """The pairs of the table at file offset ``off`` when the first 0 byte after its start (``zero``,
    -1: none) is not its end marker: the 0 bytes after it are tried in turn, counting only the
    varints between them (linear in the table's length)."""
    count, pos = 0, off
    while zero >= 0:
        piece = bytes(data[pos:zero])
        count += len(piece.translate(None, _CONTINUATION))
        if count >= 2 and not count & 1 and data[zero - 1] < 0x80:
            return bytes(data[off:zero]), count
        pos, zero = zero, find(b"\0", zero + 1, stop)
    return None, 0


def _decode(pcln: Pclntab, tables: list[bytes], counts: list[int]) -> tuple[list[int], list[int], list[int]]:
    """The pairs of ``tables`` (``counts``: each one's number of varints, even) decoded together: the
    running sums from 0 of the values and of the pc deltas (times the pc quantum), each a list that
    starts with 0 and holds the sum up to the end of pair k at k + 1, and the index of each table's
    first pair (one more: the number of pairs)."""
    joined = b"".join(tables)
    lasts = joined.translate(None, _CONTINUATION)
    varints = list(lasts)
    if len(lasts) != len(joined):
        _widen(joined, varints)
    del joined, lasts
    firsts = list(accumulate(map(rshift, counts, repeat(1)), initial=0))
    values = list(accumulate(map(_ZIGZAG.__getitem__, islice(varints, 0, None, 2)), initial=0))
    steps = islice(varints, 1, None, 2)
    ends = list(accumulate(steps if pcln.min_lc == 1 else map(mul, steps, repeat(pcln.min_lc)), initial=0))
    return values, ends, firsts


def _widen(joined: bytes, varints: list[int]) -> None:
    """Add the leading bytes of the multi-byte varints of ``joined`` to ``varints`` (which holds each
    varint's last byte). As the runtime reads them (readvarint): 7 bits a byte, lowest first, the
    shift taken modulo 32, a 32-bit value."""
    # each leading byte's varint: the number of last bytes before it
    owners = accumulate(map(len, joined.translate(_KIND).split(b"c")[:-1]))
    leading = joined.translate(None, _LAST)
    current, value, shift = -1, 0, 0
    for i, c in zip(owners, leading, strict=True):
        if i != current:
            if current >= 0:
                varints[current] = (value | varints[current] << (shift & 31)) & 0xFFFFFFFF
            current, value, shift = i, 0, 0
        value |= (c & 0x7F) << (shift & 31)
        shift += 7
    if current >= 0:
        varints[current] = (value | varints[current] << (shift & 31)) & 0xFFFFFFFF


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
