"""runtime.firstmoduledata (runtime/symtab.go ``moduledata``): the text base and the type regions.

Found by scanning its section (Go 1.26+: .go.module / __go_module), then the writable data, for its
first two words: a pointer to the pclntab header followed by a pointer to the function name table
(pclntab + funcnameOffset). Stripped or not, the same search: no symbol table needed.

Word layout (pointer-sized words; a slice is 3 words, a string 2)::

    0 pcHeader  1 funcnametab  4 cutab  7 filetab  10 pctab  13 pclntable  16 ftab  19 findfunctab
    20 minpc 21 maxpc  22 text 23 etext  24 noptrdata 25 enoptrdata  26 data 27 edata  28 bss 29 ebss
    30 noptrbss 31 enoptrbss  [32 covctrs 33 ecovctrs: Go 1.20+]  end gcdata gcbss types etypes rodata
    gofunc  [epclntab: Go 1.26+]  textsectmap(slice) typelinks(slice) itablinks(slice) ...

Go 1.27 dropped the typelinks and itablinks slices: after ``end gcdata gcbss`` come ``types
typedesclen etypes itaboffset itabsize rodata gofunc epclntab`` and then textsectmap; the typelinked
descriptors and the itabs are packed back to back in the type region.

Which optional words are present is decided by checking that the typelinks and itablinks slices
that follow are well formed (len == cap, inside the file), so an unknown future version that keeps
the shape still reads.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass

from sizebot.binary.binaryfile import BinaryFile
from sizebot.binary.pclntab import MAGIC_GO118, Pclntab, uvarint


@dataclass(frozen=True)
class ModuleData:
    addr: int
    size: int  # bytes of the struct up to and including itablinks
    text: int
    etext: int
    findfunctab: int
    types: int
    etypes: int
    rodata: int
    gofunc: int
    typelinks: tuple[int, int]  # (addr, count) of int32 offsets from types; (0, 0) in Go 1.27+
    itablinks: tuple[int, int]  # (addr, count) of *itab; (0, 0) in Go 1.27+
    typedesclen: int = 0  # Go 1.27+: typelinked descriptors are packed in [types+ptr, types+typedesclen)
    itabs: tuple[int, int] = (0, 0)  # Go 1.27+: (offset from types, size) of the packed itabs
    maxpc: int = 0  # end of the last function


def find_moduledata(binary: BinaryFile, pcln: Pclntab) -> ModuleData | None:
    """The first module's moduledata, or None when it cannot be found."""
    ptr = binary.ptr_size
    bo = "<" if binary.byte_order == "little" else ">"
    word = bo + ("Q" if ptr == 8 else "I")
    needle = struct.pack(word, pcln.addr) + struct.pack(word, pcln.addr + (pcln.funcname_off - pcln.start))
    candidates: list[int] = []
    regions = []
    md_sec = binary.moduledata_section()
    if md_sec is not None:
        regions.append(md_sec)
    regions += [s for s in binary.data_sections() if s not in regions]
    regions += [s for s in binary.sections if s.file_size and "w" in s.flags.split(",") and s not in regions]
    for sec in regions:
        pos = binary.find_bytes(needle, sec.offset, sec.offset + sec.file_size)
        while pos >= 0:
            if (pos - sec.offset) % ptr == 0:
                candidates.append(pos)
            pos = binary.find_bytes(needle, pos + 1, sec.offset + sec.file_size)
    for off in candidates:
        md = _parse(binary, pcln, off, word, ptr)
        if md is not None:
            return md
    return None


