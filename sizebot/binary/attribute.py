"""Every byte of a Go binary -> exactly one bucket -> ``BinaryReport``.

Buckets: a package's code (each function's own bytes: the pc span of its pc-value tables, capped
at the next entry, exactly what ``go tool nm -size`` reports), its meta (functab entry, _func
record and arrays, name, pc-value tables, funcdata objects, inlined functions' names, its CUs'
cutab runs and file names) and its data (type descriptors, their names, itabs, typelinks and
itablinks recovered through moduledata; sized data symbols when a symbol table exists; on unstripped
builds also each Go symbol's symbol-table entry and name string, as meta). Every
other byte is a per-section ``Unattributed`` row (alignment padding between functions stays in
.text), or "(headers)"/"(padding)" outside sections.

Claims are resolved by file offset: sorted by start (ties: code, meta, types, symbols), each byte
goes to the first claim that covers it and only bytes inside a section count, so no byte is
counted twice and the buckets always sum to the file size. Code comes only from the pclntab, so
stripped and unstripped builds give the same per-package code.

Functions without a package in their name (assembly helpers such as "aeshashbody") go to the most
common package of their compilation unit. C code and data (cgo, external linking) have no Go
package: they stay unattributed in their section, also when a symbol table names them.
"""

from __future__ import annotations

import bisect
import os
import re
import struct
from collections import defaultdict

from sizebot.binary.buildinfo import module_for_package, parse_buildinfo
from sizebot.binary.container import BinaryFile, open_binary
from sizebot.documents.analyze import BinaryReport, BuildInfo, Function, ModuleSize, PackageSize, Unattributed
from sizebot.binary.moduledata import ModuleData, TypeWalker, find_moduledata
from sizebot.binary.pclntab import MAGIC_GO118, NO_FUNCDATA, SUPPORTED_MAGICS, FuncRecord, Pclntab, read_magic
from sizebot.errors import PclntabError, UnsupportedGoVersion

CODE, META, DATA = 0, 1, 2
_TYPES_PRIO, _SYMBOL_PRIO = 2, 3

NOT_GO = "not a Go binary: sections only"

# Prefixes of linker-made symbol names whose remainder names a type or a function.
_STRIP_PREFIXES = ("type:.eq.", "type:.hash.", "type:.namedata.", "type:.importpath.", "type:",
                   "go:itab.", "go:info.", "type..eq.", "type..hash.", "type..namedata.", "type.", "go.itab.")
# Container/marker symbols: they span many objects, never one package's.
_MARKERS = re.compile(r"^(go[:.](string|func|funcdesc|buildinfo|fipsinfo|shape|cuinfo|constinfo)\b|runtime\.(e?(text|types|rodata|noptrdata|data|bss|noptrbss|pclntab|itablink|typelink|covctrs|gcdata|gcbss|end|symtab|esymtab|go\.buildinfo)|gcbits\.|firstmoduledata|pcheader|funcnametab|cutab|filetab|pctab|functab|findfunctab)$|type:\*$|.*\.\*$)")


class Claims:
    """Byte ranges claimed for (package, kind), each packed into one int (a tuple per claim would
    cost about three times the memory on large binaries): sorting the ints orders the claims by
    start, then priority. Layout, low bits first: kind 2, package index 20, end 40, priority 2, start."""

    _END_MASK = (1 << 40) - 1

    def __init__(self) -> None:
        self._items: list[int] = []

    @property
    def items(self) -> list[int]:
        """The packed claims; hot loops append to it directly (only non-empty ranges)."""
        return self._items

    def add(self, start: int, end: int, prio: int, pid: int, kind: int) -> None:
        if end > start:
            self._items.append((((start << 2 | prio) << 40 | end) << 20 | pid) << 2 | kind)

    def sorted_items(self) -> list[int]:
        """The packed claims by start, then priority."""
        self._items.sort()
        return self._items


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
    return pkg


