"""The analysis's ledger: byte claims in compact arrays, the packages and named rows they point at
(``Attribution``), and the package a Go symbol name belongs to.

A claim is a file range with a priority and a (package or row, kind); ``attribute`` resolves them so
that each byte goes to the first claim that covers it.
"""

from __future__ import annotations

import re
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import lshift, or_

import numpy as np

from sizebot.binary.distinct import distinct

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


# First characters and prefixes after which go_package() has more to do than find the "." after
# the last "/": names that are no package's, prefixes to strip, types spelled out
_SPECIAL_PREFIXES = ("$", "_", "*", "(", "[", "type", "go:", "go.", "struct ", "func(", "map[", "chan ", "interface ",
                     "noalg.")
_INNERMOST_BRACKETS = re.compile(r"\[[^\[\]]*\]")


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

    def extend(self, starts: np.ndarray, ends: np.ndarray, prio: int, owners: np.ndarray) -> None:
        """``add`` for whole arrays: ``owners`` are package (or row) index << 3 | kind; empty ranges
        are dropped."""
        keep = ends > starts
        starts, ends, owners = starts[keep].astype(np.uint64), ends[keep].astype(np.uint64), owners[keep]
        self.keys.frombytes(((starts << 2) | prio).tobytes())
        self.vals.frombytes(((ends << 23) | owners.astype(np.uint64)).tobytes())

    def resolve(self, sec_starts: Sequence[int], sec_ends: Sequence[int], points: Sequence[int],
                classes: int, parts: int = 8) -> tuple[list[int], list[int]]:
        """Each byte to the first claim that covers it (claims by start, then priority, then the
        packed end, package and kind), as arrays at C speed; the ledger is empty afterwards.
        Returns, per class (package or row index << 3 | kind, ``classes`` of them), the bytes it wins
        inside the sections [sec_starts[i], sec_ends[i]) (sorted, disjoint), and for each of
        ``points`` how many claimed bytes (in a section or not) lie below it. The claims are taken
        in parts of consecutive keys (split at sampled quantiles), so only one part is ever sorted
        beside the ledger."""
        totals = np.zeros(classes, np.int64)
        covered = np.zeros(len(points), np.int64)
        n = len(self.keys)
        if n:
            ss, se = np.array(sec_starts, np.int64), np.array(sec_ends, np.int64)
            below = np.concatenate(([0], np.cumsum(se - ss)))[:-1]  # section bytes before each section

            def in_sections(x: np.ndarray) -> np.ndarray:  # section bytes below each of x
                i = np.searchsorted(ss, x, "right") - 1
                j = np.maximum(i, 0)
                return np.where(i >= 0, below[j] + np.minimum(x, se[j]) - ss[j], 0) if len(ss) else np.zeros_like(x)

            at = np.array(points, np.int64)
            keys, vals = np.frombuffer(self.keys, np.uint64), np.frombuffer(self.vals, np.uint64)
            sample = np.sort(keys[:: max(1, n // (64 * parts))])
            bounds = distinct(sample[len(sample) * np.arange(1, parts) // parts])
            pos = 0  # the end of the claims so far: a claim's bytes before it are covered already
            for lo, hi in zip([None, *bounds.tolist()], [*bounds.tolist(), None], strict=True):
                inside = np.ones(n, bool) if lo is None else keys >= lo
                if hi is not None:
                    inside &= keys < hi
                members = np.flatnonzero(inside)
                del inside
                k, v = keys[members], vals[members]
                del members
                order = np.lexsort((v, k))
                k, v = k[order], v[order]
                del order
                starts = (k >> 2).astype(np.int64)
                ends = ((v >> 23) & self._END_MASK).astype(np.int64)
                reach = np.maximum.accumulate(np.concatenate(([pos], ends)))
                pos = int(reach[-1])
                starts = np.maximum(starts, reach[:-1])  # what earlier claims left of each
                won = ends > starts
                starts, ends = starts[won], ends[won]
                cls = (v[won] & ((1 << 23) - 1)).astype(np.intp)
                del k, v, reach, won
                totals += np.bincount(cls, in_sections(ends) - in_sections(starts), classes).astype(np.int64)
                # the pieces are disjoint and in order: claimed bytes below each point
                if len(starts):
                    lens = ends - starts
                    before = np.concatenate(([0], np.cumsum(lens)))[:-1]
                    i = np.searchsorted(starts, at, "right") - 1
                    j = np.maximum(i, 0)
                    covered += np.where(i >= 0, before[j] + np.clip(at - starts[j], 0, lens[j]), 0)
            del keys, vals  # the ledger's buffers are exported until here
        del self.keys[:], self.vals[:]
        return totals.tolist(), covered.tolist()


def go_package(name: str) -> str | None:
    """The Go package path of a symbol or function name; None when it names no Go package
    (C symbols, linker containers, float constants).

    Generic arguments "[...]" are dropped first; the path runs up to the first "." after the last "/"
    (the linker escapes dots in the last path element as %2e); "type:*T", "go:itab.*T,I" name T's package.
    """
    if not name.startswith(_SPECIAL_PREFIXES) and "[" not in name and "," not in name:
        # a plain name (most of them): nothing to strip, the package is what precedes the "."
        dot = name.find(".", name.rfind("/") + 1)
        if dot <= 0:
            return None
        pkg = name[:dot]
        if "%" in pkg:
            pkg = re.sub(r"%([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), pkg)
        if not pkg or pkg[0] in "(*[" or " " in pkg or "(" in pkg:
            return None
        return sys.intern(pkg)
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
