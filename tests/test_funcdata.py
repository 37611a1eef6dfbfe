"""Funcdata objects sized from their own formats, checked against what the Go toolchain itself says:
the compiler's object files (each function's .stkobj, .arginfo, .opendefer, .argliveinfo symbol),
the linker's packed go:func.* (Go 1.26+: every byte is an object or its alignment padding) and
runtime.findfunctab's symbol size."""

from __future__ import annotations

import re
import struct
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from sizebot.binary.attribute import _section_for_addr, analyze_binary, findfunctab_size
from sizebot.binary.container import open_binary
from sizebot.binary.funcdata import FuncdataDecoder, decode_objects
from sizebot.binary.moduledata import find_moduledata
from sizebot.binary.pclntab import NO_FUNCDATA, Pclntab
from sizebot.documents.analyze import BinaryReport
from tests.support.goprograms import HTTPJSON, build, go_bin, go_env

STRIP = ("-ldflags=-s -w",)
VERSIONS = ["local", "1.21.13", "1.24.11", "1.27.3"]
# funcdata kind -> suffix of the compiler's symbol for it, named after the function
SUFFIXES = {2: (".stkobj",), 4: (".opendefer",), 5: (".arginfo1", ".arginfo0"), 6: (".argliveinfo",)}


def _go(version: str) -> str:
    return "go" if version == "local" else go_bin(version)


def _objects(path: Path):
    """(functions, {offset: (bytes, owner index)}, failed, binary, md)"""
    b = open_binary(path)
    pcln = Pclntab(b, b.pclntab_section())
    md = find_moduledata(b, pcln)
    funcs = pcln.parse_functions(md.text)
    sec = _section_for_addr(b, md.gofunc)
    base = sec.offset + md.gofunc - sec.addr
    limit = sec.offset + sec.file_size
    region_len = None
    if sec == pcln.section and _section_for_addr(b, md.findfunctab) == sec:
        region_len = md.findfunctab - md.gofunc
        limit = base + region_len
    minor = int(re.match(r"go1\.(\d+)", _version(path)).group(1))
    dec = FuncdataDecoder(b.data, base, limit, ptr_size=b.ptr_size, little_endian=b.byte_order == "little",
                          go_minor=minor, inline_entry_size=16)
    sizes, failed = decode_objects(dec, pcln, funcs, region_len)
    return funcs, sizes, failed, b, md, region_len


def _version(path: Path) -> str:
    out = subprocess.run(["go", "version", str(path)], capture_output=True, text=True, check=True).stdout
    return out.split(": ", 1)[1].split()[0]


def _object_symbol_sizes(path: Path, go: str) -> dict[str, set[int]]:
    """name -> sizes of the symbols of that name in the compiled packages the program links (go list
    -export); generic instantiations are compiled into each package that uses them, so a name can
    have several."""
    src = path.parent / "src"
    env = go_env(go)
    exports = subprocess.run([go, "list", "-export", "-deps", "-f", "{{.Export}}", "."], cwd=src, env=env,
                             capture_output=True, text=True, check=True).stdout.split()
    sizes: dict[str, set[int]] = defaultdict(set)
    for archive in filter(None, exports):
        nm = subprocess.run([go, "tool", "nm", "-size", archive], env=env, capture_output=True, text=True,
                            check=True).stdout
        for line in nm.splitlines():
            parts = line.split(None, 3)
            if len(parts) == 4 and parts[2] in "rR":
                sizes[re.sub(r"<\d+>$", "", parts[3])].add(int(parts[1]))
    return sizes


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_extents_equal_the_compilers_symbol_sizes(version):
    """Each function's stack objects, arg info, open-coded defer info and arg liveness object, as
    decoded from the binary, is exactly as long as the symbol the compiler emitted for it."""
    go = _go(version)
    path = build(HTTPJSON, go=go, flags=STRIP)
    symbols = _object_symbol_sizes(path, go)
    funcs, sizes, failed, _b, _md, _rl = _objects(path)
    assert not failed
    checked: dict[int, int] = defaultdict(int)
    wrong = []
    for f in funcs:
        for kind, rel in enumerate(f.funcdata):
            if rel == NO_FUNCDATA or kind not in SUFFIXES:
                continue
            want = next((symbols[f.name + s] for s in SUFFIXES[kind] if f.name + s in symbols), None)
            if want is None:
                continue  # assembly functions' arg info, linker-made wrappers: no compiler symbol
            checked[kind] += 1
            if sizes[rel][0] not in want:
                wrong.append((f.name, kind, sizes[rel][0], want))
    # a lone arg liveness bitmap is 1 or 2 bytes, which only the next object's start can tell; where
    # that object is not adjacent (before Go 1.26 the linker does not pack go:func.*), 1 is assumed
    lone = [w for w in wrong if w[1] == 6 and w[2] + 1 in w[3]]
    assert [w for w in wrong if w not in lone] == []
    assert len(lone) <= checked[6] // 100
    assert checked[2] > 100 and checked[5] > 1000 and checked[6] > 100 and checked[4] > 3, checked


