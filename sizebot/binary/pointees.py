"""What Go global variables point at: static data that has no symbol of its own.

The compiler lays out the composite literals of package-level variables as static temporaries
("pkg..stmp_N": a slice's backing array, a pointed-to struct): the linker leaves these file-local
symbols out of the symbol table and out of DWARF, so on an unstripped build they are the largest
unnamed data (a Unicode or terminfo table is a `[][3]int` whose backing array is one).

The variable that points at one is in both, and its DWARF type says exactly where its pointers are
and how long what they point at is: a pointer's target is one object of the pointee's byte size; a
slice's backing array is cap x the element's size; a string's bytes are its length. Objects reached
this way are walked in turn by their own types (a pointed-to struct of slices, a slice of structs
of strings). Each object goes to the variable's package. Nothing is inferred from layout: an object
whose type DWARF does not give (unsafe.Pointer, interface data, func values) is not followed, and
objects inside a named symbol are that symbol's.

A variable's DIE is found by its location expression (DW_OP_addr with the symbol's address, right
after its name), so .debug_info is searched once, not parsed whole.
"""

from __future__ import annotations

import bisect
import itertools
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from sizebot.binary.binaryfile import BinaryFile
from sizebot.binary.claims import DATA, SYMBOL_PRIO, Attribution
from sizebot.binary.dwarf import AbbrevTable, _form_value, _uleb, abbrev_table

DW_TAG_ARRAY, DW_TAG_MEMBER, DW_TAG_POINTER, DW_TAG_STRUCT, DW_TAG_TYPEDEF = 0x01, 0x0D, 0x0F, 0x13, 0x16
DW_TAG_SUBRANGE, DW_TAG_VARIABLE = 0x21, 0x34
DW_AT_NAME, DW_AT_BYTE_SIZE, DW_AT_LOCATION, DW_AT_MEMBER_LOC = 0x03, 0x0B, 0x02, 0x38
DW_AT_TYPE, DW_AT_COUNT, DW_AT_GO_KIND, DW_AT_GO_ELEM = 0x49, 0x37, 0x2900, 0x2902
GO_KIND_SLICE, GO_KIND_STRING = 23, 24
PTR, SLICE, STRING, ARRAY = 0, 1, 2, 3
_MAX_OBJECTS = 1 << 20  # objects put on the walk per binary: a bound on hostile DWARF, far above real programs


Slot = tuple[int, int, int, int, int]  # (offset, kind, type, count, stride); count and stride: ARRAY only


@dataclass(frozen=True, slots=True)
class _Type:
    """A type's byte size and pointer slots: (offset, PTR, pointee type) / (offset, SLICE, element
    type) / (offset, STRING, 0) / (offset, ARRAY, element type, count, stride) for arrays whose
    elements hold pointers."""

    size: int
    slots: tuple[Slot, ...]


