"""analyze_binary on real Go builds: every byte in one bucket, code parity with `go tool nm -size`,
stripped == unstripped code, coverage, modules, and bad input."""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections import defaultdict

import pytest

from sizebot.binary.attribute import NOT_GO, analyze_binary, go_package
from sizebot.binary.claims import symbol_table_package
from sizebot.binary.container import open_binary
from sizebot.documents.analyze import BinaryReport
from sizebot.errors import BinaryFormatError, PclntabError
from tests.support.goprograms import CGO, HELLO, HTTPJSON, WITHDEP, build, go_bin

TARGETS = [("linux", "amd64"), ("linux", "arm64"), ("linux", "386"), ("darwin", "arm64"), ("windows", "amd64")]
VARIANTS = {"default": (), "stripped": ("-ldflags=-s -w",), "trimpath": ("-trimpath",)}
STRIP = ("-ldflags=-s -w",)


def assert_sums(r: BinaryReport) -> None:
    assert sum(p.size for p in r.packages) + sum(u.size for u in r.unattributed) == r.file_size
    assert all(p.size == p.code + p.meta + p.data + p.debug and p.size > 0 for p in r.packages)
    assert all(u.size > 0 for u in r.unattributed)
    assert r.coverage == pytest.approx(sum(p.size for p in r.packages) / r.file_size)
    names = {u.section for u in r.unattributed}
    for s in r.sections:  # zero-fill sections hold no file bytes, so they can never appear
        if s.file_size == 0:
            assert s.name not in names


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("goos, goarch", TARGETS)
def test_buckets_sum_to_file_size(goos, goarch, variant):
    r = analyze_binary(build(HELLO, goos=goos, goarch=goarch, flags=VARIANTS[variant]))
    assert_sums(r)
    assert r.notes == () and r.go_version.startswith("go1.26")
    assert r.format == {"linux": "elf", "darwin": "macho", "windows": "pe"}[goos]
    assert (r.goos, r.goarch) == (goos, goarch)
    by_name = {p.name: p for p in r.packages}
    assert by_name["runtime"].code > 100_000 and by_name["fmt"].code > 10_000
    assert by_name["main"].module == "example.com/hello" and by_name["runtime"].module == "std"
    assert r.coverage > 0.5


@pytest.mark.slow
@pytest.mark.parametrize("version", ["1.21.13", "1.24.11", "1.27.3"])  # 1.27: moduledata without typelinks
@pytest.mark.parametrize("flags", [(), STRIP], ids=["default", "stripped"])
def test_other_go_versions(version, flags):
    r = analyze_binary(build(HELLO, flags=flags, go=go_bin(version)))
    assert_sums(r)
    assert r.go_version == f"go{version}" and r.notes == ()
    assert {"runtime", "fmt", "main"} <= {p.name for p in r.packages}
    if flags:
        assert r.coverage > 0.8


@pytest.mark.parametrize("flags", [(), STRIP], ids=["default", "stripped"])
def test_a_goroot_fetched_by_gotoolchain_is_std(flags):
    """The machine's Go asked for go1.27.3 fetches that release into the module cache: its runtime's
    files are .../pkg/mod/golang.org/toolchain@v0.0.1-go1.27.3.linux-amd64/src/runtime/..., the standard
    library all the same (the assembly entry point has no package in its name: its file says runtime)."""
    exe = build(HELLO, flags=flags, extra_env={"GOTOOLCHAIN": "go1.27.3"})
    assert b"/pkg/mod/golang.org/toolchain@v0.0.1-go1.27.3.linux-amd64/src/runtime/" in exe.read_bytes()
    r = analyze_binary(exe)
    assert_sums(r)
    assert r.go_version == "go1.27.3" and r.notes == ()
    assert [f.package for f in r.functions if f.name == "_rt0_amd64_linux"] == ["runtime"]
    assert not [p.name for p in r.packages if p.name.startswith("(")]
    assert {m.path for m in r.modules} == {"std", "example.com/hello"}


