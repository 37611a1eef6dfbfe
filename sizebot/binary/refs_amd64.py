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
import re
import struct
from array import array
from collections.abc import Callable
from itertools import accumulate, chain, compress, count, islice, repeat

_MODRM_RIP = frozenset(range(0x05, 0x40, 8))  # mod=00 rm=101, any reg field

# one-byte opcodes with a ModRM operand, by the bytes of immediate after it
# (not those Go's compiler and assembly never use on a global, measured against go tool objdump: a
# byte that merely looks like one would start a false reference: OR/ADC/SBB/XOR stores of a byte,
# TEST, IMUL, the shift groups, INC/DEC/CALL/JMP/PUSH through memory)
_ONE_IMM0 = frozenset(
    [x for base in range(0x00, 0x40, 8) for x in range(base, base + 4)  # ADD OR ADC SBB AND SUB XOR CMP r/m
     if x not in (0x08, 0x10, 0x18, 0x19, 0x30, 0x31)]
    + [0x63, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8D]
)
_ONE_IMM1 = frozenset([0x80, 0x83, 0xC6])
_ONE_IMM4 = frozenset([0x81, 0xC7])  # imm16 after a 66 prefix
# two-byte opcodes (0F xx; VEX C5 xx xx) with a ModRM operand
_TWO_IMM0 = frozenset(
    list(range(0x10, 0x19)) + list(range(0x28, 0x30)) + list(range(0x40, 0x70)) + list(range(0x74, 0x80))
    + list(range(0x90, 0xA0)) + [0xA3, 0xA5, 0xAB, 0xAD, 0xAE, 0xAF, 0xB0, 0xB1, 0xB3, 0xB6, 0xB7, 0xBB, 0xBC,
                                 0xBD, 0xBE, 0xBF, 0xC0, 0xC1, 0xC7] + list(range(0xD0, 0xFF))
)
_TWO_IMM1 = frozenset([0x70, 0x71, 0x72, 0x73, 0xA4, 0xAC, 0xBA, 0xC2, 0xC4, 0xC6])

# the alphabet: bytes with a role of their own get their own letter, the others one per role pair
_OWN = {0x0F: b"F", 0x38: b"S", 0x3A: b"A", 0x66: b"P", 0xC4: b"W", 0xC5: b"V", 0xF6: b"T", 0xF7: b"U"} | {
    rex: b"R" for rex in range(0x40, 0x50)
}
_REG_IMM = 9  # F6/F7: the ModRM byte's reg field says whether an immediate follows (TEST) or not


# ALU forms and MOVSXD count only after a REX or 66 prefix: Go's code uses them on globals with 64-bit
# (or 16-bit) operands, and unprefixed they are the byte pairs that most often only look like one
_PREFIX_ONLY = frozenset(x for x in _ONE_IMM0 if x < 0x40 or x == 0x63)


def _role(b: int) -> tuple[int | None, int | None, bool]:
    one = 0 if b in _ONE_IMM0 else 1 if b in _ONE_IMM1 else 4 if b in _ONE_IMM4 else None
    two = 0 if b in _TWO_IMM0 else 1 if b in _TWO_IMM1 else None
    return one, two, b in _PREFIX_ONLY


_ROLES = sorted({_role(b) for b in range(256)}, key=repr)
_LETTER = {role: bytes([0x61 + i]) for i, role in enumerate(_ROLES)}  # a, b, c, ...
_ROLE_OF = {letter: role for role, letter in _LETTER.items()} | {letter: _role(b) for b, letter in _OWN.items()}
_TABLE = bytes((_OWN.get(b) or (b"M" if b in _MODRM_RIP else _LETTER[_role(b)]))[0] for b in range(256))
_HEAD_TABLE = _TABLE.replace(b"M", b"x")  # a chunk's context bytes: no candidates there


