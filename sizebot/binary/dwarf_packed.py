"""The DWARF split of a large binary done in a worker process (sizebot.binary.worker), while the
main process attributes everything else.

The worker knows no function's package, so it runs ``split_dwarf`` with code addresses as the
owners of the pieces that a function owns (frame entries, location lists) and sends the pieces
back in arrays; ``resolve`` then names each address's package here and merges adjacent pieces of
one package, which gives exactly the pieces that ``split_dwarf`` with packages gives: pieces of one
address all have that address's package, so merging by address first merges nothing that merging
by package would not.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from sizebot.binary.container import BinaryFile
from sizebot.binary.dwarf import DwarfSplit, PackageAt, Unit, debug_sections, read_units, section_bytes, split_dwarf

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


def split_by_address(binary: BinaryFile) -> PackedSplit:
    """``split_dwarf`` with code addresses for owners, packed."""
    split = split_dwarf(binary, cast(PackageAt, _address))
    units: list[str] = []
    index: dict[str, int] = {}
    sections = []
    for name, pieces in split.pieces.items():
        offset = "I" if split.sizes[name] < 1 << 32 else "Q"
        starts, ends, kinds, owners = array(offset), array(offset), array("B"), array("Q")
        for start, end, owner in pieces:
            starts.append(start)
            ends.append(end)
            if isinstance(owner, str):
                k = index.get(owner)
                if k is None:
                    k = index[owner] = len(units)
                    units.append(owner)
                kinds.append(_UNIT)
                owners.append(k)
            else:
                kinds.append(_ADDRESS)
                owners.append(owner)
        sections.append((name, split.sizes[name], starts, ends, kinds, owners))
    return PackedSplit(units, sections, split.notes)


def _address(pc: int) -> int:
    return pc


def resolve(packed: PackedSplit, package_at: Callable[[int], str | None]) -> DwarfSplit:
    """The split by package: each address's package (pieces outside Go code dropped), adjacent
    pieces of one package merged."""
    out = DwarfSplit(notes=list(packed.notes))
    units = packed.units
    for name, size, starts, ends, kinds, owners in packed.sections:
        pieces: list[tuple[int, int, str]] = []
        last_end, last_pkg = -1, ""
        for start, end, kind, owner in zip(starts, ends, kinds, owners, strict=True):
            pkg = units[owner] if kind == _UNIT else package_at(owner)
            if not pkg:
                continue
            if start == last_end and pkg == last_pkg:
                pieces[-1] = (pieces[-1][0], end, pkg)
            else:
                pieces.append((start, end, pkg))
            last_end, last_pkg = end, pkg
        out.pieces[name] = pieces
        out.sizes[name] = size
    return out


def read_info(binary: BinaryFile) -> tuple[bytes, bytes, list[Unit]] | None:
    """.debug_info (inflated), .debug_abbrev and the compile units, as ``split_dwarf`` hands them to
    its ``on_info``; None where it would not (the worker's split says why in its notes)."""
    secs = debug_sections(binary)
    if ".debug_info" not in secs or ".debug_abbrev" not in secs:
        return None
    info = section_bytes(binary, secs[".debug_info"])
    abbrev = section_bytes(binary, secs[".debug_abbrev"])
    if info is None or abbrev is None:
        return None
    try:
        units = read_units(info, abbrev, binary.byte_order == "little")
    except (ValueError, IndexError, struct.error):
        return None
    return info, abbrev, units
