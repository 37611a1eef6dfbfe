"""//go:embed payloads: embed.FS file tables, and string/[]byte variables, found without symbols.

The compiler writes an embed.FS variable's files as one read-only object "<pkg>.<Var>.files": a
slice header pointing just past itself, then the slice's elements, embed's ``file`` records::

    name string, data string, hash [16]byte       (48 bytes with 8-byte pointers, 32 with 4)

sorted by directory then name; directories end in "/" and have no data. That shape (a slice
header whose pointer is its own address + 3 words, len == cap, then well-formed records) is what
is searched for in the read-only data. The embedding package is the one the symbol table names
for the object, else the package of the code that loads the variable holding its address (the
code's references into data, references.py: amd64, arm64, 386), else unknown.

A //go:embed into a ``string`` or ``[]byte`` variable (cmd/compile/internal/staticdata: WriteEmbed,
fileStringSym) leaves the variable's header in .data (pointer, length; a []byte adds its capacity,
equal to the length) and the file's bytes: for a string in read-only data among the go:string.*
literals (shared with an equal literal), for a []byte in .noptrdata as its own object
("<pkg>..gobytes.N"). The file's name is not in the binary, and a variable initialised from a
constant (``var b = []byte("...")``) is written exactly the same way, so what is listed is the
variable: by its name when the symbol table gives it, else by its order in the package ("#1").
Only variables outside the standard library (which embeds no files into programs) and with at least
``MIN_LISTED`` bytes are listed: shorter ones are, in practice, literals. Without symbols the
variable must be loaded by code (which gives its package), and a []byte's contents must end where
the next object that data or code points at begins (a []uint16's header has the same shape, but its
length counts elements).
"""

from __future__ import annotations

import bisect
import struct
import sys
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import compress

import numpy as np

from sizebot.binary.container import BinaryFile
from sizebot.binary.symbol import Symbol, SymbolTable
from sizebot.documents.analyze import Section

MAX_FILES = 1 << 20  # far more than any module embeds; past it the table is taken as damaged
MIN_LISTED = 1024  # bytes: a string/[]byte variable this large is listed as an embed
MAX_EMBED = 2_000_000_000  # the compiler refuses larger files (staticdata.maxFileSize)
_NOPTR = (".noptrdata", "__noptrdata")  # sections without pointers: no variable headers there


@dataclass(frozen=True)
class FsTable:
    addr: int
    offset: int  # file offset of the slice header
    size: int  # header + records
    files: tuple[tuple[str, int, int, int], ...]  # (name, data file offset, data size, name file offset)
    name_sizes: tuple[int, ...]


def find_fs_tables(binary: BinaryFile, notes: list[str]) -> list[FsTable]:
    ptr = binary.ptr_size
    out: list[FsTable] = []
    for sec in binary.rodata_sections():
        n = sec.file_size // ptr
        if n < 4 or not sec.addr:
            continue
        first = (-sec.addr) % ptr
        n = (sec.file_size - first) // ptr
        words = word_view(binary, sec.offset + first, n)
        base = sec.addr + first + 3 * ptr
        for i in _counting_words(binary, sec.offset + first, n, base):  # words[i] == base + i * ptr
            if i + 2 >= n or words[i + 1] != words[i + 2] or words[i + 1] == 0:
                continue
            table = _read_table(binary, sec, first, words, i, ptr, notes)
            if table is not None:
                out.append(table)
    return out


