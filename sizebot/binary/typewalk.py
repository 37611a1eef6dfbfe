"""The type walk (moduledata.TypeWalker) at array speed: the same descriptors, names, ranges and
packages, decoded a batch at a time.

Every descriptor that the walk can reach is parsed first, a breadth-first level at a time, each
level by array operations over the type region's bytes (abi.Type, its kind's fields, its uncommon
type, field / parameter / method arrays). The depth-first order and the packages of the one-by-one
walk are then replayed over those records, and the ranges are gathered by array operations. A
descriptor whose reads or names leave the type region's file bytes (never in what Go's linker
writes; a damaged or forged file) makes the whole walk run one descriptor at a time instead, so
that such a file gives exactly what it gave before.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import compress

import numpy as np

from sizebot.binary.moduledata import (
    ALIGNS,
    K_ARRAY,
    K_CHAN,
    K_FUNC,
    K_INTERFACE,
    K_MAP,
    K_POINTER,
    K_SLICE,
    K_STRUCT,
    TFLAG_UNCOMMON,
    TypeRegions,
    TypeWalker,
    package_indexer,
)


class _OneByOne(Exception):
    """A read the batches do not reproduce exactly: walk one descriptor at a time."""


def walk_types(walker: TypeWalker) -> TypeRegions:
    """TypeWalker.walk()'s result, in batches where the type region allows it."""
    md = walker.md
    if walker._types_off is None or not 0 < md.types < 1 << 62 or not 0 < md.etypes - md.types < 1 << 40:
        return walker.walk()
    try:
        return _Batches(walker).walk()
    except _OneByOne:
        return walker.walk()


