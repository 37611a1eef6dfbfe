"""diff_reports on hand-built reports: every delta exact, the file size delta fully explained by
package + unattributed deltas, function ranking and ties, module versions and replacements."""

from __future__ import annotations

import dataclasses

import pytest

from sizebot.binary.diff import diff_reports, module_changes, module_version
from sizebot.documents.analyze import BinaryReport, BuildInfo, Function, Module, ModuleSize, PackageSize, Section, Unattributed
from sizebot.documents.diff import FunctionDelta, ModuleChange, SizeDelta


def pkg(name: str, module: str, code: int, meta: int, data: int) -> PackageSize:
    return PackageSize(name, module, code + meta + data, code, meta, data)


def make_report(path: str, packages: list[PackageSize], unattributed: list[Unattributed], *,
                sections: list[Section], functions: list[Function] = (), deps: tuple[Module, ...] = (),
                go_version: str = "go1.26.8", notes: tuple[str, ...] = ()) -> BinaryReport:
    """A consistent report: file_size = packages + unattributed; modules summed from packages."""
    file_size = sum(p.size for p in packages) + sum(u.size for u in unattributed)
    versions = {d.path: d.version for d in deps}
    mods: dict[str, int] = {}
    for p in packages:
        mods[p.module] = mods.get(p.module, 0) + p.size
    modules = tuple(sorted((ModuleSize(m, versions.get(m, ""), s) for m, s in mods.items()), key=lambda m: -m.size))
    info = BuildInfo(go_version, "example.com/app", Module("example.com/app", "(devel)"), deps,
                     (("-ldflags", "-s -w"), ("CGO_ENABLED", "0"), ("GOOS", "linux"), ("GOARCH", "amd64")))
    attributed = sum(p.size for p in packages)
    return BinaryReport(
        path=path, file_size=file_size, format="elf", goos="linux", goarch="amd64", go_version=go_version,
        coverage=attributed / file_size, sections=tuple(sections),
        packages=tuple(sorted(packages, key=lambda p: (-p.size, p.name))), modules=modules,
        functions=tuple(sorted(functions, key=lambda f: (-(f.code + f.meta), f.name))),
        unattributed=tuple(unattributed), build_info=info if go_version else None, stripped=True, notes=notes,
    )


def sections(text: int, rodata: int, pclntab: int) -> list[Section]:
    return [
        Section(".text", text, text, 0x1000, 0x401000, "r,x,alloc"),
        Section(".rodata", rodata, rodata, 0x1000 + text, 0x500000, "r,alloc"),
        Section(".gopclntab", pclntab, pclntab, 0x1000 + text + rodata, 0x600000, "r,alloc"),
        Section(".bss", 0, 4096, 0, 0x700000, "r,w,alloc"),
    ]


LOG_V1 = Module("github.com/acme/log", "v1.3.2", "h1:abc=")
LOG_V2 = Module("github.com/acme/log", "v1.4.0", "h1:def=")
GREET = Module("example.com/greet", "v1.2.3", "", replace=Module("../greet", ""))
XNET = Module("golang.org/x/net", "v0.38.0", "h1:net=")


def old_report() -> BinaryReport:
    return make_report(
        "old/app",
        [pkg("runtime", "std", 500_000, 200_000, 100_000), pkg("net/http", "std", 300_000, 90_000, 50_000),
         pkg("example.com/app/legacy", "example.com/app", 10_000, 3_000, 1_000),
         pkg("main", "example.com/app", 2_000, 500, 100),
         pkg("github.com/acme/log", "github.com/acme/log", 20_000, 6_000, 2_000),
         pkg("example.com/greet", "example.com/greet", 1_000, 300, 50)],
        [Unattributed("(headers)", 4096), Unattributed(".rodata", 70_000), Unattributed(".text", 1_234)],
        sections=sections(900_000, 300_000, 200_000),
        functions=[Function("runtime.mallocgc", "runtime", 4000, 300), Function("main.main", "main", 1500, 100),
                   Function("example.com/app/legacy.Decode", "example.com/app/legacy", 8000, 700),
                   Function("net/http.(*conn).serve", "net/http", 6000, 400),
                   Function("net/http.a", "net/http", 100, 10), Function("net/http.b", "net/http", 100, 10)],
        deps=(LOG_V1, GREET), go_version="go1.24.11",
    )


