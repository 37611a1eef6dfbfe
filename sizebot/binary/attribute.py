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
import itertools
import os
import re
import struct
from array import array
from collections import defaultdict
from collections.abc import Sequence
from itertools import compress, repeat
from operator import add as plus
from operator import and_, itemgetter, not_
from typing import Any

import numpy as np

from sizebot.binary.buildinfo import module_finder, module_for_package, parse_buildinfo
from sizebot.binary.claims import (
    CODE,
    DATA,
    DEBUG,
    MARKERS,
    META,
    ROW,
    SYMBOL_PRIO,
    TYPES_PRIO,
    Attribution,
    go_package,
)
from sizebot.binary.container import BinaryFile, open_binary
from sizebot.binary.data_by_reference import data_references, reference_claims
from sizebot.binary.dwarf import Unit, debug_sections, file_spans, split_dwarf
from sizebot.binary.dwarf_packed import ClaimsDelta, PackedSplit, add_claims, has_dwarf, split_by_address
from sizebot.binary.embeds import embed_packages, find_data_vars, find_fs_tables, word_view
from sizebot.binary.funcdata import FUNCDATA_INLTREE, FuncdataDecoder, object_arrays
from sizebot.binary.inltree import tree_span
from sizebot.binary.moduledata import ModuleData, TypeWalker, find_moduledata
from sizebot.binary.pclntab import (
    MAGIC_GO118,
    SUPPORTED_MAGICS,
    FuncRecord,
    FuncTable,
    Pclntab,
    linker_text_size,
    read_magic,
)
from sizebot.binary.pcvalues import (
    ObjectSpans,
    as_array,
    inlined_names,
    parse_functions,
    pctab_claims,
    release_arrays,
    release_tables,
)
from sizebot.binary.pointees import pointee_claims
from sizebot.binary.symbol import Symbol, SymbolTable
from sizebot.binary.typewalk import walk_types
from sizebot.binary.worker import Worker, can_fork, trim_heap
from sizebot.documents.analyze import (
    BinaryReport,
    BuildInfo,
    EmbeddedFile,
    Function,
    ModuleSize,
    PackageSize,
    Unattributed,
)
from sizebot.errors import PclntabError, UnsupportedGoVersion

NOT_GO = "not a Go binary: sections only"


def analyze_binary(path: str | os.PathLike[str], *, functions: bool = True, jobs: int = 1) -> BinaryReport:
    """Measure one binary. BinaryFormatError for unreadable files, PclntabError for a corrupt pclntab.
    ``jobs=2``: on a large binary a worker process takes the steps that need only the file, for a
    shorter wall time on a free core at the cost of more memory (docs/benchmarks.md); the same figures."""
    with open_binary(path) as binary:
        return _report(binary, *_attribution(binary, functions, jobs=jobs))


def attribution(binary: BinaryFile, *, symbols: bool = True) -> Attribution:
    """The claims of one binary before they are resolved; ``symbols=False`` ignores its symbol table
    and DWARF, as if it were stripped (to measure the methods that work without them)."""
    return _attribution(binary, False, symbols)[2]


def _attribution(
    binary: BinaryFile, functions: bool, symbols: bool = True, jobs: int = 1
) -> tuple[BuildInfo | None, str, Attribution, str]:
    try:
        info = parse_buildinfo(binary)
    except UnsupportedGoVersion:
        info = None
    acc = Attribution()
    notes = acc.notes
    packed = binary.packed_by()
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
            notes.append(
                f"unsupported Go version (pclntab magic {magic:#x}): "
                "Go 1.18 or later is needed for the per-package breakdown"
            )
        else:
            pcln = Pclntab(binary, pcln_sec)
            md = find_moduledata(binary, pcln)
            # the type walk, the code's reference scan and the DWARF split need only the file: on a
            # large binary a worker does them while this process does the rest
            started: list[Worker] = []  # the worker, there before a signal can interrupt this
            try:
                early = _start_worker(binary, md, _go_minor(info, pcln), symbols, jobs, started)
                _attribute_go(binary, pcln, md, info, acc, functions, symbols, early)
            finally:
                for worker in started:
                    worker.close()
    return info, go_version, acc, packed


def _go_minor(info: BuildInfo | None, pcln: Pclntab) -> int:
    m = re.match(r"go1\.(\d+)", info.go_version) if info else None
    if m:
        return int(m.group(1))
    return 18 if pcln.magic == MAGIC_GO118 else 26


# Below this file size the worker's steps take too little to pay for it: a second process costs
# about 0.1 s of CPU (fork, results through a file, .debug_info read again here). Measured
# (docs/benchmarks.md): at 2-3 MiB the main process saves 7% of its CPU for 31% more in all; from
# 6 MiB it saves 17-31% for 0-7% more.
WORKER_MIN_BYTES = 8 << 20


def _start_worker(binary: BinaryFile, md: ModuleData | None, go_minor: int, symbols: bool,
                  jobs: int, started: list[Worker] | None = None) -> Worker | None:
    """The type walk (result 0: _type_claims), the symbol table's claims (result 1: a ClaimsDelta),
    the scan of the code for data references (result 2: _scan_references) and the DWARF split with
    the claims of what global variables point at (result 3: _split_in_worker) of a large binary
    started in a worker process, in the order the main process needs them, or None with ``jobs`` < 2
    or where that does not pay or a fork is not safe or possible. A step that does not apply gives
    None."""
    split = symbols and has_dwarf(binary)
    if jobs < 2 or binary.file_size < WORKER_MIN_BYTES or (md is None and not split) or not can_fork():
        return None
    kept: dict[str, Any] = {}  # the symbol step's data symbols, for the DWARF step's pointees
    try:
        return Worker("analysis", [lambda: _walk_types(binary, md, go_minor),
                                   lambda: _symbols_in_worker(binary, kept) if symbols else None,
                                   lambda: _scan_references(binary),
                                   lambda: _split_in_worker(binary, kept) if split else None], started)
    except OSError:  # no temporary file, no fork (a process limit): all of it runs here
        return None


