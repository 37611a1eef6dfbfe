"""Extents of funcdata objects (go:func.*), each decoded from its own format, Go 1.18-1.27.

A function's funcdata slots (internal/abi/symtab.go FUNCDATA_*) point at objects the compiler or
the linker emitted; none of them carries a length field for the whole object, but each format
determines it:

    0 args pointer maps, 1 locals pointer maps (liveness emit, objw.BitVec):
        u32 n, u32 nbit, then n bitmaps of ceil(nbit/8) bytes
    2 stack objects (liveness emitStackObjects): uintptr n, then n records of 4 u32
        (frame offset, size, ptrdata, gcdata offset)
    3 inline tree (linker genInlTreeSym): inlinedCall records (16 bytes since Go 1.20, 20 before);
        their number is one more than the largest index the function's PCDATA_InlTreeIndex table
        holds (the compiler's local tree only has nodes that table reaches, parents first)
    4 open-coded defer info (ssagen emitOpenDeferInfo): two uvarints since Go 1.22; Go 1.21 and
        earlier: deferBits offset, count n, then n closure offsets (varints)
    5 arg info (ssagen EmitArgInfo): tokens up to the 0xff end marker; bytes >= 0xf0 are single-byte
        operators, anything below is an (offset, size) pair
    6 arg liveness (liveness argLiveness.emit): u8 start offset, then the unique bitmaps of
        ceil(nargs/8) bytes (nargs <= 10); the PCDATA_ArgLiveIndex values are byte offsets of bitmaps
        (a single bitmap of 1 or 2 bytes is told apart by where the next object starts)
    7 wrap info: one u32 (offset of the wrapped function)

Anything else (a future kind, a value that does not fit) gives None: the bytes stay unattributed.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sizebot.binary.distinct import distinct
from sizebot.binary.pclntab import uvarint
from sizebot.binary.pcvalues import arrays, fits, table_stats, words_at

if TYPE_CHECKING:
    from sizebot.binary.pclntab import FuncTable, Pclntab

NO_FUNCDATA = 0xFFFFFFFF

FUNCDATA_ARGS_POINTER_MAPS = 0
FUNCDATA_LOCALS_POINTER_MAPS = 1
FUNCDATA_STACK_OBJECTS = 2
FUNCDATA_INLTREE = 3
FUNCDATA_OPEN_CODED_DEFER = 4
FUNCDATA_ARG_INFO = 5
FUNCDATA_ARG_LIVE_INFO = 6
FUNCDATA_WRAP_INFO = 7

PCDATA_INLTREE_INDEX = 2
PCDATA_ARG_LIVE_INDEX = 3

# Alignment of each kind's objects as the linker places them (the packed layout since Go 1.26
# rounds each start up to it): stack maps and inline trees 4, stack objects a pointer, the rest 1.
ALIGN = {0: 4, 1: 4, 2: 0, 3: 4, 4: 1, 5: 1, 6: 1, 7: 4}

_TRACE_ARGS_END_SEQ = 0xFF
_TRACE_ARGS_SPECIAL = 0xF0
_TRACE_ARGS_MAX_LEN = (5 * 3 + 2) * 10 + 1  # abi.TraceArgsMaxLen
_MAX_STACK_MAPS = 1 << 20  # far beyond any function the compiler accepts (checkStackmapOverflow)
_MAX_BITS = 1 << 24


class FuncdataDecoder:
    """Decodes objects inside ``data[base:limit)``; offsets are relative to ``base`` (go:func.*)."""

    def __init__(
        self,
        data: bytes | memoryview,
        base: int,
        limit: int,
        *,
        ptr_size: int,
        little_endian: bool,
        go_minor: int,
        inline_entry_size: int,
    ):
        self.data = data
        self.base = base
        self.limit = limit
        self.ptr = ptr_size
        bo = "<" if little_endian else ">"
        self._u32x2 = struct.Struct(bo + "II")
        self._word = struct.Struct(bo + ("Q" if ptr_size == 8 else "I"))
        self.go_minor = go_minor
        self.inline_entry_size = inline_entry_size
        self.ambiguous: set[int] = set()  # measured arg liveness objects that may be one byte longer
        self._lone = False  # the object _extent just sized is such a lone bitmap

    def extent(self, kind: int, rel: int, pcdata: Callable[[int], tuple[int, bool] | None]) -> int | None:
        """Bytes of the object of ``kind`` at ``rel``; ``pcdata(i)`` is (largest value, whether any
        value is even) of the function's PCDATA table i, None without one. None when the object
        cannot be decoded within bounds."""
        start = self.base + rel
        if rel < 0 or start >= self.limit:
            return None
        self._lone = False
        try:
            n = self._extent(kind, start, pcdata)
        except (struct.error, IndexError):
            return None
        if n is None or n <= 0 or start + n > self.limit:
            return None
        if self._lone:  # only an object that fits is a candidate for widening
            self.ambiguous.add(rel)
        return n

    def _extent(self, kind: int, start: int, pcdata: Callable[[int], tuple[int, bool] | None]) -> int | None:
        d = self.data
        if kind in (FUNCDATA_ARGS_POINTER_MAPS, FUNCDATA_LOCALS_POINTER_MAPS):
            n, nbit = self._u32x2.unpack_from(d, start)
            if n > _MAX_STACK_MAPS or nbit > _MAX_BITS:
                return None
            return 8 + n * ((nbit + 7) // 8)
        if kind == FUNCDATA_STACK_OBJECTS:
            (n,) = self._word.unpack_from(d, start)
            if n > _MAX_STACK_MAPS:
                return None
            return self.ptr + 16 * n
        if kind == FUNCDATA_INLTREE:
            stats = pcdata(PCDATA_INLTREE_INDEX)
            if stats is None or stats[0] < 0:
                return None
            return (stats[0] + 1) * self.inline_entry_size
        if kind == FUNCDATA_OPEN_CODED_DEFER:
            pos = self._skip_varints(start, 2)
            if self.go_minor <= 21:  # deferBits offset, count, then one offset per defer
                count, _ = uvarint(d, self._skip_varints(start, 1))
                if count is None or count > 1 << 16:
                    return None
                pos = self._skip_varints(pos, count)
            return pos - start
        if kind == FUNCDATA_ARG_INFO:
            pos, end = start, min(self.limit, start + _TRACE_ARGS_MAX_LEN)
            while pos < end:
                c = d[pos]
                if c == _TRACE_ARGS_END_SEQ:
                    return pos + 1 - start
                pos += 1 if c >= _TRACE_ARGS_SPECIAL else 2
            return None
        if kind == FUNCDATA_ARG_LIVE_INFO:
            # bitmaps of ceil(nargs/8) bytes (nargs: register-argument words, at most 10) from
            # offset 1; the table's values are the offsets of the bitmaps in use, and every bitmap
            # is in use: values 1, 2, ... mean 1-byte bitmaps, 1, 3, ... 2-byte ones. A lone bitmap
            # (value 1) may be either: 1 byte is returned and, when that fits, the offset noted in
            # ``ambiguous``, for the caller to widen when the next object starts one byte later.
            stats = pcdata(PCDATA_ARG_LIVE_INDEX)
            if stats is None or stats[0] < 1:
                return None
            top, any_even = stats
            if any_even:
                return top + 1
            if top > 1:
                return top + 2
            self._lone = True
            return 2
        if kind == FUNCDATA_WRAP_INFO:
            return 4
        return None

    def _skip_varints(self, pos: int, count: int) -> int:
        d, limit = self.data, self.limit
        for _ in range(count):
            while pos < limit and d[pos] & 0x80:
                pos += 1
            pos += 1
        return pos


def decode_objects(
    decoder: FuncdataDecoder, pcln: Pclntab, funcs: FuncTable, region_len: int | None
) -> tuple[dict[int, tuple[int, int]], set[int]]:
    """Every funcdata object the functions reference, decoded once: ({go:func.* offset: (bytes,
    index of the first function referencing it)}, offsets that could not be decoded).
    ``region_len`` is go:func.*'s length when known (Go 1.26+)."""
    rels, sizes, owners, failed = object_arrays(decoder, pcln, funcs, region_len)
    return (dict(zip(rels.tolist(), zip(sizes.tolist(), owners.tolist(), strict=True), strict=True)),
            set(failed.tolist()))


