"""amd64: the data addresses that RIP-relative operands name (ModRM mod=00 rm=101, a disp32 that
counts from the next instruction: after any immediate that follows the displacement).

No disassembler and no loop per instruction in Python: the code is translated byte by byte into a
small alphabet (a table lookup over the whole chunk as an array) in which every ModRM byte of the
RIP-relative form is ``M``. The up to four letters before each candidate, back to the ``M`` before
it, say, through a table filled on first sight of each context, whether an opcode that Go's compiler
and assembler emit with a memory operand stands there (MOV, LEA, CMP, the ALU and shift groups,
MOVZX/MOVSX, SETcc, CMOVcc, SSE loads and stores, ...) and how many immediate bytes follow the
displacement; the rest is array operations over the candidates. A candidate that is not an
instruction (bytes inside another one's immediate) gives an address that is rarely inside [lo, hi),
which is all that is kept.

The address reported for a reference is that of the instruction's last opcode byte (just before
its ModRM byte): inside the instruction, which is what attributing it to a function needs;
prefixes (REX, 66, F2, F3) are not walked back.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Callable

import numpy as np

from sizebot.binary.distinct import distinct

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
_DISP = struct.Struct("<i")
_CHUNK = 1 << 20  # bytes of code read at a time: the arrays of a chunk stay small

# each byte's letter as a 5-bit code (0: no letter, before the context's start), in code and in a
# chunk's context bytes; a context is the codes of its last four letters, the last lowest
_LETTERS = sorted(set(_TABLE) | set(_HEAD_TABLE))
_CODE_OF = {letter: i + 1 for i, letter in enumerate(_LETTERS)}
_CODES = np.array([_CODE_OF[c] for c in _TABLE], np.uint32)
_HEAD_CODES = np.array([_CODE_OF[c] for c in _HEAD_TABLE], np.uint32)
_RIP_MASK, _RIP = np.uint8(0xC7), np.uint8(0x05)  # the ModRM bytes of the RIP-relative form
_VALUES = np.full(1 << 20, -1, np.int8)  # context key -> its _CONTEXTS value (-1: not seen yet)


def _context(key: int) -> bytes:
    """The letters of a context key."""
    return bytes(_LETTERS[(key >> s & 31) - 1] for s in (15, 10, 5, 0) if key >> s & 31)


def references(code: memoryview, code_addr: int, lo: int, hi: int,
               done: Callable[[int], None] | None = None) -> tuple[array, array]:
    """(addresses of the referencing instructions ascending, targets in [lo, hi)) for amd64 code
    ``code`` at ``code_addr``; ``done(n)`` after each chunk: code[:n] is not read again."""
    found_pcs: list[np.ndarray] = []
    found_targets: list[np.ndarray] = []
    n = len(code)
    for start in range(0, n, _CHUNK):
        end = min(n, start + _CHUNK)
        head = min(start, 4)  # the context of a ModRM byte at the chunk's start
        base = start - head
        raw = code[base : min(n, end + 8)].tobytes()
        if len(raw) < end - base + 8:
            raw += bytes(end - base + 8 - len(raw))  # the last displacement may run past the code
        chunk = _chunk_references(raw, head, end - base, code_addr + base, lo, hi)
        if chunk is not None:
            found_pcs.append(chunk[0])
            found_targets.append(chunk[1])
        if done is not None:
            done(end - 4)  # the next chunk's context starts 4 bytes before it
    pcs, targets = array("Q"), array("Q")
    if found_pcs:
        pcs.frombytes(np.concatenate(found_pcs).tobytes())
        targets.frombytes(np.concatenate(found_targets).tobytes())
    return pcs, targets


def _chunk_references(
    raw: bytes, head: int, stop: int, raw_addr: int, lo: int, hi: int,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(opcode addresses, targets in [lo, hi)) as uint64 arrays of the candidates whose ModRM byte
    lies in raw[head:stop] (``raw``: the code at ``raw_addr``, 8 bytes past ``stop`` for the last
    displacement; the ``head`` bytes before are context only)."""
    b = np.frombuffer(raw, np.uint8)
    # the ModRM bytes; each one's context reaches back at most 4 letters, not past the ModRM byte before
    where = np.flatnonzero((b[head:stop] & _RIP_MASK) == _RIP) + head
    if not len(where):
        return None
    reach = np.diff(where, prepend=-1) - 1  # letters between it and the ModRM byte before
    keys = np.zeros(len(where), np.uint32)
    for k in range(1, 5):
        at = np.maximum(where - k, 0)
        letter = np.where(at < head, _HEAD_CODES[b[at]], _CODES[b[at]])
        keys |= np.where(reach >= k, letter, 0).astype(np.uint32) << np.uint32(5 * (k - 1))
    values = _VALUES[keys].astype(np.int64)
    unknown = values < 0
    if unknown.any():  # contexts not seen before: their values, once each
        for key in distinct(keys[unknown]).tolist():
            _VALUES[key] = _CONTEXTS[_context(key)]
        values = _VALUES[keys].astype(np.int64)
    chosen = values != 0
    where, values, keys = where[chosen], values[chosen], keys[chosen]
    reg_imm = values == _REG_IMM
    if reg_imm.any():  # F6/F7: TEST (reg 0 or 1) has an immediate of 1 or 4 bytes, the others none
        at = where[reg_imm]
        test = (b[at] >> 3) & 7 < 2
        values[reg_imm] = 1 + np.where(test, np.where(b[at - 1] == 0xF6, 1, 4), 0)
    if len(where) > 1:
        where, values = _without_overlaps(where, values, keys)
    # target = the next instruction (ModRM + disp32 + immediate) + the displacement
    disp = (b[where + 1].astype(np.int64) | b[where + 2].astype(np.int64) << 8 | b[where + 3].astype(np.int64) << 16
            | b[where + 4].astype(np.int64) << 24)
    found = where + values + disp - ((disp & 0x80000000) << 1)
    offset = raw_addr + 5 - 1  # values are 1 + the immediate's bytes
    first, last = max(lo - offset, -(1 << 62)), min(hi - offset, 1 << 62)
    inside = (found >= first) & (found < last)
    targets = (found[inside] - first).astype(np.uint64) + np.uint64(offset + first)
    pcs = (where[inside] - 1).astype(np.uint64) + np.uint64(raw_addr)
    evex = _evex(b, head, stop, raw_addr, lo, hi)
    if evex:  # AVX-512 (Go 1.27's runtime): merged in address order
        pcs = np.concatenate([pcs, np.array([pc for pc, _t in evex], np.uint64)])
        targets = np.concatenate([targets, np.array([t for _pc, t in evex], np.uint64)])
        order = np.lexsort((targets, pcs))
        pcs, targets = pcs[order], targets[order]
    return pcs, targets