@pytest.mark.parametrize("flags", [(), STRIP], ids=["default", "stripped"])
def test_cgo(flags):
    r = analyze_binary(build(CGO, cgo=True, flags=flags))
    assert_sums(r)
    assert r.build_info.setting("CGO_ENABLED") == "1"
    # the C code (twice(), the cgo runtime in C) has no Go package: it stays unattributed .text
    assert any(u.section == ".text" for u in r.unattributed)
    assert "main" in {p.name for p in r.packages}


@pytest.fixture(scope="module")
def httpjson() -> dict[str, BinaryReport]:
    return {
        "full": analyze_binary(build(HTTPJSON)),
        "stripped": analyze_binary(build(HTTPJSON, flags=STRIP)),
    }


def test_code_matches_go_tool_nm(httpjson):
    """Each package's code is the sum of its functions' `go tool nm -size` sizes, within 1%.
    Assembly helpers without a package in their name ("aeshashbody") count where the report put them."""
    r = httpjson["full"]
    nm = subprocess.run(["go", "tool", "nm", "-size", "-sort", "address", r.path], capture_output=True, text=True, check=True).stdout
    placed = {f.name: f.package for f in r.functions}
    sums: dict[str, int] = defaultdict(int)
    for line in nm.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2] in "Tt":
            pkg = placed.get(parts[3]) or go_package(parts[3])
            if pkg:
                sums[pkg] += int(parts[1])
    checked = 0
    for p in r.packages:
        if p.code > 4096 and not p.name.startswith("("):
            assert p.code == pytest.approx(sums[p.name], rel=0.01), p.name
            checked += 1
    assert checked > 40


@pytest.mark.parametrize("goarch", ["amd64", "arm64"])
@pytest.mark.parametrize("reading", ["arrays", "function by function"])
def test_fips_brackets_are_their_one_byte(goarch, reading, monkeypatch):
    """The linker's go:textfipsstart/go:textfipsend are 1-byte symbols without pc-value tables; the
    alignment padding up to the next function stays unattributed .text, as after any function."""
    path = build(HTTPJSON, goarch=goarch)
    if reading != "arrays":
        monkeypatch.setattr("sizebot.binary.attribute.pctab_claims", lambda *a: None)
    nm = subprocess.run(["go", "tool", "nm", "-size", "-sort", "address", path], capture_output=True, text=True,
                        check=True).stdout.splitlines()
    addr = {line.split()[3]: int(line.split()[0], 16) for line in nm if len(line.split()) == 4}
    assert addr["go:textfipsend"] - addr["go:textfipsstart"] > 1  # padding follows the start bracket
    for stripped in (False, True):
        r = analyze_binary(build(HTTPJSON, goarch=goarch, flags=STRIP) if stripped else path)
        assert {f.name: f.code for f in r.functions if f.name.startswith("go:textfips")} == \
            {"go:textfipsstart": 1, "go:textfipsend": 1}
        assert_sums(r)


@pytest.mark.parametrize("goos, goarch", [("darwin", "arm64"), ("windows", "amd64")])
@pytest.mark.parametrize("reading", ["arrays", "function by function"])
def test_a_build_id_in_text_is_its_own_bytes(goos, goarch, reading, monkeypatch):
    """Without an ELF note the linker writes the build ID as the first text symbol, go:buildid:
    "\\xff Go build ID: " + the quoted ID + "\\n \\xff", without pc-value tables; the alignment padding
    after it stays unattributed text."""
    if reading != "arrays":
        monkeypatch.setattr("sizebot.binary.attribute.pctab_claims", lambda *a: None)
    for flags in ((), STRIP):
        path = build(HTTPJSON, goos=goos, goarch=goarch, flags=flags)
        build_id = subprocess.run(["go", "tool", "buildid", path], capture_output=True, text=True,
                                  check=True).stdout.strip()
        r = analyze_binary(path)
        [code] = [f.code for f in r.functions if f.name == "go:buildid"]
        assert code == len('\xff Go build ID: "') + len(build_id) + len('"\n \xff') == 20 + len(build_id)
        assert_sums(r)


def test_stripped_and_unstripped_code_agree(httpjson):
    full = {p.name: p.code for p in httpjson["full"].packages if p.code}  # symbols add data-only packages
    stripped = {p.name: p.code for p in httpjson["stripped"].packages if p.code}
    assert full == stripped
    assert httpjson["stripped"].stripped and not httpjson["full"].stripped