def symbol_table_package(name: str, known: dict[str, str | None] | None = None) -> str | None:
    """The package whose meta a symbol-table entry named ``name`` (and its name string) is: its
    go_package() (looked up in ``known`` first), but None for linker containers ("go:buildinfo.ref")."""
    pkg = known[name] if known is not None and name in known else go_package(name)
    if pkg is None or (name.startswith("go") and _MARKERS.match(name)):
        return None
    return pkg


def _strip_brackets(name: str) -> str:
    out, depth = [], 0
    for ch in name:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def analyze_binary(path: str | os.PathLike[str], *, functions: bool = True) -> BinaryReport:
    """Measure one binary. BinaryFormatError for unreadable files, PclntabError for a corrupt pclntab."""
    with open_binary(path) as binary:
        return _analyze(binary, functions)


def _analyze(binary: BinaryFile, functions: bool) -> BinaryReport:
    try:
        info = parse_buildinfo(binary)
    except UnsupportedGoVersion:
        info = None
    notes: list[str] = []
    packed = binary.packed_by()
    claims = Claims()
    pkg_names: list[str] = []
    pkg_index: dict[str, int] = {}
    funcs_out: list[tuple[str, int, int, int]] = []  # (name, package index, code, meta)

    def pkg_id(p: str) -> int:
        i = pkg_index.get(p)
        if i is None:
            i = pkg_index[p] = len(pkg_names)
            pkg_names.append(p)
        return i

    go_version = info.go_version if info else ""
    pcln_sec = None if packed else binary.pclntab_section()
    if packed:
        notes.append(f"packed with {packed.upper()}: the per-package breakdown needs the unpacked binary")
    elif pcln_sec is None:
        if info is None:
            notes.append(NOT_GO)
        else:
            notes.append("Go binary without a pclntab: sections only")
    else:
        magic = read_magic(binary, pcln_sec)
        if magic not in SUPPORTED_MAGICS:
            notes.append(f"unsupported Go version (pclntab magic {magic:#x}): Go 1.18 or later is needed for the per-package breakdown")
        else:
            pcln = Pclntab(binary, pcln_sec)
            _attribute_go(binary, pcln, info, claims, pkg_id, funcs_out, notes, functions)
    return _report(binary, info, go_version, claims, pkg_names, funcs_out, notes, packed)


def _go_minor(info: BuildInfo | None, pcln: Pclntab) -> int:
    m = re.match(r"go1\.(\d+)", info.go_version) if info else None
    if m:
        return int(m.group(1))
    return 18 if pcln.magic == MAGIC_GO118 else 26


