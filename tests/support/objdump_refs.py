"""Go's own disassembler as the reference for the data-reference scanners (sizebot/binary/refs_*.py).

``go tool objdump`` decodes every instruction of a binary with symbols (golang.org/x/arch, an
independent decoder); these helpers read its text and return the (instruction address, target)
pairs whose target lies in [lo, hi), the same shape the scanners return, plus the code to scan.
"""

from __future__ import annotations

import bisect
import functools
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sizebot.binary.container import open_binary
from sizebot.binary.references import scanner

# "  file.go:12\t\t0x11000\t\t\tf9400b90\t\tMOVD 16(R28), R16\t\t\t": address, bytes, instruction
_INS = r"^[ \t]+\S+[ \t]+0x([0-9a-f]+)[ \t]+([0-9a-f]+)[ \t]+"
# an ADRP and the instruction after it
_ADRP_PAIR = re.compile(_INS + r"ADRP (-?\d+)\(PC\), (R\d+)[ \t]*\n" + _INS + r"([^\t\n]*)", re.M)
# an instruction (no call or jump) with a symbol operand or a number of 7 or more hex digits
_ABSOLUTE = re.compile(_INS + r"((?!CALL|J)[^\t\n]*(?:\(SB\)|0x[0-9a-f]{7})[^\t\n]*)", re.M)
_ANY = re.compile(_INS + r"([^\t\n]*)", re.M)
_HEX = re.compile(r"0x[0-9a-f]+")
_DATA_TYPES = frozenset("DdBbRr")


@dataclass(frozen=True)
class Listing:
    """A binary's code and data span, objdump's listing of it, and its data symbols."""

    code: memoryview
    code_addr: int
    lo: int
    hi: int
    objdump: str  # go tool objdump's output
    symbols: list[tuple[int, int, str, str]]  # (address, size, type, name), by address

    @functools.cached_property
    def instructions(self) -> list[tuple[int, bytes, str]]:
        """Every instruction objdump decoded: (address, bytes, text)."""
        return [(int(m.group(1), 16), bytes.fromhex(m.group(2)), m.group(3).strip())
                for m in _ANY.finditer(self.objdump)]


def listing(binary: Path, go: str = "go", *, file_backed: bool = True) -> Listing:
    """objdump's instructions of ``binary``, its .text bytes, and [lo, hi): from the first
    allocated non-executable section after .text to the end of the last one that has file bytes
    (.rodata to .data: the bytes data attribution shares out), or to the end of .noptrbss."""
    out = subprocess.run([go, "tool", "objdump", str(binary)], capture_output=True, text=True, check=True).stdout
    nm = subprocess.run([go, "tool", "nm", "-size", "-sort", "address", str(binary)],
                        capture_output=True, text=True, check=True).stdout
    syms = []
    for line in nm.splitlines():
        f = line.split(None, 3)
        if len(f) == 4 and f[2] in _DATA_TYPES:
            syms.append((int(f[0], 16), int(f[1]), f[2], f[3]))
    b = open_binary(binary)
    text = b.text_section()
    assert text is not None
    data = [s for s in b.sections if "alloc" in s.flags and "x" not in s.flags.split(",") and s.addr > text.addr
            and (s.file_size or not file_backed)]
    lo = min(s.addr for s in data)
    hi = max(s.addr + s.mem_size for s in data)
    return Listing(b.section_bytes(text), text.addr, lo, hi, out, syms)


def text_bytes(binary: Path) -> bytes:
    b = open_binary(binary)
    text = b.text_section()
    assert text is not None
    return bytes(b.section_bytes(text))


def arm64_references(lst: Listing) -> set[tuple[int, int]]:
    """(ADRP address, target): objdump's ``ADRP n(PC), Rd`` plus the next instruction's offset on
    Rd (``ADD $k, Rd, Rx`` or a load/store ``k(Rd)``), objdump printing the offset already scaled."""
    out = set()
    for m in _ADRP_PAIR.finditer(lst.objdump):
        pc, delta, reg, nxt = int(m.group(1), 16), int(m.group(3)), m.group(4), m.group(7)
        page = (pc & ~0xFFF) + delta
        add = re.match(rf"ADD \$(\d+), {reg}, R\d+$", nxt)
        mem = re.search(rf"(?:^|[ ,])(-?\d+)?\({reg}\)", nxt)
        if add:
            target = page + int(add.group(1))
        elif mem and not nxt.startswith(("ADD", "LDP", "STP")):
            target = page + int(mem.group(1) or 0)
        else:
            continue
        if lst.lo <= target < lst.hi:
            out.add((pc, target))
    return out