class _Contexts(dict[bytes, int]):
    """Up to four letters before a ModRM byte -> 1 + the bytes of immediate after the displacement,
    0 when no opcode with a memory operand ends there (_REG_IMM: F6/F7). Filled on first sight."""

    def __missing__(self, ctx: bytes) -> int:
        value = self[ctx] = _value(ctx)
        return value


class _Prefixed(dict[bytes, bool]):
    """Context -> whether a REX or operand-size prefix stands before the opcode: such a candidate
    wins over one it overlaps (Go's 64-bit loads, stores and LEAQ carry REX.W)."""

    def __missing__(self, ctx: bytes) -> bool:
        c2, c3 = ctx[-2:-1], ctx[-3:-2]
        value = self[ctx] = c2 in (b"R", b"P") or (c2 == b"F" and c3 in (b"R", b"P"))
        return value


def _value(ctx: bytes) -> int:
    c1, c2, c3, c4 = ctx[-1:], ctx[-2:-1], ctx[-3:-2], ctx[-4:-3]
    if not c1 or c1 == b"M" or c1 == b"x":
        return 0
    if c4 == b"W":  # VEX C4 xx xx op: the 0F38 map of Go's assembly (VPSHUFB, VPBROADCAST, ...)
        return 1
    if c1 in (b"T", b"U"):
        return _REG_IMM
    one, two, prefix_only = _ROLE_OF[c1]
    if c2 == b"F" or c3 == b"V":  # 0F xx, or VEX C5 xx xx (the 0F map)
        return 0 if two is None else two + 1
    if c3 == b"F" and c2 in (b"S", b"A"):  # 0F 38 xx, 0F 3A xx imm8
        return 1 if c2 == b"S" else 2
    if one is None or (prefix_only and c2 not in (b"R", b"P")):
        return 0
    return 3 if one == 4 and c2 == b"P" else one + 1


_CONTEXTS = _Contexts()
_PREFIXED = _Prefixed()
_DISP = struct.Struct("<i")
_CHUNK = 1 << 20  # bytes of code translated at a time: the split's pieces stay small


def references(code: memoryview, code_addr: int, lo: int, hi: int) -> tuple[array, array]:
    """(addresses of the referencing instructions ascending, targets in [lo, hi)) for amd64 code
    ``code`` at ``code_addr``."""
    pcs, targets = array("Q"), array("Q")
    n = len(code)
    get_ctx, disp, add = _CONTEXTS.__getitem__, _DISP.unpack_from, operator.add
    last = operator.itemgetter(slice(-4, None))
    for start in range(0, n, _CHUNK):
        end = min(n, start + _CHUNK)
        head = min(start, 4)  # the context of a ModRM byte at the chunk's start
        base = start - head
        raw = code[base : min(n, end + 8)].tobytes()
        if len(raw) < end - base + 8:
            raw += bytes(end - base + 8 - len(raw))  # the last displacement may run past the code
        tr = raw[:head].translate(_HEAD_TABLE) + raw[head : end - base].translate(_TABLE)
        pieces = tr.split(b"M")
        pieces.pop()  # after the last ModRM byte
        if not pieces:
            continue
        contexts = list(map(last, pieces))
        values = list(map(get_ctx, contexts))
        # each ModRM byte's offset in raw: the pieces before it and one byte per earlier ModRM byte
        where = list(compress(map(add, accumulate(map(len, pieces)), count()), values))
        contexts = list(compress(contexts, values))
        values = list(filter(None, values))
        if _REG_IMM in values:
            _reg_imm(raw, where, values)
        if len(where) > 1:
            where, values = _without_overlaps(where, values, contexts)
        after = memoryview(raw)[1:]
        disps = chain.from_iterable(map(disp, repeat(after), where))
        # target = the next instruction (ModRM + disp32 + immediate) + the displacement
        found = list(map(add, map(add, where, values), disps))
        offset = code_addr + base + 5 - 1  # values are 1 + the immediate's bytes
        inside = list(map(range(lo - offset, hi - offset).__contains__, found))
        found = list(map(add, compress(found, inside), repeat(offset)))
        at = list(map(add, compress(where, inside), repeat(code_addr + base - 1)))
        evex = _evex(raw, head, end - base, code_addr + base, lo, hi)
        if evex:  # AVX-512 (Go 1.27's runtime): merged in address order
            merged = sorted(chain(zip(at, found, strict=True), evex))
            at, found = [pc for pc, _t in merged], [t for _pc, t in merged]
        pcs.extend(at)
        targets.extend(found)
    return pcs, targets