def object_arrays(
    decoder: FuncdataDecoder, pcln: Pclntab, funcs: FuncTable, region_len: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """decode_objects as arrays: (offsets in ascending order, their bytes, the index of the first
    function referencing each, offsets that could not be decoded). All objects at once; object by
    object (``decode_one_by_one``) where a pc-value table has an unusual varint or an arg
    liveness object's neighbour cannot be told."""
    got = _object_arrays(decoder, pcln, funcs, region_len) if fits(pcln) else None
    if got is None:
        decoder.ambiguous.clear()
        sizes, failed = decode_one_by_one(decoder, pcln, funcs, region_len)
        rels = np.array(sorted(sizes), dtype=np.int64)
        n = np.array([sizes[r][0] for r in rels.tolist()], dtype=np.int64)
        owners = np.array([sizes[r][1] for r in rels.tolist()], dtype=np.int64)
        return rels, n, owners, np.array(sorted(failed), dtype=np.int64)
    return got


def _object_arrays(
    decoder: FuncdataDecoder, pcln: Pclntab, funcs: FuncTable, region_len: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    fa = arrays(funcs)
    fi = np.repeat(np.arange(len(funcs), dtype=np.int64), np.diff(fa.fd_ptr))
    fk = np.arange(len(fa.fd_rel), dtype=np.int64) - fa.fd_ptr[fi]
    refs = np.flatnonzero(fa.fd_rel != NO_FUNCDATA)
    fr, fk, fi = fa.fd_rel[refs].astype(np.int64), fk[refs], fi[refs]
    rels, first = np.unique(fr, return_index=True)
    kind, owner = fk[first], fi[first]
    data, base, limit = decoder.data, decoder.base, decoder.limit
    buf = np.frombuffer(data, dtype=np.uint8)
    start = base + rels
    inside = start < limit
    n = np.full(len(rels), -1, dtype=np.int64)

    def stats(of: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(largest value, any even, has a well-formed table) of PCDATA table j of functions ``of``."""
        return table_stats(funcs, fa.pcdata(of, j))

    little = decoder._u32x2.format.startswith("<")
    sel = np.flatnonzero((kind <= FUNCDATA_LOCALS_POINTER_MAPS) & inside & (start + 8 <= len(buf)))
    count = words_at(buf, start[sel], little).astype(np.int64)
    nbit = words_at(buf, start[sel] + 4, little).astype(np.int64)
    good = (count <= _MAX_STACK_MAPS) & (nbit <= _MAX_BITS)
    n[sel[good]] = 8 + count[good] * ((nbit[good] + 7) // 8)
    sel = np.flatnonzero((kind == FUNCDATA_STACK_OBJECTS) & inside & (start + decoder.ptr <= len(buf)))
    count = words_at(buf, start[sel], little, decoder.ptr)
    good = count <= _MAX_STACK_MAPS
    n[sel[good]] = decoder.ptr + 16 * count[good].astype(np.int64)
    sel = np.flatnonzero((kind == FUNCDATA_INLTREE) & inside)
    got = stats(owner[sel], PCDATA_INLTREE_INDEX)
    if got is None:
        return None
    good = got[2] & (got[0] >= 0)
    n[sel[good]] = (got[0][good] + 1) * decoder.inline_entry_size
    n[np.flatnonzero((kind == FUNCDATA_WRAP_INFO) & inside)] = 4
    for j in np.flatnonzero((kind == FUNCDATA_OPEN_CODED_DEFER) & inside).tolist():  # few
        m = decoder.extent(FUNCDATA_OPEN_CODED_DEFER, int(rels[j]), _no_pcdata)
        n[j] = -1 if m is None else m
    sel = np.flatnonzero((kind == FUNCDATA_ARG_INFO) & inside)
    n[sel] = _arg_info_bytes(buf, start[sel], limit)
    # arg liveness, for the first function referencing the object, then for each other one (a
    # shared object: each function's table may use fewer of its bitmaps)
    sel = np.flatnonzero((kind == FUNCDATA_ARG_LIVE_INFO) & inside)
    live = _arg_live_bytes(stats(owner[sel], PCDATA_ARG_LIVE_INDEX))
    if live is None:
        return None
    n[sel], lone = live
    ambiguous = rels[sel[lone]]
    n = np.where(inside & (n > 0) & (start + n <= limit), n, -1)
    decoded = n >= 0
    again = np.ones(len(fr), dtype=bool)
    again[first] = False
    again &= fk == FUNCDATA_ARG_LIVE_INFO
    again[again] = decoded[np.searchsorted(rels, fr[again])]
    sel = np.flatnonzero(again)
    if len(sel):
        live = _arg_live_bytes(stats(fi[sel], PCDATA_ARG_LIVE_INDEX))
        if live is None:
            return None
        more, lone = live
        at = np.searchsorted(rels, fr[sel])
        ambiguous = np.concatenate([ambiguous, fr[sel][lone]])
        fit = (more > 0) & (base + fr[sel] + more <= limit)
        np.maximum.at(n, at[fit], more[fit])
    ambiguous = distinct(ambiguous)
    decoder.ambiguous.update(ambiguous.tolist())
    if len(ambiguous):  # a lone 1- or 2-byte liveness bitmap: the next object (alignment 1) tells
        at = np.searchsorted(rels, ambiguous)
        if not decoded[at].all():
            return None  # the one-by-one reading decides what an undecodable one means
        order = rels[decoded]
        after = np.searchsorted(order, ambiguous, side="right")
        nxt = np.where(after < len(order), order[np.minimum(after, len(order) - 1)],
                       -1 if region_len is None else region_len)
        widen = nxt == ambiguous + n[at] + 1
        n[at[widen]] += 1
    return rels[decoded], n[decoded], owner[decoded], rels[~decoded]


def _arg_info_bytes(buf: np.ndarray, starts: np.ndarray, limit: int) -> np.ndarray:
    """Bytes of the arg info objects at ``starts`` up to their end marker (FuncdataDecoder._extent's
    walk, all objects a step at a time), -1 where no marker comes before the limit."""
    out = np.full(len(starts), -1, dtype=np.int64)
    end = np.minimum(limit, starts + _TRACE_ARGS_MAX_LEN)
    pos = starts.copy()
    live = np.arange(len(starts))
    while len(live):
        p = pos[live]
        going = (p < end[live]) & (p < len(buf))
        live, p = live[going], p[going]
        c = buf[p]
        done = c == _TRACE_ARGS_END_SEQ
        out[live[done]] = p[done] + 1 - starts[live[done]]
        live, p, c = live[~done], p[~done], c[~done]
        pos[live] = p + np.where(c >= _TRACE_ARGS_SPECIAL, 1, 2)
    return out


def _no_pcdata(_j: int) -> None:
    return None


def _arg_live_bytes(
    stats: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(bytes or -1, whether it is a lone bitmap of 1 or 2 bytes) of arg liveness objects whose
    functions' PCDATA_ArgLiveIndex tables have ``stats`` (FuncdataDecoder._extent's rule)."""
    if stats is None:
        return None
    top, even, ok = stats
    ok = ok & (top >= 1)
    n = np.where(even, top + 1, np.where(top > 1, top + 2, 2))
    return np.where(ok, n, -1), ok & ~even & (top <= 1)


def decode_one_by_one(
    decoder: FuncdataDecoder, pcln: Pclntab, funcs: FuncTable, region_len: int | None
) -> tuple[dict[int, tuple[int, int]], set[int]]:
    """decode_objects, function by function (the reference reading)."""
    stats_cache: dict[int, tuple[int, bool] | None] = {}

    def pcdata_of(pc_tables: tuple[int, ...]) -> Callable[[int], tuple[int, bool] | None]:
        def stats(j: int) -> tuple[int, bool] | None:
            rel = pc_tables[3 + j] if 3 + j < len(pc_tables) else 0
            if not rel:
                return None
            if rel not in stats_cache:
                stats_cache[rel] = pcln.pcvalue_stats(rel)
            return stats_cache[rel]

        return stats

    sizes: dict[int, tuple[int, int]] = {}
    failed: set[int] = set()
    base, limit, data, stack_maps = decoder.base, decoder.limit, decoder.data, decoder._u32x2.unpack_from
    for i, (pc_tables, funcdata) in enumerate(funcs.iter_tables()):
        for kind, rel in enumerate(funcdata):
            if rel == NO_FUNCDATA or rel in failed:
                continue
            if rel in sizes:
                # a shared arg liveness object: each function's table may use fewer of its bitmaps
                if kind == FUNCDATA_ARG_LIVE_INFO:
                    n = decoder.extent(kind, rel, pcdata_of(pc_tables))
                    if n is not None and n > sizes[rel][0]:
                        sizes[rel] = (n, sizes[rel][1])
                continue
            if kind <= FUNCDATA_LOCALS_POINTER_MAPS:  # most objects: decoder.extent's arithmetic, inline
                n = None
                start = base + rel
                if 0 <= rel and start < limit and start + 8 <= len(data):
                    count, nbit = stack_maps(data, start)
                    if count <= _MAX_STACK_MAPS and nbit <= _MAX_BITS:
                        n = 8 + count * ((nbit + 7) // 8)
                        if start + n > limit:
                            n = None
            else:
                n = decoder.extent(kind, rel, pcdata_of(pc_tables))
            if n is None:
                failed.add(rel)
            else:
                sizes[rel] = (n, i)
    if decoder.ambiguous:  # a lone 1- or 2-byte liveness bitmap: the next object (alignment 1) tells
        order = sorted(sizes)
        for rel in decoder.ambiguous:
            n, i = sizes[rel]
            j = bisect.bisect_right(order, rel)
            if (order[j] if j < len(order) else region_len) == rel + n + 1:
                sizes[rel] = (n + 1, i)
    return sizes, failed