def _symbols_in_worker(binary: BinaryFile, kept: dict[str, Any]) -> ClaimsDelta:
    """_symbol_claims on a scratch ledger; its data symbols and their packages kept in ``kept``."""
    scratch = Attribution()
    sym_pkg: dict[str, str | None] = {}
    kept["sym_pkg"] = sym_pkg
    kept["named"] = _symbol_claims(binary, binary.symbols(), sym_pkg, scratch)
    return ClaimsDelta.of(scratch)


def _scan_references(binary: BinaryFile) -> tuple[array, array] | None:
    """data_references in the worker; None where it noted a fault (the main process then scans
    again, its note in its place among the others) or the GOARCH has no scanner."""
    scratch = Attribution()
    refs = data_references(binary, scratch)
    return None if scratch.notes else refs


def _split_in_worker(binary: BinaryFile, kept: dict[str, Any]) -> tuple[PackedSplit, ClaimsDelta]:
    """The DWARF split by code address and, while it holds .debug_info, the claims of the objects
    that global variables point at (_pointee_claims, of the data symbols the symbol step kept), on a
    scratch ledger."""
    named: list[tuple[int, int, str]] = kept.get("named", [])
    sym_pkg: dict[str, str | None] = kept.get("sym_pkg", {})
    scratch = Attribution()

    def pointees(info: bytes, abbrev: bytes, units: list[Unit]) -> None:
        if named:
            _pointee_claims(binary, info, abbrev, units, named, sym_pkg, scratch)

    return split_by_address(binary, pointees), ClaimsDelta.of(scratch)


def _walk_types(
    binary: BinaryFile, md: ModuleData | None, go_minor: int
) -> tuple[array, array, array, list[str]] | None:
    """_type_claims in the worker, the walk's pages of the file released after it."""
    if md is None:
        return None
    try:
        return _type_claims(binary, md, go_minor)
    finally:
        binary.release(0, binary.file_size)


def _attribute_go(
    binary: BinaryFile, pcln: Pclntab, md: ModuleData | None, info: BuildInfo | None, acc: Attribution,
    functions: bool, symbols: bool = True, early: Worker | None = None,
) -> None:
    """``early``: the worker doing the type walk, the reference scan and the DWARF split (_start_worker)."""
    claims, pkg_id, notes = acc.claims, acc.pkg_id, acc.notes
    text_base = pcln.text_start
    if md is not None and (not text_base or md.text):
        text_base = md.text
    if not text_base:
        sym = binary.find_symbol("runtime.text") if symbols else None
        text = binary.text_section()
        text_base = sym.addr if sym is not None else text.addr if text is not None else 0
    if not text_base:
        raise PclntabError("cannot find the text base (no moduledata, runtime.text or text section)", path=binary.path)
    # the type descriptors first, while little else is in memory: the walk's own records are large
    types = None
    if md is not None and early is None:
        types = _type_claims(binary, md, _go_minor(info, pcln))
    binary.release(0, binary.file_size)  # the walk's pages: later steps read back what they need
    funcs = parse_functions(pcln, text_base)
    add = claims.add

    # -- meta: functab entry, _func + arrays, name, pc tables, funcdata, CU files ---------------------
    ids = array("I", map(pkg_id, _function_packages(funcs, pcln, {})))
    sym_pkg: dict[str, str | None] = {}  # go_package() of data symbols' names, for the loops below
    n = len(funcs)
    keys, vals = claims.keys, claims.vals
    # the functab entry, the _func record with its arrays and the name of every function, as arrays
    owners = np.frombuffer(ids, np.uint32).astype(np.uint64) << 3 | META
    pks = array("Q", owners.tobytes())  # package index << 3 | META
    functab = pcln.functab_off + 8 * np.arange(n, dtype=np.uint64)
    claims.extend(functab, functab + 8, 1, owners)
    for offs, lens in ((funcs.func_offs, funcs.func_lens), (funcs.name_offs, funcs.name_lens)):
        starts = np.frombuffer(offs, np.uint64)
        claims.extend(starts, starts + np.frombuffer(lens, np.uint32), 1, owners)
    del owners, functab, starts
    meta_by_func = array("Q", map(plus, map(plus, funcs.func_lens, funcs.name_lens), repeat(8))) if functions else None
    cu_owner = dict(zip(reversed(funcs.cu_offsets), range(n - 1, -1, -1), strict=True))  # each CU's first function
    # -- then each function's pc-value tables and its code
    code_sizes = _pctab_claims(binary, pcln, funcs, pks, keys, vals, meta_by_func)
    del pks
    trim_heap()  # the tables' arrays: the steps below allocate less than they freed

    _pclntab_regions(pcln, acc)
    fd_spans = ObjectSpans.empty()
    if md is not None and md.gofunc:
        fd_spans = _funcdata_claims(binary, pcln, md, funcs, ids, meta_by_func, acc, _go_minor(info, pcln))
        trim_heap()  # the pc-value tokens and the funcdata objects' arrays
        _inlined_name_claims(binary, pcln, funcs, fd_spans, pkg_id, add)
    _cu_claims(pcln, cu_owner, ids, add)
    if binary.format == "pe":
        _pdata_claims(binary, funcs, ids, acc)
    if md is not None and md.findfunctab:
        _findfunctab_claim(binary, md, acc)
    binary.release(0, binary.file_size)  # the pclntab's and go:func.*'s pages: the steps below read little of them

    # -- data: types through moduledata, then sized symbols ---------------------------------------
    if md is not None:
        if early is not None:
            types = early.result(0)
        if types is None:
            notes.append("type descriptors could not be read: left unattributed")
        else:
            _add_type_claims(acc, types)
            del types
        if md.addr:
            off = binary.vaddr_to_offset(md.addr)
            if off is not None:
                add(off, off + md.size, TYPES_PRIO, pkg_id("runtime"), DATA)
    else:
        notes.append("moduledata not found: type descriptors are left unattributed")
    symtab = binary.symbols() if symbols else ()
    symbol_claims = early.result(1) if early is not None else None  # made by the worker
    if symbol_claims is not None:
        symbol_claims.take(acc)
        named: list[tuple[int, int, str]] = []  # the worker's DWARF step has them
    else:
        named = _symbol_claims(binary, symtab, sym_pkg, acc)  # (address, end, name) of the data symbols

    if early is not None:  # the code's data references, scanned by the worker, for whichever step needs them first
        acc.references = early.result(2)
    _embed_claims(binary, pcln, funcs, ids, fd_spans, acc, info, symtab)
    del fd_spans  # its last reader: the steps below hold the most memory
    trim_heap()
    if symbols:  # before the references: what DWARF sizes exactly bounds the estimated objects
        binary.release(0, binary.file_size)  # the DWARF step holds the most: nothing read so far need stay resident
        _dwarf_claims(binary, funcs, ids, acc, named, sym_pkg, early.result(3) if early else None)
    trim_heap()  # the DWARF sections' buffers
    reference_claims(binary, funcs, ids, acc, tree_span(binary, md.gofunc) if md is not None and md.gofunc else None)
    trim_heap()  # before the report's resolution of the claims

    if meta_by_func is not None:
        acc.functions.extend(zip(funcs.names(), ids, code_sizes, meta_by_func, strict=True))


