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

import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

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
ALIGNS = np.zeros(256, bool)  # the alignments a descriptor may have
ALIGNS[[1, 2, 4, 8, 16]] = True


@dataclass
class TypeRegions:
    """What the type walk recovered: byte ranges (file offsets) and the package owning each."""

    starts: np.ndarray  # int64 file offsets
    ends: np.ndarray
    packages: np.ndarray  # index into ``names`` of each range's package
    names: list[str]  # package paths, in the order of first use
    types: int  # descriptors found


@dataclass(frozen=True)
class Links:
    """What moduledata links to the type region (TypeWalker.links)."""

    roots: list[int]  # descriptor addresses: typelinked, packed (Go 1.27+), and each itab's interface and type
    typelinks: list[int]  # the typelinked descriptors' addresses
    tl_off: int | None  # file offset of the typelinks
    tl_n: int
    il_off: int | None  # file offset of the itablinks
    pairs: list[tuple[int, int, int] | None]  # (itab, interface, type) of each itab; None where unreadable


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

    def _region(self) -> np.ndarray:
        """The type region's bytes as far as the file holds them (a view of the mapping: callers drop
        it before returning, so the file can be closed)."""
        if self._types_off is None:
            return np.zeros(0, np.uint8)
        n = max(0, min(self.md.etypes - self.md.types, self.b.file_size - self._types_off))
        return np.frombuffer(self.b.data, np.uint8, count=n, offset=self._types_off)

    def _name_sizes(self, rel: np.ndarray) -> np.ndarray:
        """name_at(types + r)[1] for each offset r into the type region, -1 where it is None. The
        usual name (no tag, a length below 2^14) is sized by array operations; the others by name_at."""
        buf = self._region()
        out = np.full(len(rel), -1, np.int64)
        slow = np.ones(len(rel), bool)
        quick = np.flatnonzero(rel + 3 <= len(buf))
        if len(quick):
            r = rel[quick]
            flags, b1, b2 = buf[r], buf[r + 1].astype(np.int64), buf[r + 2].astype(np.int64)
            one = b1 < 0x80
            vlen = np.where(one, 1, 2)
            n = np.where(one, b1, (b1 & 0x7F) | b2 << 7)
            fits = int(self._types_off or 0) + r + 1 + vlen + n <= self.b.file_size
            out[quick] = np.where(fits & (flags & 0xF0 == 0), 1 + vlen + n + 4 * (flags >> 2 & 1), -1)
            slow[quick[(flags & 0xF0 != 0) | ((flags & 2 == 0) & (one | (b2 < 0x80)))]] = False
        del buf
        for i in np.flatnonzero(slow).tolist():
            got = self.name_at(self.md.types + int(rel[i]))
            out[i] = -1 if got is None else got[1]
        return out

    def _scan_gaps(self, found: list[int]) -> list[int]:
        """Descriptors referenced only from code: look for plausible ones at pointer-aligned
        addresses in the gaps between the descriptors and names found so far."""
        types, etypes = self.md.types, self.md.etypes
        starts, ends, names = [], [], set()
        info = self._info
        for a in found:
            got = info[a]
            if got is None:  # only parsed descriptors are listed
                continue
            for start, size in got[3]:
                if types <= start < etypes:
                    starts.append(start - types)
                    ends.append(start - types + size)
            names.update(got[4])
        rel = np.fromiter((n - types for n in names if n and types <= n < etypes), np.int64)
        return self.gaps(np.array(starts, np.int64), np.array(ends, np.int64), rel)

    def gaps(self, starts: np.ndarray, ends: np.ndarray, names: np.ndarray) -> list[int]:
        """_scan_gaps from the spans found so far: ``starts``/``ends`` of the descriptors' parts and
        ``names`` (abi.Name addresses), all as offsets into the type region."""
        ptr, common, types = self.ptr, self.common, self.md.types
        sizes = self._name_sizes(names)
        named = sizes >= 0
        s = np.concatenate([starts, names[named]])
        e = np.concatenate([ends, names[named] + sizes[named]])
        if not len(s):
            return []
        by = np.lexsort((e, s))
        s, e = s[by], e[by]
        pos = np.maximum(np.concatenate([[0], np.maximum.accumulate(e)[:-1]]), 0)  # the furthest end before
        gap = np.flatnonzero(s >= pos + common)  # a gap that can hold a descriptor's fixed part
        lo = (pos[gap] + types % ptr + ptr - 1) // ptr * ptr - types % ptr  # pointer-aligned addresses
        hi = s[gap]
        cands = self._gap_candidates(lo, hi)
        first = np.searchsorted(cands, lo)
        last = np.searchsorted(cands, hi - common, "right")
        out: list[int] = []
        for g in np.flatnonzero(last > first).tolist():
            p, limit = int(lo[g]), int(hi[g])
            for c in cands[first[g] : last[g]].tolist():
                if c >= p and self._plausible(types + c, types + limit):
                    out.append(types + c)
                    p = c + common
        return out

    def _gap_candidates(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Offsets into the type region of the pointer-aligned addresses p, lo <= p and p + common <= hi
        (lo aligned; the gaps in order), that pass _plausible's first checks (sizes, hash, type string
        offset, kind and alignments) by array operations: the rest of _plausible runs at these only."""
        ptr, common = self.ptr, self.common
        buf = self._region()
        count = np.maximum((hi - common - lo) // ptr + 1, 0)
        first = np.cumsum(count) - count
        at = np.repeat(lo, count) + (np.arange(int(count.sum())) - np.repeat(first, count)) * ptr
        at = at[at + common <= len(buf)]  # else _off finds no bytes there

        def read(rel: np.ndarray, dtype: str, buf: np.ndarray = buf) -> np.ndarray:
            return buf[rel[:, None] + np.arange(int(dtype[-1]))].view(self.bo + dtype).ravel()

        word = "u8" if ptr == 8 else "u4"
        size, ptrbytes = read(at, word), read(at + ptr, word)
        ok = (ptrbytes <= size) & (size < 1 << 40) & (read(at + 2 * ptr, "u4") != 0)
        str_off = read(at + 4 * ptr + 8, "i4")
        ok &= (str_off > 0) & (str_off < self.md.etypes - self.md.types)
        h = at + 2 * ptr + 4
        kind = buf[h + 3] & 0x1F
        ok &= ALIGNS[buf[h + 1]] & ALIGNS[buf[h + 2]] & (kind >= 1) & (kind <= 26)
        return at[ok]

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

    def links(self) -> Links:
        """The typelinks, the itabs (itablinks, or packed in Go 1.27+) and the descriptors they name."""
        md, ptr, d = self.md, self.ptr, self.b.data
        roots: list[int] = []
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
        pairs: list[tuple[int, int, int] | None] = []
        for it in itabs:
            inter, typ = self._word(it), self._word(it + ptr)
            if inter is None or typ is None:
                pairs.append(None)
                continue
            roots += [inter, typ]
            pairs.append((it, inter, typ))
        return Links(roots, typelinks, tl_off, tl_n, il_off, pairs)

    def itab_sizes(
        self, pairs: list[tuple[int, int, int] | None], is_interface: Callable[[int], bool]
    ) -> list[tuple[int, int, int] | None]:
        """(address, size, type) of each itab: its fixed part and one word per method of its interface."""
        ptr, d = self.ptr, self.b.data
        fun_off = 2 * ptr + (8 if ptr == 8 or self.go_minor < 22 else 4)  # Inter, Type, Hash (+pad)
        out: list[tuple[int, int, int] | None] = []
        for item in pairs:
            if item is None:
                out.append(None)
                continue
            it, inter, typ = item
            nmeth = 1
            if is_interface(inter):
                io = self._off(inter + self.common + 2 * ptr, ptr)
                nmeth = max(1, self.word.unpack_from(d, io)[0]) if io is not None else 1
            out.append((it, fun_off + nmeth * ptr, typ))
        return out

    def link_claims(
        self, links: Links, itab_info: list[tuple[int, int, int] | None], package: Callable[[int], str | None],
        pkg_index: Callable[[str], int], starts: list[int], ends: list[int], pkgs: list[int],
    ) -> None:
        """The typelinks' and the itabs' ranges, for the package of the type each names."""
        tl_off, il_off, ptr = links.tl_off, links.il_off, self.ptr
        for tl, a in zip(range(links.tl_n), links.typelinks, strict=False):  # typelinks may be cut short
            pkg = package(a)
            if pkg and tl_off is not None:
                starts.append(tl_off + 4 * tl)
                ends.append(tl_off + 4 * tl + 4)
                pkgs.append(pkg_index(pkg))
        for i, item in enumerate(itab_info):
            if item is None:
                continue
            it, size, typ = item
            pkg = package(typ)
            if not pkg:
                continue
            off = self._off(it, size)
            if off is not None:
                starts.append(off)
                ends.append(off + size)
                pkgs.append(pkg_index(pkg))
            if il_off is not None:
                starts.append(il_off + ptr * i)
                ends.append(il_off + ptr * (i + 1))
                pkgs.append(pkg_index(pkg))

    def regions(
        self, starts: list[int] | np.ndarray, ends: list[int] | np.ndarray, pkgs: list[int] | np.ndarray,
        names: list[str], types: int,
    ) -> TypeRegions:
        """The recovered ranges, and the padding after them (_padding)."""
        s, e, p = np.asarray(starts, np.int64), np.asarray(ends, np.int64), np.asarray(pkgs, np.int64)
        ps, pe, pp = self._padding(s, e, p, names)
        return TypeRegions(np.concatenate([s, ps]), np.concatenate([e, pe]), np.concatenate([p, pp]), names, types)

    def _is_interface(self, addr: int) -> bool:
        info = self.descriptor(addr)
        return info is not None and info[0] == K_INTERFACE

    def walk(self) -> TypeRegions:
        """The walk one descriptor at a time (typewalk.py does it in batches where it can)."""
        md = self.md
        links = self.links()
        itab_info = self.itab_sizes(links.pairs, self._is_interface)
        # depth-first over every referenced descriptor, then descriptors found in the gaps
        seen: set[int] = set()
        order: list[int] = []
        todo = list(links.roots)
        for rnd in range(3):
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
            if rnd == 2:  # the last round's gaps would not be walked
                break
            todo = [a for a in self._scan_gaps(order) if a not in seen]
            if not todo:
                break
        named: set[int] = set()
        # _off's arithmetic for the type region, inlined: addresses in [lo, hi) are at addr + delta
        lo, hi, delta = 0, 0, 0
        if self._types_off is not None:
            lo, delta = md.types, self._types_off - md.types
            hi = min(md.etypes, self.b.file_size - delta)
        starts: list[int] = []
        ends: list[int] = []
        pkgs: list[int] = []
        index: dict[str, int] = {}  # package path -> its index, in the order of first use
        names: list[str] = []

        pkg_index = package_indexer(index, names)

        name_at, off_of = self.name_at, self._off
        for a in order:
            pkg = self.package(a)
            if not pkg:
                continue
            info = self._info[a]
            if info is None:  # order holds parsed descriptors only
                continue
            k = pkg_index(pkg)
            _kind, _refs, _pp, arrays, desc_names = info
            for start, size in arrays:
                off = start + delta if lo <= start and start + size <= hi else off_of(start, size)
                if off is not None:
                    starts.append(off)
                    ends.append(off + size)
                    pkgs.append(k)
            for n in desc_names:
                if n in named or not n:
                    continue
                named.add(n)
                got = name_at(n)
                if got is not None:
                    size = got[1]
                    off = n + delta if lo <= n and n + size <= hi else off_of(n, size)
                    if off is not None:
                        starts.append(off)
                        ends.append(off + size)
                        pkgs.append(k)
        self.link_claims(links, itab_info, self.package, pkg_index, starts, ends, pkgs)
        return self.regions(starts, ends, pkgs, names, len(order))

    def _padding(
        self, starts: np.ndarray, ends: np.ndarray, pkgs: np.ndarray, names: list[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Zero bytes (< 32, the descriptors' alignment) between two recovered objects of the type
        region are the alignment padding of the first: same package. The objects in the order of
        (start, end, package path); the padding as (starts, ends, package indexes)."""
        none = np.zeros(0, np.int64)
        if self._types_off is None:
            return none, none, none
        lo, hi = self._types_off, self._types_off + (self.md.etypes - self.md.types)
        inside = np.flatnonzero((starts >= lo) & (starts < hi))
        rank = np.zeros(len(names), np.int64)
        rank[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
        by = inside[np.lexsort((rank[pkgs[inside]], ends[inside], starts[inside]))]
        e1, s2 = ends[by[:-1]], starts[by[1:]]
        pad = np.flatnonzero((s2 - e1 > 0) & (s2 - e1 < 32))
        e1, s2 = e1[pad], s2[pad]
        data = np.frombuffer(self.b.data, np.uint8)
        at = e1[:, None] + np.arange(31)
        inside_gap = at < s2[:, None]
        nonzero = (data[np.where(inside_gap, at, 0)] != 0) & inside_gap
        zero = ~nonzero.any(axis=1)
        del data
        return e1[zero], s2[zero], pkgs[by[:-1][pad][zero]]


def package_indexer(index: dict[str, int], names: list[str]) -> Callable[[str], int]:
    """A package path's index in ``names``, appended on first use (``index`` maps them back)."""

    def pkg_index(pkg: str) -> int:
        k = index.get(pkg)
        if k is None:
            k = index[pkg] = len(names)
            names.append(pkg)
        return k

    return pkg_index
