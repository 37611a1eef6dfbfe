"""References from arm64 machine code into data: ADRP paired with ADD or a load/store.

Go forms every address of a global on arm64 with two consecutive instructions that the linker
patches as one relocation: ``ADRP Xd, page`` then ``ADD Xd, Xd, #lo12`` (an address: ``MOVD $sym``)
or a load/store ``LDR/STR Xt, [Xd, #lo12]`` in any access size (``MOVD/MOVW/MOVWU/MOVH/MOVHU/
MOVB/MOVBU sym``, ``FMOVS/FMOVD/FMOVQ sym``), whose unsigned 12-bit offset is scaled by that size.
The target is the ADRP's page plus the paired instruction's low bits.

ADRP is recognised by the top byte of its word alone (op=1, bits 28-24 = 10000): the code is read
as an array of words, and the candidates and the word after each are decoded as arrays: no Python
loop runs over the code or the candidates.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable

import numpy as np

# Top byte of an ADRP word: bit 31 = 1 (ADRP, not ADR), bits 30-29 = immlo (any), bits 28-24 = 10000.
_MAX_ADDR = (1 << 64) - 1


def _low_shifts() -> tuple[int, ...]:
    """By the top 10 bits of the instruction after an ADRP: how far its 12-bit immediate is shifted
    to give the address's low bits, or -1 when it is no ADD/load/store of that form."""
    out = [-1] * 1024
    out[0x91 << 2] = 0  # ADD Xd, Xn, #imm12
    out[0x91 << 2 | 1] = 12  # ADD Xd, Xn, #imm12, LSL #12
    for top in range(256):
        if top & 0x3B != 0x39:  # LDR/STR (immediate, unsigned offset): size 111 V 01
            continue
        size, simd = top >> 6, top & 4
        for opc in range(4):
            if simd and opc & 2:  # opc<1> on SIMD&FP: the 128-bit Q form, only with size 00
                out[top << 2 | opc] = 4 if size == 0 else -1
            else:
                out[top << 2 | opc] = size  # integer LDR/STR/LDRS*/PRFM, SIMD&FP B/H/S/D
    return tuple(out)


_LOW_SHIFT = _low_shifts()


_LOW_SHIFTS = np.array(_LOW_SHIFT, np.int64)
_PAGE = np.uint64(_MAX_ADDR ^ 0xFFF)


def references(code: memoryview, code_addr: int, lo: int, hi: int,
               done: Callable[[int], None] | None = None) -> tuple[array, array]:
    """(instruction addresses, target addresses) of the ADRP pairs in ``code`` (loaded at
    ``code_addr``) whose target lies in [lo, hi). The instruction address is the ADRP's; both arrays
    are ``array('Q')`` of equal length, in ascending instruction order. Words that only look like
    ADRP (data in the code, garbage, a truncated last word) give nothing; nothing raises. The code is
    read whole (``done`` is not called)."""
    at, targets = array("Q"), array("Q")
    code = memoryview(code)
    if code.format != "B" or not code.c_contiguous:
        code = memoryview(code.tobytes())
    n = len(code) // 4
    lo = max(lo, 0)
    if n < 2 or lo >= hi or not 0 <= code_addr <= _MAX_ADDR - 4 * n:
        return at, targets
    words = np.frombuffer(code[: 4 * n], "<u4")
    # ADRP: op 1, bits 28-24 10000 (the immediate's low bits 30-29 any); not the last word
    i = np.flatnonzero((words[:-1] & np.uint32(0x9F000000)) == np.uint32(0x90000000))
    a, b = words[i].astype(np.int64), words[i + 1].astype(np.int64)
    del words
    shift = _LOW_SHIFTS[b >> 22]
    # the pair's base register (bits 9-5) is the ADRP's destination (4-0); an ADD or load/store form
    paired = (((b ^ (a << 5)) & 0x3E0) == 0) & (shift >= 0)
    i, a, b, shift = i[paired], a[paired], b[paired], shift[paired]
    imm = ((a >> 29) & 3) | ((a >> 3) & 0x1FFFFC)
    imm -= (imm & 0x100000) << 1  # 21-bit signed page delta
    pc = i.astype(np.uint64) * np.uint64(4) + np.uint64(code_addr)
    delta = (imm << 12) + (((b >> 10) & 0xFFF) << shift)
    # target = the ADRP's page + delta, when that lies in [0, 2**64)
    size = np.abs(delta).astype(np.uint64)
    page = pc & _PAGE
    below = delta < 0
    outside = np.where(below, page < size, page > np.uint64(_MAX_ADDR) - size)
    target = np.where(below, page - np.where(outside, 0, size), page + np.where(outside, 0, size))
    inside = ~outside & (target >= np.uint64(lo))
    if hi <= _MAX_ADDR:
        inside &= target < np.uint64(hi)
    at.frombytes(pc[inside].tobytes())
    targets.frombytes(target[inside].tobytes())
    return at, targets


_CALL_WINDOW = 12  # instructions after the ADRP pair in which the call that takes its address is looked for


def first_argument_call(code: memoryview, code_addr: int, pc: int, is_entry) -> int | None:
    """When the ADRP at ``pc`` (as ``references`` reports it) forms an address with ADD (an argument
    being set up: a shape function takes its dictionary first, or after the receiver), the target of
    the first BL within a few instructions, when ``is_entry`` holds for it; None otherwise."""
    at = pc - code_addr
    if at < 0 or at % 4 or at + 8 > len(code):
        return None
    second = int.from_bytes(code[at + 4 : at + 8], "little")
    if second & 0xFFC00000 != 0x91000000:  # ADD Xd, Xn, #imm12 (no shift)
        return None
    stop = min(len(code), at + 8 + 4 * _CALL_WINDOW)
    for k in range(at + 8, stop - 3, 4):
        word = int.from_bytes(code[k : k + 4], "little")
        if word >> 26 == 0x25:  # BL imm26
            imm = word & 0x3FFFFFF
            callee = code_addr + k + 4 * (imm - (1 << 26) if imm >> 25 else imm)
            return callee if is_entry(callee) else None
    return None


def argument_calls(code: memoryview, code_addr: int, pcs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``first_argument_call``'s candidates for many pcs at once: (index in ``pcs``, callee) of the
    first BL within the window after each ADRP+ADD at a pc, in the order of the pcs; the caller
    takes a callee that is an entry. ``pcs`` are int64 (offsets of the code within 2**62 of 0)."""
    code = memoryview(code)
    if code.format != "B" or not code.c_contiguous:
        code = memoryview(code.tobytes())
    n = len(code) // 4
    words = np.frombuffer(code[: 4 * n], "<u4").astype(np.int64)
    at = pcs - code_addr
    add = (at >= 0) & (at % 4 == 0) & (at + 8 <= len(code))
    first = np.where(add, at // 4, 0)
    add &= (words[np.minimum(first + 1, max(n - 1, 0))] & 0xFFC00000) == 0x91000000 if n else add
    rows = np.flatnonzero(add)
    index = first[rows][:, None] + 2 + np.arange(_CALL_WINDOW)  # the words after the pair
    stop = np.minimum(len(code), at[rows] + 8 + 4 * _CALL_WINDOW)
    inside = 4 * index < (stop - 3)[:, None]
    word = words[np.where(inside, index, 0)]
    bl = inside & ((word >> 26) == 0x25)
    has = bl.any(axis=1)
    k = np.argmax(bl, axis=1)[has]
    rows, index = rows[has], index[has, k]
    imm = words[index] & 0x3FFFFFF
    return rows, code_addr + 4 * index + 4 * (imm - ((imm >> 25) << 26))
