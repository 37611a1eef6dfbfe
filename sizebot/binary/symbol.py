"""A sized symbol from a binary's symbol table: what the format readers hand to the analysis."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Symbol:
    """A sized symbol from the symbol table, when the binary has one."""

    name: str
    addr: int
    size: int
    kind: str  # "func", "data", "other"
    section: str
    entry: tuple[int, int] = (0, 0)  # (file offset, bytes) of its symbol-table entry; (0, 0) unknown
    name_bytes: tuple[int, int] = (0, 0)  # (file offset, bytes incl. NUL) of its name in the string table
