"""The analyze document (``sizebot/analyze@1``): where every byte of one Go binary goes.

Every byte of the file lands in exactly one bucket: a package's code, meta (its
functions' pclntab records) or data, or a per-section ``Unattributed`` row
(headers and padding are the section names "(headers)" and "(padding)").
Hence: sum(p.size for p in packages) + sum(u.size for u in unattributed) == file_size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sizebot.documents.fields import Fields, array, number, one_of, string, strings
from sizebot.documents.jsonfile import MAX_INTEGER, MAX_STRING
from sizebot.errors import DocumentError

SCHEMA = "sizebot/analyze@1"
# The package and module of bytes the analyser could not place: a row of the tables, never a dependency.
UNKNOWN = "(unknown)"


@dataclass(frozen=True)
class Section:
    name: str
    file_size: int  # bytes the section occupies in the file; 0 for .bss/.noptrbss/zerofill
    mem_size: int  # bytes it occupies in memory once loaded
    offset: int  # file offset (0 when file_size is 0)
    addr: int  # virtual address (0 for non-allocated sections)
    flags: str  # format-neutral: "r", "w", "x", "alloc", "compressed" joined by ","; raw flags kept in raw_flags
    raw_flags: int = 0


@dataclass(frozen=True)
class Function:
    name: str
    package: str
    code: int  # bytes of machine code (entry to next entry, from the pclntab)
    meta: int  # bytes of its pclntab records: _func, name, pcsp, pcfile, pcln, pcdata, funcdata offsets


@dataclass(frozen=True)
class PackageSize:
    name: str
    module: str  # module path; "std" for the standard library, "" when unknown
    size: int  # code + meta + data + debug
    code: int
    meta: int
    data: int
    debug: int = 0  # its DWARF compile unit's bytes in the debug sections
    data_estimated: int = 0  # bytes of data whose extent is estimated (from the code's references, no symbol)


@dataclass(frozen=True)
class Module:
    path: str
    version: str
    sum: str = ""
    replace: Module | None = None


@dataclass(frozen=True)
class ModuleSize:
    path: str
    version: str  # "" for std and for a main module built without VCS info ("(devel)" as go reports it)
    size: int
    replace: str = ""  # "path version" of the replacement, "" when not replaced


@dataclass(frozen=True, order=True)
class EmbeddedFile:
    """One //go:embed payload of a package: a file of an embed.FS (its directories are not files: not
    listed), or the contents of a string or []byte variable (the file's name is not in the binary: the
    variable's)."""

    package: str  # "" when the embedding package could not be told
    name: str  # file: path inside the embed.FS ("static/app.css"); variable: its name ("logo"), "#1" without symbols
    size: int
    kind: str = "file"  # "file", "string" or "[]byte"


@dataclass(frozen=True)
class Unattributed:
    # section name, "(headers)"/"(padding)" outside sections, or a named table in one ("pclntab: file table")
    section: str
    size: int


@dataclass(frozen=True)
class BuildInfo:
    go_version: str  # "go1.26.8"
    path: str  # main package path
    main: Module | None
    deps: tuple[Module, ...]
    settings: tuple[tuple[str, str], ...]  # ("-ldflags", "-s -w"), ("CGO_ENABLED", "0"), ("GOOS", "linux"), ...

    def setting(self, key: str, default: str = "") -> str:
        for k, v in self.settings:
            if k == key:
                return v
        return default


@dataclass(frozen=True)
class BinaryReport:
    path: str
    file_size: int
    format: str  # "elf", "macho", "pe"
    goos: str
    goarch: str
    go_version: str  # "" when not a Go binary
    coverage: float  # bytes attributed to a package / file_size
    sections: tuple[Section, ...]
    packages: tuple[PackageSize, ...]  # sorted by size, descending
    modules: tuple[ModuleSize, ...]  # sorted by size, descending
    functions: tuple[Function, ...]  # sorted by code+meta, descending
    unattributed: tuple[Unattributed, ...]
    build_info: BuildInfo | None
    stripped: bool  # no symbol table
    packed: str = ""  # "upx" when packed: the per-package breakdown needs the unpacked binary
    notes: tuple[str, ...] = ()  # "not a Go binary: sections only", ...
    embeds: tuple[EmbeddedFile, ...] = ()  # files embedded with //go:embed, by package then name

    def to_json(self, *, top: int | None = None) -> dict[str, Any]:
        """The analyze document. ``top`` keeps only the N largest functions (None: all of them);
        sections, packages, modules and unattributed rows are always complete (they sum to file_size)."""
        return _report_to_json(self, top)

    @classmethod
    def from_json(cls, obj: Any, where: str = "analyze") -> BinaryReport:
        """The record of an analyze document; DocumentError naming the place of the first bad value."""
        return _report_from_json(obj, where)


# ---- JSON (sizebot/schemas/analyze.schema.json) ---------------------------------------------------

def _module_to_json(m: Module | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {"path": m.path, "version": m.version, "sum": m.sum, "replace": _module_to_json(m.replace)}


def _module_from_json(obj: Any, where: str) -> Module:
    f = Fields(obj, where, ("path", "version", "sum", "replace"))
    return Module(f.text("path"), f.text("version"), f.text("sum"), f.nullable("replace", _module_from_json))


def build_info_to_json(info: BuildInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {"go_version": info.go_version, "path": info.path, "main": _module_to_json(info.main),
            "deps": [_module_to_json(d) for d in info.deps], "settings": dict(info.settings)}


def _build_info_from_json(obj: Any, where: str) -> BuildInfo:
    f = Fields(obj, where, ("go_version", "path", "main", "deps", "settings"))
    settings = Fields(f.raw("settings"), f.at("settings"), (), open=True)
    return BuildInfo(go_version=f.text("go_version"), path=f.text("path"), main=f.nullable("main", _module_from_json),
                     deps=f.seq("deps", _module_from_json),
                     settings=tuple((str(k), string(v, settings.at(str(k)))) for k, v in settings.value.items()))


def _report_to_json(report: BinaryReport, top: int | None) -> dict[str, Any]:
    functions = report.functions if top is None else report.functions[:top]
    return {
        "schema": SCHEMA,
        "path": report.path,
        "file_size": report.file_size,
        "format": report.format,
        "goos": report.goos,
        "goarch": report.goarch,
        "go_version": report.go_version,
        "coverage": report.coverage if math.isfinite(report.coverage) else 0.0,
        "stripped": report.stripped,
        "packed": report.packed,
        "notes": list(report.notes),
        "sections": [
            {"name": s.name, "file_size": s.file_size, "mem_size": s.mem_size, "offset": s.offset,
             "addr": s.addr, "flags": s.flags}
            for s in report.sections
        ],
        "packages": [
            {"name": p.name, "module": p.module, "size": p.size, "code": p.code, "meta": p.meta, "data": p.data,
             **({"debug": p.debug} if p.debug else {}),  # absent when 0: stripped builds' documents stay as they were
             **({"data_estimated": p.data_estimated} if p.data_estimated else {})}
            for p in report.packages
        ],
        "modules": [
            {"path": m.path, "version": m.version, "size": m.size, "replace": m.replace} for m in report.modules
        ],
        "unattributed": [{"section": u.section, "size": u.size} for u in report.unattributed],
        "functions": [{"name": f.name, "package": f.package, "code": f.code, "meta": f.meta} for f in functions],
        "build_info": build_info_to_json(report.build_info),
        **({"embeds": [{"package": e.package, "name": e.name, "size": e.size, "kind": e.kind} for e in report.embeds]}
           if report.embeds else {}),
    }


def _section(obj: Any, where: str) -> Section:
    f = Fields(obj, where, ("name", "file_size", "mem_size", "offset", "addr", "flags"))
    return Section(f.text("name"), f.size("file_size"), f.size("mem_size"), f.size("offset"), f.size("addr"),
                   f.text("flags"))


def _package(obj: Any, where: str) -> PackageSize:
    f = Fields(obj, where, ("name", "module", "size", "code", "meta", "data"), ("debug", "data_estimated"))
    package = PackageSize(f.text("name"), f.text("module"), f.size("size"), f.size("code"), f.size("meta"),
                          f.size("data"), f.size("debug", 0), f.size("data_estimated", 0))
    if package.data_estimated > package.data:
        raise DocumentError(f"{where}: data_estimated {package.data_estimated} is more than data {package.data}")
    return package


def _module_size(obj: Any, where: str) -> ModuleSize:
    f = Fields(obj, where, ("path", "version", "size", "replace"))
    return ModuleSize(f.text("path"), f.text("version"), f.size("size"), f.text("replace"))


def _unattributed(obj: Any, where: str) -> Unattributed:
    f = Fields(obj, where, ("section", "size"))
    return Unattributed(f.text("section"), f.size("size"))


def _functions(value: Any, where: str) -> tuple[Function, ...]:
    """The functions array (tens of thousands in a large program): records of the expected shape are
    read in one tight loop; at the first that is not, the strict reader takes over to name the fault."""
    functions = plain_functions(value)
    return functions if functions is not None else array(value, where, _function)


def plain_functions(value: Any) -> tuple[Function, ...] | None:
    """The functions array when every record has the expected shape and its values the bounds of a saved
    document (strings of at most MAX_STRING characters, sizes up to MAX_INTEGER), else None: one tight
    loop, each record made without the frozen ``__init__``'s four ``object.__setattr__`` calls."""
    if type(value) is not list:
        return None
    out: list[Function] = []
    append, new = out.append, object.__new__
    for obj in value:
        if type(obj) is dict and len(obj) == 4:
            name, package, code, meta = obj.get("name"), obj.get("package"), obj.get("code"), obj.get("meta")
            if type(name) is str and type(package) is str and type(code) is int and type(meta) is int \
                    and 0 <= code <= MAX_INTEGER and 0 <= meta <= MAX_INTEGER \
                    and len(name) <= MAX_STRING and len(package) <= MAX_STRING:
                function = new(Function)
                function.__dict__.update(name=name, package=package, code=code, meta=meta)
                append(function)
                continue
        return None
    return tuple(out)


def _function(obj: Any, where: str) -> Function:
    f = Fields(obj, where, ("name", "package", "code", "meta"))
    return Function(f.text("name"), f.text("package"), f.size("code"), f.size("meta"))


FORMATS = ("elf", "macho", "pe")


def _fraction(value: Any, where: str) -> float:
    fraction = float(number(value, where))
    if not 0 <= fraction <= 1:
        raise DocumentError(f"{where}: expected a number from 0 to 1, got {fraction}")
    return fraction


_REQUIRED = ("schema", "path", "file_size", "format", "goos", "goarch", "go_version", "coverage", "stripped",
             "packed", "notes", "sections", "packages", "modules", "unattributed", "functions", "build_info")


def _report_from_json(obj: Any, where: str) -> BinaryReport:
    f = Fields(obj, where, _REQUIRED, ("embeds",))
    if f.raw("schema") != SCHEMA:
        raise DocumentError(f"{f.at('schema')}: expected {SCHEMA!r}")
    return BinaryReport(
        path=f.text("path"), file_size=f.size("file_size"), format=f.get("format", lambda v, w: one_of(v, w, FORMATS)),
        goos=f.text("goos"), goarch=f.text("goarch"), go_version=f.text("go_version"),
        coverage=f.get("coverage", _fraction),
        sections=f.seq("sections", _section), packages=f.seq("packages", _package),
        modules=f.seq("modules", _module_size), functions=_functions(f.raw("functions"), f.at("functions")),
        unattributed=f.seq("unattributed", _unattributed), build_info=f.nullable("build_info", _build_info_from_json),
        stripped=f.flag("stripped"), packed=f.text("packed"), notes=f.get("notes", strings),
        embeds=f.seq("embeds", _embedded_file, optional=True))


EMBED_KINDS = ("file", "string", "[]byte")


def _embedded_file(obj: Any, where: str) -> EmbeddedFile:
    f = Fields(obj, where, ("package", "name", "size"), ("kind",))
    kind = f.text("kind", "file")  # absent in documents written before variables were listed
    if kind not in EMBED_KINDS:
        raise DocumentError(f"{f.at('kind')}: expected one of {', '.join(EMBED_KINDS)}")
    return EmbeddedFile(f.text("package"), f.text("name"), f.size("size"), kind)