def _parse(binary: BinaryFile, pcln: Pclntab, off: int, word: str, ptr: int) -> ModuleData | None:
    data = binary.data
    n_words = 60
    if off + n_words * ptr > binary.file_size:
        return None
    w = [struct.unpack_from(word, data, off + i * ptr)[0] for i in range(n_words)]
    if w[0] != pcln.addr:
        return None
    text, etext = w[22], w[23]
    if not text or etext < text:
        return None
    covctrs = (0,) if pcln.magic == MAGIC_GO118 else (2, 0)
    for cov in covctrs:
        base = 32 + cov  # end
        types, etypes, rodata, gofunc = w[base + 3], w[base + 4], w[base + 5], w[base + 6]
        if not types <= etypes:
            continue
        for extra in (0, 1):  # Go 1.26+: epclntab after gofunc
            ts = base + 7 + extra  # textsectmap slice
            tl, il = ts + 3, ts + 6
            if il + 3 > n_words:
                continue
            if not (_slice_ok(binary, w[tl], w[tl + 1], w[tl + 2], 4)
                    and _slice_ok(binary, w[il], w[il + 1], w[il + 2], ptr)):
                continue
            if not _slice_ok(binary, w[ts], w[ts + 1], w[ts + 2], 3 * ptr):
                continue
            return ModuleData(
                addr=_addr_of(binary, off),
                size=(il + 3) * ptr,
                text=text,
                etext=etext,
                findfunctab=w[19],
                types=types,
                etypes=etypes,
                rodata=rodata,
                gofunc=gofunc,
                typelinks=(w[tl], w[tl + 1]),
                itablinks=(w[il], w[il + 1]),
                maxpc=w[21],
            )
    if pcln.magic != MAGIC_GO118:  # Go 1.27+
        types, desclen, etypes, itab_off, itab_size, rodata, gofunc, epclntab = w[37:45]
        span = etypes - types
        if types and 0 <= span and desclen <= span and itab_off + itab_size <= span and epclntab > pcln.addr:
            if _slice_ok(binary, w[45], w[46], w[47], 3 * ptr):
                return ModuleData(
                    addr=_addr_of(binary, off), size=48 * ptr, text=text, etext=etext, findfunctab=w[19],
                    types=types, etypes=etypes, rodata=rodata, gofunc=gofunc, typelinks=(0, 0), itablinks=(0, 0),
                    typedesclen=desclen, itabs=(itab_off, itab_size), maxpc=w[21],
                )
    return None


def _slice_ok(binary: BinaryFile, addr: int, length: int, cap: int, elem: int) -> bool:
    if length != cap or length > binary.file_size:
        return False
    if length == 0:
        return True
    return binary.vaddr_to_offset(addr) is not None and binary.vaddr_to_offset(addr + length * elem - 1) is not None


def _addr_of(binary: BinaryFile, off: int) -> int:
    sec = binary.section_at_offset(off)
    if sec is None or not sec.addr:
        return 0
    return sec.addr + (off - sec.offset)


# -- type descriptors (internal/abi/type.go) ------------------------------------------------------

K_ARRAY, K_CHAN, K_FUNC, K_INTERFACE, K_MAP, K_POINTER, K_SLICE, K_STRUCT = 17, 18, 19, 20, 21, 22, 23, 25
TFLAG_UNCOMMON = 1


@dataclass
class TypeRegions:
    """What the type walk recovered: byte ranges (file offsets) and the package owning each."""

    claims: list[tuple[int, int, str]]  # (start, end, package path) file offsets
    types: int  # descriptors found


