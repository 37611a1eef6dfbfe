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
from collections import Counter
from collections.abc import Iterator, MutableSequence, Sequence
from itertools import accumulate, chain, compress, islice, repeat
from operator import add, and_, gt, itemgetter, le, lshift, mul, not_, or_, rshift, sub

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
from sizebot.binary.embeds import word_view
from sizebot.binary.inltree import function_runs, inlined_packages
from sizebot.binary.pclntab import FuncTable
from sizebot.binary.references import first_argument_call, scanner
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
    outer function's)."""
    secs = data_sections(binary)
    refs = data_references(binary, acc) if secs and funcs else None
    if refs is None:
        return
    lo, hi = secs[0].addr, max(s.addr + s.file_size for s in secs)
    pcs, targets = refs
    acc.references = None  # the last use: released
    del refs
    # what is already claimed in the data sections (file offsets): claims and named regions
    first, last = min(s.offset for s in secs), max(s.offset + s.file_size for s in secs)
    claimed = acc.claims.packed_between(first, last)
    claimed.extend((start << 42 | end) << 23 | 7 for start, end, _name in acc.regions if end > first and start < last)
    claimed.sort()
    starts = array("Q", map(rshift, claimed, repeat(65)))
    reach = array("Q", accumulate(map(and_, map(rshift, claimed, repeat(23)), repeat(Claims._END_MASK)), max))
    # each claim's end, package and kind (its low 63 bits), compactly: the packed ints are large
    tails = array("Q", map(and_, claimed, repeat((1 << 63) - 1)))
    del claimed
    sec_addrs = [s.addr for s in secs]
    reach_before = array("Q", [0]) + reach  # indexed by bisect_right(starts, off): the reach of the claims before off
    # only the references to unclaimed bytes can start an object: the others are not looked at
    # again (on a binary with symbols, two thirds of them)
    unclaimed: set[int] = set()
    for _sec, part, offs, idx in _placed(secs, sorted(set(targets)), starts):
        unclaimed.update(compress(part, map(le, map(reach_before.__getitem__, idx), offs)))
    keep = list(map(unclaimed.__contains__, targets))
    del unclaimed
    pcs, targets = array("Q", compress(pcs, keep)), array("Q", compress(targets, keep))
    del keep
    if any(map(gt, pcs, islice(pcs, 1, None))):  # code sections out of address order: pc order
        order = sorted(range(len(pcs)), key=pcs.__getitem__)
        pcs, targets = array("Q", map(pcs.__getitem__, order)), array("Q", map(targets.__getitem__, order))
        del order
    # (target, package) of each reference, packed
    counts: Counter[int] = Counter()
    if pcs:
        counts.update(map(or_, map(lshift, targets, repeat(20)), _referrers(funcs, ids, acc, pcs, targets, trees)))
    # target -> the first instruction referring to it (in address order),
    # for pointer-aligned targets only (what a dictionary is)
    aligned = list(map(not_, map(and_, targets, repeat(binary.ptr_size - 1))))
    first_pc = dict(zip(reversed(list(compress(targets, aligned))), reversed(list(compress(pcs, aligned))),
                        strict=True))
    del pcs, targets, aligned
    # each target's package: the one that refers to it most often (in ascending order of counts, the
    # last pair of a target wins)
    keys = [key for key, _n in sorted(counts.items(), key=itemgetter(1))]
    del counts
    chosen = dict(zip(map(rshift, keys, repeat(20)), map(and_, keys, repeat(0xFFFFF)), strict=True))
    del keys
    pointers = _data_pointers(binary, secs, lo, hi)  # target -> the address of a word holding it
    if not chosen and not pointers:
        return

    def exact_owner(off: int) -> int | None:
        """The package of the claim covering file offset ``off``; -1 when it is claimed, not by a package."""
        i = bisect.bisect_right(starts, off) - 1
        if i < 0 or reach[i] <= off:
            return None
        c = tails[i]
        if (c >> 23) & Claims._END_MASK > off and c & 7 in (CODE, META, DATA):
            return (c >> 3) & 0xFFFFF
        return -1

    # objects: the unclaimed starts of each section, in address order, with their file offsets, the
    # end of their section's bytes and the start of the first claim after them
    candidates = sorted(set(chosen).union(pointers))
    objects, offsets, limits = array("Q"), array("Q"), array("Q")  # compact: there are many
    starts_after = starts + array("Q", [1 << 62])
    for sec, part, offs, idx in _placed(secs, candidates, starts):
        free = list(map(le, map(reach_before.__getitem__, idx), offs))
        objects.extend(compress(part, free))
        offsets.extend(compress(offs, free))
        limits.extend(map(min, map(starts_after.__getitem__, compress(idx, free)),
                          repeat(sec.offset + sec.file_size)))
    del candidates, reach_before, starts_after
    owner = array("q", map(chosen.get, objects, repeat(-1)))
    del chosen
    texts = [s for s in binary.sections if "x" in s.flags.split(",") and s.file_size and s.addr]
    _dictionary_owners(binary, funcs, ids, texts, objects, owner, first_pc)
    # an object only pointers name takes the package of the object holding the first of them, through
    # chains of such objects (a table of tables): a few rounds reach every chain that ends at code
    orphans = [j for j, pid in enumerate(owner) if pid < 0 and objects[j] in pointers]
    for _round in range(4):
        left = []
        for j in orphans:
            src = pointers[objects[j]]
            sec = secs[bisect.bisect_right(sec_addrs, src) - 1]
            pid = exact_owner(sec.offset + src - sec.addr) if sec.addr <= src < sec.addr + sec.file_size else -1
            if pid is None:
                k = bisect.bisect_right(objects, src) - 1
                pid = owner[k] if k >= 0 else -1
            if pid >= 0:
                owner[j] = pid
            else:
                left.append(j)
        if len(left) == len(orphans):
            break
        orphans = left
    # objects whose package is unknown are not boundaries: the object before runs over them. Each
    # object ends at the next one in its section or at the first claimed byte after it.
    keep = list(map(le, repeat(0), owner))
    kept_offsets = list(compress(offsets, keep))
    following = [*kept_offsets[1:], 1 << 62]
    claim = acc.claims.add
    for off, end, pid in zip(kept_offsets, map(min, compress(limits, keep), following), compress(owner, keep),
                             strict=False):
        claim(off, end, 3, pid, ESTIMATED)


