"""How often the reference method (data attributed by the code's references to it, ``data_estimated``)
agrees with the symbol table, measured on a binary that has one.

The binary is attributed twice: with its symbol table, and as if it were stripped. The bytes that
sized data symbols give a package, and that the stripped attribution does not claim exactly by
another method (type descriptors, funcdata, embed tables, ...), are the ones the reference method
answers for; it agrees on those it gives to the symbol's package. Bytes it leaves unattributed count
against it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from sizebot.binary.attribute import attribution
from sizebot.binary.claims import DATA, ESTIMATED, SYMBOL_PRIO, Attribution, Claims
from sizebot.binary.container import open_binary
from sizebot.binary.data_by_reference import DATA_SECTIONS


@dataclass(frozen=True)
class Agreement:
    """Symbol-covered data bytes the reference method answers for, and those it gives the same package."""

    total: int
    same: int
    unattributed: int  # of total, the bytes the reference method left unattributed

    @property
    def ratio(self) -> float:
        return self.same / self.total if self.total else 1.0


def reference_agreement(path: str | os.PathLike[str]) -> Agreement:
    """The agreement of the reference method with the symbol table of the binary at ``path``."""
    with open_binary(path) as binary:
        spans = [(s.offset, s.offset + s.file_size) for s in binary.sections if s.name in DATA_SECTIONS and s.file_size]
        with_symbols = attribution(binary, symbols=True)
        stripped = attribution(binary, symbols=False)
    symbol_data = [(start, end, with_symbols.pkg_names[pid]) for start, end, pid, kind, prio in _resolved(with_symbols)
                   if kind == DATA and prio == SYMBOL_PRIO]
    reference = [(start, end, stripped.pkg_names[pid] if kind == ESTIMATED else None)
                 for start, end, pid, kind, _prio in _resolved(stripped)]
    total = same = missing = 0
    j = 0
    for s_start, s_end, pkg in _clipped(symbol_data, spans):
        pos = s_start
        while j < len(reference) and reference[j][1] <= s_start:
            j += 1
        k = j
        while pos < s_end:
            if k < len(reference) and reference[k][0] < s_end:
                r_start, r_end, r_pkg = reference[k]
                if r_start > pos:  # a gap in the stripped attribution: unattributed
                    total += r_start - pos
                    missing += r_start - pos
                    pos = r_start
                n = min(r_end, s_end) - pos
                if n > 0:
                    if r_pkg is not None:  # an exact claim of the stripped attribution: not the method's
                        total += n
                        same += n if r_pkg == pkg else 0
                    pos += n
                k += 1
            else:
                total += s_end - pos
                missing += s_end - pos
                pos = s_end
    return Agreement(total=total, same=same, unattributed=missing)


def _resolved(acc: Attribution) -> Iterator[tuple[int, int, int, int, int]]:
    """(start, end, package or row index, kind, priority) of each byte range, each byte to the first
    claim covering it (by start, then priority), as the report resolves them."""
    pos = 0
    for c in acc.claims.sorted_items():
        end = (c >> 23) & Claims._END_MASK
        if end <= pos:
            continue
        start = max(c >> 65, pos)
        pos = end
        yield start, end, (c >> 3) & 0xFFFFF, c & 7, (c >> 63) & 3


def _clipped(intervals: list[tuple[int, int, str]], spans: list[tuple[int, int]]) -> Iterator[tuple[int, int, str]]:
    for start, end, pkg in intervals:
        for lo, hi in spans:
            a, b = max(start, lo), min(end, hi)
            if a < b:
                yield a, b, pkg
