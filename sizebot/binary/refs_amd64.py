"""amd64: the data addresses that RIP-relative operands name (ModRM mod=00 rm=101, a disp32 that
counts from the next instruction: after any immediate that follows the displacement).

No disassembler and no loop per instruction in Python: the code is translated byte by byte into a
small alphabet (``bytes.translate``) in which every ModRM byte of the RIP-relative form is ``M``, and
split at those bytes (both C loops). The one to three bytes before each candidate say, through a
table filled on first sight of each context, whether an opcode that Go's compiler and assembler emit
with a memory operand stands there (MOV, LEA, CMP, the ALU and shift groups, MOVZX/MOVSX, SETcc,
CMOVcc, SSE loads and stores, ...) and how many immediate bytes follow the displacement; the rest is
``map`` over C functions. A candidate that is not an instruction (bytes inside another one's
immediate) gives an address that is rarely inside [lo, hi), which is all that is kept.

The address reported for a reference is that of the instruction's last opcode byte (just before
its ModRM byte): inside the instruction, which is what attributing it to a function needs;
prefixes (REX, 66, F2, F3) are not walked back.
"""

from __future__ import annotations

import operator
import struct
from array import array
from itertools import accumulate, chain, compress, count, repeat

_MODRM_RIP = frozenset(range(0x05, 0x40, 8))  # mod=00 rm=101, any reg field

# one-byte opcodes with a ModRM operand, by the bytes of immediate after it
_ONE_IMM0 = frozenset(
    [x for base in range(0x00, 0x40, 8) for x in range(base, base + 4)]  # ADD OR ADC SBB AND SUB XOR CMP r/m
    + [0x63, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8D, 0xD0, 0xD1, 0xD2, 0xD3, 0xFE, 0xFF]
)
_ONE_IMM1 = frozenset([0x80, 0x83, 0xC0, 0xC1, 0xC6, 0x6B])
_ONE_IMM4 = frozenset([0x81, 0xC7, 0x69])  # imm16 after a 66 prefix
# two-byte opcodes (0F xx; VEX C5 xx xx) with a ModRM operand
_TWO_IMM0 = frozenset(
    list(range(0x10, 0x19)) + list(range(0x28, 0x30)) + list(range(0x40, 0x70)) + list(range(0x74, 0x80))
    + list(range(0x90, 0xA0)) + [0xA3, 0xA5, 0xAB, 0xAD, 0xAE, 0xAF, 0xB0, 0xB1, 0xB3, 0xB6, 0xB7, 0xBB, 0xBC,
                                 0xBD, 0xBE, 0xBF, 0xC0, 0xC1, 0xC7] + list(range(0xD0, 0xFF))
)
_TWO_IMM1 = frozenset([0x70, 0x71, 0x72, 0x73, 0xA4, 0xAC, 0xBA, 0xC2, 0xC4, 0xC6])

# the alphabet: bytes with a role of their own get their own letter, the others one per role pair
_OWN = {0x0F: b"F", 0x38: b"S", 0x3A: b"A", 0x66: b"P", 0xC5: b"V", 0xF6: b"T", 0xF7: b"U"}
_REG_IMM = 9  # F6/F7: the ModRM byte's reg field says whether an immediate follows (TEST) or not


def _role(b: int) -> tuple[int | None, int | None]:
    one = 0 if b in _ONE_IMM0 else 1 if b in _ONE_IMM1 else 4 if b in _ONE_IMM4 else None
    two = 0 if b in _TWO_IMM0 else 1 if b in _TWO_IMM1 else None
    return one, two


_ROLES = sorted({_role(b) for b in range(256)}, key=repr)
_LETTER = {role: bytes([0x61 + i]) for i, role in enumerate(_ROLES)}  # a, b, c, ...
_ROLE_OF = {letter: role for role, letter in _LETTER.items()} | {letter: _role(b) for b, letter in _OWN.items()}
_TABLE = bytes((_OWN.get(b) or (b"M" if b in _MODRM_RIP else _LETTER[_role(b)]))[0] for b in range(256))
_HEAD_TABLE = _TABLE.replace(b"M", b"x")  # a chunk's context bytes: no candidates there