def _symbol_claims(
    binary: BinaryFile, symtab: Sequence[Symbol], sym_pkg: dict[str, str | None], acc: Attribution,
) -> list[tuple[int, int, str]]:
    """Sized data symbols (outside code, not linker containers) are their package's data; each Go
    symbol's symbol-table entry and name string are its package's meta.
    ``sym_pkg`` collects go_package() of the data symbols' names.
    Returns (address, end, name) of the data symbols claimed."""
    if not symtab:
        return []
    table = symtab if isinstance(symtab, SymbolTable) else _symbol_table(symtab)
    names, addrs, sizes = table.names, table.addrs, table.sizes
    text_secs = {s.name for s in binary.sections if "x" in s.flags.split(",")}
    outside_code = bytes(name not in text_secs for name in table.section_names)  # by section index
    add, pkg_id = acc.claims.add, acc.pkg_id
    named: list[tuple[int, int, str]] = []
    find_section = _SectionFinder(binary)
    # sized data symbols outside code (kind 0 is a function), the candidates found at C speed
    data_like = map(and_, map(and_, map(bool, sizes), map(bool, table.kinds)), map(outside_code.__getitem__,
                                                                                  table.sections))
    for i in compress(range(len(names)), data_like):
        name = names[i]
        if MARKERS.match(name):
            continue
        owner = sym_pkg[name] if name in sym_pkg else sym_pkg.setdefault(name, go_package(name))
        if owner is None:
            continue
        addr, size = addrs[i], sizes[i]
        sec = find_section(addr)
        if sec is None:
            continue
        start = sec.offset + addr - sec.addr
        add(start, min(start + size, sec.offset + sec.file_size), SYMBOL_PRIO, pkg_id(owner), DATA)
        named.append((addr, addr + size, name))
    # symbol-table entries and names: the package of each symbol (-1: none), then the claims at C speed
    pids = array("q")
    append, index = pids.append, acc.pkg_index
    for name in names:  # symbol_table_package(name, sym_pkg), inline: one call fewer per symbol
        owner = sym_pkg[name] if name in sym_pkg else go_package(name)
        if owner is None or (name.startswith("go") and MARKERS.match(name)):
            append(-1)
        else:
            pid = index.get(owner)
            append(pkg_id(owner) if pid is None else pid)
    owners = np.frombuffer(pids, np.int64)
    owners = np.where(owners >= 0, owners << 3 | META, -1)
    for offs, lens in ((table.entry_offs, table.entry_lens), (table.name_offs, table.name_lens)):
        starts = np.frombuffer(offs, np.uint64).astype(np.int64)
        ends = np.where(owners >= 0, starts + np.frombuffer(lens, np.uint32), 0)  # no package: no claim
        acc.claims.extend(starts, ends, SYMBOL_PRIO, owners)
    return named


def _symbol_columns(symtab: Sequence[Symbol]) -> tuple[Sequence[str], Sequence[int], Sequence[int]]:
    """(names, addresses, sizes) of a symbol table, read from its arrays (no Symbol per entry)."""
    if isinstance(symtab, SymbolTable):
        return symtab.names, symtab.addrs, symtab.sizes
    return [s.name for s in symtab], [s.addr for s in symtab], [s.size for s in symtab]


def _symbol_table(symbols: Sequence[Symbol]) -> SymbolTable:
    table = SymbolTable()
    for sym in symbols:
        table.append(*sym)
    return table


class _SectionFinder:
    """``_section_for_addr`` by bisection when no two sections' file-backed address ranges overlap
    (then the first match is the only one); by the linear scan otherwise."""

    def __init__(self, binary: BinaryFile):
        self.binary = binary
        spans = sorted(
            (s.addr, s.addr + s.file_size, k) for k, s in enumerate(binary.sections) if s.file_size and s.addr
        )
        self.disjoint = all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
        self.starts = [a for a, _e, _k in spans]
        self.spans = spans

    def __call__(self, addr: int):
        if not self.disjoint:
            return _section_for_addr(self.binary, addr)
        i = bisect.bisect_right(self.starts, addr) - 1
        if i < 0 or addr >= self.spans[i][1]:
            return None
        return self.binary.sections[self.spans[i][2]]


