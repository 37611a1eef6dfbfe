"""The pclntab reader against Go's own debug/gosym, and its errors on damaged input.

Reference: a small Go program (GOSYMDUMP) that lists every function (name, entry, end) through
debug/gosym, built with the machine's Go.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from sizebot.binary.attribute import go_package
from sizebot.binary.container import open_binary
from sizebot.binary.moduledata import find_moduledata
from sizebot.binary.pclntab import MAGIC_GO120, Pclntab
from sizebot.errors import PclntabError
from tests.support.goprograms import HTTPJSON, build, go_bin

GOSYMDUMP = {
    "go.mod": "module example.com/gosymdump\n\ngo 1.21\n",
    "main.go": """package main

import (
	"debug/elf"
	"debug/gosym"
	"encoding/json"
	"os"
)

type fn struct {
	Name  string `json:"name"`
	Entry uint64 `json:"entry"`
	End   uint64 `json:"end"`
}

func main() {
	f, err := elf.Open(os.Args[1])
	if err != nil {
		os.Exit(3)
	}
	data, _ := f.Section(".gopclntab").Data()
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, f.Section(".text").Addr))
	if err != nil {
		os.Exit(4)
	}
	var out []fn
	for _, x := range tab.Funcs {
		out = append(out, fn{x.Name, x.Entry, x.End})
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
""",
}


@pytest.fixture(scope="module")
def binaries() -> dict[str, Path]:
    return {
        "1.26": build(HTTPJSON, flags=("-ldflags=-s -w",)),
        "1.21": build(HTTPJSON, flags=("-ldflags=-s -w",), go=go_bin("1.21.13")),
    }


def _functions(path: Path):
    b = open_binary(path)
    pcln = Pclntab(b, b.pclntab_section())
    md = find_moduledata(b, pcln)
    assert md is not None
    return b, pcln, md, pcln.parse_functions(md.text)


@pytest.mark.parametrize("version", ["1.26", "1.21"])
def test_functions_match_debug_gosym(binaries, version):
    tool = build(GOSYMDUMP)
    ref = json.loads(subprocess.run([str(tool), str(binaries[version])], capture_output=True, text=True, check=True).stdout)
    _b, pcln, md, funcs = _functions(binaries[version])
    assert pcln.magic == MAGIC_GO120
    assert pcln.nfunc == len(funcs) == len(ref)
    assert [(f.name, f.entry, f.end) for f in funcs] == [(r["name"], r["entry"], r["end"]) for r in ref]
    # Go 1.26 stopped writing textStart into the header; moduledata supplies it
    assert (pcln.text_start == 0) == (version == "1.26")
    assert md.text == funcs[0].entry


def test_pcvalue_tables_span_the_function(binaries):
    _b, pcln, _md, funcs = _functions(binaries["1.26"])
    exact = 0
    for f in funcs:
        size, span = pcln.pcvalue_extent(f.pc_tables[2])  # pcln
        assert size > 0
        exact += span <= f.end - f.entry
    assert exact >= 0.99 * len(funcs)


def _patched(src: Path, tmp_path: Path, edit) -> Path:
    dst = tmp_path / "patched"
    shutil.copyfile(src, dst)
    b = open_binary(src)
    sec = b.pclntab_section()
    pcln = Pclntab(b, sec)
    info = (sec.offset, pcln.functab_off, pcln.nfunc)
    b.close()
    data = bytearray(dst.read_bytes())
    edit(data, *info)
    dst.write_bytes(bytes(data))
    return dst


def test_corrupt_function_table_is_a_pclntab_error(binaries, tmp_path):
    def scramble(data, _start, functab, nfunc):
        # entryoff values out of order in the middle of the function table
        for i in range(nfunc // 2, nfunc // 2 + 8):
            struct.pack_into("<I", data, functab + 8 * i, 0xFFFFFF00 - i)

    path = _patched(binaries["1.26"], tmp_path, scramble)
    b = open_binary(path)
    with pytest.raises(PclntabError, match="corrupt pclntab"):
        Pclntab(b, b.pclntab_section()).parse_functions(0x401000)


def test_corrupt_header_is_a_pclntab_error(binaries, tmp_path):
    def bad_offsets(data, start, _functab, _nfunc):
        struct.pack_into("<Q", data, start + 8 + 7 * 8, 0xFFFFFFFF)  # pclnOffset past the section

    b = open_binary(_patched(binaries["1.26"], tmp_path, bad_offsets))
    with pytest.raises(PclntabError, match="corrupt pclntab header"):
        Pclntab(b, b.pclntab_section())


@pytest.mark.parametrize(
    "name, pkg",
    [
        ("net/http.(*conn).serve", "net/http"),
        ("net/http.(*conn).serve.func1", "net/http"),
        ("main.main", "main"),
        ("gopkg.in/yaml%2ev3.Unmarshal", "gopkg.in/yaml.v3"),
        ("slices.Sort[go.shape.[]string,go.shape.string]", "slices"),
        ("sync..dict.OnceValue[*crypto/internal/fips140/ecdsa.Curve[*crypto/internal/fips140/nistec.P224Point]]", "sync"),
        ("type:.eq.net/http.Request", "net/http"),
        ("type:*net/http.Request", "net/http"),
        ("go:itab.*encoding/json.SyntaxError,error", "encoding/json"),
        ("go:itab.net/http.http2chunkWriter,io.Writer", "net/http"),
        ("example.com/m/v2/internal/x.T.M", "example.com/m/v2/internal/x"),
        ("go:string.*", None),
        ("_cgo_init", None),
        ("x_cgo_init", None),
        ("$f64.3ff0000000000000", None),
        ("aeshashbody", None),
        ("runtime/cgo(.bss)", None),  # a cgo host object's section symbol, not a package
        ("net(.text)", None),
    ],
)
def test_go_package(name, pkg):
    assert go_package(name) == pkg
