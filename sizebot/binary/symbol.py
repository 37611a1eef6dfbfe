"""A sized symbol from a binary's symbol table: what the format readers hand to the analysis."""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import NamedTuple, cast, overload

import numpy as np


class Symbol(NamedTuple):
    """A sized symbol from the symbol table, when the binary has one."""

    name: str
    addr: int
    size: int
    kind: str  # "func", "data", "other"
    section: str
    entry: tuple[int, int] = (0, 0)  # (file offset, bytes) of its symbol-table entry; (0, 0) unknown
    name_bytes: tuple[int, int] = (0, 0)  # (file offset, bytes incl. NUL) of its name in the string table


_KINDS = ("func", "data", "other")  # ``kinds`` holds the index: 0 is a function
_KIND_CODE = {k: i for i, k in enumerate(_KINDS)}


class Names(Sequence[str]):
    """Strings held as one bytes object (a string table) and each one's bounds in it, decoded (UTF-8,
    bad bytes replaced) when read: a list of str objects takes over twice the memory, for the whole
    analysis, where the names are read a few times."""

    def __init__(self, blob: bytes, starts: np.ndarray, ends: np.ndarray) -> None:
        self._blob = blob
        self._starts = array("Q", starts.astype("=u8").tobytes())
        self._ends = array("Q", ends.astype("=u8").tobytes())
        self._ascii = blob.isascii()

    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self._blob[self._starts[i] : self._ends[i]].decode("utf-8", "replace")

    def __iter__(self) -> Iterator[str]:
        if self._ascii:  # one decode, then slices of it
            yield from map(self._blob.decode("ascii").__getitem__, map(slice, self._starts, self._ends))
        else:
            blob = self._blob
            for start, end in zip(self._starts, self._ends, strict=True):
                yield blob[start:end].decode("utf-8", "replace")


class SymbolTable(Sequence[Symbol]):
    """Symbols in compact arrays (an object per symbol would cost ten times the memory on large
    binaries); ``table[i]`` and iteration build the Symbol."""

    def __init__(self) -> None:
        self.names: Sequence[str] = []
        self.addrs = array("Q")
        self.sizes = array("Q")
        self.kinds = bytearray()
        self.sections = array("H")  # index into _section_names
        self.entry_offs = array("Q")  # file offset and bytes of each symbol-table entry
        self.entry_lens = array("I")
        self.name_offs = array("Q")  # file offset and bytes (with the NUL) of each name
        self.name_lens = array("I")
        self._section_names: list[str] = []
        self._section_index: dict[str, int] = {}

    @classmethod
    def from_columns(cls, names: Sequence[str], addrs: np.ndarray, sizes: np.ndarray, kinds: np.ndarray,
                     sections: np.ndarray, section_names: list[str], entry_offs: np.ndarray, entry_lens: np.ndarray,
                     name_offs: np.ndarray, name_lens: np.ndarray) -> SymbolTable:
        """A table from whole columns: ``kinds`` index ("func", "data", "other"), ``sections`` index
        ``section_names``."""
        table = cls()
        table.names = names
        columns = ((table.addrs, addrs), (table.sizes, sizes), (table.sections, sections),
                   (table.entry_offs, entry_offs), (table.entry_lens, entry_lens), (table.name_offs, name_offs),
                   (table.name_lens, name_lens))
        for column, values in columns:
            column.frombytes(values.astype(f"=u{column.itemsize}").tobytes())
        table.kinds = bytearray(kinds.astype(np.uint8).tobytes())
        table._section_names = section_names
        for i, name in enumerate(section_names):
            table._section_index.setdefault(name, i)
        return table

    @classmethod
    def from_rows(cls, rows: list[tuple[int, int, str, int, int, int, int, int, int]],
                  section_names: list[str]) -> SymbolTable:
        """A table in address order (rows at one address in their order) from (address, size, name,
        kind index, section index, entry offset, entry bytes, name offset, name bytes) rows."""
        rows.sort(key=itemgetter(0))
        columns = list(zip(*rows, strict=True))
        addrs, sizes, kinds, sections, entry_offs, entry_lens, name_offs, name_lens = (
            np.array(columns[k], np.uint64) for k in (0, 1, 3, 4, 5, 6, 7, 8))
        return cls.from_columns(list(columns[2]), addrs, sizes, kinds, sections, section_names, entry_offs, entry_lens,
                                name_offs, name_lens)

    def append(self, name: str, addr: int, size: int, kind: str, section: str,
               entry: tuple[int, int] = (0, 0), name_bytes: tuple[int, int] = (0, 0)) -> None:
        sec = self._section_index.get(section)
        if sec is None:
            sec = self._section_index[section] = len(self._section_names)
            self._section_names.append(section)
        cast(list[str], self.names).append(name)  # built by append: a list
        self.addrs.append(addr)
        self.sizes.append(size)
        self.kinds.append(_KIND_CODE[kind])
        self.sections.append(sec)
        self.entry_offs.append(entry[0])
        self.entry_lens.append(entry[1])
        self.name_offs.append(name_bytes[0])
        self.name_lens.append(name_bytes[1])

    @property
    def section_names(self) -> list[str]:
        """The section names that ``sections`` indexes."""
        return self._section_names

    def __len__(self) -> int:
        return len(self.names)

    @overload
    def __getitem__(self, i: int) -> Symbol: ...

    @overload
    def __getitem__(self, i: slice) -> list[Symbol]: ...

    def __getitem__(self, i: int | slice) -> Symbol | list[Symbol]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return Symbol(self.names[i], self.addrs[i], self.sizes[i], _KINDS[self.kinds[i]],
                      self._section_names[self.sections[i]], (self.entry_offs[i], self.entry_lens[i]),
                      (self.name_offs[i], self.name_lens[i]))

    def __iter__(self) -> Iterator[Symbol]:
        secs, kinds = self._section_names, _KINDS
        rows = zip(self.names, self.addrs, self.sizes, self.kinds, self.sections, self.entry_offs, self.entry_lens,
                   self.name_offs, self.name_lens, strict=True)
        for name, addr, size, kind, sec, e_off, e_len, n_off, n_len in rows:
            yield Symbol(name, addr, size, kinds[kind], secs[sec], (e_off, e_len), (n_off, n_len))
