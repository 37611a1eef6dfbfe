"""The analysis's ledger: byte claims in compact arrays, the packages and named rows they point at
(``Attribution``), and the package a Go symbol name belongs to.

A claim is a file range with a priority and a (package or row, kind); ``attribute`` resolves them so
that each byte goes to the first claim that covers it.
"""

from __future__ import annotations

import re
import sys
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import lshift, or_

CODE, META, DATA, ROW, DEBUG = 0, 1, 2, 3, 4  # ROW: a named unattributed row ("go:func.* (padding)")
ESTIMATED = 5  # data attributed by the code's references to it (no symbol, no format says its extent)
TYPES_PRIO, SYMBOL_PRIO = 2, 3


# Prefixes of linker-made symbol names whose remainder names a type or a function.
_STRIP_PREFIXES = ("type:.eq.", "type:.hash.", "type:.namedata.", "type:.importpath.", "type:",
                   "go:itab.", "go:info.", "type..eq.", "type..hash.", "type..namedata.", "type.", "go.itab.")
# Container/marker symbols: they span many objects, never one package's.
MARKERS = re.compile(
    r"^(go[:.](string|func|funcdesc|buildinfo|fipsinfo|shape|cuinfo|constinfo)\b"
    r"|runtime\.(e?(text|types|rodata|noptrdata|data|bss|noptrbss|pclntab|itablink|typelink|covctrs|gcdata|gcbss|end"
    r"|symtab|esymtab|go\.buildinfo)|gcbits\.|firstmoduledata|pcheader|funcnametab|cutab|filetab|pctab|functab"
    r"|findfunctab)$|type:\*$|.*\.\*$)"
)


_INNERMOST_BRACKETS = re.compile(r"\[[^\[\]]*\]")


# _ONLY[j]: the bytes.translate table that maps byte j to 1 and every other byte to 0
_ONLY = tuple(bytes(256)[:j] + b"\1" + bytes(255 - j) for j in range(256))


