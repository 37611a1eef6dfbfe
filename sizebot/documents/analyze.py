"""The analyze document (``sizebot/analyze@1``): where every byte of one Go binary goes.

Every byte of the file lands in exactly one bucket: a package's code, meta (its
functions' pclntab records) or data, or a per-section ``Unattributed`` row
(headers and padding are the section names "(headers)" and "(padding)").
Hence: sum(p.size for p in packages) + sum(u.size for u in unattributed) == file_size.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    size: int  # code + meta + data
    code: int
    meta: int
    data: int


@dataclass(frozen=True)
class Module:
    path: str
    version: str
    sum: str = ""
    replace: "Module | None" = None


@dataclass(frozen=True)
class ModuleSize:
    path: str
    version: str  # "" for std and for a main module built without VCS info ("(devel)" as go reports it)
    size: int
    replace: str = ""  # "path version" of the replacement, "" when not replaced


@dataclass(frozen=True)
class Unattributed:
    section: str  # section name, or "(headers)"/"(padding)" for bytes outside any section
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