def new_report() -> BinaryReport:
    return make_report(
        "new/app",
        [pkg("runtime", "std", 500_000, 200_000, 100_000), pkg("net/http", "std", 310_000, 91_000, 50_500),
         pkg("main", "example.com/app", 2_500, 600, 100),
         pkg("github.com/acme/log", "github.com/acme/log", 20_800, 6_100, 2_000),
         pkg("example.com/greet", "example.com/greet", 1_000, 300, 50),
         pkg("golang.org/x/net/http2", "golang.org/x/net", 200_000, 50_000, 10_000)],
        [Unattributed("(headers)", 4096), Unattributed(".rodata", 71_111), Unattributed("(padding)", 17)],
        sections=sections(1_100_000, 320_000, 260_000),
        functions=[Function("runtime.mallocgc", "runtime", 4000, 300), Function("main.main", "main", 1900, 200),
                   Function("net/http.(*conn).serve", "net/http", 6500, 450),
                   Function("golang.org/x/net/http2.(*Framer).ReadFrame", "golang.org/x/net/http2", 9000, 900),
                   Function("net/http.a", "net/http", 150, 10), Function("net/http.b", "net/http", 50, 10)],
        deps=(LOG_V2, GREET, XNET), go_version="go1.26.8",
    )


def test_sizes_and_invariant_exact() -> None:
    old, new = old_report(), new_report()
    d = diff_reports(old, new)
    assert (old.file_size, new.file_size, d.delta) == (1_361_280, 1_620_174, 258_894)
    assert sum(p.delta for p in d.packages) + sum(u.delta for u in d.unattributed) == new.file_size - old.file_size
    assert d.packages == (
        SizeDelta("golang.org/x/net/http2", 0, 260_000),
        SizeDelta("example.com/app/legacy", 14_000, 0),
        SizeDelta("net/http", 440_000, 451_500),
        SizeDelta("github.com/acme/log", 28_000, 28_900),
        SizeDelta("main", 2_600, 3_200),
        SizeDelta("example.com/greet", 1_350, 1_350),
        SizeDelta("runtime", 800_000, 800_000),
    )
    assert d.modules == (
        SizeDelta("golang.org/x/net", 0, 260_000),
        SizeDelta("example.com/app", 16_600, 3_200),
        SizeDelta("std", 1_240_000, 1_251_500),
        SizeDelta("github.com/acme/log", 28_000, 28_900),
        SizeDelta("example.com/greet", 1_350, 1_350),
    )
    assert d.unattributed == (
        SizeDelta(".text", 1_234, 0),
        SizeDelta(".rodata", 70_000, 71_111),
        SizeDelta("(padding)", 0, 17),
        SizeDelta("(headers)", 4096, 4096),
    )
    assert d.sections == (
        SizeDelta(".text", 900_000, 1_100_000),
        SizeDelta(".gopclntab", 200_000, 260_000),
        SizeDelta(".rodata", 300_000, 320_000),
        SizeDelta(".bss", 0, 0),
    )
    assert (d.added_packages, d.removed_packages) == (("golang.org/x/net/http2",), ("example.com/app/legacy",))
    assert (d.added_modules, d.removed_modules) == (("golang.org/x/net",), ())
    assert d.module_changes == (
        ModuleChange("github.com/acme/log", "v1.3.2", "v1.4.0"),
        ModuleChange("golang.org/x/net", "", "v0.38.0"),
    )
    assert (d.old.go_version, d.new.go_version) == ("go1.24.11", "go1.26.8")


def test_functions_top_by_abs_delta_ties_by_name() -> None:
    d = diff_reports(old_report(), new_report(), top=None)
    assert d.functions == (
        FunctionDelta("golang.org/x/net/http2.(*Framer).ReadFrame", 0, 9900, package="golang.org/x/net/http2"),
        FunctionDelta("example.com/app/legacy.Decode", 8700, 0, package="example.com/app/legacy"),
        FunctionDelta("net/http.(*conn).serve", 6400, 6950, package="net/http"),
        FunctionDelta("main.main", 1600, 2100, package="main"),
        FunctionDelta("net/http.a", 110, 160, package="net/http"),  # |+50| ties |-50|: by name
        FunctionDelta("net/http.b", 110, 60, package="net/http"),
    )
    assert [f.name for f in diff_reports(old_report(), new_report(), top=2).functions] == [
        "golang.org/x/net/http2.(*Framer).ReadFrame", "example.com/app/legacy.Decode"]
    assert diff_reports(old_report(), new_report(), top=0).functions == ()
    assert len(diff_reports(old_report(), new_report()).functions) == 6  # default top 20: all changed ones
    with pytest.raises(ValueError):
        diff_reports(old_report(), new_report(), top=-1)


