"""Data by reference, for bytes no symbol or format sizes: the code's references into the data
sections (the GOARCH's scanner, sizebot/binary/references.py) start objects of the referencing
functions' package (in code inlined into a function, the inlined function's: sizebot/binary/inltree.py);
pointer-sized words of .data start objects of the holding object's package; a generic function's
dictionary goes to the package of the shape function it is passed to. Extents run to the next such start
in the section: estimated (``ESTIMATED``), never above an exact claim.
"""

from __future__ import annotations

import bisect
import struct
from array import array
from collections.abc import Iterator, Sequence
from functools import partial

import numpy as np

from sizebot.binary.claims import (
    CODE,
    DATA,
    ESTIMATED,
    META,
    Attribution,
    Claims,
    go_package,
)
from sizebot.binary.container import BinaryFile
from sizebot.binary.distinct import distinct, distinct_first
from sizebot.binary.inltree import function_runs, inlined_packages
from sizebot.binary.pclntab import FuncTable
from sizebot.binary.references import ArgumentCalls, argument_calls, first_argument_call, scanner
from sizebot.binary.worker import trim_heap
from sizebot.documents.analyze import Section

# Sections whose objects code refers to by address: read-only data, pointer-free and pointer data
DATA_SECTIONS = frozenset({".rodata", ".noptrdata", ".data", "__TEXT,__rodata", "__DATA_CONST,__rodata", "__rodata",
                           "__noptrdata", "__data", ".rdata"})
READONLY_SECTIONS = frozenset({".rodata", "__TEXT,__rodata", "__DATA_CONST,__rodata", "__rodata", ".rdata"})
# the data sections whose words can hold pointers (Go puts pointer-free data in .noptrdata)
POINTER_SECTIONS = frozenset({".data", "__data"})


def reference_claims(
    binary: BinaryFile, funcs: FuncTable, ids: Sequence[int], acc: Attribution, trees: tuple[int, int] | None = None,
) -> None:
    """Data without a symbol or a format that sizes it: each address in a data section that code
    refers to starts an object of its referencing functions' most common package; each address that
    a pointer-sized word of .data holds starts an object of the package of the object holding that
    word. An object runs to the next such address in its section, or to the first byte something
    else claims. These bytes are the package's data, marked estimated; whatever claims a byte
    exactly keeps it. A reference from code inlined into a function counts for the package of the
    function inlined there (``trees``: go:func.*'s span, where the inline trees are; None: the
    outer function's). All of it is array operations over the references and the claims."""
    secs = data_sections(binary)
    refs = data_references(binary, acc) if secs and funcs else None
    if refs is None:
        return
    lo, hi = secs[0].addr, max(s.addr + s.file_size for s in secs)
    pcs, targets = np.frombuffer(refs[0], np.uint64), np.frombuffer(refs[1], np.uint64)
    acc.references = None  # the last use: released
    del refs
    trim_heap()  # what the scan freed: the ledger's sorting below would add to it
    ledger = _Ledger(acc, min(s.offset for s in secs), max(s.offset + s.file_size for s in secs))
    # only the references to unclaimed bytes can start an object: the others are not looked at
    # again (on a binary with symbols, two thirds of them)
    unique = distinct(targets)
    free = np.zeros(len(unique), bool)
    for _sec, part, offs, idx in ledger.placed(secs, unique):
        free[part] |= ledger.reach_before[idx] <= offs
    keep = free[np.searchsorted(unique, targets)]
    del unique, free
    pcs, targets = pcs[keep], targets[keep]
    del keep
    if len(pcs) > 1 and bool(np.any(pcs[:-1] > pcs[1:])):  # code sections out of address order: pc order
        order = np.argsort(pcs, kind="stable")
        pcs, targets = pcs[order], targets[order]
        del order
    trim_heap()  # what the scan and the ledger's sorting freed: the inline lookups below read many pages
    # each target's package: the one that refers to it most often; of those as often, the one
    # whose first reference comes last
    chosen_targets, chosen_pids = _most_common(targets, _referrers(funcs, ids, acc, pcs, targets, trees))
    # each pointer-aligned target (what a dictionary is) -> the first instruction referring to it
    unique, first = distinct_first(targets)
    aligned = (unique & np.uint64(binary.ptr_size - 1)) == 0
    first_pc = (unique[aligned], pcs[first[aligned]])
    del pcs, targets, unique, first, aligned
    held, holders = _data_pointers(binary, secs, lo, hi)  # targets -> the address of a word holding each
    if not len(chosen_targets) and not len(held):
        return
    # objects: the unclaimed starts of each section, in address order, with their file offsets, the
    # end of their section's bytes and the start of the first claim after them
    candidates = distinct(np.concatenate([chosen_targets, held]))
    found = [(part, offs, idx, sec.offset + sec.file_size) for sec, part, offs, idx in ledger.placed(secs, candidates)]
    free_at = [ledger.reach_before[idx] <= offs for _part, offs, idx, _end in found]
    objects = np.concatenate([candidates[part][f] for (part, *_rest), f in zip(found, free_at, strict=True)])
    offsets = np.concatenate([offs[f] for (_part, offs, *_rest), f in zip(found, free_at, strict=True)])
    limits = np.concatenate([np.minimum(ledger.starts_after[idx[f]], np.uint64(end))
                             for (_part, _offs, idx, end), f in zip(found, free_at, strict=True)])
    del candidates, found, free_at
    owner = _lookup(chosen_targets, chosen_pids, objects)
    del chosen_targets, chosen_pids
    texts = [s for s in binary.sections if "x" in s.flags.split(",") and s.file_size and s.addr]
    _dictionary_owners(binary, funcs, ids, texts, objects, owner, first_pc)
    _orphan_owners(secs, ledger, objects, owner, held, holders)
    # objects whose package is unknown are not boundaries: the object before runs over them. Each
    # object ends at the next one in its section or at the first claimed byte after it.
    known = owner >= 0
    starts = offsets[known]
    ends = np.minimum(limits[known], np.append(starts[1:], np.uint64(1 << 62)))
    acc.claims.extend(starts, ends, 3, owner[known].astype(np.uint64) << np.uint64(3) | np.uint64(ESTIMATED))