def _counting_words(binary: BinaryFile, offset: int, n: int, base: int) -> list[int]:
    """Indexes i < n of the pointer-sized words at ``offset`` that hold base + i * ptr_size, compared
    a chunk of words at a time with the values they would hold."""
    ptr = binary.ptr_size
    n = max(0, min(n, ((1 << (8 * ptr)) - base + ptr - 1) // ptr))  # larger values fit no word
    dtype = ("<" if binary.byte_order == "little" else ">") + ("u8" if ptr == 8 else "u4")
    hits: list[int] = []
    chunk = 1 << 18
    for lo in range(0, n, chunk):
        k = min(chunk, n - lo)
        words = np.frombuffer(binary.data, dtype, count=k, offset=offset + lo * ptr)
        expected = np.arange(k, dtype=np.uint64) * np.uint64(ptr) + np.uint64(base + lo * ptr)
        hits += (np.flatnonzero(words == expected) + lo).tolist()
        del words
        binary.release(offset + lo * ptr, k * ptr)  # read once: the few tables found are read again
    return hits


def word_view(binary: BinaryFile, offset: int, count: int) -> Sequence[int]:
    """``count`` pointer-sized words at ``offset``, read in place (no list of them all)."""
    raw = binary.data[offset : offset + count * binary.ptr_size]
    if (binary.byte_order == "little") == (sys.byteorder == "little"):
        return raw.cast("Q" if binary.ptr_size == 8 else "I")
    bo = "<" if binary.byte_order == "little" else ">"
    return struct.unpack_from(f"{bo}{count}{'Q' if binary.ptr_size == 8 else 'I'}", raw)


def _read_table(
    binary: BinaryFile, sec: Section, first: int, words: Sequence[int], i: int, ptr: int, notes: list[str]
) -> FsTable | None:
    count = words[i + 1]
    rec_words = 4 + 16 // ptr
    addr = sec.addr + first + i * ptr
    if count > MAX_FILES or i + 3 + count * rec_words > len(words):
        notes.append(f"embed.FS table at {addr:#x} lists {count} files, past its section: left unattributed")
        return None
    files = []
    name_sizes = []
    not_utf8 = 0
    for k in range(count):
        at = i + 3 + k * rec_words
        name_ptr, name_len, data_ptr, data_len = words[at], words[at + 1], words[at + 2], words[at + 3]
        name_off = binary.vaddr_to_offset(name_ptr) if name_len else None
        if name_off is None or name_len > 4096 or name_off + name_len > binary.file_size:
            return None
        raw = bytes(binary.data[name_off : name_off + name_len])
        if b"\0" in raw or raw.startswith(b"/"):
            return None
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:  # a forged or odd name: kept, each byte that is not UTF-8 as \xNN
            name = raw.decode("utf-8", "backslashreplace")
            not_utf8 += 1
        data_off = binary.vaddr_to_offset(data_ptr) if data_len else 0
        if data_len and (data_off is None or data_off + data_len > binary.file_size):
            notes.append(f"embed.FS table at {addr:#x}: file {name!r} runs past the file: left unattributed")
            return None
        if name.endswith("/") and data_len:
            return None
        files.append((name, data_off or 0, data_len, name_off))
        name_sizes.append(name_len)
    if not_utf8:
        notes.append(f"embed.FS table at {addr:#x}: {not_utf8} file name(s) not UTF-8, shown with \\xNN escapes")
    offset = sec.offset + first + i * ptr
    return FsTable(addr, offset, (3 + count * rec_words) * ptr, tuple(files), tuple(name_sizes))


def embed_packages(
    binary: BinaryFile, symtab: Sequence[Symbol], tables: list[FsTable], found: list[DataVar],
    fs_symbol_package: Callable[[int], str | None],
    symbol_package: Callable[[str], str | None], code_package: Callable[[int], str | None],
    is_std: Callable[[str], bool], scanned: Callable[[], tuple[array, array] | None] = lambda: None,
) -> tuple[list[str | None], list[tuple[str, str, DataVar]]]:
    """The package of each embed.FS table (from the symbol table, else from the code loading the
    variable that holds its address, or the table itself), and the listed variables of ``found``
    (``data_var_embeds``). ``symtab``: the symbol table, or () to work as on a stripped binary.
    ``scanned()``: the code's references into data as (instruction, target) arrays, shared with the
    rest of the analysis (references.py); None when the GOARCH has no scanner: then no package is
    told from the code."""
    fs_pkgs = [fs_symbol_package(t.addr) for t in tables]
    fs_targets = [set() if p else _fs_targets(binary, t) for t, p in zip(tables, fs_pkgs, strict=True)]
    var_fields, windows = ({}, {}) if symtab else _var_targets(found, binary.ptr_size)
    targets = set().union(*fs_targets, var_fields, windows)
    refs: list[tuple[int, int]] = []
    shared = scanned() if targets else None
    if shared is not None:
        pcs, tgts = shared
        refs = list(compress(zip(pcs, tgts, strict=True), map(targets.__contains__, tgts)))
    for i, wanted in enumerate(fs_targets):
        if wanted:
            fs_pkgs[i] = _vote(code_package, (pc for pc, t in refs if t in wanted))
    return fs_pkgs, data_var_embeds(binary, symtab, found, refs, var_fields, windows, symbol_package, code_package,
                                    is_std)


def _fs_targets(binary: BinaryFile, table: FsTable) -> set[int]:
    """The table's address and every data word holding it (the embed.FS variable)."""
    ptr = binary.ptr_size
    needle = table.addr.to_bytes(ptr, binary.byte_order)
    targets = {table.addr}
    for sec in binary.data_sections():
        pos = binary.find_bytes(needle, sec.offset, sec.offset + sec.file_size)
        while pos >= 0:
            if (pos - sec.offset) % ptr == 0:
                targets.add(sec.addr + pos - sec.offset)
            pos = binary.find_bytes(needle, pos + 1, sec.offset + sec.file_size)
    return targets


def _var_targets(found: list[DataVar], ptr: int) -> tuple[dict[int, int], dict[int, DataVar]]:
    """What code may load of each variable (any word of its header -> the variable), and the
    addresses just past each []byte's contents (where the next object should begin)."""
    fields = {v.addr + k: v.addr for v in found for k in range(0, v.header, ptr)}
    windows = {v.data_addr + v.size + k: v for v in found if v.kind == "[]byte" for k in range(32)}
    return fields, windows


def _vote(code_package: Callable[[int], str | None], pcs: Iterable[int]) -> str | None:
    votes: Counter[str] = Counter()
    for pc in pcs:
        p = code_package(pc)
        if p:
            votes[p] += 1
    return votes.most_common(1)[0][0] if votes else None


@dataclass(frozen=True)
class DataVar:
    """A string or []byte variable whose contents are in the binary (a //go:embed, or a constant)."""

    kind: str  # "string" or "[]byte"
    addr: int  # the variable: its header (pointer, length[, capacity])
    offset: int  # file offset of the header
    header: int  # header bytes
    data_addr: int
    data_offset: int
    size: int  # the length: bytes of the contents


def find_data_vars(binary: BinaryFile, notes: list[str]) -> list[DataVar]:
    """Headers in writable data shaped like a string or []byte variable with at least MIN_LISTED
    bytes: (pointer into read-only data, length) or (pointer into writable data, length, length).
    An interface value (type, data pointer) never passes for a string: its second word is an
    address, and read-only data lies above the code, so type + address runs past its end."""
    ptr = binary.ptr_size
    ro = _ranges(binary.rodata_sections())
    rw = _ranges(binary.data_sections())
    mapped = [s for s in binary.sections if s.addr and s.mem_size]
    lo, hi = min((s.addr for s in mapped), default=0), max((s.addr + s.mem_size for s in mapped), default=0)
    out: list[DataVar] = []
    for sec in binary.data_sections():
        if sec.name in _NOPTR or not sec.addr:
            continue
        first = (-sec.addr) % ptr
        n = (sec.file_size - first) // ptr
        if n < 2:
            continue
        found: Iterable[int]
        if max(hi, sec.addr + sec.file_size, *(e for _s, e in ro + rw)) < 1 << 64:  # addresses fit uint64
            found = _header_words(binary, sec.offset + first, n, sec.addr + first, ro, rw, (lo, hi))
        else:
            words = word_view(binary, sec.offset + first, n)
            found = (i for i in range(n - 1) if words[i + 1] >= MIN_LISTED)
        words = word_view(binary, sec.offset + first, n)
        for i in found:
            size = words[i + 1]
            p, addr = words[i], sec.addr + first + i * ptr
            if i + 2 < n and words[i + 2] == size and _inside(rw, p, 1):
                if not _inside(rw, p, size) or p <= addr < p + size:
                    if size > MAX_EMBED and not lo <= size < hi:  # else more likely two pointers than a length
                        notes.append(f"[]byte variable at {addr:#x}: a length of {size} bytes, past its section: "
                                     "left unattributed")
                    continue
                kind, header = "[]byte", 3 * ptr
            elif _inside(ro, p, size):
                kind, header = "string", 2 * ptr
            else:
                continue
            data_off = binary.vaddr_to_offset(p)
            if data_off is None or data_off + size > binary.file_size:
                continue
            out.append(DataVar(kind, addr, sec.offset + first + i * ptr, header, p, data_off, size))
    return out


def _header_words(
    binary: BinaryFile, offset: int, n: int, addr: int, ro: list[tuple[int, int]], rw: list[tuple[int, int]],
    mapped: tuple[int, int],
) -> list[int]:
    """The indexes i of the n words at ``offset`` (address ``addr``) that find_data_vars keeps or
    notes, found by array operations (the same tests; it makes them again on these only)."""
    ptr = binary.ptr_size
    dtype = ("<" if binary.byte_order == "little" else ">") + ("u8" if ptr == 8 else "u4")
    words = np.frombuffer(binary.data, dtype, count=n, offset=offset).astype(np.uint64)
    i = np.flatnonzero(words[1:] >= MIN_LISTED)
    p, size = words[i], words[i + 1]
    following = np.zeros(len(i), bool)
    inner = i + 2 < n
    following[inner] = words[i[inner] + 2] == size[inner]
    at = np.uint64(addr) + i.astype(np.uint64) * np.uint64(ptr)
    is_slice = following & _inside_all(rw, p, np.ones(len(i), np.uint64))
    bad = is_slice & (~_inside_all(rw, p, size) | ((p <= at) & (at - p < size)))
    noted = bad & (size > MAX_EMBED) & ~((size >= mapped[0]) & (size < mapped[1]))
    kept = (is_slice & ~bad) | (~is_slice & _inside_all(ro, p, size))
    return i[noted | kept].tolist()


def _inside_all(ranges: list[tuple[int, int]], addr: np.ndarray, size: np.ndarray) -> np.ndarray:
    """_inside for arrays of addresses and sizes (uint64, as the ranges' ends: no sum that could wrap)."""
    if not ranges:
        return np.zeros(len(addr), bool)
    starts = np.array([r[0] for r in ranges], np.uint64)
    ends = np.array([r[1] for r in ranges], np.uint64)
    i = np.searchsorted(starts, addr, "right") - 1
    end = ends[np.maximum(i, 0)]
    ok = (i >= 0) & (addr <= end)
    return ok & (size <= np.where(ok, end - np.minimum(addr, end), 0))


def _ranges(sections: Iterable[Section]) -> list[tuple[int, int]]:
    return sorted((s.addr, s.addr + s.file_size) for s in sections if s.addr and s.file_size)


def _inside(ranges: list[tuple[int, int]], addr: int, size: int) -> bool:
    i = bisect.bisect_right(ranges, (addr, 1 << 64)) - 1
    return i >= 0 and ranges[i][0] <= addr and addr + size <= ranges[i][1]


def data_var_embeds(
    binary: BinaryFile, symtab: Sequence[Symbol], found: list[DataVar], refs: list[tuple[int, int]],
    fields: dict[int, int], windows: dict[int, DataVar], symbol_package: Callable[[str], str | None],
    code_package: Callable[[int], str | None], is_std: Callable[[str], bool],
) -> list[tuple[str, str, DataVar]]:
    """(package, name, variable) of the variables in ``found`` that are listed as embeds: named and
    checked by the symbol table when there is one, else loaded by some package's code (``refs``:
    the code's references to ``fields`` and ``windows``, from ``_var_targets``; see the module's
    docstring)."""
    if not found:
        return []
    named: list[tuple[str, str, DataVar]] = []
    if symtab:
        wanted = {v.addr for v in found} | {v.data_addr for v in found}
        at: dict[int, list[str]] = {}
        for sym in _symbols_at(symtab, wanted):
            if sym.kind != "func" and sym.size > 0:
                at.setdefault(sym.addr, []).append(sym.name)
        for v in found:
            for name in at.get(v.addr, ()):
                pkg = symbol_package(name)
                var = name[len(pkg) + 1 :] if pkg and name.startswith(pkg + ".") else ""
                if not var or "." in var or is_std(pkg or ""):
                    continue
                if v.kind == "[]byte" and not any(".gobytes." in n for n in at.get(v.data_addr, ())):
                    continue  # a composite literal's array ([]byte{...}, []uint16{...}), not file contents
                named.append((pkg or "", var, v))
                break
        return named
    ptr = binary.ptr_size
    pointed = {t for _, t in refs if t in windows}
    for sec in binary.data_sections():
        if sec.name in _NOPTR:
            continue
        first = (-sec.addr) % ptr
        words = word_view(binary, sec.offset + first, (sec.file_size - first) // ptr)
        pointed.update(compress(words, map(windows.__contains__, words)))
    ends = {windows[t].addr for t in pointed}
    rw = _ranges(binary.data_sections())
    by_var: dict[int, list[int]] = {}
    for pc, t in refs:
        if t in fields:
            by_var.setdefault(fields[t], []).append(pc)
    counters: Counter[tuple[str, str]] = Counter()
    for v in sorted(found, key=lambda v: v.addr):
        if v.kind == "[]byte" and v.addr not in ends and _inside(rw, v.data_addr, v.size + 32):
            continue  # nothing begins where its contents end: not a []byte of that length
        pkg = _vote(code_package, by_var.get(v.addr, ()))
        if not pkg or is_std(pkg):
            continue
        counters[(pkg, v.kind)] += 1
        named.append((pkg, f"#{counters[(pkg, v.kind)]}", v))
    return named


def _symbols_at(symtab: Sequence[Symbol], wanted: set[int]) -> Iterable[Symbol]:
    """The symbols whose address is in ``wanted``, in the table's order (by column where it has them)."""
    if isinstance(symtab, SymbolTable):
        return map(symtab.__getitem__, compress(range(len(symtab)), map(wanted.__contains__, symtab.addrs)))
    return (sym for sym in symtab if sym.addr in wanted)
