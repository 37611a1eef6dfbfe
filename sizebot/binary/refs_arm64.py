"""References from arm64 machine code into data: ADRP paired with ADD or a load/store.

Go forms every address of a global on arm64 with two consecutive instructions that the linker
patches as one relocation: ``ADRP Xd, page`` then ``ADD Xd, Xd, #lo12`` (an address: ``MOVD $sym``)
or a load/store ``LDR/STR Xt, [Xd, #lo12]`` in any access size (``MOVD/MOVW/MOVWU/MOVH/MOVHU/
MOVB/MOVBU sym``, ``FMOVS/FMOVD/FMOVQ sym``), whose unsigned 12-bit offset is scaled by that size.
The target is the ADRP's page plus the paired instruction's low bits.

ADRP is recognised by the top byte of its word alone (op=1, bits 28-24 = 10000), so the scan looks
at every fourth byte with one regular-expression pass and decodes only the candidates and the word
after each: no Python loop runs over all of the code.
"""

from __future__ import annotations

import re
import sys
from array import array

# Top byte of an ADRP word: bit 31 = 1 (ADRP, not ADR), bits 30-29 = immlo (any), bits 28-24 = 10000.
_ADRP_TOP = re.compile(rb"[\x90\xb0\xd0\xf0]")
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


def references(code: memoryview, code_addr: int, lo: int, hi: int) -> tuple[array, array]:
    """(instruction addresses, target addresses) of the ADRP pairs in ``code`` (loaded at
    ``code_addr``) whose target lies in [lo, hi). The instruction address is the ADRP's; both arrays
    are ``array('Q')`` of equal length, in ascending instruction order. Words that only look like
    ADRP (data in the code, garbage, a truncated last word) give nothing; nothing raises."""
    at, targets = array("Q"), array("Q")
    code = memoryview(code)
    if code.format != "B" or not code.c_contiguous:
        code = memoryview(code.tobytes())
    n = len(code) // 4
    lo = max(lo, 0)
    if n < 2 or lo >= hi or not 0 <= code_addr <= _MAX_ADDR - 4 * n:
        return at, targets
    hi = min(hi, _MAX_ADDR + 1)
    words = _words(code, n)
    tops = code[3 : 4 * n : 4].tobytes()
    add_at, add_target = at.append, targets.append
    shifts = _LOW_SHIFT
    for m in _ADRP_TOP.finditer(tops, 0, n - 1):
        i = m.start()
        a = words[i]
        b = words[i + 1]
        if (b ^ (a << 5)) & 0x3E0:  # the pair's base register (bits 9-5) is the ADRP's destination (4-0)
            continue
        shift = shifts[b >> 22]
        if shift < 0:
            continue
        imm = ((a >> 29) & 3) | ((a >> 3) & 0x1FFFFC)
        pc = code_addr + 4 * i
        if imm & 0x100000:  # 21-bit signed page delta
            imm -= 0x200000
        target = (pc & ~0xFFF) + (imm << 12) + (((b >> 10) & 0xFFF) << shift)
        if lo <= target < hi:
            add_at(pc)
            add_target(target)
    return at, targets


def _words(code: memoryview, n: int):
    """The first ``n`` little-endian 32-bit words of ``code``, without a copy where the host allows."""
    if sys.byteorder == "little":
        return code[: 4 * n].cast("I")
    words = array("I", code[: 4 * n].tobytes())
    if sys.byteorder == "big":
        words.byteswap()
    return words


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
