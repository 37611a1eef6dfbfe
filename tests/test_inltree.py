"""The inline trees (sizebot/binary/inltree.py): the function the compiler inlined at a pc, read from
the pclntab's PCDATA_InlTreeIndex tables and go:func.* inline trees, equals what DWARF's inlined
subroutines say, on a real program for Go 1.21-1.27 and amd64, arm64 and 386. Data read by inlined
code goes to the inlined function's package. Forged tables and trees fall back to the outer function,
never an exception."""

from __future__ import annotations

import shutil
import struct
from array import array
from pathlib import Path

import pytest

from sizebot.binary.attribute import analyze_binary, attribution
from sizebot.binary.claims import ESTIMATED
from sizebot.binary.container import open_binary
from sizebot.binary.funcdata import FUNCDATA_INLTREE, PCDATA_INLTREE_INDEX
from sizebot.binary.inltree import _decode, function_runs, inlined_packages, tree_span
from sizebot.binary.moduledata import find_moduledata
from sizebot.binary.pclntab import NO_FUNCDATA, Pclntab
from sizebot.errors import PclntabError
from tests.support.dwarf_inlined import dwarf_inlined
from tests.support.goprograms import HTTPJSON, build, go_bin
from tests.support.realprograms import FZF, build_real

GO_VERSIONS = ("go", "1.21.13", "1.24.11", "1.27.3")


def _go(version: str) -> str:
    return "go" if version == "go" else go_bin(version)


def _inlined_names(exe: Path, pcs: array) -> tuple[list[str | None], int]:
    """Per pc: the innermost inlined function's name by the inline trees (None: the function's own
    code); and how many functions' tables were read."""
    with open_binary(exe) as binary:
        pcln = Pclntab(binary, binary.pclntab_section())
        md = find_moduledata(binary, pcln)
        assert md is not None and md.gofunc
        funcs = pcln.parse_functions(md.text or pcln.text_start)
        names: list[str] = []

        def package_of(name: str) -> int:
            names.append(name)
            return len(names) - 1

        span = tree_span(binary, md.gofunc)
        assert span is not None
        _bounds, *runs = function_runs(funcs, pcs)
        positions, ids = inlined_packages(funcs, span, package_of, pcs, (runs[0], runs[1], runs[2]))
    out: list[str | None] = [None] * len(pcs)
    for j, i in zip(positions, ids, strict=True):
        out[j] = names[i]
    return out, len(runs[0])


@pytest.mark.slow
@pytest.mark.parametrize("goarch", ("amd64", "arm64", "386"))
@pytest.mark.parametrize("version", GO_VERSIONS)
def test_inline_trees_equal_dwarf(version, goarch):
    exe = build_real(FZF, go=_go(version), goarch=goarch)
    with open_binary(exe) as binary:
        text = binary.text_section()
        assert text is not None
        pcs = array("Q", range(text.addr, text.addr + text.file_size, 5))  # every instruction's neighbourhood
    ours, functions = _inlined_names(exe, pcs)
    theirs = dwarf_inlined(exe, pcs)
    inlined = sum(name is not None for name in theirs)
    # Measured: fzf v0.56.0 has 236,000-312,000 such pcs on linux/386 in 3,600-4,600 functions, a fifth
    # of the pcs in inlined code
    assert functions > 3_000 and inlined > 30_000, (functions, inlined)
    mismatches = [(hex(pc), a, b) for pc, a, b in zip(pcs, ours, theirs, strict=True) if a != b]
    assert not mismatches, (len(mismatches), mismatches[:10])


TABLE_USER = {
    "go.mod": "module example.com/spaces\n\ngo 1.21\n",
    "main.go": """package main

import (
	"os"
	"unicode"
)

func main() {
	n := 0
	for _, r := range os.Args[0] {
		if unicode.IsUpper(r) {
			n++
		}
	}
	os.Exit(n)
}
""",
}


@pytest.mark.parametrize("goarch", ("amd64", "386"))
def test_a_table_that_inlined_code_reads_is_its_package(goarch):
    # unicode.IsUpper is inlined into main.main: its read of unicode.properties (the Latin-1 table)
    # is main.main's instruction, and the table is unicode's
    exe = build(TABLE_USER, goarch=goarch)
    with open_binary(exe) as binary:
        sym = binary.find_symbol("unicode.properties")
        assert sym is not None and sym.size == 256
        off = binary.vaddr_to_offset(sym.addr)
        acc = attribution(binary, symbols=False)
    owners = {acc.pkg_names[(c >> 3) & 0xFFFFF] for c in acc.claims.sorted_items()
              if c & 7 == ESTIMATED and c >> 65 <= off < (c >> 23) & ((1 << 40) - 1)}
    assert owners == {"unicode"}