def _attribute_go(binary, pcln: Pclntab, info, claims, pkg_id, funcs_out, notes, functions: bool) -> None:
    md = find_moduledata(binary, pcln)
    text_base = pcln.text_start
    if md is not None and (not text_base or md.text):
        text_base = md.text
    if not text_base:
        sym = binary.find_symbol("runtime.text")
        text = binary.text_section()
        text_base = sym.addr if sym is not None else text.addr if text is not None else 0
    if not text_base:
        raise PclntabError("cannot find the text base (no moduledata, runtime.text or text section)", path=binary.path)
    funcs = pcln.parse_functions(text_base)
    add = claims.add

    # -- meta: functab entry, _func + arrays, name, pc tables, funcdata, CU files ---------------------
    sym_pkg: dict[str, str | None] = {}  # go_package() by name, shared with the symbol loops below
    ids = [pkg_id(p) for p in _function_packages(funcs, pcln, sym_pkg)]
    ft = pcln.functab_off
    seen_tables: set[int] = set()
    spans: dict[int, int] = {}  # pctab offset -> pc span, for pcsp/pcfile/pcln tables
    fd_owner: dict[int, int] = {}
    cu_owner: dict[int, int] = {}
    meta_by_func = [0] * len(funcs) if functions else None
    # the hot loops pack their claims themselves (Claims.add's layout; every range here is non-empty)
    append = claims.items.append
    pctab, extent = pcln.pctab_off, pcln.pcvalue_extent
    for i, f in enumerate(funcs):
        pk = ids[i] << 2 | META
        func_off, func_len, name_off, name_len = f.func_off, f.func_len, f.name_off, f.name_len
        m = 8 + func_len + name_len
        o = ft + 8 * i
        append(((o << 2 | 1) << 40 | o + 8) << 22 | pk)
        append(((func_off << 2 | 1) << 40 | func_off + func_len) << 22 | pk)
        append(((name_off << 2 | 1) << 40 | name_off + name_len) << 22 | pk)
        for k, rel in enumerate(f.pc_tables):
            if rel and rel not in seen_tables:
                seen_tables.add(rel)
                n, span = extent(rel, span=k < 3)  # pcdata tables: the span is not needed
                if k < 3:
                    spans[rel] = span
                o = pctab + rel
                append(((o << 2 | 1) << 40 | o + n) << 22 | pk)
                m += n
        for fd in f.funcdata:
            if fd != NO_FUNCDATA and fd not in fd_owner:
                fd_owner[fd] = i
        if f.cu_offset not in cu_owner:
            cu_owner[f.cu_offset] = i
        if meta_by_func is not None:
            meta_by_func[i] = m
    # -- code: the function's own bytes (pc span of its pc-value tables, capped by the next entry);
    # the alignment padding up to the next entry stays unattributed .text, as `go tool nm -size` counts it
    text = _section_for_addr(binary, funcs[0].entry)
    if text is None:
        raise PclntabError(f"first function entry {funcs[0].entry:#x} is not in any section", path=binary.path)
    t_addr, t_end, t_off = text.addr, text.addr + text.file_size, text.offset - text.addr
    code_sizes = []
    for i, f in enumerate(funcs):
        entry = f.entry
        if not t_addr <= entry < t_end:
            text = _section_for_addr(binary, entry)
            if text is None:
                raise PclntabError(f"function {f.name} at {entry:#x} is not in any section", path=binary.path)
            t_addr, t_end, t_off = text.addr, text.addr + text.file_size, text.offset - text.addr
        span = 0
        for r in f.pc_tables[:3]:
            if r:
                sp = spans.get(r)
                if sp is None:  # first seen as a pcdata table, where the span was skipped
                    sp = spans[r] = extent(r)[1]
                if sp > span:
                    span = sp
        size = f.end - entry
        if 0 < span < size:
            size = span
        if size > 0:
            start = t_off + entry
            end = min(t_off + t_end, start + size)
            code_sizes.append(end - start)
            if end > start:
                append((start << 42 | end) << 22 | ids[i] << 2 | CODE)
        else:
            code_sizes.append(0)

    if md is not None and md.gofunc:
        fd_spans = _funcdata_claims(binary, pcln, md, fd_owner, funcs, ids, meta_by_func, add)
        _inlined_name_claims(binary, pcln, funcs, fd_spans, pkg_id, add)
    _cu_claims(pcln, cu_owner, ids, add)
    if md is not None and md.findfunctab:
        sec = _section_for_addr(binary, md.findfunctab)
        if sec is not None:
            start = sec.offset + md.findfunctab - sec.addr
            add(start, sec.offset + sec.file_size, 1, pkg_id("runtime"), META)

    # -- data: types through moduledata, then sized symbols ---------------------------------------
    if md is not None:
        try:
            recovered = TypeWalker(binary, md, _go_minor(info, pcln)).walk().claims
        except (struct.error, TypeError, IndexError, ValueError, OverflowError):
            recovered = []  # a damaged type region: its bytes stay unattributed
            notes.append("type descriptors could not be read: left unattributed")
        for start, end, pkg in recovered:
            add(start, end, _TYPES_PRIO, pkg_id(pkg), DATA)
        if md.addr:
            off = binary.vaddr_to_offset(md.addr)
            if off is not None:
                add(off, off + md.size, _TYPES_PRIO, pkg_id("runtime"), DATA)
    else:
        notes.append("moduledata not found: type descriptors are left unattributed")
    text_secs = {s.name for s in binary.sections if "x" in s.flags.split(",")}
    for sym in binary.symbols():
        if sym.size <= 0 or sym.kind == "func" or sym.section in text_secs or _MARKERS.match(sym.name):
            continue
        pkg = sym_pkg[sym.name] if sym.name in sym_pkg else sym_pkg.setdefault(sym.name, go_package(sym.name))
        if pkg is None:
            continue
        sec = _section_for_addr(binary, sym.addr)
        if sec is None:
            continue
        start = sec.offset + sym.addr - sec.addr
        add(start, min(start + sym.size, sec.offset + sec.file_size), _SYMBOL_PRIO, pkg_id(pkg), DATA)
    # -- meta: each Go symbol's symbol-table entry and its name in the string table (unstripped builds)
    for sym in binary.symbols():
        pkg = symbol_table_package(sym.name, sym_pkg)
        if pkg is None:
            continue
        pid = pkg_id(pkg)
        (e_off, e_len), (n_off, n_len) = sym.entry, sym.name_bytes
        add(e_off, e_off + e_len, _SYMBOL_PRIO, pid, META)
        add(n_off, n_off + n_len, _SYMBOL_PRIO, pid, META)

    if meta_by_func is not None:
        funcs_out.extend(zip((f.name for f in funcs), ids, code_sizes, meta_by_func))