_IP_OPERAND = re.compile(r"(-?0x[0-9a-f]+)\(IP\)")


def amd64_references(lst: Listing) -> set[tuple[int, int]]:
    """(instruction address, target) of every RIP-relative operand objdump decodes: ``disp(IP)``
    (target: the next instruction's address + disp), or a data symbol ``name+off(SB)`` outside
    branches and calls (the instruction's ModRM mod=00 rm=101 byte whose displacement lands inside
    that symbol), or a bare ``0xdisp`` operand of a VEX instruction with such a ModRM byte."""
    addrs = [s[0] for s in lst.symbols]
    out = set()
    for pc, raw, text in lst.instructions:
        nxt = pc + len(raw)
        m = _IP_OPERAND.search(text)
        if m:
            target = nxt + int(m.group(1), 16)
        elif not text.startswith(("CALL", "J")):
            disps = [int.from_bytes(raw[k + 1 : k + 5], "little", signed=True)
                     for k in range(len(raw) - 4) if raw[k] & 0xC7 == 0x05]
            shown = {int(h, 16) for h in _HEX.findall(text)}  # Go 1.27 prints some VEX operands as "0xdisp"
            named = [nxt + d for d in disps if ("(SB)" in text and _symbol_named(lst, addrs, nxt + d, text))
                     or (text.startswith("V") and d in shown and "(" not in text)]
            if not named:
                continue
            target = named[0]
        else:
            continue
        if lst.lo <= target < lst.hi:
            out.add((pc, target))
    return out


def instruction_starts(lst: Listing, pcs) -> list[int]:
    """The start of the objdump instruction holding each address (-1 outside every instruction)."""
    starts = [pc for pc, _raw, _text in lst.instructions]
    out = []
    for pc in pcs:
        i = bisect.bisect_right(starts, pc) - 1
        raw = lst.instructions[i][1] if i >= 0 else b""
        out.append(starts[i] if i >= 0 and pc < starts[i] + len(raw) else -1)
    return out


def i386_references(lst: Listing) -> set[tuple[int, int]]:
    """(instruction address, target): each 32-bit field of an instruction's bytes whose value lies
    in [lo, hi) and that objdump prints as an operand: the hex number itself, or a data symbol
    (``name+off(SB)``) whose extent holds the value. Branches and calls are not data references."""
    addrs = [s[0] for s in lst.symbols]
    out = set()
    for m in _ABSOLUTE.finditer(lst.objdump):
        pc, raw, text = int(m.group(1), 16), bytes.fromhex(m.group(2)), m.group(3).strip()
        shown = {int(h, 16) for h in _HEX.findall(text)}
        for k in range(len(raw) - 3):
            v = int.from_bytes(raw[k : k + 4], "little")
            if not lst.lo <= v < lst.hi:
                continue
            if v in shown or _symbol_named(lst, addrs, v, text):
                out.add((pc, v))
    return out


def _symbol_named(lst: Listing, addrs: list[int], v: int, text: str) -> bool:
    i = bisect.bisect_right(addrs, v)
    for a, size, _, name in lst.symbols[max(i - 8, 0) : i]:
        if a <= v < a + max(size, 1) and (name + "(SB)" in text or name + "+" in text):
            return True
    return False


@dataclass(frozen=True)
class Comparison:
    """A scanner's references against objdump's on one binary."""

    found: set[tuple[int, int]]
    truth: set[tuple[int, int]]

    @property
    def precision(self) -> float:
        return len(self.found & self.truth) / max(len(self.found), 1)

    @property
    def recall(self) -> float:
        return len(self.found & self.truth) / max(len(self.truth), 1)


def compare(binary: Path, goarch: str, go: str = "go") -> Comparison:
    """Run ``goarch``'s scanner over the .text of ``binary`` and objdump's reading of it; the scanner's
    two arrays are checked to be of one length, in ascending instruction order."""
    lst = listing(binary, go)
    scan = scanner(goarch)
    assert scan is not None
    pcs, targets = scan(lst.code, lst.code_addr, lst.lo, lst.hi)
    assert len(pcs) == len(targets)
    assert list(pcs) == sorted(pcs)
    truth = globals()[f"{'i386' if goarch == '386' else goarch}_references"](lst)  # amd64_references, ...
    return Comparison(set(zip(pcs, targets, strict=True)), truth)


def precision_recall(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> tuple[float, float]:
    hit = len(found & truth)
    return hit / max(len(found), 1), hit / max(len(truth), 1)
