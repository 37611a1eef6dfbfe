"""Hand-built BinaryReports for the diff and renderer tests: consistent by construction."""

from __future__ import annotations

import os

from sizebot.binary.attribute import analyze_binary
from sizebot.documents.analyze import (
    BinaryReport,
    BuildInfo,
    Function,
    Module,
    ModuleSize,
    PackageSize,
    Section,
    Unattributed,
)
from sizebot.errors import SizebotError


def analyzed_or_refused(path: str | os.PathLike[str]) -> BinaryReport | None:
    """What a damaged binary may give: ``analyze_binary(path)`` with its packages and unattributed
    rows adding up to the file, or None when it was refused in one line (a SizebotError)."""
    try:
        r = analyze_binary(path)
    except SizebotError as e:
        assert "\n" not in str(e)
        return None
    assert sum(p.size for p in r.packages) + sum(u.size for u in r.unattributed) == r.file_size
    assert all(p.size == p.code + p.meta + p.data + p.debug for p in r.packages)
    return r


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