class Claims:
    """Byte ranges claimed for (package, kind), in two compact arrays (a Python int or tuple per
    claim would cost three times the memory on large binaries): ``keys`` holds start << 2 | priority,
    ``vals`` end << 23 | package index << 3 | kind. ``key << 63 | val`` packs one claim into an int
    whose order is by start, then priority (layout, low bits first: kind 3, package index 20, end
    40, priority 2, start)."""

    _END_MASK = (1 << 40) - 1

    def __init__(self) -> None:
        self.keys = array("Q")
        self.vals = array("Q")  # hot loops append to both directly (only non-empty ranges)

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, start: int, end: int, prio: int, pid: int, kind: int) -> None:
        if end > start:
            self.keys.append(start << 2 | prio)
            self.vals.append(end << 23 | pid << 3 | kind)

    def sorted_items(self) -> list[int]:
        """The packed claims by start, then priority (a new list)."""
        items = list(map(or_, map(lshift, self.keys, repeat(63)), self.vals))
        items.sort()
        return items

    def packed_between(self, first: int, last: int) -> list[int]:
        """The packed claims that start in [first, last), unsorted."""
        inside = list(map(range(first << 2, last << 2).__contains__, self.keys))
        return list(map(or_, map(lshift, compress(self.keys, inside), repeat(63)), compress(self.vals, inside)))

    def drain_sorted_parts(self, parts: int = 8) -> Iterator[list[int]]:
        """The packed claims by start, then priority, as consecutive sorted lists; the ledger is
        empty afterwards. The parts split the range of keys at sampled quantiles; one byte per claim
        says its part (computed once), so a part is gathered by index at C speed, and only one part
        is ever a list of Python ints (no second copy of the ledger)."""
        keys, vals = self.keys, self.vals
        sample = sorted(keys[:: max(1, len(keys) // (64 * parts))])
        bounds = sorted({sample[len(sample) * j // parts] for j in range(1, parts)} if sample else set())
        which = bytes(map(bisect_right, repeat(bounds), keys))
        everyone = range(len(which))
        for j in range(len(bounds) + 1):
            members = array("I", compress(everyone, which.translate(_ONLY[j])))  # where which == j
            items = list(map(or_, map(lshift, map(keys.__getitem__, members), repeat(63)),
                             map(vals.__getitem__, members)))
            del members
            items.sort()
            yield items
        del keys[:], vals[:]


def go_package(name: str) -> str | None:
    """The Go package path of a symbol or function name; None when it names no Go package
    (C symbols, linker containers, float constants).

    Generic arguments "[...]" are dropped first; the path runs up to the first "." after the last "/"
    (the linker escapes dots in the last path element as %2e); "type:*T", "go:itab.*T,I" name T's package.
    """
    if not name or name[0] in "$_" or name.startswith(("go:string", "go:func", "go:funcdesc")):
        return None
    if name.startswith(_STRIP_PREFIXES):  # rare: skip the loop for plain function names
        for p in _STRIP_PREFIXES:
            if name.startswith(p) and len(name) > len(p):
                name = name[len(p) :]
                break
    if "[" in name:
        name = _strip_brackets(name)
    name = name.lstrip("*")
    if name.startswith("go:itab."):
        name = name[8:].lstrip("*")
    name = name.split(",", 1)[0]
    if name.startswith("go:"):  # go:main.inittasks, go:runtime.*: the package after the prefix
        name = name[3:]
    if name.startswith(("struct ", "func(", "map[", "chan ", "interface ", "[]", "noalg.")):
        return None
    slash = name.rfind("/")
    dot = name.find(".", slash + 1)
    if dot <= 0:
        return None
    pkg = name[:dot]
    if "%" in pkg:
        pkg = re.sub(r"%([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), pkg)
    if not pkg or pkg[0] in "(*[" or " " in pkg or "(" in pkg:  # "runtime/cgo(.bss)": a cgo object's section
        return None
    return sys.intern(pkg)  # one string per package, however many names map to it


def symbol_table_package(name: str, known: dict[str, str | None] | None = None) -> str | None:
    """The package whose meta a symbol-table entry named ``name`` (and its name string) is: its
    go_package() (looked up in ``known`` first), but None for linker containers ("go:buildinfo.ref")."""
    pkg = known[name] if known is not None and name in known else go_package(name)
    if pkg is None or (name.startswith("go") and MARKERS.match(name)):
        return None
    return pkg


def _strip_brackets(name: str) -> str:
    """``name`` without what brackets enclose, brackets included: innermost pairs removed by a
    pattern until none is left, then a stray "]" dropped and everything from a "[" never closed."""
    while True:
        stripped = _INNERMOST_BRACKETS.sub("", name)
        if stripped == name:
            break
        name = stripped
    return name.partition("[")[0].replace("]", "")


@dataclass(slots=True)
class Attribution:
    """What the analysis of one binary accumulates: byte claims, the packages and named rows they
    point at, per-function sizes and notes. ``regions`` name the unclaimed bytes inside a table
    ("pclntab: file table"): whatever no claim covers there goes to that row, not to the section's."""

    claims: Claims = field(default_factory=Claims)
    pkg_names: list[str] = field(default_factory=list)
    pkg_index: dict[str, int] = field(default_factory=dict)
    row_names: list[str] = field(default_factory=list)
    row_index: dict[str, int] = field(default_factory=dict)
    regions: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, row) file offsets
    functions: list[tuple[str, int, int, int]] = field(default_factory=list)  # (name, package index, code, meta)
    embeds: list[tuple[str, str, int, str]] = field(default_factory=list)  # (package, name, bytes, kind)
    notes: list[str] = field(default_factory=list)
    # (instruction addresses, data addresses) of the code's references into data sections, scanned
    # once (data_references); None before the scan or without a scanner for the GOARCH
    references: tuple[array, array] | None = None

    def pkg_id(self, name: str) -> int:
        i = self.pkg_index.get(name)
        if i is None:
            i = self.pkg_index[name] = len(self.pkg_names)
            self.pkg_names.append(name)
        return i

    def row(self, start: int, end: int, name: str) -> None:
        """Claim [start, end) for the named unattributed row ``name``."""
        i = self.row_index.get(name)
        if i is None:
            i = self.row_index[name] = len(self.row_names)
            self.row_names.append(name)
        self.claims.add(start, end, 3, i, ROW)

    def region(self, start: int, end: int, name: str) -> None:
        if end > start:
            self.regions.append((start, end, name))