def _add_type_claims(acc: Attribution, types: tuple[array, array, array, list[str]]) -> None:
    """The type walk's ranges (_type_claims) as DATA claims, packed at C speed. Each walk package
    gets its index in the order of first use, as claiming one range at a time would give."""
    starts, ends, pkgs, names = types
    pids = np.array([acc.pkg_id(name) for name in names], np.uint64)
    s, e = np.frombuffer(starts, np.uint64), np.frombuffer(ends, np.uint64)
    nonempty = e > s
    owners = pids[np.frombuffer(pkgs, np.uint32)[nonempty]] << np.uint64(3) | np.uint64(DATA)
    acc.claims.keys.frombytes((s[nonempty] << np.uint64(2) | np.uint64(TYPES_PRIO)).tobytes())
    acc.claims.vals.frombytes((e[nonempty] << np.uint64(23) | owners).tobytes())


def _type_claims(binary: BinaryFile, md: ModuleData, go_minor: int) -> tuple[array, array, array, list[str]] | None:
    """The type descriptors, itabs and their tables recovered through moduledata, compactly: (starts,
    ends, package index of each, package names); None when the type region could not be read."""
    try:
        walked = walk_types(TypeWalker(binary, md, go_minor))
    except (struct.error, TypeError, IndexError, ValueError, OverflowError):
        return None  # a damaged type region: its bytes stay unattributed
    return (array("Q", walked.starts.astype("=u8").tobytes()), array("Q", walked.ends.astype("=u8").tobytes()),
            array("I", walked.packages.astype("=u4").tobytes()), walked.names)


def _embed_claims(
    binary: BinaryFile, pcln: Pclntab, funcs: FuncTable, ids: Sequence[int],
    fd_spans: ObjectSpans, acc: Attribution, info: BuildInfo | None, symtab: Sequence[Symbol],
) -> None:
    """embed.FS tables: each embedded file's bytes and name, and the table, are the embedding
    package's data; the files are listed in the report. Likewise string/[]byte variables' contents
    and headers (embeds.py says which are listed)."""
    tables = find_fs_tables(binary, acc.notes)
    found = find_data_vars(binary, acc.notes)
    if not tables and not found:
        return
    sym_names, sym_addrs, _sizes = _symbol_columns(symtab)
    files = compress(range(len(sym_names)), map(str.endswith, sym_names, repeat(".files")))
    by_addr = {sym_addrs[i]: sym_names[i] for i in files}
    entries = funcs.starts
    names = acc.pkg_names

    def symbol_package(addr: int) -> str | None:
        name = by_addr.get(addr)
        return go_package(name) if name else None

    def code_package(pc: int) -> str | None:
        """The package of the code at ``pc``: of the innermost function inlined there, if any."""
        i = bisect.bisect_right(entries, pc) - 1
        if i < 0 or pc >= funcs[i].end:
            return None
        f = funcs[i]
        tree = fd_spans.get(f.funcdata[FUNCDATA_INLTREE]) if len(f.funcdata) > FUNCDATA_INLTREE else None
        table = f.pc_tables[5] if len(f.pc_tables) > 5 else 0
        if tree is not None and table:
            index = pcln.pcvalue_at(table, f.entry, pc)
            esize, name_at = (16, 4) if pcln.func_size == 44 else (20, 12)
            at = tree[0] + (index or 0) * esize + name_at
            if index is not None and index >= 0 and at + 4 <= tree[1]:
                name_off = pcln.funcname_off + int.from_bytes(binary.data[at : at + 4], binary.byte_order)
                nul = binary.find_bytes(b"\0", name_off, pcln.cutab_off)
                if nul > name_off:
                    inlined = go_package(bytes(binary.data[name_off:nul]).decode("utf-8", "replace"))
                    if inlined:
                        return inlined
        return names[ids[i]]

    modules = [m.path for m in info.deps] if info is not None else []
    main_module = info.main.path if info is not None and info.main is not None else ""

    def is_std(pkg: str) -> bool:
        return module_for_package(pkg, modules, main_module) == "std"

    def var_package(pc: int) -> str | None:
        """As code_package, but standard library code inlined there (strings.NewReader(v)) loads
        the variable for the function it is inlined into."""
        pkg = code_package(pc)
        if pkg is None or not is_std(pkg):
            return pkg
        i = bisect.bisect_right(entries, pc) - 1
        return names[ids[i]]

    fs_pkgs, variables = embed_packages(binary, symtab, tables, found, symbol_package, go_package, var_package,
                                        is_std, lambda: data_references(binary, acc))
    for table, pkg in zip(tables, fs_pkgs, strict=True):
        for (name, data_off, size, name_off), name_len in zip(table.files, table.name_sizes, strict=True):
            if not name.endswith("/"):  # a directory's entry: its name counts, it is not a file
                acc.embeds.append((pkg or "", name, size, "file"))
            if pkg:
                pid = acc.pkg_id(pkg)
                acc.claims.add(data_off, data_off + size, 2, pid, DATA)
                acc.claims.add(name_off, name_off + name_len, 2, pid, DATA)
        if pkg:
            acc.claims.add(table.offset, table.offset + table.size, 2, acc.pkg_id(pkg), DATA)
        else:
            acc.notes.append(f"embed.FS table at {table.addr:#x}: embedding package unknown, files left unattributed")
    for pkg, name, var in variables:
        acc.embeds.append((pkg, name, var.size, var.kind))
        pid = acc.pkg_id(pkg)
        acc.claims.add(var.data_offset, var.data_offset + var.size, 2, pid, DATA)
        acc.claims.add(var.offset, var.offset + var.header, 2, pid, DATA)