def test_varints_of_any_length_decode_as_the_runtime_reads_them():
    class Quantum:
        min_lc = 4

    # (value delta, pc delta) pairs: +1 over 1 (x4), -2 over 200 (two bytes), +300 (two bytes) over
    # 70000 (three bytes), then a six-byte value delta: runtime.readvarint shifts its last byte by
    # 35 & 31 = 3, so 0x02 | 0x01 << 3 = 10, zig-zag +5
    table = bytes([2, 1, 3, 0xC8, 0x01, 0xD8, 0x04, 0xF0, 0xA2, 0x04, 0x82, 0x80, 0x80, 0x80, 0x80, 0x01, 1])
    second = bytes([0, 5, 4, 1])  # a table after it: -1 over 5, +2 over 1
    values, ends, firsts = _decode(Quantum(), [table, second], [8, 4])  # type: ignore[arg-type]
    assert list(firsts) == [0, 4, 6]
    # running sums from 0 over both tables (a table's values are its sums from its first pair, minus 1)
    assert list(values) == [0, 1, -1, 299, 304, 304, 306]
    assert list(ends) == [0, 4, 804, 280804, 280808, 280828, 280832]


def _inline_trees(exe: Path) -> list[tuple[int, int, int]]:
    """(file offset of the inline index table, file offset of the inline tree, its number of
    inlinedCalls) of each function with both."""
    with open_binary(exe) as binary:
        pcln = Pclntab(binary, binary.pclntab_section())
        md = find_moduledata(binary, pcln)
        assert md is not None
        funcs = pcln.parse_functions(md.text or pcln.text_start)
        span = tree_span(binary, md.gofunc)
        assert span is not None
        out = []
        for pc_tables, funcdata in funcs.iter_tables():
            if len(funcdata) > FUNCDATA_INLTREE and len(pc_tables) > 3 + PCDATA_INLTREE_INDEX:
                tree, table = funcdata[FUNCDATA_INLTREE], pc_tables[3 + PCDATA_INLTREE_INDEX]
                stats = pcln.pcvalue_stats(table) if tree != NO_FUNCDATA and table else None
                if stats is not None:
                    out.append((pcln.pctab_off + table, span[0] + tree, stats[0] + 1))
        return out


def _reference_pcs(exe: Path) -> array:
    from sizebot.binary.claims import Attribution
    from sizebot.binary.data_by_reference import data_references

    with open_binary(exe) as binary:
        refs = data_references(binary, Attribution())
        assert refs is not None
        return refs[0]


@pytest.mark.parametrize("damage", ["name offsets", "tree offsets", "tables", "unterminated"])
def test_forged_inline_trees_fall_back_to_the_outer_function(tmp_path, damage):
    src = build(HTTPJSON, flags=("-ldflags=-s -w",))
    pcs = _reference_pcs(src)
    clean, _ = _inlined_names(src, pcs)
    assert sum(n is not None for n in clean) > 500
    trees = _inline_trees(src)
    bad = tmp_path / "bad"
    shutil.copyfile(src, bad)
    with open(bad, "r+b") as f:
        for table, tree, calls in trees:
            if damage == "name offsets":  # every inlinedCall's nameOff past the name table (or negative)
                for k in range(calls):
                    f.seek(tree + 16 * k + 4)
                    f.write(struct.pack("<i", (0x7FFFFFF0, -8)[k % 2]))
            elif damage == "tables":  # the index tables say "inlined call 2**27" everywhere
                f.seek(table)
                f.write(bytes([0x80, 0x80, 0x80, 0x80, 0x01, 0x7F]))
    if damage == "unterminated":  # varints that never end: every pc-value table runs past the tables
        with open_binary(src) as binary:
            pcln = Pclntab(binary, binary.pclntab_section())
            start, end = pcln.pctab_off, pcln.functab_off
        with open(bad, "r+b") as f:
            f.seek(start)
            f.write(b"\xff" * (end - start))
    if damage == "tree offsets":  # the funcdata slot of each inline tree points past go:func.*
        with open_binary(src) as binary:
            pcln = Pclntab(binary, binary.pclntab_section())
            md = find_moduledata(binary, pcln)
            assert md is not None
            funcs = pcln.parse_functions(md.text or pcln.text_start)
            slots = []
            for i in range(len(funcs)):
                rec = funcs.func_offs[i]
                pc_tables, funcdata = funcs.tables(i)
                if len(funcdata) > FUNCDATA_INLTREE and funcdata[FUNCDATA_INLTREE] != NO_FUNCDATA:
                    npcdata = len(pc_tables) - 3
                    slots.append(rec + pcln.func_size + 4 * (npcdata + FUNCDATA_INLTREE))
        with open(bad, "r+b") as f:
            for slot in slots:
                f.seek(slot)
                f.write(struct.pack("<I", 0x7FFFFFF0))
    forged, _ = _inlined_names(bad, pcs)
    # what could not be read stays the outer function's; nothing else changes
    assert all(n is None or n == c for n, c in zip(forged, clean, strict=True))
    assert sum(n is not None for n in forged) < sum(n is not None for n in clean) // 4
    if damage == "unterminated":  # the code's own tables are gone too: one error, not a traceback
        with pytest.raises(PclntabError):
            analyze_binary(bad)
    else:
        report = analyze_binary(bad)  # the whole analysis still measures every byte
        assert report.file_size == bad.stat().st_size
