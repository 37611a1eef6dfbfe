"""The type walk in batches (typewalk.py) gives exactly what the one-by-one walk (moduledata.TypeWalker)
gives: on real builds without falling back, and on damaged type regions (falling back where a read
leaves the region's bytes)."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from sizebot.binary.container import open_binary
from sizebot.binary.moduledata import TypeRegions, TypeWalker, find_moduledata
from sizebot.binary.pclntab import Pclntab
from sizebot.binary.typewalk import _Batches, _OneByOne, walk_types
from tests.support.goprograms import HELLO, HTTPJSON, build, go_bin

ERRORS = (struct.error, TypeError, IndexError, ValueError, OverflowError)  # what _type_claims turns into None


def _walker(path: Path) -> TypeWalker:
    b = open_binary(path)
    pcln = Pclntab(b, b.pclntab_section())
    md = find_moduledata(b, pcln)
    assert md is not None
    return TypeWalker(b, md, 24)


def _ranges(r: TypeRegions) -> tuple:
    return r.starts.tolist(), r.ends.tolist(), [r.names[p] for p in r.packages.tolist()], r.types


@pytest.mark.parametrize("version, goarch", [("1.21.13", "386"), ("1.24.11", "arm64"), ("1.27.3", "amd64"),
                                             ("machine", "amd64")])
def test_batches_equal_one_by_one(version, goarch):
    exe = build(HTTPJSON, goarch=goarch, go="go" if version == "machine" else go_bin(version))
    batches = _ranges(_Batches(_walker(exe)).walk())  # no fallback on what the linker writes
    one_by_one = _ranges(_walker(exe).walk())
    assert batches == one_by_one
    assert batches[3] > 500 and len(batches[0]) > 2000


def _region(w: TypeWalker) -> tuple[int, int]:
    assert w._types_off is not None
    return w._types_off, w.md.etypes - w.md.types


def test_a_name_outside_the_type_region_is_read_one_by_one(tmp_path):
    exe = build(HELLO)
    w = _walker(exe)
    off, _span = _region(w)
    first = w.links().typelinks[0] - w.md.types
    data = bytearray(exe.read_bytes())
    str_at = off + first + 4 * w.ptr + 8
    data[str_at : str_at + 4] = struct.pack("<i", -64)  # its type string just below the type region
    forged = tmp_path / "forged"
    forged.write_bytes(data)
    with pytest.raises(_OneByOne):
        _Batches(_walker(forged)).walk()
    assert _ranges(walk_types(_walker(forged))) == _ranges(_walker(forged).walk())


def _outcome(path: Path) -> object:
    try:
        return _ranges(walk_types(_walker(path)))
    except ERRORS as e:
        return type(e)


def _outcome_one_by_one(path: Path) -> object:
    try:
        return _ranges(_walker(path).walk())
    except ERRORS as e:
        return type(e)


@pytest.mark.parametrize("seed", range(12))
def test_damaged_type_regions_give_what_the_one_by_one_walk_gives(tmp_path, seed):
    """Bytes of the type region overwritten (random, zero or 0xff): whatever the walk recovers, or
    the error it meets, is the one-by-one walk's."""
    exe = build(HELLO, goarch="386" if seed % 3 == 1 else "amd64")
    off, span = _region(_walker(exe))
    rng = random.Random(seed)
    data = bytearray(exe.read_bytes())
    for _ in range(rng.choice([1, 10, 100, 1000])):
        data[off + rng.randrange(span)] = rng.choice([rng.randrange(256), 0, 0xFF])
    damaged = tmp_path / "damaged"
    damaged.write_bytes(data)
    assert _outcome(damaged) == _outcome_one_by_one(damaged)