@pytest.mark.parametrize("goos, goarch", [("darwin", "arm64"), ("windows", "amd64")])
def test_stripped_and_unstripped_code_agree_other_formats(goos, goarch):
    full = analyze_binary(build(HELLO, goos=goos, goarch=goarch))
    stripped = analyze_binary(build(HELLO, goos=goos, goarch=goarch, flags=STRIP))
    assert {p.name: p.code for p in full.packages if p.code} == {p.name: p.code for p in stripped.packages if p.code}


@pytest.mark.parametrize("flags", [(), STRIP])
def test_pe_pdata_entries_are_their_functions_meta(flags):
    """windows/amd64 .pdata: every 12-byte RUNTIME_FUNCTION entry is the meta of the function it begins
    (stripped or not); only the section's file alignment past its last entry stays a .pdata row."""
    path = build(HELLO, goos="windows", goarch="amd64", flags=flags)
    r = analyze_binary(path)
    assert_sums(r)
    with open_binary(path) as b:
        pdata = b.section(".pdata")
        entries = pdata.mem_size // 12
        begins = {b.image_base + int.from_bytes(b.data[o : o + 4], "little")
                  for o in range(pdata.offset, pdata.offset + 12 * entries, 12)}
    assert entries > 1000 and len(begins) == entries
    assert {u.section: u.size for u in r.unattributed}.get(".pdata", 0) == pdata.file_size - 12 * entries


@pytest.mark.parametrize("goos, goarch", [("linux", "amd64"), ("darwin", "arm64"), ("windows", "amd64")])
def test_symbol_tables_are_attributed(goos, goarch):
    """Unstripped: each Go symbol's table entry and name string are its package's meta (they used to be
    wholly unattributed rows of .symtab/.strtab, __LINKEDIT, the PE .symtab wrapper); sums stay exact."""
    path = build(HELLO, goos=goos, goarch=goarch)
    r = analyze_binary(path)
    assert_sums(r)
    with open_binary(path) as b:
        syms = [s for s in b.symbols() if symbol_table_package(s.name)]
        spans = {s.entry for s in syms} | {s.name_bytes for s in syms if s.name_bytes[1]}
        secs = {b.section_at_offset(off).name for off, _n in spans}
        table_bytes = sum(n for _off, n in spans)
        section_bytes = sum(b.section(name).file_size for name in secs)
    assert len(syms) > 1000 and table_bytes > 50_000
    # nothing else claims these sections: at least the Go entries and names are attributed
    assert sum(u.size for u in r.unattributed if u.section in secs) <= section_bytes - table_bytes
    stripped = analyze_binary(build(HELLO, goos=goos, goarch=goarch, flags=STRIP))
    assert sum(p.meta for p in r.packages) - sum(p.meta for p in stripped.packages) >= table_bytes


def test_coverage_stripped_httpjson(httpjson):
    r = httpjson["stripped"]
    assert_sums(r)
    assert r.coverage >= 0.85
    assert_sums(httpjson["full"])
    by_name = {p.name: p for p in r.packages}
    for name in ("net/http", "encoding/json", "crypto/tls"):
        assert by_name[name].code > 0 and by_name[name].meta > 0 and by_name[name].data > 0
    assert "(unknown)" not in by_name and by_name["internal/runtime/gc/scan"].code > 0  # asm-only CU: by file
    assert {p.module for p in r.packages} == {"std", "example.com/httpjson"}
    assert sum(f.code for f in r.functions) == sum(p.code for p in r.packages)
    assert sum(f.code for f in r.functions if f.package == "net/http") == by_name["net/http"].code


def test_functions_can_be_left_out():
    r = analyze_binary(build(HELLO, flags=STRIP), functions=False)
    assert r.functions == () and r.packages
    assert_sums(r)