def _dwarf_claims(
    binary: BinaryFile, funcs: FuncTable, ids: Sequence[int], acc: Attribution,
    named: list[tuple[int, int, str]], sym_pkg: dict[str, str | None],
    done: tuple[PackedSplit, ClaimsDelta] | None = None,
) -> None:
    """Each DWARF compile unit's bytes in every debug section go to its package's debug bytes; the
    unnamed objects that global variables point at (their DWARF types give the extents) are the
    variable's package's data. ``done``: the split and those objects' claims made by a worker."""
    if done is not None:
        packed, pointed = done
        pointed.take(acc)
        add_claims(packed, binary, funcs.starts, funcs.ends, ids, acc)
        return
    entries, ends = funcs.starts, funcs.ends
    names = acc.pkg_names

    def package_at(pc: int) -> str | None:
        i = bisect.bisect_right(entries, pc) - 1
        return names[ids[i]] if i >= 0 and pc < ends[i] else None

    def pointees(info: bytes, abbrev: bytes, units: list[Unit]) -> None:
        if named:
            _pointee_claims(binary, info, abbrev, units, named, sym_pkg, acc)

    split = split_dwarf(binary, package_at, pointees)
    acc.notes.extend(split.notes)
    secs = debug_sections(binary)
    for name, pieces in split.pieces.items():
        sec = secs[name]
        for start, end, pkg in file_spans(sec, split.sizes[name], pieces):
            acc.claims.add(start, end, 1, acc.pkg_id(pkg), DEBUG)


def _pointee_claims(
    binary: BinaryFile, info: bytes, abbrev: bytes, units: list[Unit], named: list[tuple[int, int, str]],
    sym_pkg: dict[str, str | None], acc: Attribution,
) -> None:
    """Claims for what global variables point at (sizebot.binary.pointees.pointee_claims)."""
    _names, addrs, sizes = _symbol_columns(binary.symbols())
    pointee_claims(binary, info, abbrev, [u.offset for u in units], named, sym_pkg, acc, addrs, sizes)


def _function_packages(funcs: FuncTable, pcln: Pclntab, by_name: dict[str, str | None]) -> list[str]:
    """Package per function from its name; assembly helpers without one ("aeshashbody",
    "p256MulInternal") take the most common package of their compilation unit, or, in a CU of
    such helpers only, the standard-library directory of their source file. ``by_name`` collects
    go_package() of each name."""
    names = list(funcs.names())
    pkgs: list[str | None] = list(map(go_package, names))
    by_name.update(zip(names, pkgs, strict=True))
    del names
    cus = funcs.cu_offsets
    missing = list(compress(range(len(pkgs)), map(not_, pkgs)))  # assembly helpers: few
    needed = {cus[i] for i in missing}
    by_cu: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for cu, p in compress(zip(cus, pkgs, strict=True), map(needed.__contains__, cus)):
        if p:
            by_cu[cu][p] += 1
    for i in missing:
        counts = by_cu.get(cus[i])
        if counts:
            pkgs[i] = max(sorted(counts), key=counts.__getitem__)
        else:
            f = funcs[i]
            pkgs[i] = _package_from_file(pcln, f) or ("runtime" if f.name.startswith("go:") else "(unknown)")
    return [p or "(unknown)" for p in pkgs]


# The GOROOT of a Go release that GOTOOLCHAIN fetched from the module proxy lives in the module
# cache: .../pkg/mod/golang.org/toolchain@v0.0.1-go1.27.3.linux-amd64/src/runtime/rt0_linux_amd64.s
_TOOLCHAIN_GOROOT = re.compile(r"/pkg/mod/golang\.org/toolchain@[^/]+/src/")


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
    if "/pkg/mod/" in path and not _TOOLCHAIN_GOROOT.search(path):
        return None  # a module's file, not the standard library (a GOROOT that GOTOOLCHAIN fetched is)
    rel = path.rsplit("/src/", 1)[1] if "/src/" in path else path
    directory = rel.rpartition("/")[0]
    if not directory or directory.startswith("/") or "." in directory.split("/", 1)[0]:
        return None
    return directory