def _placed(
    secs: list[Section], addrs: list[int], starts: Sequence[int],
) -> Iterator[tuple[Section, list[int], list[int], list[int]]]:
    """Per section, the sorted addresses ``addrs`` in it, their file offsets, and the number of
    claims (by ``starts``) that start at or before each."""
    for sec in secs:
        part = addrs[bisect.bisect_left(addrs, sec.addr) : bisect.bisect_left(addrs, sec.addr + sec.file_size)]
        offs = list(map(add, part, repeat(sec.offset - sec.addr)))
        yield sec, part, offs, list(map(bisect.bisect_right, repeat(starts), offs))


def _referrers(
    funcs: FuncTable, ids: Sequence[int], acc: Attribution, pcs: array, targets: array, trees: tuple[int, int] | None,
) -> array:
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

    bounds, referring, firsts, lasts = function_runs(funcs, pcs)
    # the function of each reference; outside every function, the last one ("Q": no sign to parse)
    fidx = array("Q", repeat(len(ids) - 1, bounds[0]))
    fidx.extend(chain.from_iterable(map(repeat, referring, map(sub, lasts, firsts))))
    fidx.extend(repeat(len(ids) - 1, len(pcs) - bounds[-1]))
    owners = array("Q", map(ids.__getitem__, fidx))
    if trees is None:
        return owners
    positions, pids = inlined_packages(funcs, trees, package_of, pcs, (referring, firsts, lasts))
    if not positions:
        return owners
    # (function, target) -> the package of the function inlined where it is referred to
    keys = list(map(or_, map(lshift, map(fidx.__getitem__, positions), repeat(64)), map(targets.__getitem__,
                                                                                        positions)))
    inlined = dict(zip(keys, pids, strict=True))
    del keys
    return array("Q", map(inlined.get, map(or_, map(lshift, fidx, repeat(64)), targets), owners))


def _dictionary_owners(
    binary: BinaryFile, funcs: FuncTable, ids: Sequence[int], texts: list[Section], objects: Sequence[int],
    owner: MutableSequence[int], first_pc: dict[int, int],
) -> None:
    """A generic function's dictionary (read-only data) is its package's, not its callers': an object
    whose address code passes to a shape function (``pkg.F[go.shape.int]``) goes to that function's
    package."""
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
    readonly = [(s.addr, s.addr + s.file_size) for s in binary.sections if s.name in READONLY_SECTIONS and s.addr]
    align = binary.ptr_size - 1
    todo: list[tuple[int, int]] = []  # (referring pc, object index)
    for j, target in enumerate(objects):
        if target & align:  # a dictionary is an array of pointers
            continue
        pc = first_pc.get(target)
        if pc is None or not any(a <= target < b for a, b in readonly):
            continue
        todo.append((pc, j))
    # in code order, the pages behind dropped as the reading moves on (it reads a few bytes at each pc)
    todo.sort()
    dropped = [0] * len(codes)
    for pc, j in todo:
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


def _data_pointers(binary: BinaryFile, secs: list[Section], lo: int, hi: int) -> dict[int, int]:
    """Addresses in [lo, hi) that aligned pointer-sized words of the data sections hold: target -> the
    address of the first word holding it (a word of writable data before one of read-only data)."""
    ptr = binary.ptr_size
    writable: dict[int, int] = {}
    readonly: dict[int, int] = {}
    ro_secs = [s for s in secs if s.name in READONLY_SECTIONS]
    # read-only data holds pointers (dictionaries to their sub-dictionaries, aligned) among integer
    # tables whose values may look like addresses: from there, only aligned read-only targets count
    ro_range = range(min(s.addr for s in ro_secs), max(s.addr + s.file_size for s in ro_secs)) if ro_secs else None
    for sec in reversed(secs):
        if sec.name not in POINTER_SECTIONS:
            continue
        ro = sec.name in READONLY_SECTIONS
        wanted = ro_range if ro else range(lo, hi)
        skip = (-sec.addr) % ptr
        count = (sec.file_size - skip) // ptr
        if wanted is None or count <= 0:
            continue
        words = word_view(binary, sec.offset + skip, count)
        where = list(compress(range(count), map(wanted.__contains__, words)))
        if ro:
            where = list(compress(where, map(not_, map(and_, map(words.__getitem__, where), repeat(ptr - 1)))))
        held = map(words.__getitem__, reversed(where))
        at = map(add, map(mul, reversed(where), repeat(ptr)), repeat(sec.addr + skip))
        found = dict(zip(held, at, strict=True))  # reversed: the first word holding a target wins
        if ro:
            readonly = {**readonly, **found}
        else:
            writable = {**writable, **found}
    return {**readonly, **writable}


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
            pcs, targets = scan(binary.section_bytes(text), text.addr, lo, hi)
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