class TypeWalker:
    """Recover type descriptors, their names, itabs, typelinks and itablinks from moduledata alone.

    A descriptor is claimed as: common header + kind-specific fields, its uncommon type, its field /
    parameter / interface-method array and its method table; plus the abi.Name blobs it references.
    Its package is the uncommon type's pkgpath, else a struct/interface pkgpath, else that of its
    element/key/parameter types. Types reached only from code (no descriptor or link points at them)
    are not found; their bytes stay unattributed.
    """

    def __init__(self, binary: BinaryFile, md: ModuleData, go_minor: int):
        self.b = binary
        self.md = md
        self.ptr = binary.ptr_size
        self.bo = "<" if binary.byte_order == "little" else ">"
        self.word = struct.Struct(self.bo + ("Q" if self.ptr == 8 else "I"))
        self.u32 = struct.Struct(self.bo + "I")
        self.i32 = struct.Struct(self.bo + "i")
        self.go_minor = go_minor
        self.common = 4 * self.ptr + 16
        self._pkg: dict[int, str | None] = {}
        self._info: dict[int, tuple | None] = {}  # addr -> descriptor() result
        self._names: dict[int, tuple[str, int] | None] = {}  # addr -> name_at() result: names are shared
        self._gap_spans: list[tuple[int, int]] = []  # _scan_gaps: spans of the descriptors seen so far
        self._gap_done = 0
        # the type region is one section's bytes in every format Go writes: map it by arithmetic
        self._types_off = None
        for sec in binary.sections:
            if sec.file_size and sec.addr <= md.types and md.etypes <= sec.addr + sec.file_size:
                self._types_off = sec.offset + (md.types - sec.addr)
                break

    # low-level reads by virtual address; None when unmapped
    def _off(self, addr: int, size: int) -> int | None:
        off: int | None
        if self._types_off is not None and self.md.types <= addr and addr + size <= self.md.etypes:
            off = self._types_off + (addr - self.md.types)
        else:
            off = self.b.vaddr_to_offset(addr)
            if off is not None and size and self.b.vaddr_to_offset(addr + size - 1) != off + size - 1:
                return None
        if off is None or off + size > self.b.file_size:
            return None
        return off

    def _words(self, off: int, n: int) -> tuple[int, ...]:
        return struct.unpack_from(f"{self.bo}{n}{'Q' if self.ptr == 8 else 'I'}", self.b.data, off)

    def _word(self, addr: int) -> int | None:
        off = self._off(addr, self.ptr)
        return None if off is None else self.word.unpack_from(self.b.data, off)[0]

    def name_at(self, addr: int) -> tuple[str, int] | None:
        """(text, encoded length) of the abi.Name at addr."""
        try:
            return self._names[addr]
        except KeyError:
            got = self._names[addr] = self._name_at(addr)
            return got

    def _name_at(self, addr: int) -> tuple[str, int] | None:
        off = self._off(addr, 2)
        if off is None:
            return None
        d = self.b.data
        flags = d[off]
        if flags & 0xF0:
            return None
        n, p = self._varint(off + 1)
        if n is None or p + n > self.b.file_size:
            return None
        text = bytes(d[p : p + n]).decode("utf-8", "replace")
        end = p + n
        if flags & 2:
            t, q = self._varint(end)
            if t is None:
                return None
            end = q + t
        if flags & 4:
            end += 4
        return text, end - off

    def _varint(self, off: int) -> tuple[int | None, int]:
        # at most 5 bytes (35 bits): a longer length is an absurd type name, refused
        return uvarint(self.b.data, off, 35)

    def _in_types(self, addr: int) -> bool:
        return self.md.types <= addr < self.md.etypes

    def descriptor(self, addr: int) -> tuple | None:
        """Parse the descriptor at ``addr``: (kind, referenced type addrs, pkgpath, [(addr, size)], [name addrs])."""
        if addr in self._info:
            return self._info[addr]
        info = self._parse(addr)
        self._info[addr] = info
        return info

    def _parse(self, addr: int) -> tuple | None:
        ptr, W = self.ptr, self._word
        if not self._in_types(addr) or addr % ptr:
            return None
        off = self._off(addr, self.common)
        if off is None:
            return None
        d = self.b.data
        tflag, align, falign, kind_b = d[off + 2 * ptr + 4 : off + 2 * ptr + 8]
        kind = kind_b & 0x1F
        if not 1 <= kind <= 26 or align not in (1, 2, 4, 8, 16) or falign not in (1, 2, 4, 8, 16):
            return None
        str_off = self.i32.unpack_from(d, off + 4 * ptr + 8)[0]
        ptr_to_this = self.i32.unpack_from(d, off + 4 * ptr + 12)[0]
        types = self.md.types
        names = [types + str_off]
        refs: list[int | None] = []  # None (an unreadable word) is dropped at the end
        if ptr_to_this > 0:
            refs.append(types + ptr_to_this)
        pkgpath = None
        base = addr + self.common
        arrays: list[tuple[int, int]] = []  # (addr, size)
        if kind == K_ARRAY:
            refs += [W(base), W(base + ptr)]
            extra = 3 * ptr
        elif kind == K_CHAN:
            refs.append(W(base))
            extra = 2 * ptr
        elif kind in (K_POINTER, K_SLICE):
            refs.append(W(base))
            extra = ptr
        elif kind == K_FUNC:
            extra = ptr
        elif kind == K_MAP:
            refs += [W(base), W(base + ptr), W(base + 2 * ptr)]
            extra = (7 * ptr + 4 + ptr - 1) // ptr * ptr if self.go_minor >= 24 else 4 * ptr + 8
        elif kind in (K_STRUCT, K_INTERFACE):
            pp, arr, n, cap = W(base), W(base + ptr), W(base + 2 * ptr), W(base + 3 * ptr)
            if arr is None or n is None or n != cap or n > 1 << 16:
                return None
            if pp:
                names.append(pp)
                got = self.name_at(pp)
                if got and got[0]:
                    pkgpath = got[0]
            extra = 4 * ptr
            esize = 3 * ptr if kind == K_STRUCT else 8
            # the array inside the type region (the usual case): one unpack for all its entries
            bulk = self._types_off is not None and types <= arr and arr + n * esize <= self.md.etypes
            if bulk:
                assert self._types_off is not None  # bulk says so
                ao = self._types_off + (arr - types)
                if ao + n * esize > self.b.file_size:
                    bulk = False
            if kind == K_STRUCT:
                if bulk:
                    words = self._words(ao, 3 * n)
                    names += words[0::3]  # abi.StructField: Name, Typ, Offset
                    refs += words[1::3]
                else:
                    for i in range(n):
                        names.append(W(arr + i * esize) or 0)
                        refs.append(W(arr + i * esize + ptr) or 0)
            elif bulk:
                pairs = struct.unpack_from(f"{self.bo}{2 * n}i", d, ao)
                names += [types + o for o in pairs[0::2]]
                refs += [types + o for o in pairs[1::2]]
            else:
                for i in range(n):
                    eo = self._off(arr + i * 8, 8)
                    if eo is None:
                        return None
                    names.append(types + self.i32.unpack_from(d, eo)[0])
                    refs.append(types + self.i32.unpack_from(d, eo + 4)[0])
            if n:
                arrays.append((arr, n * esize))
        else:
            extra = 0
        end = addr + self.common + extra
        arrays.insert(0, (addr, self.common + extra))  # the fixed part first
        if kind == K_FUNC:
            fo = self._off(base, 4)
            if fo is None:
                return None
            inc, outc = struct.unpack_from(self.bo + "HH", d, fo)
            nparams = inc + (outc & 0x7FFF)
            if nparams > 1 << 12:
                return None
            params = end + (16 if tflag & TFLAG_UNCOMMON else 0)
            for i in range(nparams):
                refs.append(W(params + i * ptr) or 0)
            if nparams:
                arrays.append((params, nparams * ptr))
        if tflag & TFLAG_UNCOMMON:
            uo = self._off(end, 16)
            if uo is None:
                return None
            upkg, mcount, _xcount, moff = struct.unpack_from(self.bo + "iHHI", d, uo)
            arrays.append((end, 16))
            if upkg:
                names.append(types + upkg)
                got = self.name_at(types + upkg)
                if got and got[0]:
                    pkgpath = got[0]
            if mcount:
                mo = self._off(end + moff, 16 * mcount)
                if mo is None or moff > 1 << 20:
                    return None
                arrays.append((end + moff, 16 * mcount))
                for mname, mtyp, _ifn, _tfn in struct.iter_unpack(self.bo + "iiii", d[mo : mo + 16 * mcount]):
                    names.append(types + mname)
                    if mtyp > 0:
                        refs.append(types + mtyp)
        return kind, tuple(r for r in refs if r), pkgpath, arrays, names

    def package(self, addr: int, depth: int = 0) -> str | None:
        if addr in self._pkg:
            return self._pkg[addr]
        info = self.descriptor(addr)
        pkg = None
        if info is not None:
            _kind, refs, pkgpath, _arrays, _names = info
            pkg = pkgpath
            if pkg is None and depth < 8:
                self._pkg[addr] = None  # cycles
                for r in refs:
                    pkg = self.package(r, depth + 1)
                    if pkg:
                        break
        self._pkg[addr] = pkg
        return pkg

    def _scan_gaps(self, found: list[int]) -> list[int]:
        """Descriptors referenced only from code: look for plausible ones at pointer-aligned
        addresses in the gaps between the descriptors and names found so far."""
        ptr, common = self.ptr, self.common
        spans = self._gap_spans  # sorted spans of found[:self._gap_done], from the previous round
        for a in found[self._gap_done :]:
            spans += self._descriptor_spans(a)
        self._gap_done = len(found)
        if not spans:
            return []
        spans.sort()  # a sorted run plus the new spans: nearly linear
        out, pos = [], self.md.types
        for s, e in spans:
            if s >= pos + common:  # a gap that can hold a descriptor's fixed part
                p = (pos + ptr - 1) // ptr * ptr
                while p + common <= s:
                    if self._plausible(p, s):
                        out.append(p)
                        p += common
                    else:
                        p += ptr
            if e > pos:
                pos = e
        return out

    def _descriptor_spans(self, a: int) -> list[tuple[int, int]]:
        """(start, end) addresses of a descriptor's parts and names inside the type region."""
        types, etypes = self.md.types, self.md.etypes
        info = self._info[a]
        if info is None:  # only parsed descriptors are listed
            return []
        _kind, _refs, _pp, arrays, names = info
        out = [(start, start + size) for start, size in arrays if types <= start < etypes]
        cache, name_at = self._names, self.name_at
        for n in names:
            if n and types <= n < etypes:
                got = cache[n] if n in cache else name_at(n)
                if got:
                    out.append((n, n + got[1]))
        return out

    def _plausible(self, addr: int, limit: int) -> bool:
        """Strict checks for a descriptor nobody points at: sane sizes, a hash, a printable type
        string, element pointers into the type region, its fixed part inside the gap."""
        off = self._off(addr, self.common)
        if off is None:
            return False
        d, ptr = self.b.data, self.ptr
        size, ptrbytes = self.word.unpack_from(d, off)[0], self.word.unpack_from(d, off + ptr)[0]
        hash_ = self.u32.unpack_from(d, off + 2 * ptr)[0]
        if ptrbytes > size or size >= 1 << 40 or not hash_:
            return False
        str_off = self.i32.unpack_from(d, off + 4 * ptr + 8)[0]
        if not 0 < str_off < self.md.etypes - self.md.types:
            return False
        got = self.name_at(self.md.types + str_off)
        if not got or not got[0] or not got[0].isprintable():
            return False
        info = self.descriptor(addr)
        if info is None:
            return False
        kind, refs, _pp, arrays, _names = info
        if addr + arrays[0][1] > limit:  # the fixed part must fit in the gap
            return False
        if kind in (K_ARRAY, K_CHAN, K_POINTER, K_SLICE, K_MAP) and not refs:
            return False
        return all(self._in_types(r) for r in refs)

    def _packed_descriptors(self) -> list[int]:
        """Go 1.27+: walk the descriptors packed from types+ptr to types+typedesclen."""
        ptr, out = self.ptr, []
        td, end = self.md.types + ptr, self.md.types + self.md.typedesclen
        while td < end:
            td = (td + ptr - 1) // ptr * ptr
            info = self.descriptor(td)
            if info is None:
                break
            out.append(td)
            td = max(a + n for a, n in info[3] if a >= td)
        return out

    def _packed_itabs(self) -> list[int]:
        """Go 1.27+: walk the itabs packed at types+itaboffset (abi.ITab.Size)."""
        ptr, d, out = self.ptr, self.b.data, []
        p = self.md.types + self.md.itabs[0]
        end = p + self.md.itabs[1]
        fun = 2 * ptr + (8 if ptr == 8 else 4)  # Inter, Type, Hash (+pad on 64-bit), then Fun[1]
        while p < end:
            inter, fun0 = self._word(p), self._word(p + fun)
            if inter is None or fun0 is None:
                break
            out.append(p)
            n = 1
            io = self._off(inter + self.common + 2 * ptr, ptr)  # len(Inter.Methods)
            if fun0 and io is not None:
                n = max(1, self.word.unpack_from(d, io)[0])
            p += fun + n * ptr
        return out

    def walk(self) -> TypeRegions:
        md, ptr, d = self.md, self.ptr, self.b.data
        roots: list[int] = []
        claims: list[tuple[int, int, str]] = []
        tl_addr, tl_n = md.typelinks
        tl_off = self.b.vaddr_to_offset(tl_addr) if tl_n else None
        typelinks = []
        if tl_off is not None:
            typelinks = [md.types + o for (o,) in struct.iter_unpack(self.bo + "i", d[tl_off : tl_off + 4 * tl_n])]
            roots += typelinks
        il_addr, il_n = md.itablinks
        il_off = self.b.vaddr_to_offset(il_addr) if il_n else None
        itabs = []
        if il_off is not None:
            itabs = [a for (a,) in self.word.iter_unpack(d[il_off : il_off + ptr * il_n])]
        if md.typedesclen:
            roots += self._packed_descriptors()
        if md.itabs[1]:
            itabs += self._packed_itabs()
        itab_info: list[tuple[int, int, int] | None] = []
        fun_off = 2 * ptr + (8 if ptr == 8 or self.go_minor < 22 else 4)  # Inter, Type, Hash (+pad)
        for it in itabs:
            inter, typ = self._word(it), self._word(it + ptr)
            if inter is None or typ is None:
                itab_info.append(None)
                continue
            roots += [inter, typ]
            info = self.descriptor(inter)
            nmeth = 1
            if info is not None and info[0] == K_INTERFACE:
                io = self._off(inter + self.common + 2 * ptr, ptr)
                nmeth = max(1, self.word.unpack_from(d, io)[0]) if io is not None else 1
            itab_info.append((it, fun_off + nmeth * ptr, typ))
        # breadth-first over every referenced descriptor, then descriptors found in the gaps
        seen: set[int] = set()
        order: list[int] = []
        todo = list(roots)
        for _round in range(3):
            while todo:
                a = todo.pop()
                if a in seen:
                    continue
                seen.add(a)
                info = self.descriptor(a)
                if info is None:
                    continue
                order.append(a)
                todo.extend(r for r in info[1] if r not in seen)
            todo = [a for a in self._scan_gaps(order) if a not in seen]
            if not todo:
                break
        named: set[int] = set()
        # _off's arithmetic for the type region, inlined: addresses in [lo, hi) are at addr + delta
        lo, hi, delta = 0, 0, 0
        if self._types_off is not None:
            lo, delta = md.types, self._types_off - md.types
            hi = min(md.etypes, self.b.file_size - delta)
        name_at, off_of, add = self.name_at, self._off, claims.append
        for a in order:
            pkg = self.package(a)
            if not pkg:
                continue
            info = self._info[a]
            if info is None:  # order holds parsed descriptors only
                continue
            _kind, _refs, _pp, arrays, names = info
            for start, size in arrays:
                off = start + delta if lo <= start and start + size <= hi else off_of(start, size)
                if off is not None:
                    add((off, off + size, pkg))
            for n in names:
                if n in named or not n:
                    continue
                named.add(n)
                got = name_at(n)
                if got is not None:
                    size = got[1]
                    off = n + delta if lo <= n and n + size <= hi else off_of(n, size)
                    if off is not None:
                        add((off, off + size, pkg))
        for tl, a in zip(range(tl_n), typelinks, strict=False):  # typelinks may be cut short
            pkg = self.package(a)
            if pkg and tl_off is not None:
                claims.append((tl_off + 4 * tl, tl_off + 4 * tl + 4, pkg))
        for i, item in enumerate(itab_info):
            if item is None:
                continue
            it, size, typ = item
            pkg = self.package(typ)
            if not pkg:
                continue
            off = self._off(it, size)
            if off is not None:
                claims.append((off, off + size, pkg))
            if il_off is not None:
                claims.append((il_off + ptr * i, il_off + ptr * (i + 1), pkg))
        claims += self._padding(claims)
        return TypeRegions(claims=claims, types=len(order))

    def _padding(self, claims: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """Zero bytes (< 32, the descriptors' alignment) between two recovered objects of the type
        region are the alignment padding of the first: same package."""
        if self._types_off is None:
            return []
        lo, hi = self._types_off, self._types_off + (self.md.etypes - self.md.types)
        inside = sorted(c for c in claims if lo <= c[0] < hi)
        out, d = [], self.b.data
        for (_s1, e1, pkg), (s2, _e2, _p2) in itertools.pairwise(inside):
            if 0 < s2 - e1 < 32 and not any(d[e1:s2]):
                out.append((e1, s2, pkg))
        return out
