"""References from 386 machine code into data: absolute 32-bit addresses in instructions.

Without PC-relative addressing, Go's 386 code names a global by its absolute address: a memory
operand with no base register (ModRM mod=00 rm=101, ``MOVL sym(SB), AX``, ``LEAL sym(SB), CX``,
``MOVSD $f64.*(SB), X0``), the same with an index register (SIB with no base, ``sym(SB)(BX*8)``),
or an immediate (``MOVL $sym, BP``: B8+r; ``PUSHL $sym``: 68).

x86 code cannot be decoded from an arbitrary byte, so the scan works from the other end: every byte
that can precede an address field (a ModRM or SIB with low bits 101, or B8+r) followed by 4 bytes
whose value lies in [lo, hi) is a candidate, kept only when the bytes before it are the opcode and
ModRM (and SIB) of an instruction that carries a 32-bit absolute address there. All of it is array
operations over the code and the candidates: no Python loop runs over either.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Set

import numpy as np

# The one-byte opcodes Go emits on a global, with the ModRM reg fields (bit masks) valid for each: the ALU
# ops both ways, MOV/LEA, groups 1 (ALU $imm), 11 (MOV $imm: /0), 3 (TEST $imm, NOT, NEG, MUL, DIV: not /1),
# 4/5 (INC, DEC; PUSH), x87 loads and stores (FLDCW). Rarer forms (shifts, IMUL, XCHG, TEST) are left out:
# bytes that only look like them otherwise start false references.
_REG_FIELDS = {
    **{op + k: 0xFF for op in range(0x00, 0x40, 8) for k in range(4)},
    **{op: 0xFF for op in (0x80, 0x81, 0x83, 0x88, 0x89, 0x8A, 0x8B, 0x8D, 0xD9, 0xDD)},
    0xC6: 0x01, 0xC7: 0x01, 0xF6: 0xFD, 0xF7: 0xFD, 0xFE: 0x03, 0xFF: 0x43,
}
_ONE_BYTE = tuple(_REG_FIELDS.get(op, 0) for op in range(256))
# SSE's mandatory prefixes, and the second bytes of the 0F opcodes that take them (MOVSD, PXOR, AESENC...).
_SSE_PREFIXES = frozenset([0x66, 0xF2, 0xF3])
_SSE_OPCODES = frozenset([*range(0x10, 0x18), *range(0x28, 0x30), 0x38, 0x3A, *range(0x50, 0x80), *range(0xC2, 0xC7),
                          *range(0xD0, 0x100)])
# 0F opcodes Go emits on a global: SSE's, and MOVZX/MOVSX
_TWO_BYTE = _SSE_OPCODES | {0xB6, 0xB7, 0xBE, 0xBF}
_MAX_ADDR = (1 << 32) - 1


_ONE_BYTE_FIELDS = np.array(_ONE_BYTE, np.uint8)


def _byte_table(codes: Set[int]) -> np.ndarray:
    """A bool per byte value: whether it is one of ``codes``."""
    table = np.zeros(256, bool)
    table[sorted(codes)] = True
    return table


_IS_TWO_BYTE = _byte_table(_TWO_BYTE)
_IS_SSE_OPCODE = _byte_table(_SSE_OPCODES)
_IS_SSE_PREFIX = _byte_table(_SSE_PREFIXES)
_CHUNK = 1 << 22  # bytes of code whose candidates are decoded together


def references(code: memoryview, code_addr: int, lo: int, hi: int,
               done: Callable[[int], None] | None = None) -> tuple[array, array]:
    """(instruction addresses, target addresses) of the absolute addresses in ``code`` (loaded at
    ``code_addr``) that lie in [lo, hi). The instruction address is where the instruction starts
    (its prefixes included); both arrays are ``array('Q')`` of equal length, in ascending order of
    the address field's position. Garbage and truncated code give fewer results, never an error.
    ``done(n)`` after each chunk: code[:n] is not read again."""
    at, targets = array("Q"), array("Q")
    lo, hi = max(lo, 0), min(hi, _MAX_ADDR + 1)
    data = memoryview(code)
    if data.format != "B" or not data.c_contiguous:
        data = memoryview(data.tobytes())
    n = len(data)
    if n < 5 or lo >= hi or not 0 <= code_addr <= _MAX_ADDR:
        return at, targets
    b = np.frombuffer(data, np.uint8)
    for first in range(0, n - 4, _CHUNK):
        # the byte before each address field: a ModRM or SIB with low bits 101, or B8+r (MOVL $imm32)
        lead = b[first : min(n - 4, first + _CHUNK)]
        q = np.flatnonzero(((lead & 7) == 5) | ((lead & 0xF8) == 0xB8)) + first
        p = q + 1  # the address field
        v = (b[p].astype(np.int64) | b[p + 1].astype(np.int64) << 8 | b[p + 2].astype(np.int64) << 16
             | b[p + 3].astype(np.int64) << 24)
        wanted = (v >= lo) & (v < hi)
        p, v = p[wanted], v[wanted]
        start = _instruction_starts(b, p)
        found = start >= 0
        at.frombytes((start[found].astype(np.uint64) + np.uint64(code_addr)).tobytes())
        targets.frombytes(v[found].astype(np.uint64).tobytes())
        if done is not None:
            done(min(n, first + _CHUNK - 16))  # an instruction starts a few bytes before its address field
    return at, targets


def _instruction_starts(b: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The offset of the instruction whose absolute-address field starts at each of ``p`` in the
    code ``b``, or -1 where the bytes before it are no such instruction."""

    def byte(i: np.ndarray) -> np.ndarray:  # b[i], 0 where i < 0 (every use checks i >= 0 first)
        return b[np.maximum(i, 0)].astype(np.int64)

    x = byte(p - 1)
    x2 = byte(p - 2)
    plain = (x & 0xC7) == 0x05  # ModRM mod=00 rm=101: [disp32]
    sib = ~plain & ((x & 7) == 5) & (p >= 3) & ((x2 & 0xC7) == 0x04)  # SIB with no base, after ModRM rm=100
    imm = ~plain & ~sib & (x >= 0xB8) & (x <= 0xBF)  # MOVL $imm32, reg
    # unless the "address" reads as the start of an (SP)-relative instruction (ModRM rm=100, SIB 0x24),
    # which Go's stack-based 386 code is full of: its disp8 then plays the address's top byte
    imm_ok = ((byte(p + 1) & 7) != 4) | (byte(p + 2) != 0x24)
    op = np.where(plain, p - 2, p - 3)
    modrm = np.where(plain, x, x2)
    memory = (plain | sib) & (op >= 0)
    opcode = byte(op)
    one_byte = ((_ONE_BYTE_FIELDS[opcode] >> ((modrm >> 3) & 7)) & 1).astype(bool)
    before, before2, before3 = byte(op - 1), byte(op - 2), byte(op - 3)
    # two-byte opcode 0F xx (where xx is also a one-byte opcode: only after SSE's prefix)
    two = (op >= 1) & (before == 0x0F) & _IS_TWO_BYTE[opcode] & (~one_byte | ((op >= 2) & _IS_SSE_PREFIX[before2]))
    three = ~two & (op >= 2) & (before2 == 0x0F) & ((before == 0x38) | (before == 0x3A))  # 0F 38/3A xx
    # A prefix before a one-byte opcode cannot be told from the last byte of the previous instruction.
    one = ~two & ~three & one_byte
    # SSE's mandatory prefix before a two-byte opcode
    sse = two & (op >= 2) & _IS_SSE_PREFIX[before2] & _IS_SSE_OPCODE[opcode]
    start = np.full(len(p), -1, np.int64)
    start = np.where(memory & two, np.where(sse, op - 2, op - 1), start)
    start = np.where(memory & three, np.where((op >= 3) & (before3 == 0x66), op - 3, op - 2), start)
    start = np.where(memory & one, op, start)
    return np.where(imm, np.where(imm_ok, p - 1, -1), start)
