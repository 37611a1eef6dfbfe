"""Data by reference (no symbols): global data that code or other data refers to by address goes to
the referencing package and is counted in ``data_estimated``. On builds with a symbol table, the
method run as if the binary were stripped agrees with the symbols on at least 90% of the data bytes
they cover; stripped coverage reaches 0.92 on a real program. Corrupt code never raises."""

from __future__ import annotations

import random
import shutil

import pytest

from sizebot.binary.agreement import reference_agreement
from sizebot.binary.attribute import analyze_binary
from sizebot.binary.container import open_binary
from tests.support.goprograms import HTTPJSON, build, go_bin
from tests.support.realprograms import FZF, build_real

GO_VERSIONS = ("go", "1.21.13", "1.24.11", "1.27.3")
ARCHES = ("amd64", "arm64")


def _go(version: str) -> str:
    return "go" if version == "go" else go_bin(version)


@pytest.mark.slow
@pytest.mark.parametrize("goarch", (*ARCHES, "386"))
@pytest.mark.parametrize("version", GO_VERSIONS)
def test_agreement_with_the_symbol_table(version, goarch):
    # Measured (docs/benchmarks.md "data by reference"): 0.95-0.99 on both programs, linux/386 too
    # (0.88-0.94 there before references from inlined code went to the inlined function's package).
    go = _go(version)
    for exe in (build(HTTPJSON, go=go, goarch=goarch), build_real(FZF, go=go, goarch=goarch)):
        agreement = reference_agreement(exe)
        assert agreement.total > 150_000, agreement  # linux/386 HTTPJSON: 192,882 with Go 1.21
        assert agreement.ratio >= 0.90, (str(exe), agreement)


@pytest.mark.slow
@pytest.mark.parametrize("goarch", ARCHES)
@pytest.mark.parametrize("version", GO_VERSIONS)
def test_stripped_coverage_of_a_real_program(version, goarch):
    report = analyze_binary(build_real(FZF, go=_go(version), goarch=goarch, ldflags="-s -w"))
    assert report.stripped
    # Measured (docs/benchmarks.md "coverage"): 0.96-0.98 (0.83-0.90 before data by reference).
    assert report.coverage >= 0.92, report.coverage
    estimated = sum(p.data_estimated for p in report.packages)
    assert estimated > 100_000
    assert all(0 <= p.data_estimated <= p.data for p in report.packages)
    # the sections that hold the estimated objects are nearly all attributed
    rows = {u.section: u.size for u in report.unattributed}
    for name in (".noptrdata", ".data"):
        assert rows.get(name, 0) < 4096, rows


def test_symbols_win_and_stripped_code_is_unchanged():
    full = analyze_binary(build(HTTPJSON))
    stripped = analyze_binary(build(HTTPJSON, flags=("-ldflags=-s -w",)))
    code = {p.name: p.code for p in full.packages if p.code}
    assert code == {p.name: p.code for p in stripped.packages if p.code}
    # with a symbol table, the estimate fills only what symbols and formats leave
    assert 0 < sum(p.data_estimated for p in full.packages) < sum(p.data_estimated for p in stripped.packages)
    assert stripped.coverage > 0.92


def test_corrupt_code_never_raises(tmp_path):
    rng = random.Random(3)
    src = build(HTTPJSON, flags=("-ldflags=-s -w",))
    with open_binary(src) as b:
        text = b.text_section()
        assert text is not None
        start, size = text.offset, text.file_size
    clean = analyze_binary(src)
    for i, fill in enumerate((b"\x48\x8d\x05", b"\x05", None)):
        bad = tmp_path / f"bad{i}"
        shutil.copyfile(src, bad)
        with open(bad, "r+b") as f:
            f.seek(start)
            junk = bytes(rng.randrange(256) for _ in range(size)) if fill is None else (fill * size)[:size]
            f.write(junk)
        report = analyze_binary(bad)  # the sums are checked inside: every byte in one bucket
        assert report.file_size == clean.file_size
        assert all(0 <= p.data_estimated <= p.data for p in report.packages)


def test_arm64_dictionary_load_is_tied_to_the_call_after_it():
    from array import array

    from sizebot.binary.refs_arm64 import first_argument_call

    adrp, add = 0x90000000 | 1 << 29 | 1, 0x91000000 | 0x40 << 10 | 1 << 5 | 1  # ADRP X1, +1 page; ADD X1, X1, #0x40
    mov, bl = 0xAA0003E0, 0x94000000 | 0x10  # MOV X0, X0; BL +0x40
    code = memoryview(array("I", [adrp, add, mov, bl]).tobytes())
    callee = 0x10000 + 12 + 0x40
    assert first_argument_call(code, 0x10000, 0x10000, {callee}.__contains__) == callee
    assert first_argument_call(code, 0x10000, 0x10000, set().__contains__) is None
    load = 0xF9400000 | 1 << 5 | 1  # LDR X1, [X1]: a load, not an address
    code = memoryview(array("I", [adrp, load, mov, bl]).tobytes())
    assert first_argument_call(code, 0x10000, 0x10000, {callee}.__contains__) is None


@pytest.mark.parametrize("goarch", ["amd64", "arm64"])
def test_argument_calls_are_first_argument_call_for_many_pcs(goarch):
    # the array form that _dictionary_owners uses picks, at every pc of a real program (each
    # reference, and every byte of the first 64 KiB of code and of the last 256 bytes and beyond),
    # the callee the one-pc form picks, for shape-like and for every entry
    import numpy as np

    from sizebot.binary import refs_amd64, refs_arm64
    from sizebot.binary.claims import Attribution
    from sizebot.binary.data_by_reference import data_references

    scanner = refs_amd64 if goarch == "amd64" else refs_arm64
    exe = build(HTTPJSON, goarch=goarch)
    with open_binary(exe) as binary:
        refs = data_references(binary, Attribution())
        assert refs is not None
        text = binary.text_section()
        assert text is not None
        code, start, end = binary.section_bytes(text), text.addr, text.addr + text.file_size
        pcs = [*refs[0], *range(start - 8, start + (1 << 16)), *range(end - 256, end + 8)]
        rows, callees = scanner.argument_calls(code, start, np.array(pcs, np.int64))
        for is_entry in ({c for c in callees.tolist() if c % 3}.__contains__, lambda _c: True):
            want = [scanner.first_argument_call(code, start, pc, is_entry) for pc in pcs]
            got: list[int | None] = [None] * len(pcs)
            tried: set[int] = set()
            for row, callee in zip(rows.tolist(), callees.tolist(), strict=True):
                if got[row] is None and row not in tried and is_entry(callee):
                    got[row] = callee
                if goarch == "arm64":  # only the first BL after the pair counts
                    tried.add(row)
            assert sum(w is not None for w in want) > 100
            assert got == want
        del code