def _function_packages(funcs: list[FuncRecord], pcln: Pclntab, by_name: dict[str, str | None]) -> list[str]:
    """Package per function from its name; assembly helpers without one ("aeshashbody",
    "p256MulInternal") take the most common package of their compilation unit, or, in a CU of
    such helpers only, the standard-library directory of their source file. ``by_name`` collects
    go_package() of each name."""
    pkgs = [go_package(f.name) for f in funcs]
    by_name.update(zip((f.name for f in funcs), pkgs))
    by_cu: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f, p in zip(funcs, pkgs):
        if p:
            by_cu[f.cu_offset][p] += 1
    out = []
    for f, p in zip(funcs, pkgs):
        if not p:
            counts = by_cu.get(f.cu_offset)
            if counts:
                p = max(sorted(counts), key=counts.__getitem__)
            else:
                p = _package_from_file(pcln, f) or ("runtime" if f.name.startswith("go:") else "(unknown)")
        out.append(p)
    return out


def _package_from_file(pcln: Pclntab, f: FuncRecord) -> str | None:
    """The std package directory of the file a function starts in (its pcfile table's first value
    indexes its CU's files): ".../go/src/internal/runtime/gc/scan/expand_amd64.s" -> its directory."""
    if not f.pc_tables[1]:
        return None
    index = pcln.pcvalue_first(f.pc_tables[1])
    if index < 0:
        return None
    files = pcln.cu_files(f.cu_offset, index + 1)
    if len(files) <= index or files[index] == 0xFFFFFFFF:
        return None
    off = pcln.filetab_off + files[index]
    if off >= pcln.pctab_off:
        return None
    path = bytes(pcln.binary.data[off : off + pcln.string_len(off, pcln.pctab_off) - 1]).decode("utf-8", "replace")
    if "/pkg/mod/" in path:  # a module cache file: not the standard library
        return None
    rel = path.rsplit("/src/", 1)[1] if "/src/" in path else path
    directory = rel.rpartition("/")[0]
    if not directory or directory.startswith("/") or "." in directory.split("/", 1)[0]:
        return None
    return directory


def _funcdata_claims(binary, pcln, md: ModuleData, fd_owner, funcs, ids, meta_by_func, add) -> None:
    """funcdata objects (stack maps, inline trees, ...) are packed in go:func.*, in decreasing
    alignment; each runs to the next referenced one. The last one ends at findfunctab when that
    follows go:func.* (Go 1.26+); otherwise its end is unknown and it stays unattributed."""
    sec = _section_for_addr(binary, md.gofunc)
    if sec is None:
        return {}
    base = sec.offset + (md.gofunc - sec.addr)
    sec_end = sec.offset + sec.file_size
    offs = sorted(fd_owner)
    spans: dict[int, tuple[int, int]] = {}
    limit = None
    if md.findfunctab > md.gofunc and _section_for_addr(binary, md.findfunctab) == sec:
        limit = md.findfunctab
    for j, rel in enumerate(offs):
        start = base + rel
        if j + 1 < len(offs):
            end = base + offs[j + 1]
        elif limit is not None:
            end = base + (limit - md.gofunc)
        else:
            continue
        if start >= sec_end:
            break
        end = min(end, sec_end)
        i = fd_owner[rel]
        add(start, end, 1, ids[i], META)
        spans[rel] = (start, end)
        if meta_by_func is not None:
            meta_by_func[i] += end - start
    return spans