class _Dwarf:
    """On-demand reading of single DIEs of .debug_info."""

    def __init__(self, info: bytes, abbrev: bytes, little: bool, unit_starts: list[int]) -> None:
        self.info, self.abbrev, self.bo = info, abbrev, "<" if little else ">"
        self.unit_starts = unit_starts
        self._tables: dict[int, AbbrevTable] = {}
        self._units: dict[int, tuple[int, int, AbbrevTable]] = {}
        self._types: dict[int, _Type | None] = {}

    def unit(self, off: int) -> tuple[int, int, AbbrevTable]:
        """(unit offset, address size, abbreviation table) of the unit holding ``off``."""
        start = self.unit_starts[bisect.bisect_right(self.unit_starts, off) - 1]
        got = self._units.get(start)
        if got is None:
            (version,) = struct.unpack_from(self.bo + "H", self.info, start + 4)
            if version >= 5:
                addr_size, abbrev_off = struct.unpack_from(self.bo + "BI", self.info, start + 7)
            else:
                abbrev_off, addr_size = struct.unpack_from(self.bo + "IB", self.info, start + 6)
            table = self._tables.get(abbrev_off)
            if table is None:
                table = self._tables[abbrev_off] = abbrev_table(self.abbrev, abbrev_off)
            got = self._units[start] = (start, addr_size, table)
        return got

    def die(self, off: int) -> tuple[int, dict[int, int | bytes], int, bool]:
        """(tag, attributes, offset after the DIE's attributes, has children) of the DIE at ``off``;
        references are made absolute."""
        unit, addr_size, table = self.unit(off)
        code, p = _uleb(self.info, off)
        tag, children, attrs = table[code]
        values: dict[int, int | bytes] = {}
        for attr, form, _const in attrs:
            value, p = _form_value(self.info, p, form, addr_size, self.bo)
            if value is None:
                raise ValueError(f"DIE at {off:#x}: unsupported form {form:#x}")
            if form in (0x11, 0x12, 0x13, 0x14, 0x15) and isinstance(value, int):  # ref1..ref_udata: unit-relative
                value += unit
            values[attr] = value
        return tag, values, p, children

    def children(self, p: int) -> list[int]:
        """Offsets of the children starting at ``p`` (only childless children are expected)."""
        out: list[int] = []
        while True:
            code, _q = _uleb(self.info, p)
            if code == 0:
                return out
            out.append(p)
            _tag, _values, p, has = self.die(p)
            if has:
                raise ValueError(f"DIE at {out[-1]:#x}: nested children in a type")

    def type(self, off: int, depth: int = 0) -> _Type | None:
        """Byte size and pointer slots of the type at ``off``; None when DWARF does not give its size."""
        if off in self._types:
            return self._types[off]
        if depth > 64:
            raise ValueError(f"type at {off:#x}: nested too deep")
        self._types[off] = None  # a recursive type (a struct holding a pointer to itself) sees None
        tag, v, p, has = self.die(off)
        t: _Type | None = None
        size = v.get(DW_AT_BYTE_SIZE)
        ref = v.get(DW_AT_TYPE)
        if tag == DW_TAG_TYPEDEF:
            t = self.type(ref, depth + 1) if isinstance(ref, int) else None
        elif tag == DW_TAG_POINTER:  # Go gives pointers no DW_AT_byte_size: a word
            t = _Type(self.unit(off)[1], ((0, PTR, ref, 0, 0),) if isinstance(ref, int) else ())
        elif tag == DW_TAG_STRUCT and isinstance(size, int):
            kind = v.get(DW_AT_GO_KIND)
            elem = v.get(DW_AT_GO_ELEM)
            if kind == GO_KIND_SLICE and isinstance(elem, int):
                t = _Type(size, ((0, SLICE, elem, 0, 0),))
            elif kind == GO_KIND_STRING:
                t = _Type(size, ((0, STRING, 0, 0, 0),))
            else:
                slots: list[Slot] = []
                for child in self.children(p) if has else ():
                    ctag, cv, _q, _h = self.die(child)
                    loc, mref = cv.get(DW_AT_MEMBER_LOC), cv.get(DW_AT_TYPE)
                    if ctag != DW_TAG_MEMBER or not isinstance(loc, int) or not isinstance(mref, int):
                        continue
                    member = self.type(mref, depth + 1)
                    if member is not None:
                        slots.extend((loc + o, k, a, c, st) for o, k, a, c, st in member.slots)
                t = _Type(size, tuple(slots))
        elif tag == DW_TAG_ARRAY and isinstance(size, int):
            elem_t = self.type(ref, depth + 1) if isinstance(ref, int) else None
            count = 0
            for child in self.children(p) if has else ():
                ctag, cv, _q, _h = self.die(child)
                n = cv.get(DW_AT_COUNT)
                if ctag == DW_TAG_SUBRANGE and isinstance(n, int):
                    count = n
            if elem_t is not None and elem_t.slots and count and isinstance(ref, int):
                t = _Type(size, ((0, ARRAY, ref, count, elem_t.size),))
            else:
                t = _Type(size, ())
        elif isinstance(size, int):
            t = _Type(size, ())
        self._types[off] = t
        return t


def variable_types(dw: _Dwarf, roots: list[tuple[int, str]], ptr_size: int) -> list[tuple[int, str, int]]:
    """(address, name, type offset) of each root (a data symbol's address and name) that DWARF
    describes as a global variable: its DIE is the variable's name, then DW_OP_addr of its address."""
    info = dw.info
    order: Literal["little", "big"] = "little" if dw.bo == "<" else "big"
    at: dict[int, list[int]] = {}
    pattern = re.compile(re.escape(bytes((1 + ptr_size, 0x03))) + b".{%d}" % ptr_size, re.S)
    for m in pattern.finditer(info):
        at.setdefault(int.from_bytes(m.group()[2:], order), []).append(m.start())
    out = []
    for addr, name in roots:
        raw = name.encode()
        for p in at.get(addr, ()):
            start = p - len(raw) - 2
            if start < 0 or info[start + 1 : p] != raw + b"\0":
                continue
            try:
                tag, values, _q, _h = dw.die(start)
            except (ValueError, IndexError, KeyError, struct.error):
                continue
            ref = values.get(DW_AT_TYPE)
            if tag == DW_TAG_VARIABLE and values.get(DW_AT_NAME) == raw and isinstance(ref, int):
                out.append((addr, name, ref))
                break
    return out