# EVEX (62 P0 P1 P2 opcode ModRM): P0 bits 3-2 zero, P1 bit 2 set; the map in P0 bits 1-0 (3: imm8)
_EVEX = np.uint8(0x62)


def _evex(b: np.ndarray, first: int, stop: int, raw_addr: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """(opcode address, target) of the EVEX-encoded instructions whose ModRM byte lies in [first, stop):
    the 6-byte runs 62 P0 P1 P2 opcode ModRM of the RIP-relative form, found left to right, none
    inside the one before."""
    begin = max(0, first - 5)
    if stop - 6 < begin:
        return []
    starts = np.flatnonzero((b[begin : stop - 5] == _EVEX) & ((b[begin + 5 : stop] & _RIP_MASK) == _RIP)) + begin
    out = []
    after = -1
    for at in starts.tolist():
        if at < after:  # inside the run found before
            continue
        after = at + 6
        p0, p1 = int(b[at + 1]), int(b[at + 2])
        if p0 & 0x0C or not p1 & 0x04 or not p0 & 3:
            continue
        modrm = at + 5
        disp = int(b[modrm + 1]) | int(b[modrm + 2]) << 8 | int(b[modrm + 3]) << 16 | int(b[modrm + 4]) << 24
        target = raw_addr + modrm + 5 + (1 if p0 & 3 == 3 else 0) + disp - ((disp & 0x80000000) << 1)
        if lo <= target < hi and modrm + 5 <= len(b):
            out.append((raw_addr + modrm - 1, target))
    return out


_PREFIX_CODES = (_CODE_OF[ord("R")], _CODE_OF[ord("P")])
_ESCAPE_CODE = _CODE_OF[ord("F")]


def _prefixed(key: int) -> bool:
    """Whether a REX or operand-size prefix stands before the opcode of the context ``key``."""
    c2, c3 = key >> 5 & 31, key >> 10 & 31
    return c2 in _PREFIX_CODES or (c2 == _ESCAPE_CODE and c3 in _PREFIX_CODES)


def _without_overlaps(where: np.ndarray, values: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two candidates whose bytes overlap (the ModRM byte of one inside the displacement or immediate
    of the one before) cannot both be instructions: the one with a REX or operand-size prefix before
    its opcode stays (Go's 64-bit loads, stores and LEAQ carry REX.W), else the first. Overlaps are
    rare (one candidate in 200): they are settled one by one, in order."""
    ends = where + values + 4  # values: 1 + the immediate's bytes
    overlaps = np.flatnonzero(where[1:] <= ends[:-1]) + 1
    if not len(overlaps):
        return where, values
    dropped: set[int] = set()
    for i in overlaps.tolist():
        j = i - 1
        while j > 0 and j in dropped:
            j -= 1
        if j in dropped or where[i] > ends[j]:
            continue
        if _prefixed(int(keys[i])) and not _prefixed(int(keys[j])):
            dropped.add(j)
        else:
            dropped.add(i)
    kept = np.ones(len(where), bool)
    kept[list(dropped)] = False
    return where[kept], values[kept]


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


def argument_calls(code: memoryview, code_addr: int, pcs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``first_argument_call``'s candidates for many pcs at once: (index in ``pcs``, callee) of every
    CALL rel32 within the window after each ``LEAQ sym(IP), reg`` at a pc, in the order of the pcs
    and, per pc, of the calls; the caller takes each pc's first callee that is an entry.
    ``pcs`` are int64 (offsets of the code within 2**62 of 0)."""
    b = np.frombuffer(code, np.uint8)
    n = len(b)
    at = pcs - code_addr
    leaq = (at >= 0) & (at + 6 <= n)
    first = np.where(leaq, at, 0)
    leaq &= (b[first] == 0x8D) & ((b[np.minimum(first + 1, max(n - 1, 0))] & 0xC7) == 0x05) if n else leaq
    rows = np.flatnonzero(leaq)
    start = at[rows] + 6
    stop = np.minimum(n - 4, start + _CALL_WINDOW)  # a CALL is 5 bytes: E8 at stop - 1 is the last
    pos = start[:, None] + np.arange(_CALL_WINDOW)
    inside = pos < stop[:, None]
    pos = np.where(inside, pos, 0)
    row, k = np.nonzero(inside & (b[pos] == _CALL))
    where = pos[row, k]
    disp = (b[where + 1].astype(np.int64) | b[where + 2].astype(np.int64) << 8 | b[where + 3].astype(np.int64) << 16
            | b[where + 4].astype(np.int64) << 24)
    return rows[row], code_addr + where + 5 + disp - ((disp & 0x80000000) << 1)