FUNCDATA_INLTREE = 3


def _inlined_name_claims(binary, pcln: Pclntab, funcs, fd_spans, pkg_id, add) -> None:
    """Names of inlined functions sit in funcnametab, referenced only from inline trees
    (runtime inlinedCall: 16 bytes since Go 1.20, name offset at +4; 20 bytes before, at +12).
    Each goes to the inlined function's own package."""
    esize, name_at = (16, 4) if pcln.func_size == 44 else (20, 12)
    bo = "<" if binary.byte_order == "little" else ">"
    entry = struct.Struct(f"{bo}{name_at}xi{esize - name_at - 4}x")  # just the name offset of each inlinedCall
    data = binary.data
    table_len = pcln.cutab_off - pcln.funcname_off
    seen: set[int] = set()
    for f in funcs:
        if len(f.funcdata) <= FUNCDATA_INLTREE:
            continue
        span = fd_spans.get(f.funcdata[FUNCDATA_INLTREE])
        if span is None:
            continue
        start, end = span
        n = (end - start) // esize
        for (name_rel,) in entry.iter_unpack(data[start : start + n * esize]):
            if name_rel in seen or not 0 <= name_rel < table_len:
                continue
            seen.add(name_rel)
            off = pcln.funcname_off + name_rel
            nul = binary.find_bytes(b"\0", off, pcln.cutab_off)
            if nul < 0:
                continue
            pkg = go_package(bytes(data[off:nul]).decode("utf-8", "replace"))
            if pkg:
                add(off, nul + 1, 1, pkg_id(pkg), META)


def _cu_claims(pcln: Pclntab, cu_owner: dict[int, int], ids, add) -> None:
    """A CU's cutab run and the file names it lists go to the package of its first function."""
    cus = sorted(cu_owner)
    total = (pcln.filetab_off - pcln.cutab_off) // 4
    seen_files: set[int] = set()
    for j, cu in enumerate(cus):
        if cu == 0xFFFFFFFF or cu >= total:
            continue
        count = (cus[j + 1] if j + 1 < len(cus) and cus[j + 1] <= total else total) - cu
        pid = ids[cu_owner[cu]]
        start = pcln.cutab_off + 4 * cu
        add(start, start + 4 * count, 1, pid, META)
        for rel in pcln.cu_files(cu, count):
            if rel == 0xFFFFFFFF or rel in seen_files:
                continue
            seen_files.add(rel)
            off = pcln.filetab_off + rel
            if off >= pcln.pctab_off:
                continue
            n = pcln.string_len(off, pcln.pctab_off)
            add(off, off + n, 1, pid, META)


def _section_for_addr(binary: BinaryFile, addr: int):
    for s in binary.sections:
        if s.file_size and s.addr and s.addr <= addr < s.addr + s.file_size:
            return s
    return None