def test_modules_group_packages():
    r = analyze_binary(build(WITHDEP, flags=STRIP))
    assert_sums(r)
    mods = {m.path: m for m in r.modules}
    assert mods["example.com/greet"].replace == "./greet"
    assert {p.name: p.module for p in r.packages}["example.com/greet"] == "example.com/greet"
    assert sum(m.size for m in r.modules) == sum(p.size for p in r.packages)
    assert mods["std"].size > mods["example.com/withdep"].size > 0


def test_non_go_elf_is_sections_only():
    path = shutil.which("true") or "/bin/true"
    r = analyze_binary(path)
    assert r.notes == (NOT_GO,)
    assert r.packages == () and r.modules == () and r.go_version == "" and r.coverage == 0
    assert sum(u.size for u in r.unattributed) == r.file_size


def test_old_pclntab_magic_is_sections_only(tmp_path):
    src = build(HELLO, flags=STRIP)
    b = open_binary(src)
    off = b.pclntab_section().offset
    b.close()
    data = bytearray(src.read_bytes())
    struct.pack_into("<I", data, off, 0xFFFFFFFA)  # the Go 1.16-1.17 magic
    path = tmp_path / "old"
    path.write_bytes(bytes(data))
    r = analyze_binary(path)
    assert r.notes == ("unsupported Go version (pclntab magic 0xfffffffa): Go 1.18 or later is needed for the per-package breakdown",)
    assert r.packages == ()
    assert sum(u.size for u in r.unattributed) == r.file_size


def test_truncated_binary_is_one_line_error(tmp_path):
    src = build(HELLO, flags=STRIP)
    path = tmp_path / "truncated"
    path.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises((BinaryFormatError, PclntabError)) as e:
        analyze_binary(path)
    assert "\n" not in str(e.value) and str(path) in str(e.value)


def test_corrupt_pclntab_is_pclntab_error(tmp_path):
    src = build(HELLO, flags=STRIP)
    b = open_binary(src)
    sec = b.pclntab_section()
    off, ptr = sec.offset, b.ptr_size
    b.close()
    data = bytearray(src.read_bytes())
    functab = off + struct.unpack_from("<Q", data, off + 8 + 7 * ptr)[0]
    for i in range(100, 140):
        struct.pack_into("<I", data, functab + 8 * i + 4, 0xFFFFFF0 + i)  # funcoff far past the table
    path = tmp_path / "corrupt"
    path.write_bytes(bytes(data))
    with pytest.raises(PclntabError) as e:
        analyze_binary(path)
    assert "\n" not in str(e.value)


def test_c_program_is_sections_only(tmp_path):
    (tmp_path / "hello.c").write_text('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n')
    subprocess.run(["gcc", "-O1", "-o", str(tmp_path / "hello"), str(tmp_path / "hello.c")], check=True)
    r = analyze_binary(tmp_path / "hello")
    assert r.notes == (NOT_GO,) and r.packages == () and r.functions == ()
    assert sum(u.size for u in r.unattributed) == r.file_size == (tmp_path / "hello").stat().st_size


def test_upx_packed_is_sections_only(tmp_path):
    # upx is not installable here: rename two sections the way UPX names its own (as test_binary_formats does)
    src = build(HELLO)
    data = bytearray(src.read_bytes())
    with open_binary(src) as b:
        names = b.section(".shstrtab")
    for old, new in ((b".typelink\0", b"UPX0\0"), (b".itablink\0", b"UPX1\0")):
        pos = data.index(old, names.offset, names.offset + names.file_size)
        data[pos : pos + len(new)] = new
    path = tmp_path / "packed"
    path.write_bytes(bytes(data))
    r = analyze_binary(path)
    assert r.packed == "upx" and r.packages == ()
    assert r.notes == ("packed with UPX: the per-package breakdown needs the unpacked binary",)
    assert sum(u.size for u in r.unattributed) == r.file_size


@pytest.mark.parametrize("version", ["1.21.13", "1.27.3"])
def test_stripped_and_unstripped_code_agree_other_go(version):
    go = go_bin(version)
    full = analyze_binary(build(HTTPJSON, go=go))
    stripped = analyze_binary(build(HTTPJSON, go=go, flags=STRIP))
    assert {p.name: p.code for p in full.packages if p.code} == {p.name: p.code for p in stripped.packages if p.code}
    assert stripped.coverage >= 0.85
