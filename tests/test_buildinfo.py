"""Go build info: parse_modinfo on crafted text, parse_buildinfo against `go version -m` on real binaries
built by three Go versions, the whole-file fallback, the pre-1.18 pointer layout, module grouping."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from sizebot.binary.buildinfo import (
    MAGIC,
    find_buildinfo_blob,
    go_unquote_prefix,
    module_for_package,
    parse_buildinfo,
    parse_modinfo,
    read_buildinfo_strings,
)
from sizebot.binary.container import open_binary
from sizebot.documents.analyze import BuildInfo, Module
from sizebot.errors import UnsupportedGoVersion
from tests.support.git import git
from tests.support.goprograms import HELLO, WITHDEP, build, go_bin, go_env

MODINFO = (
    "path\texample.com/app/cmd/app\n"
    "mod\texample.com/app\tv1.4.0\th1:abc=\n"
    "=>\t../app-fork\t(devel)\t\n"
    "dep\tgolang.org/x/text\tv0.14.0\th1:text=\n"
    "dep\tgithub.com/old/thing\tv1.0.0\th1:old=\n"
    "=>\tgithub.com/new/thing\tv1.1.0\th1:new=\n"
    "dep\texample.com/nosum\tv0.1.0\n"
    "build\t-buildmode=exe\n"
    "build\t-compiler=gc\n"
    'build\t-ldflags="-s -w -X main.version=1.2.3"\n'
    "build\t-tags=netgo,osusergo\n"
    "build\t-trimpath=true\n"
    'build\t"key=with=equals"=plain\n'
    'build\tESCAPED="tab\\there \\"q\\" \\x41\\u00e9\\101\\\\"\n'
    "build\tCGO_ENABLED=0\n"
    "build\tGOARCH=arm64\n"
    "build\tGOOS=darwin\n"
    "build\tvcs=git\n"
    "build\tvcs.revision=0123456789abcdef0123456789abcdef01234567\n"
    "build\tvcs.time=2026-11-24T19:00:00Z\n"
    "build\tvcs.modified=false\n"
)


def test_parse_modinfo_exact() -> None:
    info = parse_modinfo(MODINFO)
    assert info.path == "example.com/app/cmd/app"
    assert info.main == Module("example.com/app", "v1.4.0", "h1:abc=", replace=Module("../app-fork", "(devel)", ""))
    assert info.deps == (
        Module("golang.org/x/text", "v0.14.0", "h1:text="),
        Module("github.com/old/thing", "v1.0.0", "h1:old=", replace=Module("github.com/new/thing", "v1.1.0", "h1:new=")),
        Module("example.com/nosum", "v0.1.0", ""),
    )
    assert info.settings == (
        ("-buildmode", "exe"),
        ("-compiler", "gc"),
        ("-ldflags", "-s -w -X main.version=1.2.3"),
        ("-tags", "netgo,osusergo"),
        ("-trimpath", "true"),
        ("key=with=equals", "plain"),
        ("ESCAPED", 'tab\there "q" AéA\\'),
        ("CGO_ENABLED", "0"),
        ("GOARCH", "arm64"),
        ("GOOS", "darwin"),
        ("vcs", "git"),
        ("vcs.revision", "0123456789abcdef0123456789abcdef01234567"),
        ("vcs.time", "2026-11-24T19:00:00Z"),
        ("vcs.modified", "false"),
    )
    assert info.setting("-ldflags") == "-s -w -X main.version=1.2.3" and info.setting("nope", "d") == "d"
    # `go version -m` indents every line with a tab and may print a "go" line: same result
    indented = "go\tgo1.22.1\n" + "".join("\t" + line + "\n" for line in MODINFO.splitlines())
    again = parse_modinfo(indented)
    assert again.go_version == "go1.22.1"
    assert (again.path, again.main, again.deps, again.settings) == (info.path, info.main, info.deps, info.settings)


@pytest.mark.parametrize(
    "bad",
    [
        "mod\tonlypath\n",
        "=>\tx\tv1\n",
        "build\tnoequals\n",
        'build\t"unterminated=1\n',
        'build\tk="bad \\q escape"\n',
        'build\tk="x" trailing\n',
        "weird\tline\n",
    ],
)
def test_parse_modinfo_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_modinfo(bad)


def test_go_unquote() -> None:
    assert go_unquote_prefix('"a\\nb" rest') == ("a\nb", 6)
    assert go_unquote_prefix('"\\U0001F600\\a\\v\\f\\r\\b"') == ("\U0001f600\a\v\f\r\b", 22)
    assert go_unquote_prefix('"\\xe2\\x82\\xac"')[0] == "€"  # \x escapes are bytes of UTF-8
    with pytest.raises(ValueError):
        go_unquote_prefix('"\\400"')


def go_version_m(path: Path) -> tuple[str, str]:
    """(Go version, module info text) as `go version -m` prints them, leading tabs removed."""
    out = subprocess.run(["go", "version", "-m", str(path)], capture_output=True, text=True, check=True).stdout
    first, *lines = out.splitlines()
    assert first.startswith(f"{path}: ")
    return first.split(": ", 1)[1], "".join(line[1:] + "\n" for line in lines)


def assert_matches_go_version_m(path: Path) -> BuildInfo:
    version, text = go_version_m(path)
    with open_binary(path) as b:
        info = parse_buildinfo(b)
        raw_version, raw_mod = read_buildinfo_strings(b)
    assert info is not None
    assert raw_version == version == info.go_version
    assert raw_mod == text  # byte-for-byte what go prints
    assert info == BuildInfo(version, *_fields(parse_modinfo(text)))
    return info


def _fields(info: BuildInfo) -> tuple:
    return info.path, info.main, info.deps, info.settings


GREET = Module("example.com/greet", "v1.2.3", "", replace=Module("./greet", "(devel)", ""))
GO_VERSIONS = ["machine", "1.21.13", "1.24.11"]


def _go(version: str) -> str:
    return "go" if version == "machine" else go_bin(version)


@pytest.mark.slow
@pytest.mark.parametrize("version", GO_VERSIONS)
def test_buildinfo_matches_go_version_m(version: str) -> None:
    go = _go(version)
    expected_version = "go1.26" if version == "machine" else "go" + version
    plain = build(WITHDEP, go=go, flags=("-ldflags=-s -w -X main.v=1", "-tags=netgo,osusergo"))
    info = assert_matches_go_version_m(plain)
    assert info.go_version.startswith(expected_version)
    assert info.path == "example.com/withdep"
    assert info.main == Module("example.com/withdep", "(devel)", "")
    assert info.deps == (GREET,)
    assert info.setting("-ldflags") == "-s -w -X main.v=1"
    assert info.setting("-tags") == "netgo,osusergo"
    assert (info.setting("CGO_ENABLED"), info.setting("GOOS"), info.setting("GOARCH"), info.setting("GOAMD64")) == (
        "0", "linux", "amd64", "v1",
    )
    trimmed = build(WITHDEP, go=go, flags=("-trimpath",))
    info = assert_matches_go_version_m(trimmed)
    assert info.setting("-trimpath") == "true" and info.deps == (GREET,)
    for goos, goarch, fmt in (("windows", "amd64", "pe"), ("darwin", "arm64", "macho"), ("linux", "386", "elf")):
        path = build(HELLO, go=go, goos=goos, goarch=goarch)
        info = assert_matches_go_version_m(path)
        with open_binary(path) as b:
            assert b.format == fmt
        assert (info.setting("GOOS"), info.setting("GOARCH")) == (goos, goarch)


@pytest.mark.slow
def test_buildinfo_vcs_settings(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for rel, text in HELLO.items():
        (repo / rel).write_text(text)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "hello", env={"GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z", "GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z"})
    rev = git(repo, "rev-parse", "HEAD")
    env = {**go_env(), "CGO_ENABLED": "0", "HOME": str(tmp_path)}
    env.pop("GOFLAGS", None)
    subprocess.run(["go", "build", "-o", "prog", "."], cwd=repo, env=env, check=True, capture_output=True)
    info = assert_matches_go_version_m(repo / "prog")
    assert info.setting("vcs") == "git"
    assert info.setting("vcs.revision") == rev
    assert info.setting("vcs.time") == "2026-01-02T03:04:05Z"
    assert info.setting("vcs.modified") == "false"
    # Go 1.24+ stamps the main module's version from VCS: a pseudo-version of the commit
    assert info.main == Module("example.com/hello", f"v0.0.0-20260102030405-{rev[:12]}", "")


def test_whole_file_fallback(tmp_path: Path) -> None:
    """With the .go.buildinfo section renamed the blob is still found (data scan, then the whole file)."""
    src = build(HELLO)
    data = bytearray(src.read_bytes())
    with open_binary(src) as b:
        strtab = b.section(".shstrtab")
        want = parse_buildinfo(b)
        want_pos = find_buildinfo_blob(b)
    pos = data.index(b".go.buildinfo\0", strtab.offset)
    data[pos : pos + 13] = b".go.buildinfX"
    (tmp_path / "renamed").write_bytes(data)
    with open_binary(tmp_path / "renamed") as b:
        assert b.buildinfo_section() is None
        assert find_buildinfo_blob(b) == want_pos
        assert parse_buildinfo(b) == want


def _pointer_layout(tmp_path: Path, corrupt: bool) -> Path:
    """Rewrite a Go 1.26 ELF's blob into the pre-1.18 layout: flags 0 and two pointers to Go string
    headers (data, len), which go into .noptrdata and point at the strings already in the blob."""
    src = build(HELLO)
    data = bytearray(src.read_bytes())
    with open_binary(src) as b:
        sec, spare = b.buildinfo_section(), b.section(".noptrdata")
        version, mod = read_buildinfo_strings(b)
    base, addr = sec.offset, sec.addr
    str_v = 32 + 1  # one varint byte of length, then the version
    len_mod = int.from_bytes(data[base + str_v + len(version) :][:2], "little")
    mod_len = (len_mod & 0x7F) | ((len_mod >> 8) << 7)  # a two-byte varint
    str_m = str_v + len(version) + 2
    assert bytes(data[base + str_m + 16 : base + str_m + 16 + len(mod)]) == mod.encode()
    data[base + 15] = 0  # flags: pointer layout, little endian
    struct.pack_into("<QQ", data, base + 16, spare.addr, (1 << 40) if corrupt else spare.addr + 16)
    struct.pack_into("<QQQQ", data, spare.offset, addr + str_v, len(version), addr + str_m, mod_len)
    out = tmp_path / ("corrupt" if corrupt else "old")
    out.write_bytes(data)
    return out


def test_pointer_layout(tmp_path: Path) -> None:
    with open_binary(build(HELLO)) as b:
        want = parse_buildinfo(b)
    with open_binary(_pointer_layout(tmp_path, corrupt=False)) as b:
        assert parse_buildinfo(b) == want
    with open_binary(_pointer_layout(tmp_path, corrupt=True)) as b:
        with pytest.raises(UnsupportedGoVersion) as err:
            parse_buildinfo(b)
        assert str(err.value).startswith(str(tmp_path / "corrupt")) and "pre-Go 1.18" in str(err.value)


def test_no_modinfo_sentinels(tmp_path: Path) -> None:
    """A blob whose module info lacks the sentinels (go run / GOPATH builds) gives empty module info."""
    src = build(HELLO)
    data = bytearray(src.read_bytes())
    with open_binary(src) as b:
        pos = find_buildinfo_blob(b)
        version, _ = read_buildinfo_strings(b)
    body = bytes([len(version)]) + version.encode() + b"\x00"
    data[pos + 32 : pos + 32 + len(body)] = body
    (tmp_path / "nomod").write_bytes(data)
    with open_binary(tmp_path / "nomod") as b:
        info = parse_buildinfo(b)
    assert info == BuildInfo(version, "", None, (), ())
    assert data[pos : pos + 14] == MAGIC


def test_module_for_package() -> None:
    mods = ["golang.org/x/text", "golang.org/x/text/v2", "github.com/a/b", "example.com/greet"]
    main = "example.com/app"
    cases = {
        "runtime": "std",
        "net/http": "std",
        "internal/abi": "std",
        "vendor/golang.org/x/net/http2/hpack": "std",
        "crypto/internal/fips140/aes": "std",
        "main": main,
        "example.com/app": main,
        "example.com/app/internal/db": main,
        "example.com/apple": "",  # prefix at a path boundary only
        "golang.org/x/text/unicode/norm": "golang.org/x/text",
        "golang.org/x/text/v2/cases": "golang.org/x/text/v2",  # longest module path wins
        "github.com/a/b": "github.com/a/b",
        "github.com/a/bc": "",
        "example.com/greet": "example.com/greet",
    }
    for pkg, want in cases.items():
        assert module_for_package(pkg, mods, main) == want, pkg
    # a main module without a dot ("module hello") still owns its packages
    assert module_for_package("hello/util", [], "hello") == "hello"
    assert module_for_package("fmt", [], "hello") == "std"
    # `go build main.go`: the build info names no main module; main is unknown, never the standard library
    assert module_for_package("main", mods, "") == ""