def _report(binary, info, go_version, claims, pkg_names, funcs_out, notes, packed) -> BinaryReport:
    size = binary.file_size
    # sections' file spans, clipped so that none overlaps another
    secs: list[tuple[int, int, str]] = []
    sec_pos = 0
    for s_start, s_end, name in sorted((s.offset, s.offset + s.file_size, s.name) for s in binary.sections if s.file_size):
        s_start = max(s_start, sec_pos)
        if s_end > s_start:
            secs.append((s_start, s_end, name))
            sec_pos = s_end
    starts = [s for s, _e, _n in secs]
    claimed = [0] * len(secs)
    # resolve: each byte to the first claim covering it (sorted by start, then priority); only
    # bytes inside a section count, so a claim can never reach headers or padding
    totals = [0] * (4 * len(pkg_names))  # package index * 4 + kind
    pos = 0
    cur_start, cur_end, cur = -1, -1, -1  # the section of the last claim: nearly every claim stays in it
    end_mask, low_mask = Claims._END_MASK, (1 << 22) - 1
    for c in claims.sorted_items():
        end = (c >> 22) & end_mask
        if end <= pos:
            continue  # covered by earlier claims
        start = c >> 64
        if start < pos:
            start = pos
        pos = end
        if cur_start <= start and end <= cur_end:
            totals[c & low_mask] += end - start
            claimed[cur] += end - start
            continue
        while start < end:
            i = bisect.bisect_right(starts, start) - 1
            if i < 0 or start >= secs[i][1]:  # between sections: skip to the next one
                if i + 1 >= len(secs):
                    break
                start = secs[i + 1][0]
                continue
            cur_start, cur_end, cur = secs[i][0], secs[i][1], i
            piece = min(end, cur_end) - start
            totals[c & low_mask] += piece
            claimed[i] += piece
            start += piece
    unattr: dict[str, int] = defaultdict(int)
    for (s_start, s_end, name), c in zip(secs, claimed):
        if s_end - s_start - c:
            unattr[name] += s_end - s_start - c
    for start, end, kind in binary.uncovered_ranges():
        unattr[f"({kind})"] += end - start
    deps = [m.path for m in info.deps] if info else []
    main_mod = info.main.path if info and info.main else ""
    packages = []
    mod_sizes: dict[str, int] = defaultdict(int)
    pkg_module: dict[str, str] = {}
    for pid, name in enumerate(pkg_names):
        code, meta, data = totals[4 * pid : 4 * pid + 3]
        if code + meta + data == 0:
            continue
        if name.startswith("("):
            mod = ""
        elif name == "go.shape":  # the compiler's generic shape types
            mod = "std"
        else:
            mod = module_for_package(name, deps, main_mod)
        pkg_module[name] = mod
        packages.append(PackageSize(name=name, module=mod, size=code + meta + data, code=code, meta=meta, data=data))
        mod_sizes[mod] += code + meta + data
    packages.sort(key=lambda p: (-p.size, p.name))
    versions = {}
    if info:
        for m in info.deps:
            rv = m.replace.version if m.replace and m.replace.version != "(devel)" else ""
            versions[m.path] = (m.version, f"{m.replace.path} {rv}".strip() if m.replace else "")
        if info.main:
            v = info.main.version if info.main.version != "(devel)" else ""
            versions[info.main.path] = (v, "")
    modules = sorted(
        (ModuleSize(path=m or "(unknown)", version=versions.get(m, ("", ""))[0], size=s, replace=versions.get(m, ("", ""))[1])
         for m, s in mod_sizes.items()),
        key=lambda m: (-m.size, m.path),
    )
    unattributed = tuple(sorted((Unattributed(k, v) for k, v in unattr.items() if v), key=lambda u: (-u.size, u.section)))
    attributed = sum(p.size for p in packages)
    if attributed + sum(u.size for u in unattributed) != size:
        raise AssertionError(
            f"{binary.path}: attribution does not add up: {attributed} + {sum(u.size for u in unattributed)} != {size}"
        )
    funcs: tuple[Function, ...] = ()
    if funcs_out:
        funcs = tuple(
            sorted(
                (Function(name=n, package=pkg_names[pid], code=c, meta=m) for n, pid, c, m in funcs_out),
                key=lambda f: (-(f.code + f.meta), f.name),
            )
        )
    return BinaryReport(
        path=binary.path,
        file_size=size,
        format=binary.format,
        goos=(info.setting("GOOS") if info else "") or binary.goos,
        goarch=(info.setting("GOARCH") if info else "") or binary.goarch,
        go_version=go_version,
        coverage=attributed / size if size else 0.0,
        sections=binary.sections,
        packages=tuple(packages),
        modules=tuple(modules),
        functions=funcs,
        unattributed=unattributed,
        build_info=info,
        stripped=binary.stripped,
        packed=packed,
        notes=tuple(notes),
    )
