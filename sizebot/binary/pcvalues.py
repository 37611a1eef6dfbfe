"""Every function's pc-value tables and funcdata references at once, as arrays.

The pctab is read as one byte array. A varint ends at each byte below 0x80 wherever a table starts,
so one pass finds every varint ("token") of every table. From its first token a table alternates
value deltas and pc deltas, and it ends at the first value delta after its first pair that is the
one-byte 0 (Pclntab.pcvalue_extent's grammar). The terminator is therefore the first one-byte 0
token of the same parity as the table's first token, at least two tokens on. Sums and maxima over
a table's tokens are reductions over the tokens of one parity.

Only well-formed input takes this path. Any table, record or object whose reading would fail or
be unusual (a malformed table, a varint of 5 bytes or more, a table starting inside a varint) is
read by the reference decoders in pclntab.py and funcdata.py, so faults are named as before.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, fields
from weakref import WeakKeyDictionary

import numpy as np

from sizebot.binary.distinct import distinct, members
from sizebot.binary.pclntab import FuncTable, Pclntab, linker_text_size

_LONG = 6  # varints this long (values of 2**35 or more) are read by the reference decoder
_CHUNK = 1 << 20


def u8(data: bytes | memoryview, start: int, end: int) -> np.ndarray:
    """The bytes [start, end) of ``data`` as a uint8 array (a view: no copy)."""
    return np.frombuffer(data[start:end], dtype=np.uint8)


def words_at(buf: np.ndarray, positions: np.ndarray, little: bool, size: int = 4) -> np.ndarray:
    """The unsigned ``size``-byte words at ``positions`` of ``buf`` (any alignment), as uint64."""
    dtype = np.dtype(("<" if little else ">") + ("u4" if size == 4 else "u8"))
    if len(buf) < size:
        return np.zeros(0, dtype=np.uint64)[positions]  # IndexError for any position, as the bytes give
    view = np.ndarray((len(buf) - size + 1,), dtype=dtype, buffer=buf, strides=(1,))  # a word at every byte
    return view[positions].astype(np.uint64)


def as_array(values: np.ndarray, typecode: str) -> array:
    """A numpy array as an ``array.array`` of ``typecode`` (the ledger's and FuncTable's storage)."""
    out = array(typecode)
    out.frombytes(values.astype(np.dtype(typecode)).tobytes())
    return out


def append_words(out: array, values: np.ndarray) -> None:
    """Append a contiguous int64 or uint64 array to an ``array('Q')`` without a copy (an int64's bytes
    are those of its cast to uint64)."""
    out.frombytes(memoryview(values).cast("B"))  # type: ignore[arg-type]  # numpy arrays are buffers


def segments(starts: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the concatenated ranges [starts[i], starts[i] + lens[i]) and where each range
    begins in them (every length at least 1)."""
    offs = np.cumsum(lens) - lens
    idx = np.arange(int(lens.sum()), dtype=np.int64) - np.repeat(offs - starts, lens)
    return idx, offs


def fits(pcln: Pclntab) -> bool:
    """Whether the pctab is small enough for the token arrays: int32 offsets, and int64 sums of
    its values (fewer than 2**26 values below 2**35, times minLC)."""
    return pcln.functab_off - pcln.pctab_off < 1 << 26