class _Ledger:
    """The claims and named regions that start in file offsets [first, last), sorted by start then
    priority: their starts, the furthest end reached by each and those before it, and each one's
    packed value (end, package, kind)."""

    def __init__(self, acc: Attribution, first: int, last: int) -> None:
        keys, vals = np.frombuffer(acc.claims.keys, np.uint64), np.frombuffer(acc.claims.vals, np.uint64)
        inside = (keys >= np.uint64(first << 2)) & (keys < np.uint64(last << 2))
        regions = [(start, end) for start, end, _name in acc.regions if end > first and start < last]
        keys = np.concatenate([keys[inside], np.array([start << 2 for start, _e in regions], np.uint64)])
        vals = np.concatenate([vals[inside], np.array([end << 23 | 7 for _s, end in regions], np.uint64)])
        del inside
        order = np.lexsort((vals, keys))
        n = len(order)
        # indexed by searchsorted(starts, off, "right"): the reach of the claims before off, the start
        # of the next; starts and reach are views of them (one array each, not two)
        self.starts_after = np.empty(n + 1, np.uint64)
        np.right_shift(keys[order], np.uint64(2), out=self.starts_after[:n])
        self.starts_after[n] = 1 << 62
        del keys
        self.starts = self.starts_after[:n]
        self.tails = vals[order]
        del vals, order
        self.reach_before = np.zeros(n + 1, np.uint64)
        np.maximum.accumulate((self.tails >> np.uint64(23)) & np.uint64(Claims._END_MASK), out=self.reach_before[1:])
        self.reach = self.reach_before[1:]
        trim_heap()  # the sorting's arrays: the steps below allocate less than they freed

    def placed(
        self, secs: list[Section], addrs: np.ndarray,
    ) -> Iterator[tuple[Section, slice, np.ndarray, np.ndarray]]:
        """Per section, where the sorted addresses ``addrs`` in it are (a slice of them), their file
        offsets, and the number of claims that start at or before each."""
        for sec in secs:
            part = slice(*np.searchsorted(addrs, np.array([sec.addr, sec.addr + sec.file_size], np.uint64)).tolist())
            offs = addrs[part] - np.uint64(sec.addr) + np.uint64(sec.offset)
            yield sec, part, offs, np.searchsorted(self.starts, offs, "right")

    def exact_owners(self, offs: np.ndarray) -> np.ndarray:
        """The package of the claim covering each file offset; -1 where it is claimed, not by a
        package; -2 where nothing claims it."""
        if not len(self.starts):
            return np.full(len(offs), -2, np.int64)
        i = np.searchsorted(self.starts, offs, "right") - 1
        covered = (i >= 0) & (self.reach[i] > offs)
        tail = self.tails[i]
        kind = tail & np.uint64(7)
        package = (((tail >> np.uint64(23)) & np.uint64(Claims._END_MASK)) > offs) & (
            (kind == CODE) | (kind == META) | (kind == DATA))
        return np.where(covered, np.where(package, ((tail >> np.uint64(3)) & np.uint64(0xFFFFF)).astype(np.int64), -1),
                        -2)


