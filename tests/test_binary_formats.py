"""ELF, Mach-O and PE readers against real Go binaries and independent readers.

References: `readelf -SW` (ELF), binutils `objdump -h` (PE; this objdump has no Mach-O support),
Go's own debug/elf, debug/macho and debug/pe (tests/support/goprograms.SECTDUMP) for all three,
and `go tool nm -size` for symbols.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from sizebot.binary.buildinfo import parse_buildinfo
from sizebot.binary.container import BinaryFile, open_binary
from sizebot.binary.macho import MachOFile
from sizebot.errors import BinaryFormatError
from tests.support.goprograms import CGO, HELLO, SECTDUMP, build, go_bin

TARGETS = [("linux", "amd64"), ("linux", "arm64"), ("linux", "386"), ("darwin", "arm64"), ("windows", "amd64")]
VARIANTS = {"default": (), "stripped": ("-ldflags=-s -w",), "trimpath": ("-trimpath",)}
EXPECT = {  # goos/goarch -> (format, ptr_size)
    ("linux", "amd64"): ("elf", 8), ("linux", "arm64"): ("elf", 8), ("linux", "386"): ("elf", 4),
    ("darwin", "arm64"): ("macho", 8), ("windows", "amd64"): ("pe", 8),
}
PCLNTAB_GO120 = 0xFFFFFFF1


def _binary(goos: str, goarch: str, variant: str) -> Path:
    return build(HELLO, goos=goos, goarch=goarch, flags=VARIANTS[variant])


def reference_sections(path: Path) -> dict:
    """Go's debug/* parse of the section table."""
    tool = build(SECTDUMP)
    out = subprocess.run([str(tool), str(path)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def file_gaps(binary: BinaryFile) -> list[tuple[int, int]]:
    """[start, end) ranges of the file no section's bytes cover; asserts no two sections overlap."""
    spans = sorted((s.offset, s.offset + s.file_size, s.name) for s in binary.sections if s.file_size)
    gaps, pos = [], 0
    for start, end, name in spans:
        assert start >= pos, f"{name} at {start:#x} overlaps the previous section (ends {pos:#x})"
        if start > pos:
            gaps.append((pos, start))
        pos = end
    assert pos <= binary.file_size
    if pos < binary.file_size:
        gaps.append((pos, binary.file_size))
    return gaps


def assert_invariants(binary: BinaryFile) -> None:
    gaps = file_gaps(binary)
    covered = sum(s.file_size for s in binary.sections)
    assert covered + sum(e - s for s, e in gaps) == binary.file_size
    # the reader's own split of those bytes into headers and padding covers exactly the same ranges
    ranges = binary.uncovered_ranges()
    assert sum(e - s for s, e, _ in ranges) == sum(e - s for s, e in gaps)
    assert all(kind in ("headers", "padding") for _, _, kind in ranges)
    assert ranges[0][0] == 0 and ranges[0][2] == "headers"
    for s in binary.sections:
        assert 0 <= s.offset and s.offset + s.file_size <= binary.file_size
        if s.file_size == 0:
            assert s.offset == 0
    zero_fill = {".bss", ".noptrbss", ".tbss", "__bss", "__noptrbss"}
    for s in binary.sections:
        if s.name in zero_fill:
            assert s.file_size == 0 and s.mem_size > 0, s


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("goos,goarch", TARGETS)
def test_go_binary_sections(goos: str, goarch: str, variant: str) -> None:
    path = _binary(goos, goarch, variant)
    ref = reference_sections(path)
    with open_binary(path) as b:
        fmt, ptr = EXPECT[(goos, goarch)]
        assert (b.format, b.goos, b.goarch, b.ptr_size, b.byte_order) == (fmt, goos, goarch, ptr, "little")
        assert b.file_size == path.stat().st_size
        assert_invariants(b)
        assert ref["format"] == fmt
        if fmt == "elf":
            _check_elf(b, path, ref)
        elif fmt == "macho":
            _check_macho(b, ref)
        else:
            _check_pe(b, path, ref)
        # symbols: none when stripped, else the func symbols `go tool nm` lists
        if variant == "stripped":
            assert b.symbols() == ()
            assert b.stripped
        else:
            _check_symbols_against_nm(b, path)
        # pclntab: found in every variant (PE stripped: by scanning .rdata), starts with the Go 1.20+ magic
        pcln = b.pclntab_section()
        assert pcln is not None and pcln.file_size > 0
        assert b.read_uint(pcln.offset, 4) == PCLNTAB_GO120
        assert b.section_bytes(pcln)[6] in (1, 2, 4) and b.section_bytes(pcln)[7] == ptr
        if b.symbols():
            start = b.find_symbol("runtime.pclntab")
            assert start is not None and b.vaddr_to_offset(start.addr) == pcln.offset
        # Go 1.26 puts moduledata in a section of its own on ELF and Mach-O; PE merges it into .data
        mod = b.moduledata_section()
        if fmt == "pe":
            assert mod is None
            assert [s.name for s in b.data_sections()] == [".data"]
            assert b.rodata_sections()[0].name == ".rdata"
        else:
            assert mod is not None and mod.name == (".go.module" if fmt == "elf" else "__go_module")
            first = b.find_symbol("runtime.firstmoduledata")
            if first is not None:
                assert first.addr == mod.addr
            names = [s.name for s in b.data_sections()]
            assert names == ([".noptrdata", ".data"] if fmt == "elf" else ["__noptrdata", "__data"])
        assert b.packed_by() == ""
        debug = b.sections_by_prefix({"elf": ".debug_", "macho": "__zdebug_", "pe": ".zdebug_"}[fmt])
        if variant == "stripped":
            assert debug == ()
        else:  # Go compresses DWARF: SHF_COMPRESSED on ELF, .zdebug_/__zdebug_ names elsewhere
            assert debug and all("compressed" in d.flags.split(",") for d in debug if d.name.endswith("_info"))
        info = parse_buildinfo(b)
        assert info is not None and info.go_version.startswith("go1.26")
        assert info.setting("GOOS") == goos and info.setting("GOARCH") == goarch


def _check_elf(b: BinaryFile, path: Path, ref: dict) -> None:
    readelf = subprocess.run(["readelf", "-SW", str(path)], capture_output=True, text=True, check=True).stdout
    rows = re.findall(
        r"^\s*\[\s*(\d+)\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([A-Za-z]*)\s+\d+\s+\d+\s+\d+$",
        readelf,
        re.M,
    )
    rows = [r for r in rows if r[0] != "0"]
    assert len(rows) == len(b.sections) == len(ref["sections"])
    for s, (_n, name, typ, addr, off, size, flg), r in zip(b.sections, rows, ref["sections"], strict=True):
        assert s.name == name == r["name"]
        nobits = typ == "NOBITS"
        assert s.file_size == (0 if nobits else int(size, 16))
        assert s.file_size == (0 if nobits else r["size"])  # debug/elf keeps sh_size as FileSize for NOBITS
        assert s.offset == (0 if nobits or s.file_size == 0 else int(off, 16))  # model: 0 when no file bytes
        if "A" in flg:
            assert s.addr == int(addr, 16) and s.mem_size == int(size, 16)
        assert ("alloc" in s.flags.split(",")) == ("A" in flg)
        assert ("w" in s.flags.split(",")) == ("W" in flg)
        assert ("x" in s.flags.split(",")) == ("X" in flg)
        assert ("compressed" in s.flags.split(",")) == ("C" in flg)
    names = [s.name for s in b.sections]
    for required in (".text", ".rodata", ".gopclntab", ".go.buildinfo", ".noptrdata", ".data", ".bss", ".noptrbss"):
        assert required in names
    # bytes outside sections: ELF header + program headers before the first section, alignment padding
    first = min(s.offset for s in b.sections if s.file_size)
    ehsize = 64 if b.ptr_size == 8 else 52
    assert first >= ehsize


def _check_macho(b: BinaryFile, ref: dict) -> None:
    assert isinstance(b, MachOFile)
    real = [s for s in b.sections if b.segment_of(s.name) != s.name]  # minus the __LINKEDIT pseudo-section
    assert len(real) == len(ref["sections"])
    plain = [r["name"] for r in ref["sections"]]
    for s, r in zip(real, ref["sections"], strict=True):
        expect = r["name"] if plain.count(r["name"]) == 1 else f'{r["seg"]},{r["name"]}'
        assert s.name == expect and b.segment_of(s.name) == r["seg"]
        zerofill = r["flags"] & 0xFF in (0x1, 0xC, 0x12)
        assert s.file_size == (0 if zerofill else r["size"])
        assert s.offset == (0 if zerofill or not r["size"] else r["offset"])
        if r["seg"] != "__DWARF":
            assert s.addr == r["addr"] and s.mem_size == r["size"]
    names = [s.name for s in b.sections]
    for required in ("__text", "__gopclntab", "__go_buildinfo", "__bss", "__LINKEDIT"):
        assert required in names
    if "__TEXT,__rodata" in names:  # Go 1.22+ splits __rodata between __TEXT and __DATA_CONST
        assert "__DATA_CONST,__rodata" in names and b.section("__rodata") == b.section("__TEXT,__rodata")
    # __LINKEDIT (symbols, strings, signature) runs to the end of the file for a Go binary
    linkedit = b.section("__LINKEDIT")
    assert linkedit.offset + linkedit.file_size == b.file_size
    # what is outside sections: the Mach-O header + load commands before __text, and alignment padding
    sizeofcmds = struct.unpack_from("<I", b.data, 20)[0]
    assert b.section("__text").offset >= 32 + sizeofcmds
    assert file_gaps(b)[0] == (0, b.section("__text").offset)


def _check_pe(b: BinaryFile, path: Path, ref: dict) -> None:
    out = subprocess.run(["objdump", "-h", str(path)], capture_output=True, text=True, check=True).stdout
    rows = re.findall(r"^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s", out, re.M)
    assert len(rows) == len(b.sections) == len(ref["sections"])
    for s, (name, size, vma, off), r in zip(b.sections, rows, ref["sections"], strict=True):
        assert s.name == name == r["name"]
        assert s.file_size == r["size"] and s.mem_size == r["vsize"] and s.offset == int(off, 16) == r["offset"]
        assert s.addr == int(vma, 16)
        if not name.startswith(".zdebug"):  # objdump reports .zdebug_* decompressed
            # BFD: the smaller of SizeOfRawData and VirtualSize
            assert int(size, 16) == min(s.file_size, s.mem_size)
    names = [s.name for s in b.sections]
    assert names[:3] == [".text", ".rdata", ".data"]
    assert b.section(".gopclntab") is None  # no section of its own on PE
    if b.symbols():  # not built with -s -w
        assert ".zdebug_info" in names or ".debug_info" in names  # long names via the COFF string table


def _check_symbols_against_nm(b: BinaryFile, path: Path) -> None:
    out = subprocess.run(["go", "tool", "nm", "-size", str(path)], capture_output=True, text=True, check=True).stdout
    theirs = {}
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2] in "Tt":
            name = parts[3].removeprefix("_") if b.format == "macho" else parts[3]
            theirs[name] = (int(parts[0], 16), int(parts[1]))
    ours = {s.name: (s.addr, s.size) for s in b.symbols() if s.kind == "func"}
    assert set(ours) == set(theirs)
    main = b.find_symbol("main.main")
    assert main is not None and main.kind == "func" and main.section in (".text", "__text")
    if b.format == "elf":  # ELF sizes are in the table: equal for every symbol
        assert ours == theirs
        return
    # Mach-O/PE sizes are derived (next address); nm agrees except on address ties and section ends
    addrs = [a for a, _ in ours.values()]
    unique = {n for n, (a, _) in ours.items() if addrs.count(a) == 1}
    last = max(ours.values())[0]
    differing = {n for n in unique if ours[n] != theirs[n] and ours[n][0] != last}
    assert differing == set()
    assert ours["main.main"] == theirs["main.main"]


@pytest.mark.slow
def test_cgo_linux_amd64() -> None:
    path = build(CGO, cgo=True)
    ref = reference_sections(path)
    with open_binary(path) as b:
        assert (b.format, b.goos, b.goarch) == ("elf", "linux", "amd64")
        assert_invariants(b)
        _check_elf(b, path, ref)
        names = [s.name for s in b.sections]
        assert ".interp" in names and ".dynamic" in names and ".got" in names
        assert b.find_symbol("main.main") is not None
        assert b.pclntab_section().name == ".gopclntab"
        info = parse_buildinfo(b)
        assert info.setting("CGO_ENABLED") == "1"


def test_pclntab_scan_fallback_matches_section() -> None:
    """The read-only-data scan (PE's only way in a stripped binary) finds the same start as the section."""
    for goos, goarch in (("linux", "amd64"), ("darwin", "arm64"), ("linux", "386")):
        with open_binary(_binary(goos, goarch, "default")) as b:
            named = b.pclntab_section()
            scanned = b._pclntab_by_scan()
            assert scanned is not None and scanned.offset == named.offset and scanned.addr == named.addr
    with open_binary(_binary("windows", "amd64", "default")) as b:
        by_symbols = b.pclntab_section()
        sym = b.find_symbol("runtime.pclntab")
        end = b.find_symbol("runtime.epclntab")
        assert by_symbols.name == ".rdata" and by_symbols.file_size == end.addr - sym.addr
        scanned = b._pclntab_by_scan()
        rdata = b.section(".rdata")
        assert scanned.offset == by_symbols.offset and scanned.offset + scanned.file_size == rdata.offset + rdata.file_size


# -- synthetic files ------------------------------------------------------------------------------


def _copy(src: Path, dst: Path) -> bytearray:
    shutil.copyfile(src, dst)
    return bytearray(dst.read_bytes())


def test_elf_symbol_names_read_from_the_string_table(tmp_path: Path) -> None:
    """Symbol names are kept as the string table's bytes and decoded when read: by index, slice and
    iteration alike; a byte that is no UTF-8 becomes U+FFFD in that name only."""
    src = _binary("linux", "amd64", "default")
    with open_binary(src) as b:
        table = b.symbols()
        names = [s.name for s in table]
        assert list(table.names) == names == [table.names[i] for i in range(len(table))] == table.names[:]
        strtab = b.section(".strtab")
    assert names.count("main.main") == 1
    data = _copy(src, tmp_path / "bad-name")
    pos = data.index(b"\0main.main\0", strtab.offset, strtab.offset + strtab.file_size)
    data[pos + 6] = 0xFF  # main.\xffain
    (tmp_path / "bad-name").write_bytes(data)
    with open_binary(tmp_path / "bad-name") as b:
        table = b.symbols()
        got = list(table.names)
        assert got == [s.name for s in table] == [table.names[i] for i in range(len(table))]
        assert got == [("main.\ufffdain" if n == "main.main" else n) for n in names]


def test_upx_detection_synthetic(tmp_path: Path) -> None:
    # No upx is installable here (not in Debian bookworm, not on PyPI): fake its marks on a real Go ELF.
    src = _binary("linux", "amd64", "default")
    data = _copy(src, tmp_path / "renamed")
    with open_binary(src) as b:
        strtab = b.section(".shstrtab")
    for old, new in ((b".typelink\0", b"UPX0\0"), (b".itablink\0", b"UPX1\0")):
        pos = data.index(old, strtab.offset, strtab.offset + strtab.file_size)
        data[pos : pos + len(new)] = new
    (tmp_path / "renamed").write_bytes(data)
    with open_binary(tmp_path / "renamed") as b:
        assert {"UPX0", "UPX1"} <= {s.name for s in b.sections}
        assert b.packed_by() == "upx"

    data = _copy(src, tmp_path / "magic")
    # UPX writes its "UPX!" header right after the program headers; Go's section headers sit there,
    # so put it after them, in the padding before the first section (still in the first 4 KiB).
    shoff, = struct.unpack_from("<Q", data, 40)
    shentsize, shnum = struct.unpack_from("<HH", data, 58)
    end_headers = shoff + shentsize * shnum
    assert data[end_headers : end_headers + 4] == b"\0\0\0\0" and end_headers < 4096
    data[end_headers : end_headers + 4] = b"UPX!"
    (tmp_path / "magic").write_bytes(data)
    with open_binary(tmp_path / "magic") as b:
        assert b.packed_by() == "upx"
    with open_binary(src) as b:
        assert b.packed_by() == ""


def test_fat_macho_first_arch(tmp_path: Path) -> None:
    thin = _binary("darwin", "arm64", "default")
    body = thin.read_bytes()
    base = 1 << 14
    fat = struct.pack(">IIiiIII", 0xCAFEBABE, 1, 0x0100000C, 0, base, len(body), 14)
    fat_path = tmp_path / "fat"
    fat_path.write_bytes(fat + b"\0" * (base - len(fat)) + body)
    with open_binary(thin) as t, open_binary(fat_path) as f:
        assert isinstance(f, MachOFile)
        assert f.sections == t.sections and f.file_size == len(body) and f.container_size == base + len(body)
        assert bytes(f.section_bytes(f.section("__gopclntab"))[:4]) == bytes(t.section_bytes(t.section("__gopclntab"))[:4])
        assert parse_buildinfo(f) == parse_buildinfo(t)
        assert f.pclntab_section() == t.pclntab_section()
        assert f._pclntab_by_scan() == t._pclntab_by_scan()


def _expect_error(path: Path, fragment: str) -> None:
    with pytest.raises(BinaryFormatError) as err:
        open_binary(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: ") and "\n" not in msg
    assert fragment in msg, msg


def test_bad_inputs(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    _expect_error(tmp_path / "empty", "empty file")
    (tmp_path / "text").write_text("just some text, definitely not a binary\n")
    _expect_error(tmp_path / "text", "not an ELF, Mach-O or PE executable")
    (tmp_path / "java").write_bytes(b"\xca\xfe\xba\xbe\x00\x00\x00\x41" + b"\0" * 64)  # class file, same magic as fat
    _expect_error(tmp_path / "java", "not an ELF, Mach-O or PE executable")
    _expect_error(tmp_path / "missing", "cannot read")

    elf = _binary("linux", "amd64", "default").read_bytes()
    (tmp_path / "head200").write_bytes(elf[:200])
    _expect_error(tmp_path / "head200", "past the end of the file")
    (tmp_path / "tiny").write_bytes(elf[:20])
    _expect_error(tmp_path / "tiny", "ELF header")
    shoff, = struct.unpack_from("<Q", elf, 40)
    shentsize, shnum = struct.unpack_from("<HH", elf, 58)
    cut = shoff + shentsize * (shnum // 2) + 7  # in the middle of the section header table
    (tmp_path / "cut-shdrs").write_bytes(elf[:cut])
    _expect_error(tmp_path / "cut-shdrs", "section header table")
    (tmp_path / "cut-middle").write_bytes(elf[: len(elf) // 2])  # headers intact, sections run past EOF
    _expect_error(tmp_path / "cut-middle", "extends past the end of the file")
    for name, value in (("shoff-huge", 1 << 40), ("shoff-near-end", len(elf) - 100), ("shoff-into-text", 0x1000)):
        bad = bytearray(elf)
        struct.pack_into("<Q", bad, 40, value)
        (tmp_path / name).write_bytes(bad)
        with pytest.raises(BinaryFormatError) as err:
            open_binary(tmp_path / name)
        assert str(err.value).startswith(f"{tmp_path / name}: ")

    macho = _binary("darwin", "arm64", "default").read_bytes()
    (tmp_path / "macho-head").write_bytes(macho[:100])
    _expect_error(tmp_path / "macho-head", "load commands")
    (tmp_path / "macho-half").write_bytes(macho[: len(macho) // 2])
    _expect_error(tmp_path / "macho-half", "extends past the end of the file")
    (tmp_path / "fat-bad").write_bytes(struct.pack(">IIiiIII", 0xCAFEBABE, 1, 0x0100000C, 0, 4096, 1 << 20, 12))
    _expect_error(tmp_path / "fat-bad", "first architecture of the fat file")

    pe = _binary("windows", "amd64", "default").read_bytes()
    (tmp_path / "pe-head").write_bytes(pe[:300])
    _expect_error(tmp_path / "pe-head", "past the end of the file")
    (tmp_path / "pe-half").write_bytes(pe[: len(pe) // 2])
    _expect_error(tmp_path / "pe-half", "extends past the end of the file")
    (tmp_path / "mz-only").write_bytes(b"MZ" + b"\0" * 200)
    _expect_error(tmp_path / "mz-only", "PE signature")


def test_non_go_c_binary(tmp_path: Path) -> None:
    src = tmp_path / "hello.c"
    src.write_text('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n')
    exe = tmp_path / "hello"
    subprocess.run(["gcc", "-O1", "-o", str(exe), str(src)], check=True)
    with open_binary(exe) as b:
        assert (b.format, b.goarch, b.ptr_size) == ("elf", "amd64", 8)
        assert_invariants(b)
        # gcc puts the section header table at the end of the file: headers, not padding
        shoff, = struct.unpack_from("<Q", b.data, 40)
        assert any(s <= shoff < e and k == "headers" for s, e, k in b.uncovered_ranges())
        assert b.section(".text") is not None and b.find_symbol("main").kind == "func"
        assert parse_buildinfo(b) is None
        assert b.pclntab_section() is None and b.moduledata_section() is None
        assert b.packed_by() == ""


OTHER_ELF = [  # goos, goarch, byte order, pointer size
    ("linux", "arm", "little", 4), ("linux", "s390x", "big", 8), ("linux", "mips", "big", 4),
    ("linux", "mips64le", "little", 8), ("linux", "riscv64", "little", 8), ("linux", "loong64", "little", 8),
    ("linux", "ppc64le", "little", 8), ("freebsd", "amd64", "little", 8), ("openbsd", "amd64", "little", 8),
    ("netbsd", "amd64", "little", 8),
]


@pytest.mark.slow
@pytest.mark.parametrize("goos,goarch,order,ptr", OTHER_ELF)
def test_other_elf_targets(goos: str, goarch: str, order: str, ptr: int) -> None:
    path = build(HELLO, goos=goos, goarch=goarch)
    with open_binary(path) as b:
        assert (b.format, b.goos, b.goarch, b.byte_order, b.ptr_size) == ("elf", goos, goarch, order, ptr)
        assert_invariants(b)
        _check_elf(b, path, reference_sections(path))
        _check_symbols_against_nm(b, path)
        pcln = b.pclntab_section()
        assert b.read_uint(pcln.offset, 4) == PCLNTAB_GO120  # read in the binary's byte order
        assert b._pclntab_by_scan().offset == pcln.offset  # the scan honours big endian too
        assert b.moduledata_section().name == ".go.module"
        info = parse_buildinfo(b)
        assert (info.setting("GOOS"), info.setting("GOARCH")) == (goos, goarch)


@pytest.mark.slow
def test_pe32() -> None:
    path = build(HELLO, goos="windows", goarch="386")
    with open_binary(path) as b:
        assert (b.format, b.goos, b.goarch, b.ptr_size, b.image_base) == ("pe", "windows", "386", 4, 0x400000)
        assert_invariants(b)
        _check_pe(b, path, reference_sections(path))
        _check_symbols_against_nm(b, path)
        pcln = b.pclntab_section()
        assert pcln.name == ".rdata" and b.read_uint(pcln.offset, 4) == PCLNTAB_GO120
        assert parse_buildinfo(b).setting("GOARCH") == "386"


def _macho32(tmp_path: Path) -> Path:
    """A minimal 32-bit i386 Mach-O (Go dropped darwin/386): __TEXT with __text and __cstring,
    __DATA with __data and a zerofill __bss, __LINKEDIT with an nlist symbol table."""
    text, cstr, dat = b"\x90" * 0x40, b"hi\0\0", b"\x01" * 0x10
    text_off, data_off, link_off = 0x1000, 0x2000, 0x3000
    syms = [(b"_main", 0x1000, 1), (b"_helper", 0x1010, 1), (b"_alias", 0x1010, 1), (b"_msg", 0x1040, 2),
            (b"_counter", 0x2000, 3), (b"_zero", 0x2010, 4)]
    strtab = b"\0" + b"".join(n + b"\0" for n, _, _ in syms)
    nlist, stroff = b"", 1
    for name, value, sect in syms:
        nlist += struct.pack("<IBBHI", stroff, 0x0F, sect, 0, value)  # N_SECT | N_EXT
        stroff += len(name) + 1
    linkedit = nlist + strtab

    def section(name: bytes, seg: bytes, addr: int, size: int, off: int, flags: int) -> bytes:
        return struct.pack("<16s16sIIIIIIIII", name, seg, addr, size, off, 0, 0, 0, flags, 0, 0)

    text_seg = struct.pack("<II16sIIIIiiII", 1, 56 + 2 * 68, b"__TEXT", 0x0, 0x2000, 0, 0x2000, 5, 5, 2, 0)
    text_seg += section(b"__text", b"__TEXT", 0x1000, len(text), text_off, 0x80000400)
    text_seg += section(b"__cstring", b"__TEXT", 0x1040, len(cstr), text_off + 0x40, 0x2)
    data_seg = struct.pack("<II16sIIIIiiII", 1, 56 + 2 * 68, b"__DATA", 0x2000, 0x1000, data_off, 0x1000, 3, 3, 2, 0)
    data_seg += section(b"__data", b"__DATA", 0x2000, len(dat), data_off, 0)
    data_seg += section(b"__bss", b"__DATA", 0x2010, 0x100, 0, 0x1)
    link_seg = struct.pack("<II16sIIIIiiII", 1, 56, b"__LINKEDIT", 0x3000, 0x1000, link_off, len(linkedit), 1, 1, 0, 0)
    symtab = struct.pack("<IIIIII", 2, 24, link_off, len(syms), link_off + len(nlist), len(strtab))
    cmds = text_seg + data_seg + link_seg + symtab
    header = struct.pack("<IiiIIII", 0xFEEDFACE, 7, 3, 2, 4, len(cmds), 0)
    blob = bytearray(link_off + len(linkedit))
    blob[: len(header) + len(cmds)] = header + cmds
    blob[text_off : text_off + len(text)] = text
    blob[text_off + 0x40 : text_off + 0x44] = cstr
    blob[data_off : data_off + len(dat)] = dat
    blob[link_off:] = linkedit
    path = tmp_path / "macho32"
    path.write_bytes(blob)
    return path


def test_macho32_synthetic(tmp_path: Path) -> None:
    with open_binary(_macho32(tmp_path)) as b:
        assert (b.format, b.goos, b.goarch, b.ptr_size, b.byte_order) == ("macho", "darwin", "386", 4, "little")
        assert_invariants(b)
        assert [(s.name, s.file_size, s.mem_size, s.offset, s.addr, s.flags) for s in b.sections] == [
            ("__text", 0x40, 0x40, 0x1000, 0x1000, "alloc,r,x"),
            ("__cstring", 4, 4, 0x1040, 0x1040, "alloc,r"),
            ("__data", 0x10, 0x10, 0x2000, 0x2000, "alloc,r,w"),
            ("__bss", 0, 0x100, 0, 0x2010, "alloc,r,w"),
            ("__LINKEDIT", b.file_size - 0x3000, 0x1000, 0x3000, 0x3000, "alloc,r"),
        ]
        # sizes run to the next address in the section; an alias shares its address with a 0-size twin
        assert [(s.name, s.addr, s.size, s.kind, s.section) for s in b.symbols()] == [
            ("main", 0x1000, 0x10, "func", "__text"),
            ("helper", 0x1010, 0, "func", "__text"),
            ("alias", 0x1010, 0x30, "func", "__text"),
            ("msg", 0x1040, 4, "data", "__cstring"),
            ("counter", 0x2000, 0x10, "data", "__data"),
            ("zero", 0x2010, 0x100, "data", "__bss"),
        ]
        assert [s.name for s in b.data_sections()] == ["__data"]
        assert b.pclntab_section() is None and parse_buildinfo(b) is None
        assert bytes(b.read_vaddr(0x1040, 2)) == b"hi"


@pytest.mark.slow
@pytest.mark.parametrize("version", ["1.21.13", "1.24.11"])
@pytest.mark.parametrize("goos,goarch", [("linux", "amd64"), ("darwin", "arm64"), ("windows", "amd64"), ("linux", "386")])
def test_older_go_versions(version: str, goos: str, goarch: str) -> None:
    """Binaries from older linkers: same checks; no moduledata section before Go 1.26."""
    path = build(HELLO, go=go_bin(version), goos=goos, goarch=goarch)
    ref = reference_sections(path)
    with open_binary(path) as b:
        fmt, ptr = EXPECT.get((goos, goarch), ("elf", 4))
        assert (b.format, b.goos, b.goarch, b.ptr_size) == (fmt, goos, goarch, ptr)
        assert_invariants(b)
        {"elf": lambda: _check_elf(b, path, ref), "macho": lambda: _check_macho(b, ref), "pe": lambda: _check_pe(b, path, ref)}[fmt]()
        _check_symbols_against_nm(b, path)
        pcln = b.pclntab_section()
        assert b.read_uint(pcln.offset, 4) == PCLNTAB_GO120
        assert b.moduledata_section() is None
        first = b.find_symbol("runtime.firstmoduledata")
        host = b.section_at_offset(b.vaddr_to_offset(first.addr))
        assert host in b.data_sections()  # where the pclntab helper will look for it
        assert parse_buildinfo(b).go_version == "go" + version


def test_pclntab_without_its_section(tmp_path: Path) -> None:
    """ELF whose .gopclntab is renamed: found through runtime.pclntab/epclntab, or (stripped) by the scan."""
    for variant in ("default", "stripped"):
        src = _binary("linux", "amd64", variant)
        data = _copy(src, tmp_path / variant)
        with open_binary(src) as b:
            want = b.pclntab_section()
            strtab = b.section(".shstrtab")
            end_sym = b.find_symbol("runtime.epclntab")
        pos = data.index(b".gopclntab\0", strtab.offset)
        data[pos : pos + 10] = b".renamed__"
        (tmp_path / variant).write_bytes(data)
        with open_binary(tmp_path / variant) as b:
            got = b.pclntab_section()
            assert got.name == ".renamed__" and (got.offset, got.addr) == (want.offset, want.addr)
            if variant == "default":  # runtime.epclntab bounds it
                assert got.file_size == end_sym.addr - want.addr
            else:  # the scan runs to the end of the section
                assert got.file_size == want.file_size


@pytest.mark.parametrize("goos,goarch", [("linux", "amd64"), ("darwin", "arm64"), ("windows", "amd64")])
def test_corrupted_headers_never_crash(tmp_path: Path, goos: str, goarch: str) -> None:
    """Random byte flips in the headers (and random truncation): a result or a BinaryFormatError /
    UnsupportedGoVersion (SizebotError), never another exception. Fixed seed: reproducible."""
    import random

    from sizebot.errors import SizebotError

    orig = _binary(goos, goarch, "default").read_bytes()
    rng = random.Random(f"{goos}/{goarch}")
    outcomes = {"ok": 0, "error": 0}
    for i in range(80):
        data = bytearray(orig)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(0x1000)] = rng.randrange(256)
        if i % 5 == 0:
            data = data[: rng.randrange(len(data))]
        path = tmp_path / f"fuzz{i}"
        path.write_bytes(data)
        try:
            with open_binary(path) as b:
                b.symbols(), b.pclntab_section(), parse_buildinfo(b), b.uncovered_ranges(), b.packed_by()
            outcomes["ok"] += 1
        except SizebotError as err:
            assert str(err).startswith(f"{path}: ") and "\n" not in str(err)
            outcomes["error"] += 1
    assert outcomes["ok"] + outcomes["error"] == 80 and outcomes["error"] > 0