def _pctab_claims(
    binary: BinaryFile, pcln: Pclntab, funcs: FuncTable, pks: array[int], keys: array[int], vals: array[int],
    meta_by_func: array[int] | None,
) -> array[int]:
    """Each function's pc-value tables (shared ones counted once, for the first function) and its
    code: its own bytes, the pc span of its pcsp/pcfile/pcln tables capped by the next entry; the
    alignment padding up to the next entry stays unattributed .text, as `go tool nm -size` counts
    it. Returns each function's code bytes. All functions at once as arrays; function by function
    where a table is malformed or an entry outside its section (to name the first fault)."""
    code_sizes = pctab_claims(funcs, pks, keys, vals, meta_by_func, META ^ CODE)
    if code_sizes is None:
        seen_tables: set[int] = set()
        spans: dict[int, int] = {}  # pctab offset -> pc span, for pcsp/pcfile/pcln tables
        kadd, vadd = keys.append, vals.append
        pctab, extent = pcln.pctab_off, pcln.pcvalue_extent
        entries = funcs.entries
        text = _section_for_addr(binary, entries[0])
        if text is None:
            raise PclntabError(f"first function entry {entries[0]:#x} is not in any section", path=binary.path)
        t_addr, t_end, t_off = text.addr, text.addr + text.file_size, text.offset - text.addr
        code_sizes = array("Q")
        records = zip(pks, funcs.starts, funcs.ends, funcs.iter_tables(), strict=True)
        for i, (pk, entry, f_end, (pc_tables, _fd)) in enumerate(records):
            m = 0
            for k, rel in enumerate(pc_tables):
                if rel and rel not in seen_tables:
                    seen_tables.add(rel)
                    size, span = extent(rel, span=k < 3)  # pcdata tables: the span is not needed
                    if k < 3:
                        spans[rel] = span
                    o = pctab + rel
                    kadd(o << 2 | 1)
                    vadd((o + size) << 23 | pk)
                    m += size
            if m and meta_by_func is not None:
                meta_by_func[i] += m
            if not t_addr <= entry < t_end:
                text = _section_for_addr(binary, entry)
                if text is None:
                    raise PclntabError(
                        f"function {funcs.name(i)} at {entry:#x} is not in any section", path=binary.path
                    )
                t_addr, t_end, t_off = text.addr, text.addr + text.file_size, text.offset - text.addr
            span = 0
            for r in pc_tables[:3]:
                if r:
                    sp = spans.get(r)
                    if sp is None:  # first seen as a pcdata table, where the span was skipped
                        sp = spans[r] = extent(r)[1]
                    if sp > span:
                        span = sp
            size = f_end - entry
            if 0 < span < size:
                size = span
            elif span == 0 and size > 1:
                size = linker_text_size(funcs.name(i), binary.data, t_off + entry, size)
            if size > 0:
                start = t_off + entry
                end = min(t_off + t_end, start + size)
                code_sizes.append(end - start)
                if end > start:
                    kadd(start << 2)
                    vadd(end << 23 | (pk ^ META ^ CODE))  # the same package, kind CODE
            else:
                code_sizes.append(0)
    return code_sizes


def _pclntab_regions(pcln: Pclntab, acc: Attribution) -> None:
    """Name the pclntab's tables: bytes no function references stay in these rows."""
    acc.region(pcln.start, pcln.funcname_off, "pclntab: header")
    acc.region(pcln.funcname_off, pcln.cutab_off, "pclntab: function names")
    acc.region(pcln.cutab_off, pcln.filetab_off, "pclntab: compilation unit table")
    acc.region(pcln.filetab_off, pcln.pctab_off, "pclntab: file table")
    acc.region(pcln.pctab_off, pcln.functab_off, "pclntab: pc-value tables")
    acc.region(pcln.functab_off, min(pcln.records_end, pcln.end), "pclntab: function table")


def _funcdata_claims(
    binary: BinaryFile,
    pcln: Pclntab,
    md: ModuleData,
    funcs: FuncTable,
    ids: Sequence[int],
    meta_by_func: array[int] | None,
    acc: Attribution,
    go_minor: int,
) -> ObjectSpans:
    """Each funcdata object (stack maps, inline tree, ...) in go:func.*, sized from its own format,
    goes to the first function (in address order) that references it; shared objects are counted
    once. Alignment padding before an object, function descriptors ("pkg.F·f" words holding a
    function's entry: the data of that function's package) and whatever else lies in the region
    get their own rows. Returns the file span of each decoded object by its go:func.* offset."""
    sec = _section_for_addr(binary, md.gofunc)
    if sec is None:
        acc.notes.append("go:func.* is not in any section: funcdata left unattributed")
        return ObjectSpans.empty()
    base = sec.offset + (md.gofunc - sec.addr)
    limit = sec.offset + sec.file_size
    # Go 1.26+ generates go:func.* in the pclntab (up to findfunctab) or in a section of its own;
    # before, it is a run of .rodata whose end only the decoded objects tell
    region_end = None
    if sec == pcln.section or sec.addr == md.gofunc:
        region_end = limit
        if md.findfunctab > md.gofunc and _section_for_addr(binary, md.findfunctab) == sec:
            region_end = limit = base + (md.findfunctab - md.gofunc)
    decoder = FuncdataDecoder(
        binary.data, base, limit, ptr_size=binary.ptr_size, little_endian=binary.byte_order == "little",
        go_minor=go_minor, inline_entry_size=16 if pcln.func_size == 44 else 20,
    )
    rels, sizes, owners, failed = object_arrays(decoder, pcln, funcs, None if region_end is None else region_end - base)
    release_tables(funcs)
    starts = base + rels
    ends = starts + sizes
    owner_ids = np.asarray(ids, dtype=np.int64)[owners]
    acc.claims.keys.frombytes((starts << 2 | 1).astype(np.uint64).tobytes())
    acc.claims.vals.frombytes((ends << 23 | owner_ids << 3 | META).astype(np.uint64).tobytes())
    if meta_by_func is not None:
        meta = np.frombuffer(meta_by_func, dtype=np.uint64).astype(np.int64)
        meta += np.bincount(owners, weights=sizes, minlength=len(meta)).astype(np.int64)
        meta_by_func[:] = as_array(meta, "Q")
    if len(failed):
        acc.notes.append(f"{len(failed)} funcdata objects could not be decoded: left unattributed")
    if not len(rels):
        return ObjectSpans.empty()
    spans = ObjectSpans(rels, starts, ends)
    end = region_end if region_end is not None else int(ends.max())
    entries = np.frombuffer(funcs.entries, dtype=np.uint64)[:-1].astype(np.int64)
    pids = np.asarray(ids, dtype=np.int64)
    _funcdesc_claims(binary, entries, pids, base + (-md.gofunc) % binary.ptr_size, end, acc)
    for desc in binary.sections:  # Go 1.27+: the descriptors have a section of their own
        if desc.name in (".go.func", "__go_func") and desc.file_size:
            _funcdesc_claims(binary, entries, pids, desc.offset, desc.offset + desc.file_size, acc)
    # alignment padding: zero bytes up to an object's start that rounding the previous object's end
    # up to the start's alignment gives (it depends on the object, not only its kind: up to 32 for
    # some assembly functions' arg info); most objects follow the previous one: no gap to look at
    prev_end = np.maximum.accumulate(np.concatenate([[base], ends[:-1]]))
    gap = starts - prev_end
    align = np.minimum(32, rels & -rels)
    align[align == 0] = 32
    rounded = (prev_end - base + align - 1) // align * align
    pad = np.flatnonzero((gap > 0) & (gap < align) & (rounded >= starts - base))
    if len(pad):
        buf = np.frombuffer(binary.data, dtype=np.uint8)
        at = prev_end[pad, None] + np.arange(32)
        inside = np.arange(32) < gap[pad, None]
        pad = pad[~(buf[np.where(inside, at, 0)] & inside).any(axis=1)]  # all zero bytes
        del buf, at, inside
    if len(pad):
        acc.row(int(prev_end[pad[0]]), int(starts[pad[0]]), "go:func.* (padding)")
        row = acc.row_index["go:func.* (padding)"]
        acc.claims.keys.frombytes((prev_end[pad[1:]] << 2 | 3).astype(np.uint64).tobytes())
        acc.claims.vals.frombytes((starts[pad[1:]] << 23 | row << 3 | ROW).astype(np.uint64).tobytes())
    _pad(acc, binary.data, base, max(base, int(ends.max())), end, 8)
    acc.region(base, end, "go:func.* (unreferenced)")
    return spans