@pytest.mark.parametrize("version", ["local", "1.27.3"])
def test_packed_go_func_region_is_all_objects(version):
    """Go 1.26+ packs go:func.* itself (decreasing alignment, each start rounded up): decoded objects
    tile it exactly (no overlap, gaps only alignment padding) and end where go:func.* ends."""
    path = build(HTTPJSON, go=_go(version), flags=STRIP)
    _funcs, sizes, _failed, b, md, region_len = _objects(path)
    assert region_len is not None
    pos = 0
    for rel in sorted(sizes):
        align = min(32, rel & -rel)  # assembly functions' arg info and stack maps: up to 32
        assert pos <= rel < pos + align or rel == pos, (hex(rel), hex(pos))
        pos = rel + sizes[rel][0]
    assert region_len - 8 < pos <= region_len
    r = analyze_binary(path)
    rows = {u.section: u.size for u in r.unattributed}
    assert "go:func.* (unreferenced)" not in rows and 0 < rows["go:func.* (padding)"] < 8 * len(sizes) // 10
    assert not any("funcdata" in n for n in r.notes)


def test_go_func_and_findfunctab_match_the_symbol_table():
    """Unstripped Go 1.26: the symbol table sizes go:func.* and runtime.findfunctab."""
    path = build(HTTPJSON)
    nm = subprocess.run(["go", "tool", "nm", "-size", str(path)], capture_output=True, text=True, check=True).stdout
    syms = {p[3]: int(p[1]) for p in (line.split(None, 3) for line in nm.splitlines()) if len(p) == 4}
    _funcs, sizes, _failed, _b, md, region_len = _objects(path)
    assert region_len == syms["go:func.*"] or region_len - syms["go:func.*"] < 8
    assert findfunctab_size(md) == syms["runtime.findfunctab"]


@pytest.fixture(scope="module")
def across_versions() -> dict[str, BinaryReport]:
    return {v: analyze_binary(build(HTTPJSON, go=_go(v), flags=STRIP)) for v in VERSIONS}


def test_no_function_meta_exceeds_its_tables(across_versions):
    """A function's meta is at most its record, name, pc-value tables and funcdata objects: the old
    'up to the next referenced object' rule gave a package init hundreds of KB."""
    for version, r in across_versions.items():
        funcs, sizes, _failed, b, _md, _rl = _objects(Path(r.path))
        pcln = Pclntab(b, b.pclntab_section())
        bound: dict[str, int] = defaultdict(int)  # by name: ABI wrappers share their function's name
        for f in funcs:
            tables = sum(pcln.pcvalue_extent(t, span=False)[0] for t in set(f.pc_tables) if t)
            objects = sum(sizes[rel][0] for rel in set(f.funcdata) if rel in sizes)
            bound[f.name] += 8 + f.func_len + f.name_len + tables + objects  # 8: its function table entry
        meta: dict[str, int] = defaultdict(int)
        for fn in r.functions:
            meta[fn.name] += fn.meta
        over = [(name, m, bound[name]) for name, m in meta.items() if m > bound[name]]
        assert over == [], version
        inits = [fn for fn in r.functions if fn.name.endswith(".init")]
        assert max(fn.meta for fn in inits) < 32_000, version


