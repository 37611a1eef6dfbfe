"""diff_reports on hand-built reports: every delta exact, the file size delta fully explained by
package + unattributed deltas, function ranking and ties, module versions and replacements; and on
two real stripped builds, the estimated data of each side carried into the rows."""

from __future__ import annotations

import dataclasses

import pytest

from sizebot.binary.diff import diff_reports, module_changes, module_version
from sizebot.documents.analyze import BinaryReport, BuildInfo, Module, Section, Unattributed
from sizebot.documents.diff import FunctionDelta, ModuleChange, SizeDelta
from tests.support.binary_reports import (
    GREET,
    LOG_V1,
    XNET,
    new_report,
    old_report,
    pkg,
    sections,
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
        FunctionDelta("golang.org/x/net/http2.(*Framer).ReadFrame", 0, 9900, package="golang.org/x/net/http2",
                      new_code=9000),
        FunctionDelta("example.com/app/legacy.Decode", 8700, 0, package="example.com/app/legacy", old_code=8000),
        FunctionDelta("net/http.(*conn).serve", 6400, 6950, package="net/http", old_code=6000, new_code=6500),
        FunctionDelta("main.main", 1600, 2100, package="main", old_code=1500, new_code=1900),
        FunctionDelta("net/http.a", 110, 160, package="net/http", old_code=100, new_code=150),  # |+50| ties |-50|
        FunctionDelta("net/http.b", 110, 60, package="net/http", old_code=100, new_code=50),
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


def test_estimated_data_of_real_stripped_builds_is_carried() -> None:
    """Two stripped builds (data found by reference only): each package and module row carries its
    side's estimated bytes exactly, and the diff document reads back the same."""
    from sizebot.binary.attribute import analyze_binary
    from sizebot.documents.diff import BinaryDiff
    from tests.support.goprograms import HELLO, HTTPJSON, build

    old = analyze_binary(build(HELLO, flags=("-ldflags=-s -w",)))
    new = analyze_binary(build(HTTPJSON, flags=("-ldflags=-s -w",)))
    d = diff_reports(old, new)
    for side, report in (("old", old), ("new", new)):
        by_package = {p.name: p.data_estimated for p in report.packages}
        by_module: dict[str, int] = {}
        for p in report.packages:
            by_module[p.module or "(unknown)"] = by_module.get(p.module or "(unknown)", 0) + p.data_estimated
        assert sum(by_package.values()) > 10_000, side  # the reference method did estimate data here
        assert {r.name: getattr(r, f"{side}_estimated") for r in d.packages if r.name in by_package} == by_package
        assert {r.name: getattr(r, f"{side}_estimated") for r in d.modules if r.name in by_module} == by_module
    back = BinaryDiff.from_json(d.to_json(top=None))
    assert (back.packages, back.modules) == (d.packages, d.modules)