def _most_common(targets: np.ndarray, pids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the distinct targets ascending, the package of each): the one that refers to it most often;
    of those as often, the one whose first reference comes last."""
    if not len(targets):
        return targets, pids
    order = np.lexsort((pids, targets))  # stable: each (target, package) run starts at its first reference
    t, p = targets[order], pids[order]
    new = np.ones(len(t), bool)
    new[1:] = (t[1:] != t[:-1]) | (p[1:] != p[:-1])
    runs = np.flatnonzero(new)
    counts = np.diff(np.append(runs, len(t)))
    firsts = order[runs]
    t, p = t[runs], p[runs]
    best = np.lexsort((firsts, counts, t))
    t, p = t[best], p[best]
    last = np.append(t[1:] != t[:-1], True)  # the best run of each target sorts last
    return t[last], p[last]


def _lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """values[k] where keys[k] (ascending, distinct) is each of ``wanted``, else -1 (as int64)."""
    out = np.full(len(wanted), -1, np.int64)
    if len(keys):
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        hit = keys[at] == wanted
        out[hit] = values[at[hit]]
    return out


def _orphan_owners(
    secs: list[Section], ledger: _Ledger, objects: np.ndarray, owner: np.ndarray, held: np.ndarray,
    holders: np.ndarray,
) -> None:
    """An object only pointers name takes the package of the object holding the first of them (the
    exact claim there, else the estimated object there), through chains of such objects (a table
    of tables): a few rounds reach every chain that ends at code."""
    orphans = np.flatnonzero((owner < 0) & (_lookup(held, np.arange(len(held)), objects) >= 0))
    if not len(orphans):
        return
    src = holders[np.searchsorted(held, objects[orphans])]
    sec_addrs = np.array([s.addr for s in secs], np.uint64)
    i = np.searchsorted(sec_addrs, src, "right") - 1  # -1: before every section (the last is checked, as ever)
    sec_lo = sec_addrs[i]
    sec_hi = sec_lo + np.array([s.file_size for s in secs], np.uint64)[i]
    inside = (sec_lo <= src) & (src < sec_hi)
    offs = src - sec_lo + np.array([s.offset for s in secs], np.uint64)[i]
    exact = np.where(inside, ledger.exact_owners(np.where(inside, offs, 0)), -1)
    # where nothing claims the word exactly: the object it lies in
    holder = np.searchsorted(objects, src, "right") - 1
    owners = owner.tolist()
    todo = list(zip(orphans.tolist(), exact.tolist(), holder.tolist(), strict=True))
    for _round in range(4):
        left = []
        for j, exact_pid, k in todo:
            pid = exact_pid if exact_pid != -2 else owners[k] if k >= 0 else -1
            if pid >= 0:
                owners[j] = owner[j] = pid
            else:
                left.append((j, exact_pid, k))
        if len(left) == len(todo):
            break
        todo = left


def _referrers(
    funcs: FuncTable, ids: Sequence[int], acc: Attribution, pcs: np.ndarray, targets: np.ndarray,
    trees: tuple[int, int] | None,
) -> np.ndarray:
    """The package of each reference (``pcs`` ascending, to ``targets``): that of the function it is
    in (the last entry at or before it; outside every function, the last function's), or, in code
    inlined into it, that of the innermost function inlined there (``trees``: go:func.*'s span).
    A function's references to an address that its inlined code refers to are all that inlined
    function's: the compiler hoists and rematerializes the address out of the inlined code (a
    table's address loaded once before a loop), at the outer function's source positions."""

    def package_of(name: str) -> int | None:
        # a function's package path comes before any "[": generic arguments need no stripping
        bracket = name.find("[")
        head = name[:bracket] if bracket > 0 else name
        pkg = go_package(head if "." in head[head.rfind("/") + 1 :] else name)
        return acc.pkg_id(pkg) if pkg else None

    entries = np.frombuffer(funcs.entries, np.uint64)
    last = len(ids) - 1
    # the function of each reference; outside every function, the last one
    fidx = np.searchsorted(entries, pcs, "right") - 1
    fidx[(fidx < 0) | (fidx > last)] = last
    owners = np.asarray(ids, np.int64)[fidx]
    if trees is None or not len(pcs):
        return owners
    _bounds, *runs = function_runs(funcs, pcs)
    found, packages = inlined_packages(funcs, trees, package_of, pcs, (runs[0], runs[1], runs[2]))
    if not found:
        return owners
    positions, pids = np.frombuffer(found, np.uint64).astype(np.intp), np.frombuffer(packages, np.uint64)
    # (function, target) -> the package of the function inlined where it is referred to (the last
    # such reference's)
    order = np.lexsort((targets, fidx))
    f, t = fidx[order], targets[order]
    new = np.ones(len(f), bool)
    new[1:] = (f[1:] != f[:-1]) | (t[1:] != t[:-1])
    group = np.empty(len(f), np.intp)
    group[order] = np.cumsum(new) - 1
    del order, f, t, new
    inlined_groups = group[positions][::-1]
    groups, last_first = distinct_first(inlined_groups)
    package = np.full(int(group.max()) + 1, -1, np.int64)
    package[groups] = pids[::-1][last_first].astype(np.int64)
    chosen = package[group]
    return np.where(chosen >= 0, chosen, owners)


def _dictionary_owners(
    binary: BinaryFile, funcs: FuncTable, ids: Sequence[int], texts: list[Section], objects: np.ndarray,
    owner: np.ndarray, first_pc: tuple[np.ndarray, np.ndarray],
) -> None:
    """A generic function's dictionary (read-only data) is its package's, not its callers': an object
    whose address code passes to a shape function (``pkg.F[go.shape.int]``) goes to that function's
    package. ``first_pc``: (pointer-aligned targets ascending, the first instruction referring to each)."""
    call_of = first_argument_call(binary.goarch)
    if call_of is None:
        return
    starts = funcs.starts
    shapes: dict[int, int] = {}  # entry -> package of the shape functions called so far

    def is_shape(addr: int) -> bool:
        if addr in shapes:
            return True
        i = bisect.bisect_left(starts, addr)
        if i < len(funcs) and starts[i] == addr and "go.shape." in funcs.name(i):
            shapes[addr] = ids[i]
            return True
        return False

    codes = [(t.addr, t.addr + t.file_size, binary.section_bytes(t), t.offset) for t in texts]
    # a dictionary is an array of pointers, in read-only data, that code refers to
    targets, pcs = first_pc
    candidates = np.zeros(len(objects), bool)
    for s in binary.sections:
        if s.name in READONLY_SECTIONS and s.addr:
            candidates |= (objects >= np.uint64(s.addr)) & (objects < np.uint64(s.addr + s.file_size))
    referred = _lookup(targets, np.arange(len(targets)), objects)
    js = np.flatnonzero(candidates & (referred >= 0))
    at = pcs[referred[js]]
    # in code order, the pages behind dropped as the reading moves on (it reads a few bytes at each pc)
    order = np.lexsort((js, at))
    at, js = at[order], js[order]
    calls_of = argument_calls(binary.goarch)
    if calls_of is not None and all(end < 1 << 62 for _s, end, _c, _o in codes):
        _calls_owners(binary, funcs, ids, codes, at.astype(np.int64), js, owner, calls_of)
        return
    dropped = [0] * len(codes)
    for pc, j in zip(at.tolist(), js.tolist(), strict=True):
        for k, (start, end, code, offset) in enumerate(codes):
            if start <= pc < end:
                callee = call_of(code, start, pc, is_shape)
                if callee is not None:
                    owner[j] = shapes[callee]
                behind = pc - start - (1 << 16)
                if behind - dropped[k] >= 1 << 20:
                    binary.release(offset + dropped[k], behind - dropped[k])
                    dropped[k] = behind
                break


def _calls_owners(
    binary: BinaryFile, funcs: FuncTable, ids: Sequence[int], codes: list[tuple[int, int, memoryview, int]],
    pcs: np.ndarray, js: np.ndarray, owner: np.ndarray, calls_of: ArgumentCalls,
) -> None:
    """``_dictionary_owners`` by the architecture's ``argument_calls``: the pcs (ascending, int64) of
    each code section a megabyte at a time, the pages behind dropped after each; object ``js[k]``
    goes to the package of the first shape function its pc's candidate calls reach."""
    entries = np.frombuffer(funcs.entries, np.uint64)[:-1].astype(np.int64)
    shapes: dict[int, int] = {}  # entry -> package of the shape function there, -1: none

    def shape_packages(callees: np.ndarray) -> np.ndarray:
        unique = distinct(callees)
        at = np.searchsorted(entries, unique)
        entry = (at < len(entries)) & (entries[np.minimum(at, max(len(entries) - 1, 0))] == unique)
        for callee, i, is_entry in zip(unique.tolist(), at.tolist(), entry.tolist(), strict=True):
            if callee not in shapes:
                shapes[callee] = ids[i] if is_entry and "go.shape." in funcs.name(i) else -1
        return np.array([shapes[c] for c in unique.tolist()], np.int64)[np.searchsorted(unique, callees)]

    left = np.ones(len(pcs), bool)  # a pc goes to the first code section holding it
    for start, end, code, offset in codes:
        mine = np.flatnonzero(left & (pcs >= start) & (pcs < end))
        left[mine] = False
        megabytes = (pcs[mine] - start) >> 20
        for mb in distinct(megabytes).tolist():
            part = mine[megabytes == mb]
            rows, callees = calls_of(code, start, pcs[part])
            package = shape_packages(callees) if len(callees) else np.zeros(0, np.int64)
            rows, package = rows[package >= 0], package[package >= 0]
            first = np.ones(len(rows), bool)  # a pc's first candidate that is a shape function
            first[1:] = rows[1:] != rows[:-1]
            owner[js[part[rows[first]]]] = package[first]
            behind = ((mb + 1) << 20) - (1 << 16)
            if behind > 0:
                binary.release(offset, min(behind, end - start))


def _data_pointers(binary: BinaryFile, secs: list[Section], lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Addresses in [lo, hi) that aligned pointer-sized words of the data sections hold, ascending,
    and the address of the first word holding each (a word of writable data before one of read-only
    data)."""
    ptr = binary.ptr_size
    word = np.dtype(("<" if binary.byte_order == "little" else ">") + ("u8" if ptr == 8 else "u4"))
    found: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])  # (held, at) of writable, then read-only data
    ro_secs = [s for s in secs if s.name in READONLY_SECTIONS]
    # read-only data holds pointers (dictionaries to their sub-dictionaries, aligned) among integer
    # tables whose values may look like addresses: from there, only aligned read-only targets count
    for sec in secs:
        if sec.name not in POINTER_SECTIONS:
            continue
        ro = sec.name in READONLY_SECTIONS
        if ro and not ro_secs:
            continue
        w_lo, w_hi = ((min(s.addr for s in ro_secs), max(s.addr + s.file_size for s in ro_secs)) if ro else (lo, hi))
        skip = (-sec.addr) % ptr
        count = min(sec.file_size - skip, len(binary.data) - sec.offset - skip) // ptr
        if count <= 0:
            continue
        words = np.frombuffer(binary.data, word, count, sec.offset + skip).astype(np.uint64)
        wanted = (words >= np.uint64(w_lo)) & (words < np.uint64(w_hi))
        if ro:
            wanted &= (words & np.uint64(ptr - 1)) == 0
        where = np.flatnonzero(wanted)
        found[int(ro)].append(words[where])
        found[int(ro)].append(where.astype(np.uint64) * np.uint64(ptr) + np.uint64(sec.addr + skip))
    held = [*found[0][0::2], *found[1][0::2]]
    if not held:
        return np.zeros(0, np.uint64), np.zeros(0, np.uint64)
    targets, first = distinct_first(np.concatenate(held))
    return targets, np.concatenate([*found[0][1::2], *found[1][1::2]])[first]


def data_sections(binary: BinaryFile) -> list[Section]:
    return sorted((s for s in binary.sections if s.name in DATA_SECTIONS and s.file_size and s.addr),
                  key=lambda s: s.addr)


def data_references(binary: BinaryFile, acc: Attribution) -> tuple[array, array] | None:
    """The code's references into the data sections (``acc.references``, scanned on first use: by
    the embeds' packages, else by the reference attribution); None when the GOARCH has no scanner."""
    if acc.references is not None:
        return acc.references
    scan = scanner(binary.goarch)
    secs = data_sections(binary)
    if scan is None or not secs:
        return None
    lo, hi = secs[0].addr, max(s.addr + s.file_size for s in secs)
    all_pcs, all_targets = array("Q"), array("Q")
    for text in binary.sections:
        if "x" not in text.flags.split(",") or not text.file_size or not text.addr:
            continue
        try:
            # the pages scanned dropped as the scan moves on
            pcs, targets = scan(binary.section_bytes(text), text.addr, lo, hi, partial(binary.release, text.offset))
            binary.release(text.offset, text.file_size)
        except (ValueError, IndexError, struct.error, OverflowError, TypeError):
            acc.notes.append(f"code of {text.name} could not be scanned for data references: data left unattributed")
            continue
        if len(pcs) != len(targets):
            continue
        all_pcs.extend(pcs)
        all_targets.extend(targets)
    acc.references = (all_pcs, all_targets)
    return acc.references