def test_same_function_meta_across_versions(across_versions):
    """The same compiled function's meta moves across Go 1.21-1.27 only as much as its tables do."""
    metas = {v: {f.name: f.meta for f in r.functions} for v, r in across_versions.items()}
    funcs = _objects(Path(across_versions["local"].path))[0]
    compiled = {f.name for f in funcs if len(f.funcdata) > 1 and f.funcdata[1] != NO_FUNCDATA}  # not assembly
    common = set.intersection(*(set(m) for m in metas.values())) & compiled
    big = [n for n in common if metas["local"][n] > 1000 and not n.startswith("type:")]
    assert len(big) > 50
    ratios = {name: max(m[name] for m in metas.values()) / min(m[name] for m in metas.values()) for name in big}
    # deduplicated pc-value tables go to the first function using them, and inlining decisions change
    # between versions: most functions stay within 2x, none beyond 4x (the old rule gave 25x)
    assert sum(r <= 2 for r in ratios.values()) >= 0.9 * len(big), sorted(ratios.items(), key=lambda kv: -kv[1])[:10]
    assert max(ratios.values()) <= 4, sorted(ratios.items(), key=lambda kv: -kv[1])[:5]


def test_corrupt_funcdata_offset_is_a_note(tmp_path):
    """A funcdata offset past go:func.* leaves that object unattributed with a note; sums hold."""
    src = build(HTTPJSON, flags=STRIP)
    funcs, sizes, _failed, b, _md, _rl = _objects(src)
    victim = next(f for f in funcs if len(f.funcdata) > 2 and f.funcdata[2] != NO_FUNCDATA)
    pcln = Pclntab(b, b.pclntab_section())
    word = victim.func_off + pcln.func_size + 4 * (len(victim.pc_tables) - 3) + 4 * 2
    data = bytearray(src.read_bytes())
    struct.pack_into("<I", data, word, 0x7FFFFFF0)
    b.close()
    path = tmp_path / "corrupt"
    path.write_bytes(bytes(data))
    r = analyze_binary(path)
    assert "1 funcdata objects could not be decoded: left unattributed" in r.notes
    assert sum(p.size for p in r.packages) + sum(u.size for u in r.unattributed) == r.file_size


def test_arg_liveness_object_at_the_end_of_go_func(tmp_path):
    """A lone-bitmap arg liveness object (u8 start offset, one bitmap of 1 or 2 bytes) is measured
    when its bytes fit in go:func.* and noted, unattributed, when they do not: never an error."""
    src = build(HTTPJSON, flags=STRIP)
    funcs, _sizes, _failed, b, _md, region_len = _objects(src)
    pcln = Pclntab(b, b.pclntab_section())
    victim = next(i for i, f in enumerate(funcs) if len(f.funcdata) > 6 and f.funcdata[6] != NO_FUNCDATA
                  and len(f.pc_tables) > 6 and f.pc_tables[6] and pcln.pcvalue_stats(f.pc_tables[6]) == (1, False))
    f = funcs[victim]
    word = f.func_off + pcln.func_size + 4 * (len(f.pc_tables) - 3) + 4 * 6
    data = bytes(src.read_bytes())
    b.close()
    for rel, fits in ((region_len - 2, True), (region_len - 1, False)):  # its bitmap the last byte; past it
        forged = bytearray(data)
        struct.pack_into("<I", forged, word, rel)
        path = tmp_path / f"forged-{rel}"
        path.write_bytes(bytes(forged))
        _funcs, sizes, failed, b2, _md2, _rl2 = _objects(path)
        b2.close()
        if fits:
            assert sizes[rel] == (2, victim) and rel not in failed
        else:
            assert rel not in sizes and failed == {rel}
            r = analyze_binary(path)
            assert "1 funcdata objects could not be decoded: left unattributed" in r.notes
            assert sum(p.size for p in r.packages) + sum(u.size for u in r.unattributed) == r.file_size