def test_diff_against_itself_is_all_zeros() -> None:
    r = new_report()
    d = diff_reports(r, r)
    assert d.delta == 0
    for rows in (d.sections, d.packages, d.modules, d.unattributed):
        assert rows and all(x.delta == 0 for x in rows)
    assert len(d.packages) == len(r.packages) and len(d.sections) == len(r.sections)
    assert d.functions == ()  # only changed functions are listed
    assert (d.module_changes, d.added_packages, d.removed_packages, d.added_modules, d.removed_modules) == ((),) * 5


def test_duplicate_keys_are_summed_and_invariant_holds() -> None:
    """Rows sharing a name (two sections called .text, a package listed twice) are summed first."""
    old = old_report()
    new = dataclasses.replace(
        old,
        sections=old.sections + (Section(".text", 10, 10, 0, 0, "r"),),
        unattributed=old.unattributed + (Unattributed(".text", 66),),
        file_size=old.file_size + 66 + 7,
        packages=old.packages + (pkg("runtime", "std", 7, 0, 0),),
    )
    d = diff_reports(old, new)
    assert SizeDelta(".text", 900_000, 900_010) in d.sections
    assert SizeDelta(".text", 1_234, 1_300) in d.unattributed
    assert SizeDelta("runtime", 800_000, 800_007) in d.packages
    assert sum(p.delta for p in d.packages) + sum(u.delta for u in d.unattributed) == d.delta == 73


def test_non_go_and_go_binaries() -> None:
    """A non-Go binary on one side: everything of the Go side is added, invariant still exact."""
    go = new_report()
    plain = BinaryReport(path="c/app", file_size=20_000, format="elf", goos="linux", goarch="amd64", go_version="",
                         coverage=0.0, sections=tuple(sections(12_000, 4_000, 0)[:2]), packages=(), modules=(),
                         functions=(), unattributed=(Unattributed("(headers)", 4000), Unattributed(".text", 12_000),
                                                     Unattributed(".rodata", 4_000)),
                         build_info=None, stripped=False, notes=("not a Go binary: sections only",))
    d = diff_reports(plain, go)
    assert sum(p.delta for p in d.packages) + sum(u.delta for u in d.unattributed) == go.file_size - 20_000
    assert set(d.added_packages) == {p.name for p in go.packages} and d.removed_packages == ()
    assert [c.old_version for c in d.module_changes] == ["", "", ""]
    assert {c.path for c in d.module_changes} == {"github.com/acme/log", "example.com/greet", "golang.org/x/net"}
    back = diff_reports(go, plain)
    assert back.delta == -d.delta and set(back.removed_modules) == {m.path for m in go.modules}


def test_module_versions_and_replacements() -> None:
    assert module_version(LOG_V1) == "v1.3.2"
    assert module_version(GREET) == "v1.2.3 => ../greet"
    fork = Module("github.com/acme/log", "v1.3.2", "h1:abc=", replace=Module("github.com/fork/log", "v1.3.3", "h1:x="))
    assert module_version(fork) == "v1.3.2 => github.com/fork/log v1.3.3"

    def info(*deps: Module) -> BuildInfo:
        return BuildInfo("go1.26.8", "example.com/app", Module("example.com/app", "v0.0.0-1"), deps, ())

    assert module_changes(info(LOG_V1, GREET), info(fork, Module("example.com/greet", "v1.2.3"))) == (
        ModuleChange("example.com/greet", "v1.2.3 => ../greet", "v1.2.3"),
        ModuleChange("github.com/acme/log", "v1.3.2", "v1.3.2 => github.com/fork/log v1.3.3"),
    )
    # the main module's own version (VCS stamp) is not a dependency change
    other_main = BuildInfo("go1.26.8", "example.com/app", Module("example.com/app", "v0.0.0-2"), (LOG_V1,), ())
    assert module_changes(info(LOG_V1), other_main) == ()
    assert module_changes(None, info(XNET)) == (ModuleChange("golang.org/x/net", "", "v0.38.0"),)
    assert module_changes(info(XNET), None) == (ModuleChange("golang.org/x/net", "v0.38.0", ""),)
    assert module_changes(None, None) == ()