def _pad(acc: Attribution, data: memoryview, base: int, start: int, end: int, align: int) -> None:
    """Zero bytes in [start, end) of go:func.* (at file offset ``base``) that align ``end`` to ``align``."""
    rounded = (start - base + align - 1) // align * align
    if 0 < end - start < align and rounded >= end - base and not any(data[start:end]):
        acc.row(start, end, "go:func.* (padding)")


def _funcdesc_claims(
    binary: BinaryFile, entries: np.ndarray, pids: np.ndarray, start: int, end: int, acc: Attribution
) -> None:
    """Function descriptors ("pkg.F·f", one word: the function's entry; Go 1.21-1.25 put them among
    the funcdata, Go 1.27 in .go.func): pointer-aligned words from ``start`` that equal a function's
    entry (``entries``, ascending; ``pids`` their packages, the last function's where several share
    an entry) go to that function's package's data. Words inside decoded objects lose to the object."""
    ptr = binary.ptr_size
    count = (end - start) // ptr
    if count <= 0 or not len(entries):
        return
    words = np.asarray(word_view(binary, start, count), dtype=np.uint64).view(np.int64)  # >= 2**63: no entry
    at = np.searchsorted(entries, words, side="right") - 1
    hit = np.flatnonzero((at >= 0) & (entries[at.clip(0)] == words))
    off = start + hit * ptr
    acc.claims.keys.frombytes((off << 2 | 2).astype(np.uint64).tobytes())
    acc.claims.vals.frombytes(((off + ptr) << 23 | pids[at[hit]] << 3 | DATA).astype(np.uint64).tobytes())