class _Contexts(dict[bytes, int]):
    """Up to three letters before a ModRM byte -> 1 + the bytes of immediate after the displacement,
    0 when no opcode with a memory operand ends there (_REG_IMM: F6/F7). Filled on first sight."""

    def __missing__(self, ctx: bytes) -> int:
        value = self[ctx] = _value(ctx)
        return value


def _value(ctx: bytes) -> int:
    c1, c2, c3 = ctx[-1:], ctx[-2:-1], ctx[-3:-2]
    if not c1 or c1 == b"M" or c1 == b"x":
        return 0
    if c1 in (b"T", b"U"):
        return _REG_IMM
    one, two = _ROLE_OF[c1]
    if c2 == b"F" or c3 == b"V":  # 0F xx, or VEX C5 xx xx (the 0F map)
        return 0 if two is None else two + 1
    if c3 == b"F" and c2 in (b"S", b"A"):  # 0F 38 xx, 0F 3A xx imm8
        return 1 if c2 == b"S" else 2
    if one is None:
        return 0
    return 3 if one == 4 and c2 == b"P" else one + 1


_CONTEXTS = _Contexts()
_DISP = struct.Struct("<i")
_CHUNK = 1 << 20  # bytes of code translated at a time: the split's pieces stay small


def references(code: memoryview, code_addr: int, lo: int, hi: int) -> tuple[array, array]:
    """(addresses of the referencing instructions ascending, targets in [lo, hi)) for amd64 code
    ``code`` at ``code_addr``."""
    pcs, targets = array("Q"), array("Q")
    n = len(code)
    get_ctx, disp, add = _CONTEXTS.__getitem__, _DISP.unpack_from, operator.add
    last = operator.itemgetter(slice(-3, None))
    for start in range(0, n, _CHUNK):
        end = min(n, start + _CHUNK)
        head = min(start, 3)  # the context of a ModRM byte at the chunk's start
        base = start - head
        raw = code[base : min(n, end + 8)].tobytes()
        if len(raw) < end - base + 8:
            raw += bytes(end - base + 8 - len(raw))  # the last displacement may run past the code
        tr = raw[:head].translate(_HEAD_TABLE) + raw[head : end - base].translate(_TABLE)
        pieces = tr.split(b"M")
        pieces.pop()  # after the last ModRM byte
        if not pieces:
            continue
        values = list(map(get_ctx, map(last, pieces)))
        # each ModRM byte's offset in raw: the pieces before it and one byte per earlier ModRM byte
        where = list(compress(map(add, accumulate(map(len, pieces)), count()), values))
        values = list(filter(None, values))
        if _REG_IMM in values:
            _reg_imm(raw, where, values)
        after = memoryview(raw)[1:]
        disps = chain.from_iterable(map(disp, repeat(after), where))
        # target = the next instruction (ModRM + disp32 + immediate) + the displacement
        found = list(map(add, map(add, where, values), disps))
        offset = code_addr + base + 5 - 1  # values are 1 + the immediate's bytes
        inside = list(map(range(lo - offset, hi - offset).__contains__, found))
        targets.extend(map(add, compress(found, inside), repeat(offset)))
        pcs.extend(map(add, compress(where, inside), repeat(code_addr + base - 1)))
    return pcs, targets


def _reg_imm(raw: bytes, where: list[int], values: list[int]) -> None:
    """F6/F7 with a memory operand: TEST (reg 0 or 1) has an immediate of 1 or 4 bytes, the others none."""
    i = values.index(_REG_IMM)
    while True:
        at = where[i]
        test = (raw[at] >> 3) & 7 < 2
        values[i] = 1 + (0 if not test else 1 if raw[at - 1] == 0xF6 else 4)
        try:
            i = values.index(_REG_IMM, i + 1)
        except ValueError:
            return