class PcTokens:
    """The varints of a run of the pctab (``buf``): where each ends, its value (0 for long ones),
    the one-byte zeros by parity of their token index. Offsets are relative to the run."""

    def __init__(self, buf: np.ndarray):
        self.size = len(buf)
        parts = [np.flatnonzero(buf[c : c + _CHUNK] < 0x80).astype(np.int32) + c for c in range(0, len(buf), _CHUNK)]
        ends = np.concatenate(parts) if parts else np.zeros(0, np.int32)
        del parts
        n = len(ends)
        self.ends = ends
        lens = np.empty(n, dtype=np.int32)
        if n:
            lens[0] = ends[0] + 1
            np.subtract(ends[1:], ends[:-1], out=lens[1:])
        # values, with two zeros after the last token (reductions may end one past a parity's last)
        vals = np.zeros(n + 2, dtype=np.int64)
        vals[:n] = buf[ends]
        multi = np.flatnonzero(lens > 1)
        ml = lens[multi]
        del lens
        short = ml < _LONG
        long_ = [multi[~short]]
        multi, ml = multi[short], ml[short]
        if len(multi):
            first = ends[multi] - ml + 1
            v = np.zeros(len(multi), dtype=np.int64)
            for j in range(int(ml.max())):
                m = ml > j
                v[m] |= (buf[first[m] + j] & 0x7F).astype(np.int64) << (7 * j)
            vals[multi] = v
        self.long = np.sort(np.concatenate(long_))
        vals[self.long] = 0
        self.vals = vals
        zeros = np.flatnonzero(vals[:n] == 0)
        one_byte = np.ones(len(zeros), dtype=bool)  # the one-byte zeros, not 0x80.. 0x00
        inner = zeros > 0
        one_byte[inner] = ends[zeros[inner] - 1] == ends[zeros[inner]] - 1
        zeros = zeros[one_byte]
        self.zeros = (zeros[zeros % 2 == 0], zeros[zeros % 2 == 1])

    def token_start(self, t: np.ndarray) -> np.ndarray:
        """Where tokens ``t`` start: a table whose offset is not one starts inside a varint."""
        return np.where(t > 0, self.ends[np.maximum(t - 1, 0)].astype(np.int64) + 1, 0)

    def tables(self, rels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(first token, terminator token, well-formed) of the tables at pctab offsets ``rels``."""
        # in ends' own type (a cast of ends per search would cost more than the search); offsets past
        # the pctab all find no token
        t0 = np.searchsorted(self.ends, np.minimum(rels, self.size).astype(self.ends.dtype))
        ok = t0 < len(self.ends)
        tz = np.zeros(len(rels), dtype=np.int64)
        for q in (0, 1):
            sel = np.flatnonzero(ok & (t0 % 2 == q))
            zq = self.zeros[q]
            pos = np.searchsorted(zq, t0[sel] + 2)
            found = pos < len(zq)
            tz[sel[found]] = zq[pos[found]]
            ok[sel[~found]] = False
        return t0, tz, ok

    def extent_bytes(self, rels: np.ndarray, tz: np.ndarray) -> np.ndarray:
        return self.ends[tz].astype(np.int64) + 1 - rels

    def _exact(self, rels: np.ndarray, t0: np.ndarray, tz: np.ndarray, first_value: bool) -> np.ndarray:
        """Which tables the token values describe exactly: no long varint, and (when the first
        value counts) a first token that starts at the table."""
        lo = np.searchsorted(self.long, t0)
        hi = np.searchsorted(self.long, tz, side="right")
        exact = lo == hi
        if first_value:
            exact &= self.token_start(t0) == rels
        return exact

    def spans(self, rels: np.ndarray, t0: np.ndarray, tz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pc span in pc quanta, exact) of well-formed tables: the sum of their pc deltas (tokens
        t0+1, t0+3, ... tz-1); not exact where a table has a long varint."""
        out = np.zeros(len(rels), dtype=np.int64)
        for q in (0, 1):
            sel = np.flatnonzero((t0 + 1) % 2 == q)
            if len(sel):
                out[sel] = _segment_sum(self.vals[q::2], (t0[sel] + 1) // 2, (tz[sel] + 1) // 2)
        return out, self._exact(rels, t0, tz, False)

    def stats(
        self, rels: np.ndarray, t0: np.ndarray, tz: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(largest value, whether any value is even, exact) of well-formed tables:
        Pclntab.pcvalue_stats of each; not exact where a table has a long varint or starts inside one."""
        top = np.zeros(len(rels), dtype=np.int64)
        even = np.zeros(len(rels), dtype=bool)
        if len(rels):
            a = t0 // 2
            lens = tz // 2 - a  # value tokens t0, t0+2, ... tz-2 of the table's parity
            idx, offs = segments(a, lens)
            u = self.vals[2 * idx + np.repeat(t0 % 2, lens)]
            del idx
            cs = np.cumsum((u >> 1) ^ -(u & 1))
            del u
            base = np.where(offs > 0, cs[offs - 1], 0)
            v = cs - np.repeat(base, lens) - 1
            top = np.maximum.reduceat(v, offs)
            even = np.logical_or.reduceat((v & 1) == 0, offs)
        return top, even, self._exact(rels, t0, tz, True)


@dataclass(frozen=True)
class Tables:
    """Decoded pc-value tables, by ascending pctab offset (``rels``): bytes (-1: malformed), pc
    span (times minLC) and, where asked for, largest value and whether any value is even.
    ``exact`` is false where a long varint (or, for the values, a start inside a varint) leaves
    the figures to the reference decoder."""

    rels: np.ndarray
    size: np.ndarray
    span: np.ndarray
    span_exact: np.ndarray
    asked: np.ndarray
    top: np.ndarray
    even: np.ndarray
    stats_exact: np.ndarray

    def subset(self, keep: np.ndarray) -> Tables:
        return Tables(*(getattr(self, f.name)[keep] for f in fields(self)))


_WINDOW = 1 << 16  # bytes of the pctab decoded at a time: the token arrays stay small


def decode_tables(pcln: Pclntab, rels: np.ndarray, stats: np.ndarray) -> Tables:
    """The tables at ``rels`` (ascending, distinct), decoded a window of the pctab at a time (a
    table running past a window is decoded in a wider one); values only where ``stats``."""
    buf = np.frombuffer(pcln.pctab_bytes(), dtype=np.uint8)
    end = len(buf)
    m = len(rels)
    size = np.full(m, -1, dtype=np.int64)
    span = np.zeros(m, dtype=np.int64)
    top = np.zeros(m, dtype=np.int64)
    span_exact = np.ones(m, dtype=bool)
    stats_exact = np.ones(m, dtype=bool)
    even = np.zeros(m, dtype=bool)
    i, width = 0, _WINDOW
    while i < m and rels[i] < end:
        w0 = int(rels[i])
        w1 = min(end, w0 + width)
        j = int(np.searchsorted(rels, w1))
        tok = PcTokens(buf[w0:w1])
        local = rels[i:j] - w0
        t0, tz, ok = tok.tables(local)
        if w1 < end and not ok.all():  # a table runs past the window: from it on, a wider one
            k = int(np.argmin(ok))
            if k == 0:
                width *= 2
                continue
            j, local, t0, tz, ok = i + k, local[:k], t0[:k], tz[:k], ok[:k]
        good = np.flatnonzero(ok)
        at = i + good
        size[at] = tok.extent_bytes(local[good], tz[good])
        span[at], span_exact[at] = tok.spans(local[good], t0[good], tz[good])
        want = good[stats[i:j][good]]
        top[i + want], even[i + want], stats_exact[i + want] = tok.stats(local[want], t0[want], tz[want])
        pcln.binary.release(pcln.pctab_off + w0, w1 - w0)  # read once (a later step reads back the few it needs)
        i, width = j, _WINDOW
    return Tables(rels, size, span * pcln.min_lc, span_exact, stats, top, even, stats_exact)


def _segment_sum(arr: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum(arr[a[i]:b[i]]) for each i (a < b <= len(arr) - 1), in int64."""
    order = np.argsort(a, kind="stable")
    idx = np.empty(2 * len(a), dtype=np.int64)
    idx[0::2] = a[order]
    idx[1::2] = b[order]
    sums = np.add.reduceat(arr, idx, dtype=np.int64)[0::2]
    out = np.empty(len(a), dtype=np.int64)
    out[order] = sums
    return out


@dataclass(frozen=True)
class FuncArrays:
    """Each function's pc tables (pcsp, pcfile, pcln, then each pcdata table: pctab offsets, 0 =
    none) and funcdata objects (go:func.* offsets) as flat uint32 arrays, function i's in
    [ptr[i], ptr[i + 1])."""

    pc_ptr: np.ndarray
    pc_rel: np.ndarray
    fd_ptr: np.ndarray
    fd_rel: np.ndarray

    def pcdata(self, funcs: np.ndarray, j: int) -> np.ndarray:
        """PCDATA table ``j`` of each of ``funcs`` (0 where it has none)."""
        at = self.pc_ptr[funcs] + 3 + j
        has = at < self.pc_ptr[funcs + 1]
        return np.where(has, self.pc_rel[np.where(has, at, 0)].astype(np.int64), 0)


_ARRAYS: WeakKeyDictionary[FuncTable, FuncArrays] = WeakKeyDictionary()
_TABLES: WeakKeyDictionary[FuncTable, Tables] = WeakKeyDictionary()


def arrays(funcs: FuncTable) -> FuncArrays:
    """The function table's tables as arrays (read once per table)."""
    got = _ARRAYS.get(funcs)
    if got is None:
        got = _ARRAYS[funcs] = func_arrays(funcs)
    return got


def table_stats(funcs: FuncTable, rels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(largest value, any value even, well-formed) of the tables at ``rels`` (0: none, so not
    well-formed), from what pctab_claims decoded, else decoded now; None when one of them needs
    the reference decoder (Pclntab.pcvalue_stats)."""
    known = _TABLES.get(funcs)
    want = distinct(rels[rels != 0])
    if known is None or not members(want, known.rels[known.asked]).all():
        known = decode_tables(funcs.pcln, want, np.ones(len(want), dtype=bool))
    if not len(known.rels):
        return np.zeros(len(rels), np.int64), np.zeros(len(rels), bool), np.zeros(len(rels), bool)
    at = np.searchsorted(known.rels, rels).clip(0, len(known.rels) - 1)
    ok = (known.rels[at] == rels) & (rels != 0) & (known.size[at] >= 0)
    if not known.stats_exact[at[ok]].all():
        return None
    return np.where(ok, known.top[at], 0), ok & known.even[at], ok


def release_tables(funcs: FuncTable) -> None:
    _TABLES.pop(funcs, None)


def release_arrays(funcs: FuncTable) -> None:
    _ARRAYS.pop(funcs, None)


def func_arrays(funcs: FuncTable) -> FuncArrays:
    """The tables of every function, read from the _func records (Pclntab._record_tables' layout:
    pcsp, pcfile, pcln and npcdata at +16, nfuncdata the record's last byte, then the arrays)."""
    pcln = funcs.pcln
    little = pcln._bo == "<"
    data = pcln.binary.data
    buf = u8(data, pcln.start, pcln.end)
    fs = pcln.func_size
    rec = np.frombuffer(funcs.func_offs, dtype=np.uint64).astype(np.int64) - pcln.start
    npcdata = words_at(buf, rec + 28, little).astype(np.int64)
    nfuncdata = buf[rec + fs - 1].astype(np.int64)
    n_pc = 3 + npcdata
    pc_ptr = np.zeros(len(rec) + 1, dtype=np.int64)
    np.cumsum(n_pc, out=pc_ptr[1:])
    j, _ = segments(np.zeros(len(rec), np.int64), n_pc)
    at = np.repeat(rec, n_pc) + np.where(j < 3, 16 + 4 * j, fs + 4 * (j - 3))
    pc_rel = words_at(buf, at, little).astype(np.uint32)
    fd_ptr = np.zeros(len(rec) + 1, dtype=np.int64)
    np.cumsum(nfuncdata, out=fd_ptr[1:])
    k, _ = segments(np.zeros(len(rec), np.int64), nfuncdata)
    at = np.repeat(rec + fs + 4 * npcdata, nfuncdata) + 4 * k
    fd_rel = words_at(buf, at, little).astype(np.uint32)
    return FuncArrays(pc_ptr, pc_rel, fd_ptr, fd_rel)


def parse_functions(pcln: Pclntab, text_base: int) -> FuncTable:
    """Pclntab.parse_functions, every record at once; record by record (naming the first fault)
    where any record fails a check."""
    table = _parse_function_arrays(pcln, text_base)
    return table if table is not None else pcln.parse_functions(text_base)


def _parse_function_arrays(pcln: Pclntab, text_base: int) -> FuncTable | None:
    data = pcln.binary.data
    if pcln.end > len(data) or not 0 <= text_base < 1 << 62:
        return None
    little = pcln._bo == "<"
    buf = u8(data, pcln.start, pcln.end)
    size = len(buf)
    n = pcln.nfunc
    ft = pcln.functab_off - pcln.start
    pairs = words_at(buf, ft + 4 * np.arange(2 * n + 1, dtype=np.int64), little).astype(np.int64)
    entry_off, func_off, end_off = pairs[0:-1:2], pairs[1::2], int(pairs[-1])
    del pairs
    fs = pcln.func_size
    rec = ft + func_off
    if (np.diff(entry_off) < 0).any() or (rec + fs > size).any() or (func_off < pcln.functab_len).any():
        return None
    if (words_at(buf, rec, little).astype(np.int64) != entry_off).any():
        return None
    name_rel = words_at(buf, rec + 4, little).astype(np.int64)
    name_rel[name_rel >= 1 << 31] -= 1 << 32  # an int32
    npcdata = words_at(buf, rec + 28, little).astype(np.int64)
    arrays_end = rec + fs + 4 * (npcdata + buf[rec + fs - 1])
    names_len = pcln.cutab_off - pcln.funcname_off
    if (npcdata > 1024).any() or (arrays_end > size).any() or (name_rel < 0).any() or (name_rel >= names_len).any():
        return None
    names = u8(data, pcln.funcname_off, pcln.cutab_off)
    nuls = np.flatnonzero(names == 0)
    del names
    at = np.searchsorted(nuls, name_rel)
    nul = np.where(at < len(nuls), nuls[np.minimum(at, max(len(nuls) - 1, 0))] if len(nuls) else 0, names_len - 1)
    nxt = np.empty(n, dtype=np.int64)
    nxt[:-1] = rec[1:]
    nxt[-1] = arrays_end[-1]
    nxt = np.where((nxt < arrays_end) | (nxt - arrays_end >= 8), arrays_end, nxt)
    table = FuncTable(pcln, text_base)
    start = pcln.start
    table.entries = as_array(np.append(entry_off, end_off) + text_base, "Q")
    table.name_offs = as_array(pcln.funcname_off + name_rel, "Q")
    table.name_lens = as_array(nul - name_rel + 1, "I")
    table.func_offs = as_array(start + rec, "Q")
    table.func_lens = as_array(nxt - rec, "I")
    table.cu_offsets = as_array(words_at(buf, rec + 32, little), "I")
    pcln.records_end = max(pcln.records_end, start + int(nxt.max()))
    return table


def _func_index(ptr: np.ndarray) -> np.ndarray:
    """The function of each element of a flat array with offsets ``ptr``."""
    return np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))


def pctab_claims(
    funcs: FuncTable,
    pks: Sequence[int],
    keys: array,
    vals: array,
    meta_by_func: array | None,
    code: int,
) -> array | None:
    """Every function's pc-value tables (each table once, for the first function that uses it) as
    claims of its package's meta, and its code: from its entry the largest pc span of its pcsp,
    pcfile and pcln tables, capped by the next entry and its section's end. ``pks`` is each
    function's claim value (package << 3 | META); ``code`` the bits that turn it into CODE.
    Returns each function's code bytes; None when a table is malformed or an entry is not in
    a section of its own (the caller then reads function by function, naming the fault)."""
    pcln = funcs.pcln
    binary = pcln.binary
    if not fits(pcln):
        return None
    fa = arrays(funcs)
    n = len(funcs)
    entries = np.frombuffer(funcs.entries, dtype=np.uint64).astype(np.int64)
    starts, f_ends = entries[:-1], entries[1:]
    # each entry's section: unambiguous only when no two sections holding entries overlap
    secs = [s for s in binary.sections if s.file_size and s.addr]
    sec_of = np.full(n, -1, dtype=np.int64)
    for j in range(len(secs) - 1, -1, -1):
        s = secs[j]
        sec_of[(starts >= s.addr) & (starts < s.addr + s.file_size)] = j
    if (sec_of < 0).any():
        return None
    used = sorted(np.flatnonzero(np.bincount(sec_of, minlength=len(secs))).tolist(), key=lambda j: secs[j].addr)
    for a, b in zip(used, used[1:], strict=False):
        if secs[a].addr + secs[a].file_size > secs[b].addr:
            return None
    sec_addr = np.array([s.addr for s in secs], dtype=np.int64)[sec_of]
    sec_end = sec_addr + np.array([s.file_size for s in secs], dtype=np.int64)[sec_of]
    sec_off = np.array([s.offset - s.addr for s in secs], dtype=np.int64)[sec_of]

    rel, fi = fa.pc_rel.astype(np.int64), _func_index(fa.pc_ptr)
    slot = np.arange(len(rel), dtype=np.int64) - fa.pc_ptr[fi]
    nz = np.flatnonzero(rel)
    tabs, first = np.unique(rel[nz], return_index=True)
    first = nz[first]
    # the values of the inline-index and arg-liveness tables (PCDATA 2 and 3), for the funcdata
    stats = members(tabs, np.sort(rel[(slot == 5) | (slot == 6)]))
    info = decode_tables(pcln, tabs, stats)
    if (info.size < 0).any():
        return None
    size = info.size
    # spans of the tables used as pcsp, pcfile or pcln by any function
    spanned = np.zeros(len(tabs), dtype=bool)
    spanned[np.searchsorted(tabs, rel[nz[slot[nz] < 3]])] = True
    if not info.span_exact[spanned].all():
        return None
    span = info.span
    _TABLES[funcs] = info.subset(stats)
    del info
    pk = np.asarray(pks, dtype=np.int64)
    owner = fi[first]
    o = pcln.pctab_off + tabs
    t_keys = o << 2 | 1
    t_vals = (o + size) << 23 | pk[owner]
    if meta_by_func is not None:
        meta = np.frombuffer(meta_by_func, dtype=np.uint64).astype(np.int64)
        meta += np.bincount(owner, weights=size, minlength=n).astype(np.int64)
        meta_by_func[:] = as_array(meta, "Q")
    # code: the largest span of the first three tables, capped by the next entry and the section (the
    # linker's own symbols, which have no tables: their format's bytes)
    first3 = rel[fa.pc_ptr[:-1, None] + np.arange(3)]
    fspan = np.zeros(n, dtype=np.int64)
    if len(tabs):
        fspan = np.where(first3 > 0, span[np.searchsorted(tabs, first3).clip(0, len(tabs) - 1)], 0).max(axis=1)
    csize = f_ends - starts
    csize = np.where((fspan > 0) & (fspan < csize), fspan, csize)
    for i in np.flatnonzero((fspan == 0) & (csize > 1)).tolist():  # no tables: the linker's symbols, few
        csize[i] = linker_text_size(funcs.name(i), binary.data, int(sec_off[i] + starts[i]), int(csize[i]))
    cstart = sec_off + starts
    cend = np.minimum(sec_off + sec_end, cstart + csize)
    positive = csize > 0
    code_sizes = np.where(positive, cend - cstart, 0)
    has_code = positive & (cend > cstart)
    c_keys = cstart[has_code] << 2
    c_vals = cend[has_code] << 23 | (pk[has_code] ^ code)
    # in the order a function-by-function reading appends them: each function's new tables, then its code
    order = np.argsort(np.concatenate([first, fa.pc_ptr[1:][has_code] - 0.5]), kind="stable")
    del first, fspan, csize, cstart, cend, positive, has_code, first3, rel, fi, slot, nz
    append_words(keys, np.concatenate([t_keys, c_keys])[order])
    del t_keys, c_keys
    append_words(vals, np.concatenate([t_vals, c_vals])[order])
    return as_array(code_sizes, "Q")


def inlined_names(
    funcs: FuncTable, tree_spans: ObjectSpans, esize: int, name_at: int, table_len: int
) -> tuple[list[int], list[int]]:
    """(file offset, offset of its NUL) of each name the functions' inline trees reference, in the
    order the trees list them (function by function), each once; ``tree_spans`` holds each decoded
    funcdata object's file span by its go:func.* offset. Names past the table, or without a NUL
    before its end, are left out."""
    pcln = funcs.pcln
    fa = arrays(funcs)
    with_tree = np.flatnonzero(np.diff(fa.fd_ptr) > 3)  # FUNCDATA_InlTree
    trees = fa.fd_rel[fa.fd_ptr[with_tree] + 3].astype(np.int64)
    if not len(tree_spans) or not len(trees):
        return [], []
    rels = tree_spans.rels
    at = np.searchsorted(rels, trees).clip(0, len(rels) - 1)
    known = rels[at] == trees
    start, end = tree_spans.starts[at[known]], tree_spans.ends[at[known]]
    count = (end - start) // esize
    keep = count > 0
    start, count = start[keep], count[keep]
    j, _ = segments(np.zeros(len(count), np.int64), count)
    buf = np.frombuffer(pcln.binary.data, dtype=np.uint8)
    words = words_at(buf, np.repeat(start + name_at, count) + esize * j, pcln._bo == "<")
    name_rel = words.astype(np.int64)
    name_rel[name_rel >= 1 << 31] -= 1 << 32  # an int32
    del buf, words, j
    uniq, first = np.unique(name_rel, return_index=True)
    uniq = uniq[np.argsort(first, kind="stable")]
    uniq = uniq[(uniq >= 0) & (uniq < table_len)]
    table = u8(pcln.binary.data, pcln.funcname_off, pcln.cutab_off)
    nuls = np.flatnonzero(table == 0)
    del table
    at = np.searchsorted(nuls, uniq)
    found = at < len(nuls)
    base = pcln.funcname_off
    return (uniq[found] + base).tolist(), (nuls[at[found]] + base).tolist()


class ObjectSpans:
    """Each decoded funcdata object's file span [start, end) by its go:func.* offset, as sorted arrays
    (a dict of tens of thousands of tuples held megabytes through the steps that peak)."""

    def __init__(self, rels: np.ndarray, starts: np.ndarray, ends: np.ndarray):
        order = np.argsort(rels, kind="stable")
        self.rels = np.ascontiguousarray(rels[order], dtype=np.int64)
        self.starts = np.ascontiguousarray(starts[order], dtype=np.int64)
        self.ends = np.ascontiguousarray(ends[order], dtype=np.int64)

    @classmethod
    def empty(cls) -> ObjectSpans:
        none = np.zeros(0, dtype=np.int64)
        return cls(none, none, none)

    def __len__(self) -> int:
        return len(self.rels)

    def get(self, rel: int) -> tuple[int, int] | None:
        i = int(np.searchsorted(self.rels, rel))
        if i < len(self.rels) and int(self.rels[i]) == rel:
            return int(self.starts[i]), int(self.ends[i])
        return None