def findfunctab_size(md: ModuleData) -> int:
    """Bytes of runtime.findfunctab (the linker's findfunctab): one 4-byte index per 4096-byte
    bucket of text and one byte per 256-byte sub-bucket, from runtime.text to the last function's end."""
    span = md.maxpc - md.text if md.maxpc > md.text else 0
    return 4 * ((span + 4095) // 4096) + (span + 255) // 256


def _pdata_claims(binary: BinaryFile, funcs: FuncTable, ids: Sequence[int], acc: Attribution) -> None:
    """PE .pdata (windows/amd64): one RUNTIME_FUNCTION per function (begin, end and unwind info RVAs,
    12 bytes), the meta of the function it begins. The unwind infos in .xdata are shared: no one's."""
    size = 12
    pdata = next((s for s in binary.sections if s.name == ".pdata" and s.file_size), None)
    base = getattr(binary, "image_base", None)
    if binary.goarch != "amd64" or pdata is None or not isinstance(base, int):
        return
    used = min(pdata.file_size, pdata.mem_size or pdata.file_size) // size * size
    entries, ends = funcs.starts, funcs.ends
    add, order = acc.claims.add, binary.byte_order
    for off in range(pdata.offset, pdata.offset + used, size):
        begin = base + int.from_bytes(binary.data[off : off + 4], order)
        i = bisect.bisect_right(entries, begin) - 1
        if i >= 0 and begin < ends[i]:
            add(off, off + size, 1, ids[i], META)


def _findfunctab_claim(binary: BinaryFile, md: ModuleData, acc: Attribution) -> None:
    sec = _section_for_addr(binary, md.findfunctab)
    size = findfunctab_size(md)
    if sec is None or not size:
        return
    start = sec.offset + md.findfunctab - sec.addr
    acc.claims.add(start, min(start + size, sec.offset + sec.file_size), 1, acc.pkg_id("runtime"), META)


def _inlined_name_claims(binary, pcln: Pclntab, funcs, fd_spans, pkg_id, add) -> None:
    """Names of inlined functions sit in funcnametab, referenced only from inline trees
    (runtime inlinedCall: 16 bytes since Go 1.20, name offset at +4; 20 bytes before, at +12).
    Each goes to the inlined function's own package."""
    esize, name_at = (16, 4) if pcln.func_size == 44 else (20, 12)
    data = binary.data
    table_len = pcln.cutab_off - pcln.funcname_off
    names = inlined_names(funcs, fd_spans, esize, name_at, table_len)
    for off, nul in zip(*names, strict=True):
        pkg = go_package(str(data[off:nul], "utf-8", "replace"))
        if pkg:
            add(off, nul + 1, 1, pkg_id(pkg), META)
    release_arrays(funcs)  # no later step reads the function table's arrays
    trim_heap()  # what they and the inline trees' name offsets took


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


def _clip_regions(
    regions: list[tuple[int, int, str]], secs: list[tuple[int, int, str]], starts: list[int]
) -> list[tuple[int, int, str, str]]:
    """Named regions sorted, clipped to the section they start in and to each other:
    (start, end, row, section)."""
    out: list[tuple[int, int, str, str]] = []
    pos = 0
    for start, end, name in sorted(regions):
        start = max(start, pos)
        i = bisect.bisect_right(starts, start) - 1
        if i < 0 or start >= secs[i][1]:
            continue
        end = min(end, secs[i][1])
        if end > start:
            out.append((start, end, name, secs[i][2]))
            pos = end
    return out


def _report(binary: BinaryFile, info: BuildInfo | None, go_version: str, acc: Attribution, packed: str) -> BinaryReport:
    size = binary.file_size
    pkg_names, notes = acc.pkg_names, acc.notes
    # sections' file spans, clipped so that none overlaps another
    secs: list[tuple[int, int, str]] = []
    sec_pos = 0
    spans = sorted((s.offset, s.offset + s.file_size, s.name) for s in binary.sections if s.file_size)
    for s_start, s_end, name in spans:
        s_start = max(s_start, sec_pos)
        if s_end > s_start:
            secs.append((s_start, s_end, name))
            sec_pos = s_end
    starts = [s for s, _e, _n in secs]
    # resolve: each byte to the first claim covering it (sorted by start, then priority); only
    # bytes inside a section count, so a claim can never reach headers or padding. Named regions:
    # the unclaimed bytes inside them go to their row
    regions = _clip_regions(acc.regions, secs, starts)
    bounds = [x for s_start, s_end, _n in secs for x in (s_start, s_end)]
    bounds += [x for r_start, r_end, _n, _s in regions for x in (r_start, r_end)]
    totals, below = acc.claims.resolve(  # the ledger's last reader
        starts, [e for _s, e, _n in secs], bounds, 8 * max(len(pkg_names), len(acc.row_names)))
    claimed = [below[2 * i + 1] - below[2 * i] for i in range(len(secs))]
    named_gaps: dict[tuple[str, str], int] = defaultdict(int)
    for k, (r_start, r_end, name, section) in enumerate(regions, len(secs)):
        n = r_end - r_start - (below[2 * k + 1] - below[2 * k])
        if n > 0:
            named_gaps[name, section] += n
    unattr: dict[str, int] = defaultdict(int)
    for (s_start, s_end, name), c in zip(secs, claimed, strict=True):
        if s_end - s_start - c:
            unattr[name] += s_end - s_start - c
    for rid, name in enumerate(acc.row_names):
        if totals[8 * rid + ROW]:
            unattr[name] += totals[8 * rid + ROW]
    for (name, section), n in named_gaps.items():
        unattr[section] -= n
        unattr[name] += n
    for start, end, kind in binary.uncovered_ranges():
        unattr[f"({kind})"] += end - start
    module_of = module_finder([m.path for m in info.deps] if info else [], info.main.path if info and info.main else "")
    packages = []
    mod_sizes: dict[str, int] = defaultdict(int)
    pkg_module: dict[str, str] = {}
    for pid, name in enumerate(pkg_names):
        code, meta, data, _row, debug, estimated = totals[8 * pid : 8 * pid + 6]
        data += estimated
        if code + meta + data + debug == 0:
            continue
        if name.startswith("("):
            mod = ""
        elif name == "go.shape":  # the compiler's generic shape types
            mod = "std"
        else:
            mod = module_of(name)
        pkg_module[name] = mod
        total = code + meta + data + debug
        packages.append(PackageSize(name=name, module=mod, size=total, code=code, meta=meta, data=data, debug=debug,
                                    data_estimated=estimated))
        mod_sizes[mod] += total
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
        (
            ModuleSize(path=m or "(unknown)", version=versions.get(m, ("", ""))[0], size=s,
                       replace=versions.get(m, ("", ""))[1])
            for m, s in mod_sizes.items()
        ),
        key=lambda m: (-m.size, m.path),
    )
    rows = (Unattributed(k, v) for k, v in unattr.items() if v)
    unattributed = tuple(sorted(rows, key=lambda u: (-u.size, u.section)))
    attributed = sum(p.size for p in packages)
    if attributed + sum(u.size for u in unattributed) != size:
        raise AssertionError(
            f"{binary.path}: attribution does not add up: {attributed} + {sum(u.size for u in unattributed)} != {size}"
        )
    funcs: tuple[Function, ...] = ()
    if acc.functions:  # by size, then name (ties in their order): sorted by name, then stably by size
        by_name = np.array(sorted(range(len(acc.functions)), key=list(map(itemgetter(0), acc.functions)).__getitem__))
        sizes = np.fromiter(map(plus, map(itemgetter(2), acc.functions), map(itemgetter(3), acc.functions)), np.int64,
                            len(acc.functions))
        order = by_name[np.argsort(-sizes[by_name], kind="stable")].tolist()
        records = list(map(acc.functions.__getitem__, order))
        del by_name, sizes, order
        owners = map(pkg_names.__getitem__, map(itemgetter(1), records))
        funcs = tuple(map(Function, map(itemgetter(0), records), owners, map(itemgetter(2), records),
                          map(itemgetter(3), records)))  # positional: (name, package, code, meta)
        del records
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
        embeds=tuple(sorted(EmbeddedFile(package=p, name=n, size=z, kind=k) for p, n, z, k in acc.embeds)),
    )