def pointee_spans(
    info: bytes,
    abbrev: bytes,
    unit_starts: list[int],
    *,
    little: bool,
    ptr_size: int,
    roots: list[tuple[int, str, str]],
    read_word: Callable[[int], int | None],
    unnamed: Callable[[int], bool],
    notes: list[str] | None = None,
) -> list[tuple[int, int, str]]:
    """(start, end, package) in virtual addresses of the unnamed objects that the global variables
    ``roots`` ((address, symbol name, package)) point at, transitively. ``read_word(addr)`` reads a
    pointer-sized word of file-backed data (None elsewhere); ``unnamed(addr)`` is true where no named
    symbol lies and file bytes exist.

    Every object put on the walk counts against ``_MAX_OBJECTS`` (an array's elements as many objects: a
    forged DW_AT_count cannot grow the walk past it); past it the rest is left unattributed, with a note."""
    dw = _Dwarf(info, abbrev, little, unit_starts)
    packages = {addr: pkg for addr, _name, pkg in roots}
    out: list[tuple[int, int, str]] = []
    seen: set[tuple[int, int]] = set()
    budget = _MAX_OBJECTS  # objects that may still be put on the walk
    for addr, _name, tref in variable_types(dw, [(a, n) for a, n, _p in roots], ptr_size):
        if budget <= 0:
            break
        pkg = packages[addr]
        budget -= 1
        stack: list[tuple[int, int]] = [(addr, tref)]
        while stack:
            base, tref = stack.pop()
            try:
                t = dw.type(tref)
            except (ValueError, IndexError, KeyError, struct.error):
                continue
            if t is None:
                continue
            for off, kind, ref, count, stride in t.slots:
                at = base + off
                if kind == ARRAY:  # in file-backed data only (an array in .bss points nowhere yet)
                    if read_word(at) is not None:
                        taken = max(0, min(count, budget))
                        budget -= taken
                        stack.extend((at + i * stride, ref) for i in range(taken))
                    continue
                ptr = read_word(at)
                if not ptr or not unnamed(ptr):
                    continue
                if kind == STRING:
                    n = read_word(at + ptr_size) or 0
                    if n > 0:
                        out.append((ptr, ptr + n, pkg))
                    continue
                try:
                    target = dw.type(ref)
                except (ValueError, IndexError, KeyError, struct.error):
                    continue
                if target is None or target.size <= 0:
                    continue
                if kind == PTR:
                    out.append((ptr, ptr + target.size, pkg))
                    if target.slots and (ptr, ref) not in seen and budget > 0:
                        budget -= 1
                        seen.add((ptr, ref))
                        stack.append((ptr, ref))
                    continue
                # SLICE: the backing array holds cap elements, of which len are walked
                length, cap = read_word(at + ptr_size) or 0, read_word(at + 2 * ptr_size) or 0
                if cap <= 0 or length > cap:
                    continue
                out.append((ptr, ptr + cap * target.size, pkg))
                if target.slots:
                    for i in range(min(length, budget)):
                        key = (ptr + i * target.size, ref)
                        if key not in seen:
                            budget -= 1
                            seen.add(key)
                            stack.append(key)
    if budget <= 0 and notes is not None:
        notes.append(f"DWARF global variables point at more than {_MAX_OBJECTS} objects: "
                     "the walk stopped there, the rest of what they point at is left unattributed")
    return out


_MAX_ADDR = (1 << 64) - 1