# EVEX (62 P0 P1 P2 opcode ModRM): P0 bits 3-2 zero, P1 bit 2 set; the map in P0 bits 1-0 (3: imm8)
_EVEX = re.compile(rb"\x62([\x00-\xff])([\x00-\xff])[\x00-\xff][\x00-\xff][\x05\x0d\x15\x1d\x25\x2d\x35\x3d]", re.S)


def _evex(raw: bytes, first: int, stop: int, raw_addr: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """(opcode address, target) of the EVEX-encoded instructions whose ModRM byte lies in [first, stop)."""
    out = []
    for m in _EVEX.finditer(raw, max(0, first - 5), stop):
        p0, p1 = m.group(1)[0], m.group(2)[0]
        if p0 & 0x0C or not p1 & 0x04 or not p0 & 3:
            continue
        modrm = m.start() + 5
        target = raw_addr + modrm + 5 + (1 if p0 & 3 == 3 else 0) + _DISP.unpack_from(raw, modrm + 1)[0]
        if lo <= target < hi and modrm + 5 <= len(raw):
            out.append((raw_addr + modrm - 1, target))
    return out


def _without_overlaps(where: list[int], values: list[int], contexts: list[bytes]) -> tuple[list[int], list[int]]:
    """Two candidates whose bytes overlap (the ModRM byte of one inside the displacement or immediate
    of the one before) cannot both be instructions: the prefixed one stays, else the first."""
    ends = map(operator.add, where, map(operator.add, values, repeat(4)))  # values: 1 + the immediate's bytes
    overlaps = list(compress(count(1), map(operator.le, islice(where, 1, None), ends)))
    if not overlaps:
        return where, values
    prefixed = _PREFIXED.__getitem__
    keep = [True] * len(where)
    for i in overlaps:
        j = i - 1
        while j > 0 and not keep[j]:
            j -= 1
        if not keep[j] or where[i] > where[j] + values[j] + 4:
            continue
        if prefixed(contexts[i]) and not prefixed(contexts[j]):
            keep[j] = False
        else:
            keep[i] = False
    return list(compress(where, keep)), list(compress(values, keep))


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


_CALL = 0xE8  # CALL rel32
_CALL_WINDOW = 64  # bytes after the LEAQ in which the call that takes it is looked for


def first_argument_call(code: memoryview, code_addr: int, pc: int, is_entry: Callable[[int], bool]) -> int | None:
    """When the instruction at ``pc`` (as ``references`` reports it) is ``LEAQ sym(IP), reg`` (an
    argument being set up: a shape function takes its dictionary first, or after the receiver), the
    entry of the function that the next call within a few instructions calls, when ``is_entry`` holds
    for it; None otherwise."""
    at = pc - code_addr
    if at < 0 or at + 6 > len(code) or code[at] != 0x8D or code[at + 1] & 0xC7 != 0x05:
        return None
    start = at + 6
    stop = min(len(code) - 4, start + _CALL_WINDOW)  # a CALL is 5 bytes: E8 at stop - 1 is the last
    window = code[start : stop + 4].tobytes()
    i = window.find(_CALL_BYTE)
    while 0 <= i < stop - start:
        callee = code_addr + start + i + 5 + _DISP.unpack_from(window, i + 1)[0]
        if is_entry(callee):
            return callee
        i = window.find(_CALL_BYTE, i + 1)
    return None


_CALL_BYTE = bytes([_CALL])
