"""The DWARF split of a large binary done in a worker process (sizebot.binary.worker), while the
main process attributes everything else.

The worker knows no function's package, so it runs ``split_dwarf`` with code addresses as the
owners of the pieces that a function owns (frame entries, location lists) and sends the pieces
back in arrays; ``add_claims`` then finds each address's function here (one search over the whole
array), merges adjacent pieces of one package and claims them, which gives exactly the claims of
``split_dwarf`` with packages: pieces of one address all have that address's package, so merging
by address first merges nothing that merging by package would not. Other claims the worker makes
(on a scratch ledger) come back as a ``ClaimsDelta``.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from sizebot.binary.claims import DEBUG, ROW, Attribution
from sizebot.binary.container import BinaryFile
from sizebot.binary.dwarf import PackageAt, Unit, debug_sections, split_dwarf

_UNIT, _ADDRESS = 1, 0


@dataclass(frozen=True)
class PackedSplit:
    """Pieces per debug section: (name, uncompressed size, starts, ends, owner kinds, owners); an
    owner is an index into ``units`` (kind _UNIT) or a code address (kind _ADDRESS)."""

    units: list[str]
    sections: list[tuple[str, int, array[int], array[int], array[int], array[int]]]
    notes: list[str]


def has_dwarf(binary: BinaryFile) -> bool:
    secs = debug_sections(binary)
    return ".debug_info" in secs and ".debug_abbrev" in secs


def split_by_address(
    binary: BinaryFile, on_info: Callable[[bytes, bytes, list[Unit]], None] | None = None
) -> PackedSplit:
    """``split_dwarf`` with code addresses for owners, packed (``on_info`` as split_dwarf's)."""
    split = split_dwarf(binary, cast(PackageAt, _address), on_info, merge=False)
    units: list[str] = []
    index: dict[str, int] = {}
    sections = []
    for name, pieces in split.pieces.items():
        offset = "I" if split.sizes[name] < 1 << 32 else "Q"
        columns = list(zip(*pieces, strict=True)) or [(), (), ()]
        starts, ends, owners = array(offset, columns[0]), array(offset, columns[1]), columns[2]
        del columns
        try:  # frame entries and location lists: every owner an address
            addresses = array("Q", owners)
            kinds = array("B", bytes(len(addresses)))  # _ADDRESS
        except TypeError:  # a unit's name among them
            kinds, addresses = array("B"), array("Q")
            for owner in owners:
                if isinstance(owner, str):
                    k = index.get(owner)
                    if k is None:
                        k = index[owner] = len(units)
                        units.append(owner)
                    kinds.append(_UNIT)
                    addresses.append(k)
                else:
                    kinds.append(_ADDRESS)
                    addresses.append(owner)
        sections.append((name, split.sizes[name], starts, ends, kinds, addresses))
    return PackedSplit(units, sections, split.notes)


def _address(pc: int) -> int:
    return pc


def add_claims(packed: PackedSplit, binary: BinaryFile, starts: Sequence[int], ends: Sequence[int],
               ids: Sequence[int], acc: Attribution) -> None:
    """The DEBUG claims of the split (``starts``/``ends``/``ids``: each function's entry, end and
    package index), exactly those that ``resolve`` and claiming its pieces one at a time (through
    ``file_spans``) give, packages registered in the same order, in whole-array operations: each
    address's function by one search, pieces without a package dropped, adjacent pieces of one
    package merged, file spans in proportion for a compressed section."""
    acc.notes.extend(packed.notes)
    secs = debug_sections(binary)
    entries = np.asarray(starts, dtype=np.uint64)
    f_ends = np.asarray(ends, dtype=np.uint64)
    names = acc.pkg_names
    f_pids = np.asarray(ids, dtype=np.int64)
    if len(f_pids):  # a function of a package without a name owns nothing (resolve drops it)
        nameless = np.array([not names[k] for k in range(len(names))] or [False], dtype=bool)
        f_pids = np.where(nameless[f_pids], -1, f_pids)
    # units' packages: an index of the ledger, or (not registered yet) one of ``new`` past them
    new: dict[str, int] = {}
    unit_pids = np.full(max(1, len(packed.units)), -1, dtype=np.int64)
    for k, unit in enumerate(packed.units):
        if unit:
            known = acc.pkg_index.get(unit)
            unit_pids[k] = known if known is not None else len(names) + new.setdefault(unit, len(new))
    per_section = []
    for name, usize, p_starts, p_ends, kinds, owners in packed.sections:
        sec = secs[name]
        if usize <= 0 or not len(p_starts):
            continue
        st = np.asarray(p_starts, dtype=np.uint64)
        en = np.asarray(p_ends, dtype=np.uint64)
        own = np.asarray(owners, dtype=np.uint64)
        by_unit = np.asarray(kinds, dtype=np.uint8) == _UNIT
        pid = np.full(len(st), -1, dtype=np.int64)
        pid[by_unit] = unit_pids[own[by_unit].astype(np.int64)]
        pcs = own[~by_unit]
        i = np.searchsorted(entries, pcs, side="right").astype(np.int64) - 1
        inside = i >= 0
        inside[inside] = pcs[inside] < f_ends[i[inside]]
        pid[~by_unit] = np.where(inside, f_pids[np.maximum(i, 0)] if len(f_pids) else -1, -1)
        kept = pid >= 0
        st, en, pid = st[kept], en[kept], pid[kept]
        if not len(st):
            continue
        # a piece that starts where the previous kept one ends, of the same package, continues it
        first = np.ones(len(st), dtype=bool)
        first[1:] = (st[1:] != en[:-1]) | (pid[1:] != pid[:-1])
        heads = np.flatnonzero(first)
        tails = np.append(heads[1:] - 1, len(st) - 1)
        st, en, pid = st[heads], en[tails], pid[heads]
        base, fsize = sec.offset, sec.file_size
        en = np.minimum(en, usize)
        if usize <= fsize and "compressed" not in sec.flags.split(",") and "zdebug_" not in sec.name:
            a, b = st + base, en + base
        else:  # in proportion (Python ints where the products could pass 64 bits)
            if int(st.max()) * fsize >= 1 << 63:
                st, en = st.astype(object), en.astype(object)
            a, b = st * fsize // usize + base, en * fsize // usize + base
            shown = b > a
            a, b, pid = a[shown], b[shown], pid[shown]
        per_section.append((a, b, pid))
    if new:  # registered in the order claiming piece by piece would have met them
        order = np.concatenate([pid for _a, _b, pid in per_section])
        late = order[order >= len(names)]
        _u, at = np.unique(late, return_index=True)
        remap = np.arange(len(names) + len(new), dtype=np.int64)
        unit_names, known = list(new), len(names)
        for k in np.sort(at):
            provisional = int(late[k])
            remap[provisional] = acc.pkg_id(unit_names[provisional - known])
    keys, vals = acc.claims.keys, acc.claims.vals
    for a, b, pid in per_section:
        if new:
            pid = remap[pid]
        claimed = b > a
        a = np.asarray(a[claimed], dtype=np.uint64)
        b = np.asarray(b[claimed], dtype=np.uint64)
        keys.frombytes((a << np.uint64(2) | np.uint64(1)).tobytes())
        owners = pid[claimed].astype(np.uint64) << np.uint64(3) | np.uint64(DEBUG)
        vals.frombytes((b << np.uint64(23) | owners).tobytes())


@dataclass(frozen=True)
class ClaimsDelta:
    """Claims made on a scratch ``Attribution`` in the worker, to be taken into the main process's
    ledger as if they had been made there: packages and rows by name, registered in the order the
    worker met them (the order claiming them here would have), and its notes."""

    keys: array[int]
    vals: array[int]
    pkg_names: list[str]
    row_names: list[str]
    notes: list[str]

    @classmethod
    def of(cls, scratch: Attribution) -> ClaimsDelta:
        return cls(scratch.claims.keys, scratch.claims.vals, scratch.pkg_names, scratch.row_names, scratch.notes)

    def take(self, acc: Attribution) -> None:
        acc.notes.extend(self.notes)
        pkgs = np.array([acc.pkg_id(n) for n in self.pkg_names] or [0], dtype=np.uint64)
        rows = np.array([_row_id(acc, n) for n in self.row_names] or [0], dtype=np.uint64)
        if not len(self.keys):
            return
        vals = np.frombuffer(self.vals, dtype=np.uint64)
        local = ((vals >> np.uint64(3)) & np.uint64(0xFFFFF)).astype(np.int64)
        owner = np.where((vals & np.uint64(7)) == ROW, rows[np.minimum(local, len(rows) - 1)],
                         pkgs[np.minimum(local, len(pkgs) - 1)])
        acc.claims.keys.extend(self.keys)
        acc.claims.vals.frombytes(((vals & ~np.uint64(0xFFFFF << 3)) | owner << np.uint64(3)).tobytes())


def _row_id(acc: Attribution, name: str) -> int:
    """The index of the named row ``name`` in ``acc`` (registered as ``Attribution.row`` does)."""
    i = acc.row_index.get(name)
    if i is None:
        i = acc.row_index[name] = len(acc.row_names)
        acc.row_names.append(name)
    return i