def pointee_claims(
    binary: BinaryFile, info: bytes, abbrev: bytes, unit_starts: list[int], named: list[tuple[int, int, str]],
    sym_pkg: dict[str, str | None], acc: Attribution, addrs: Sequence[int], sizes: Sequence[int],
) -> None:
    """Claims for what global variables point at (``pointee_spans``): outside every sized symbol
    (``addrs``, ``sizes``: the symbol table's; linker tables such as runtime.firstmoduledata too),
    in data sections only (not code, not the pclntab). ``named``: (address, end, name) of the data
    symbols, the roots whose package ``sym_pkg`` gives."""
    first, ends_of = _covered(addrs, sizes)
    starts, reach = first.tolist(), ends_of
    pcln = binary.pclntab_section()
    secs = sorted(
        (s.addr, s.addr + s.file_size, s.offset) for s in binary.sections
        if s.file_size and s.addr and "x" not in s.flags.split(",")
    )
    p_lo, p_hi = (pcln.addr, pcln.addr + pcln.file_size) if pcln is not None else (0, 0)
    sec_starts = [a for a, _e, _o in secs]
    data, ptr, order = binary.data, binary.ptr_size, binary.byte_order

    def offset(addr: int) -> int | None:
        i = bisect.bisect_right(sec_starts, addr) - 1
        if i < 0 or addr >= secs[i][1]:
            return None
        return secs[i][2] + addr - secs[i][0]

    def read_word(addr: int) -> int | None:
        i = bisect.bisect_right(sec_starts, addr) - 1
        if i < 0 or addr >= secs[i][1]:
            return None
        start, end, off = secs[i]
        off += addr - start
        last = addr + ptr - 1
        # a word that runs into another section: only where that one's bytes follow in the file
        if (last >= end or (i + 1 < len(secs) and sec_starts[i + 1] <= last)) and offset(last) != off + ptr - 1:
            return None
        return int.from_bytes(data[off : off + ptr], order)

    def unnamed(addr: int) -> bool:
        i = bisect.bisect_right(starts, addr) - 1
        return offset(addr) is not None and (i < 0 or addr >= reach[i]) and not p_lo <= addr < p_hi

    sec_lo = np.array(sec_starts, np.uint64)
    sec_hi = np.array([e for _a, e, _o in secs], np.uint64)
    sec_off = np.array([o for _a, _e, o in secs], np.uint64)

    def placed(addrs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each address's section index and whether a section's file bytes hold it."""
        i = np.searchsorted(sec_lo, addrs, "right") - 1
        return i, (i >= 0) & (addrs < sec_hi[np.maximum(i, 0)]) if len(secs) else np.zeros(len(addrs), bool)

    # the roots: data symbols with a package and file bytes (not .bss)
    _i, filed = placed(np.array([a for a, _e, _n in named], np.uint64))
    roots = [(a, n, pkg) for (a, _e, n), f in zip(named, filed.tolist(), strict=True)
             if f and (pkg := sym_pkg.get(n))]
    try:
        spans = pointee_spans(
            info, abbrev, unit_starts, little=order == "little", ptr_size=ptr, roots=roots,
            read_word=read_word, unnamed=unnamed, notes=acc.notes,
        )
    except (ValueError, IndexError, KeyError, struct.error) as e:
        acc.notes.append(f"DWARF global variables could not be read ({e}): what they point at is left unattributed")
        return
    if not spans or not len(secs):
        return
    start = np.array([s for s, _e, _p in spans], np.uint64)
    end = np.array([min(e, _MAX_ADDR) for _s, e, _p in spans], np.uint64)  # cut below only to 2**64
    i, inside = placed(start)
    i = np.maximum(i, 0)
    # no object runs into the next symbol or past its section (only forged headers would)
    j = np.searchsorted(first, start, "right")
    following = np.where(j < len(first), first[np.minimum(j, len(first) - 1)], end) if len(first) else end
    end = np.minimum(np.minimum(end, sec_hi[i]), following)
    pids = np.array([acc.pkg_id(pkg) for (_s, _e, pkg), f in zip(spans, inside.tolist(), strict=True) if f],
                    np.uint64)
    start, end, off = start[inside], end[inside], (start - sec_lo[i] + sec_off[i])[inside]
    nonempty = end > start  # (the ledger drops empty ranges too: this keeps the subtraction below from wrapping)
    off, size, pids = off[nonempty], (end - start)[nonempty], pids[nonempty]
    acc.claims.extend(off, off + size, SYMBOL_PRIO, pids << np.uint64(3) | np.uint64(DATA))


def _covered(addrs: Sequence[int], sizes: Sequence[int]) -> tuple[np.ndarray, list[int]]:
    """The sized symbols' starts ascending (by start, then end), and the furthest end reached by
    each and those before it (a symbol may lie inside another)."""
    a = addrs if isinstance(addrs, np.ndarray) else np.array(addrs, np.uint64)
    s = sizes if isinstance(sizes, np.ndarray) else np.array(sizes, np.uint64)
    a, s = a.astype(np.uint64)[s > 0], s.astype(np.uint64)[s > 0]
    e = a + s
    if bool(np.any(e < a)):  # past 2**64 (a forged size): in Python integers
        covered = sorted(zip(a.tolist(), [x + y for x, y in zip(a.tolist(), s.tolist(), strict=True)], strict=True))
        return np.array([x for x, _y in covered], np.uint64), list(itertools.accumulate((y for _x, y in covered), max))
    order = np.lexsort((e, a))
    return a[order], np.maximum.accumulate(e[order]).tolist()