class _Batches:
    """Descriptors as rows of arrays: row_of maps an offset into the type region to its row (-1: not a
    descriptor); refs, names and arrays are per-row runs of flat lists, in the one-by-one order."""

    def __init__(self, w: TypeWalker):
        self.w = w
        self.types, self.ptr, self.common = w.md.types, w.ptr, w.common
        self.span = w.md.etypes - w.md.types
        self.buf = w._region()
        self.size = len(self.buf)  # L: the region's bytes in the file
        self.word = w.bo + ("u8" if self.ptr == 8 else "u4")
        self.row_of: dict[int, int] = {}
        self.kinds: list[int] = []
        self.pkgpaths: list[str | None] = []
        self.refs: list[int] = []  # offsets into the type region of referenced descriptors
        self.ref_at = [0]  # row k's refs are refs[ref_at[k] : ref_at[k + 1]]
        self.names: list[np.ndarray] = []  # per batch: (row, offset) of each abi.Name, in row order
        self.arrays: list[np.ndarray] = []  # per batch: (row, offset, size) of each part, in row order
        extra = np.zeros(32, np.int64)
        need = np.zeros(32, np.int64)  # bytes read after the common header
        p = self.ptr
        for kind, (x, n) in {K_ARRAY: (3 * p, 2 * p), K_CHAN: (2 * p, p), K_POINTER: (p, p), K_SLICE: (p, p),
                             K_FUNC: (p, 4), K_STRUCT: (4 * p, 4 * p), K_INTERFACE: (4 * p, 4 * p),
                             K_MAP: ((7 * p + 4 + p - 1) // p * p if w.go_minor >= 24 else 4 * p + 8, 3 * p)}.items():
            extra[kind], need[kind] = x, n
        self.extra, self.need = extra, need

    # -- reads: offsets into the region, each checked by the caller to lie inside it ---------------

    def _read(self, at: np.ndarray, dtype: str) -> np.ndarray:
        n = np.dtype(dtype).itemsize
        if not len(at):
            return np.zeros(0, np.dtype(dtype).newbyteorder("="))
        raw = self.buf[at[:, None] + np.arange(n)]
        return raw.view(dtype).ravel().astype(np.dtype(dtype).newbyteorder("="))

    def _words(self, at: np.ndarray) -> np.ndarray:
        """Pointer-sized words as offsets into the region (uint64 arithmetic: an address below the
        region wraps to a huge offset, out of range like one above it)."""
        return self._read(at, self.word).astype(np.uint64) - np.uint64(self.types)

    def _fits(self, start: np.ndarray, size: np.ndarray | int) -> np.ndarray:
        return start + size <= self.size

    # -- parsing -------------------------------------------------------------------------------

    def parse(self, rel: np.ndarray) -> np.ndarray:
        """Parse the descriptors at ``rel`` (new offsets into the type region, below its span) as
        TypeWalker.descriptor does; the offsets they reference inside the type region."""
        ptr, common, size, types = self.ptr, self.common, self.size, self.types
        buf = self.buf
        first = len(self.kinds)
        rows = first + np.arange(len(rel))
        aligned = (rel + types % ptr) % ptr == 0
        if (aligned & ~self._fits(rel, common)).any():
            raise _OneByOne
        i = np.flatnonzero(aligned)
        r = rel[i]
        h = r + 2 * ptr + 4
        tflag, kind = buf[h], buf[h + 3] & 0x1F
        good = ALIGNS[buf[h + 1]] & ALIGNS[buf[h + 2]] & (kind >= 1) & (kind <= 26)
        i, r, tflag, kind = i[good], r[good], tflag[good], kind[good].astype(np.int64)
        base = r + common
        if (~self._fits(base, self.need[kind])).any():
            raise _OneByOne
        end = base + self.extra[kind]
        uncommon = tflag & TFLAG_UNCOMMON != 0
        if (~self._fits(end, np.where(uncommon, 16, 0))).any() or (~self._fits(r, common + self.extra[kind])).any():
            raise _OneByOne
        str_off = self._read(r + 4 * ptr + 8, "<i4" if self.w.bo == "<" else ">i4").astype(np.int64)
        to_this = self._read(r + 4 * ptr + 12, "<i4" if self.w.bo == "<" else ">i4").astype(np.int64)
        i32 = "<i4" if self.w.bo == "<" else ">i4"
        u16 = "<u2" if self.w.bo == "<" else ">u2"
        u32 = "<u4" if self.w.bo == "<" else ">u4"
        ok = np.ones(len(i), bool)
        # parts: (index into i, order within the descriptor, value[, size]); the order keys follow
        # TypeWalker._parse's appends
        refs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        names: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        arrays: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        every = np.arange(len(i))

        def seq(j: np.ndarray, n: np.ndarray, key: int) -> tuple[np.ndarray, np.ndarray]:
            """Descriptor j's n entries: (index repeated, key + entry number)."""
            jj = np.repeat(j, n)
            starts = np.cumsum(n) - n
            return jj, key + np.arange(len(jj)) - np.repeat(starts, n)

        refs.append((every, np.full(len(i), 0), np.where(to_this > 0, to_this, -1)))
        names.append((every, np.full(len(i), 0), str_off))
        arrays.append((every, np.full(len(i), 0), r, common + self.extra[kind]))
        # the kind's own words: element, key, bucket types
        for k, nw in ((K_ARRAY, 2), (K_CHAN, 1), (K_POINTER, 1), (K_SLICE, 1), (K_MAP, 3)):
            j = np.flatnonzero(kind == k)
            for w_ in range(nw):
                refs.append((j, np.full(len(j), 1 + w_), self._words(base[j] + w_ * ptr).view(np.int64)))
        # structs and interfaces: pkgpath, then the field / method array
        j = np.flatnonzero((kind == K_STRUCT) | (kind == K_INTERFACE))
        pp_row: np.ndarray = np.zeros(0, np.int64)
        pp_addr: np.ndarray = np.zeros(0, np.uint64)
        if len(j):
            pp = self._read(base[j], self.word).astype(np.uint64)
            arr = self._words(base[j] + ptr)
            n = self._read(base[j] + 2 * ptr, self.word).astype(np.uint64)
            cap = self._read(base[j] + 3 * ptr, self.word).astype(np.uint64)
            bad = (n != cap) | (n > 1 << 16)
            ok[j[bad]] = False
            keep = ~bad
            j, pp, arr, n = j[keep], pp[keep], arr[keep], n[keep].astype(np.int64)
            is_struct = kind[j] == K_STRUCT
            esize = np.where(is_struct, 3 * ptr, 8)
            if ((n > 0) & ((arr >= np.uint64(size)) | (arr.astype(np.int64) + n * esize > size))).any():
                raise _OneByOne  # read one word at a time by the walker
            arr = arr.astype(np.int64)
            has_pp = pp != 0
            names.append((j[has_pp], np.full(int(has_pp.sum()), 1), (pp[has_pp] - np.uint64(types)).view(np.int64)))
            pp_row, pp_addr = j[has_pp], pp[has_pp]
            for struct_kind in (True, False):
                jk = np.flatnonzero((is_struct == struct_kind) & (n > 0))
                if not len(jk):
                    continue
                ja, na = seq(j[jk], n[jk], 2)
                at = np.repeat(arr[jk], n[jk]) + (na - 2) * (3 * ptr if struct_kind else 8)
                if struct_kind:  # abi.StructField: Name, Typ, Offset
                    names.append((ja, na, self._words(at).view(np.int64)))
                    refs.append((ja, 2 + na, self._words(at + ptr).view(np.int64)))
                else:  # abi.Imethod: name and type offsets
                    names.append((ja, na, self._read(at, i32).astype(np.int64)))
                    refs.append((ja, 2 + na, self._read(at + 4, i32).astype(np.int64)))
                arrays.append((j[jk], np.full(len(jk), 1), arr[jk], n[jk] * (3 * ptr if struct_kind else 8)))
        # funcs: parameter types after the uncommon type, if any
        j = np.flatnonzero(kind == K_FUNC)
        if len(j):
            inc = self._read(base[j], u16).astype(np.int64)
            outc = self._read(base[j] + 2, u16).astype(np.int64)
            nparams = inc + (outc & 0x7FFF)
            bad = nparams > 1 << 12
            ok[j[bad]] = False
            j, nparams = j[~bad], nparams[~bad]
            params = end[j] + np.where(uncommon[j], 16, 0)
            if (~self._fits(params, nparams * ptr)).any():
                raise _OneByOne
            jn = np.flatnonzero(nparams > 0)
            ja, na = seq(j[jn], nparams[jn], 0)
            at = np.repeat(params[jn], nparams[jn]) + na * ptr
            refs.append((ja, 1 << 20 | na, self._words(at).view(np.int64)))
            arrays.append((j[jn], np.full(len(jn), 2), params[jn], nparams[jn] * ptr))
        # the uncommon type: pkgpath, methods
        j = np.flatnonzero(uncommon)
        up_row: np.ndarray = np.zeros(0, np.int64)
        up_off: np.ndarray = np.zeros(0, np.int64)
        if len(j):
            e = end[j]
            upkg = self._read(e, i32).astype(np.int64)
            mcount = self._read(e + 4, u16).astype(np.int64)
            moff = self._read(e + 8, u32).astype(np.int64)
            bad = (mcount > 0) & (moff > 1 << 20)
            if ((mcount > 0) & ~bad & ~self._fits(e + moff, 16 * mcount)).any():
                raise _OneByOne
            arrays.append((j, np.full(len(j), 3), e, np.full(len(j), 16)))
            has = upkg != 0
            names.append((j[has], np.full(int(has.sum()), 1 << 21), upkg[has]))
            up_row, up_off = j[has], upkg[has]
            jm = np.flatnonzero((mcount > 0) & ~bad)
            ja, na = seq(j[jm], mcount[jm], 0)
            at = np.repeat(e[jm] + moff[jm], mcount[jm]) + na * 16
            names.append((ja, (1 << 21) + 1 + na, self._read(at, i32).astype(np.int64)))
            mtyp = self._read(at + 4, i32).astype(np.int64)
            refs.append((ja, 1 << 21 | na, np.where(mtyp > 0, mtyp, -1)))
            arrays.append((j[jm], np.full(len(jm), 4), e[jm] + moff[jm], 16 * mcount[jm]))
            ok[j[bad]] = False

        # the records of the rows that parse
        row = np.full(len(rel), -1, np.int64)
        good_rows = i[ok]
        row[good_rows] = rows[good_rows]
        kinds = np.full(len(rel), 0, np.int64)
        kinds[i] = kind

        def gather(parts: list, sized: bool = False) -> list[np.ndarray]:
            jj = np.concatenate([p[0] for p in parts])
            key = np.concatenate([p[1] for p in parts]).astype(np.int64)
            cols = [np.concatenate([p[c] for p in parts]).astype(np.int64) for c in range(2, 4 if sized else 3)]
            keep = ok[jj]
            jj, key, cols = jj[keep], key[keep], [c[keep] for c in cols]
            by = np.lexsort((key, jj))
            return [rows[i[jj[by]]], *(c[by] for c in cols)]

        ref_rows, ref_vals = gather(refs)
        inside = (ref_vals >= 0) & (ref_vals < self.span)  # others are no descriptor: dropped, as is 0
        ref_rows, ref_vals = ref_rows[inside], ref_vals[inside]
        name_rows, name_vals = gather(names)
        named = name_vals != -types  # address 0: no name
        name_rows, name_vals = name_rows[named], name_vals[named]
        if ((name_vals < 0) | (name_vals >= size)).any():
            raise _OneByOne  # a name outside the type region: read by address
        arr_rows, arr_starts, arr_sizes = gather(arrays, sized=True)
        self.names.append(np.stack([name_rows, name_vals]))
        self.arrays.append(np.stack([arr_rows, arr_starts, arr_sizes]))

        # packages: the uncommon type's pkgpath, else the struct's / interface's
        pkgpaths: list[str | None] = [None] * len(rel)
        name_at = self.w.name_at
        for rows_, addrs in ((pp_row, pp_addr), (up_row, (up_off + types).astype(np.uint64))):
            parsed = ok[rows_]  # a descriptor that does not parse has no package
            distinct, which = np.unique(addrs[parsed], return_inverse=True)  # each name read once
            texts = [got[0] if got and got[0] else None for got in map(name_at, distinct.tolist())]
            for k, t in zip(i[rows_[parsed]].tolist(), map(texts.__getitem__, which.tolist()), strict=True):
                if t is not None:
                    pkgpaths[k] = t
        self.pkgpaths += pkgpaths
        self.kinds += kinds.tolist()
        counts = np.bincount(ref_rows - first, minlength=len(rel))
        self.ref_at += (self.ref_at[-1] + np.cumsum(counts)).tolist()
        self.refs += ref_vals.tolist()
        for k, rw in zip(rel.tolist(), row.tolist(), strict=True):
            self.row_of[k] = rw
        return ref_vals

    def reach(self, roots: list[int]) -> None:
        """Parse every descriptor reachable from ``roots`` (offsets into the type region)."""
        row_of = self.row_of
        todo = {a for a in roots if a not in row_of}
        while todo:
            refs = self.parse(np.array(sorted(todo), np.int64))
            todo = {a for a in _distinct(refs).tolist() if a not in row_of}

    # -- the walk ------------------------------------------------------------------------------

    def walk(self) -> TypeRegions:
        w, types, span = self.w, self.types, self.span
        links = w.links()

        def rel_of(addrs: list[int]) -> list[int]:
            return [a - types for a in addrs if types <= a < types + span]

        # the walk by rows: each reference as the row it parsed to, -1 for none
        row_of, refs, ref_at, kinds = self.row_of, self.refs, self.ref_at, self.kinds
        ref_rows: list[int] = []
        seen = bytearray(b"\1")  # by row; its last byte answers for -1, seen from the start
        order: list[int] = []  # rows
        todo = rel_of(links.roots)
        for rnd in range(3):
            self.reach(todo)
            ref_rows += map(row_of.__getitem__, refs[len(ref_rows) :])
            seen = seen[:-1] + bytearray(len(kinds) + 1 - len(seen)) + b"\1"
            stack = list(map(row_of.__getitem__, todo))
            while stack:
                k = stack.pop()
                if seen[k]:
                    continue
                seen[k] = 1
                order.append(k)
                stack.extend(ref_rows[ref_at[k] : ref_at[k + 1]])  # the seen ones are skipped as they come off
            if rnd == 2:
                break
            todo = [a for a in rel_of(self._gaps()) if not (a in row_of and seen[row_of[a]])]
            if not todo:
                break
        itab_info = w.itab_sizes(links.pairs, self._is_interface)

        pkgpaths = self.pkgpaths
        # TypeWalker.package by row; a descriptor with a pkgpath is its package, whenever asked
        memo: dict[int, str | None] = {k: p for k, p in enumerate(pkgpaths) if p is not None}

        def package(k: int, depth: int = 0) -> str | None:
            if k in memo:
                return memo[k]
            pkg = None
            if k >= 0 and depth < 8:
                memo[k] = None  # cycles
                for r in ref_rows[ref_at[k] : ref_at[k + 1]]:
                    pkg = package(r, depth + 1)
                    if pkg:
                        break
            memo[k] = pkg
            return pkg

        def package_at(addr: int) -> str | None:
            if not types <= addr < types + span:
                return None
            k = row_of.get(addr - types)
            if k is None:
                raise _OneByOne
            return package(k)

        row_pkgs = [memo[k] if k in memo else package(k) for k in order]
        names = list(dict.fromkeys(filter(None, row_pkgs)))  # package paths in the order of first use
        index = dict(zip(names, range(len(names)), strict=True))
        claimed = np.array(list(compress(order, row_pkgs)), np.int64)
        pkg_of_claimed = np.array(list(map(index.__getitem__, filter(None, row_pkgs))), np.int64)
        starts, ends, pkgs = self._descriptor_ranges(claimed, pkg_of_claimed)
        # the typelinks' and itabs' ranges (TypeWalker.link_claims)
        tl_pkgs = list(map(package_at, links.typelinks[: links.tl_n]))
        for pkg in dict.fromkeys(filter(None, tl_pkgs)):
            if pkg not in index:
                index[pkg] = len(names)
                names.append(pkg)
        tl_starts = tl_ends = tl_ids = np.zeros(0, np.int64)
        if links.tl_off is not None:
            at = np.flatnonzero(np.array([p is not None for p in tl_pkgs], bool))
            tl_starts = links.tl_off + 4 * at
            tl_ends = tl_starts + 4
            tl_ids = np.array(list(map(index.__getitem__, filter(None, tl_pkgs))), np.int64)

        pkg_index = package_indexer(index, names)
        s2: list[int] = []
        e2: list[int] = []
        p2: list[int] = []
        w.link_claims(replace(links, typelinks=[]), itab_info, package_at, pkg_index, s2, e2, p2)
        # package() calls itself through its closure cell: a cycle that would hold what it reads (the
        # refs by row, their starts, the memo) until a full collection, through the steps that peak
        memo.clear()
        ref_rows.clear()
        ref_at.clear()
        return w.regions(np.concatenate([starts, tl_starts, np.array(s2, np.int64)]),
                         np.concatenate([ends, tl_ends, np.array(e2, np.int64)]),
                         np.concatenate([pkgs, tl_ids, np.array(p2, np.int64)]), names, len(order))

    def _is_interface(self, addr: int) -> bool:
        if not self.types <= addr < self.types + self.span:
            return False
        k = self.row_of.get(addr - self.types)
        if k is None:
            raise _OneByOne
        return k >= 0 and self.kinds[k] == K_INTERFACE

    def _parts(self) -> tuple[np.ndarray, np.ndarray]:
        names = np.concatenate(self.names, axis=1) if self.names else np.zeros((2, 0), np.int64)
        arrays = np.concatenate(self.arrays, axis=1) if self.arrays else np.zeros((3, 0), np.int64)
        return names, arrays

    def _gaps(self) -> list[int]:
        """TypeWalker._scan_gaps over the descriptors parsed so far (all of them are in the order)."""
        names, arrays = self._parts()
        return self.w.gaps(arrays[1], arrays[1] + arrays[2], _distinct(names[1]))

    def _descriptor_ranges(self, claimed: np.ndarray, pkg_ids: np.ndarray) -> tuple[np.ndarray, ...]:
        """The ranges of the ``claimed`` rows in that order, each row's parts then its names not
        claimed before, as file offsets; with each range's package index."""
        names, arrays = self._parts()
        nrows = len(self.kinds)
        pos = np.full(nrows + 1, -1, np.int64)
        pos[claimed] = np.arange(len(claimed))
        a_pos = pos[arrays[0]]
        a_keep = np.flatnonzero(a_pos >= 0)
        n_pos = pos[names[0]]
        n_keep = np.flatnonzero(n_pos >= 0)
        # a name is claimed by the first claimed row (in the order) that has it
        by = n_keep[np.lexsort((n_keep, n_pos[n_keep]))]
        _u, first = np.unique(names[1][by], return_index=True)
        n_first = by[np.sort(first)]
        sizes = self.w._name_sizes(names[1][n_first])
        real = sizes >= 0
        n_first, sizes = n_first[real], sizes[real]
        if (names[1][n_first] + sizes > self.size).any():
            raise _OneByOne
        starts = np.concatenate([arrays[1][a_keep], names[1][n_first]])
        ends = starts + np.concatenate([arrays[2][a_keep], sizes])
        owner = np.concatenate([a_pos[a_keep], n_pos[n_first]])
        kind = np.concatenate([np.zeros(len(a_keep), np.int64), np.ones(len(n_first), np.int64)])
        within = np.concatenate([a_keep, by_index(n_first, by)])
        order = np.lexsort((within, kind, owner))
        off = int(self.w._types_off or 0)
        return starts[order] + off, ends[order] + off, pkg_ids[owner[order]]


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (np.unique without its hash table, which is far slower on ints)."""
    ordered = np.sort(values)
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])] if len(ordered) else ordered


def by_index(items: np.ndarray, sequence: np.ndarray) -> np.ndarray:
    """The position in ``sequence`` of each of ``items`` (all present)."""
    where = np.empty(int(sequence.max()) + 1 if len(sequence) else 0, np.int64)
    where[sequence] = np.arange(len(sequence))
    return where[items]

