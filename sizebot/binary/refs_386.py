"""References from 386 machine code into data: absolute 32-bit addresses in instructions.

Without PC-relative addressing, Go's 386 code names a global by its absolute address: a memory
operand with no base register (ModRM mod=00 rm=101, ``MOVL sym(SB), AX``, ``LEAL sym(SB), CX``,
``MOVSD $f64.*(SB), X0``), the same with an index register (SIB with no base, ``sym(SB)(BX*8)``),
or an immediate (``MOVL $sym, BP``: B8+r; ``PUSHL $sym``: 68).

x86 code cannot be decoded from an arbitrary byte, so the scan works from the other end: one
regular-expression pass finds every 4-byte window whose value can lie in [lo, hi) (its two top bytes),
and each candidate is kept only when the bytes before it are the opcode and ModRM (and SIB) of an
instruction that carries a 32-bit absolute address there. No Python loop runs over all of the code.
"""

from __future__ import annotations

import re
from array import array

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
# The byte before an address field: a ModRM or SIB with low bits 101, or the opcode B8+r / 68.
_LEAD = b"[" + b"".join(b"\\x%02x" % b for b in range(5, 256, 8)) + rb"\xb8-\xbf]"


def references(code: memoryview, code_addr: int, lo: int, hi: int) -> tuple[array, array]:
    """(instruction addresses, target addresses) of the absolute addresses in ``code`` (loaded at
    ``code_addr``) that lie in [lo, hi). The instruction address is where the instruction starts
    (its prefixes included); both arrays are ``array('Q')`` of equal length, in ascending order of
    the address field's position. Garbage and truncated code give fewer results, never an error."""
    at, targets = array("Q"), array("Q")
    lo, hi = max(lo, 0), min(hi, _MAX_ADDR + 1)
    data = memoryview(code)
    if data.format != "B" or not data.c_contiguous:
        data = memoryview(data.tobytes())
    n = len(data)
    if n < 5 or lo >= hi or not 0 <= code_addr <= _MAX_ADDR:
        return at, targets
    add_at, add_target = at.append, targets.append
    for m in _candidates(lo, hi).finditer(data):
        p = m.start() + 1
        v = data[p] | data[p + 1] << 8 | data[p + 2] << 16 | data[p + 3] << 24
        if not lo <= v < hi:
            continue
        start = _instruction_start(data, p)
        if start >= 0:
            add_at(code_addr + start)
            add_target(v)
    return at, targets


def _instruction_start(data: memoryview, p: int) -> int:
    """Offset of the instruction whose absolute-address field starts at ``p``, or -1 when the bytes
    before ``p`` are no such instruction."""
    x = data[p - 1]
    if x & 0xC7 == 0x05:  # ModRM mod=00 rm=101: [disp32]
        op, modrm = p - 2, x
    elif x & 7 == 5 and p >= 3 and data[p - 2] & 0xC7 == 0x04:  # SIB with no base, after ModRM mod=00 rm=100
        op, modrm = p - 3, data[p - 2]
    elif 0xB8 <= x <= 0xBF:  # MOVL $imm32, reg
        # unless the "address" reads as the start of an (SP)-relative instruction (ModRM rm=100, SIB 0x24),
        # which Go's stack-based 386 code is full of: its disp8 then plays the address's top byte
        return p - 1 if data[p + 1] & 7 != 4 or data[p + 2] != 0x24 else -1
    else:
        return -1
    if op < 0:
        return -1
    opcode = data[op]
    one_byte = _ONE_BYTE[opcode] >> (modrm >> 3 & 7) & 1
    if op >= 1 and data[op - 1] == 0x0F and opcode in _TWO_BYTE and (
            not one_byte or op >= 2 and data[op - 2] in _SSE_PREFIXES):
        op -= 1  # two-byte opcode 0F xx (where xx is also a one-byte opcode: only after SSE's prefix)
    elif op >= 2 and data[op - 2] == 0x0F and data[op - 1] in (0x38, 0x3A):  # three-byte 0F 38/3A xx
        return op - 3 if op >= 3 and data[op - 3] == 0x66 else op - 2
    elif one_byte:
        # A prefix before a one-byte opcode cannot be told from the last byte of the previous instruction.
        return op
    else:
        return -1
    if op >= 1 and data[op - 1] in _SSE_PREFIXES and opcode in _SSE_OPCODES:  # SSE's mandatory prefix
        op -= 1
    return op


_PATTERNS: dict[tuple[int, int], re.Pattern[bytes]] = {}


def _candidates(lo: int, hi: int) -> re.Pattern[bytes]:
    """A pattern matching every byte that can end an opcode's ModRM/SIB (low bits 101) or be B8+r,
    followed by 4 bytes whose little-endian value has its top 16 bits in those of [lo, hi). The
    match is that one byte, the rest a lookahead, so overlapping windows are all found."""
    key = (lo >> 16, (hi - 1) >> 16)
    pat = _PATTERNS.get(key)
    if pat is None:
        first, last = key
        alts = []
        for b3 in range(first >> 8, (last >> 8) + 1):
            b2_lo = first & 0xFF if b3 == first >> 8 else 0
            b2_hi = last & 0xFF if b3 == last >> 8 else 0xFF
            alts.append(b"[" + _byte(b2_lo) + b"-" + _byte(b2_hi) + b"]" + _byte(b3))
        pat = re.compile(rb"(?s)" + _LEAD + rb"(?=..(?:" + b"|".join(alts) + rb"))")
        if len(_PATTERNS) < 64:
            _PATTERNS[key] = pat
    return pat


def _byte(b: int) -> bytes:
    return b"\\x%02x" % b
