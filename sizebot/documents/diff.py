"""The diff document (``sizebot/diff@1``): what changed between two analyses, and where."""

from __future__ import annotations

from dataclasses import dataclass, field

from sizebot.documents.analyze import BinaryReport


@dataclass(frozen=True)
class SizeDelta:
    name: str
    old_size: int
    new_size: int

    @property
    def delta(self) -> int:
        return self.new_size - self.old_size


@dataclass(frozen=True)
class FunctionDelta(SizeDelta):
    """A function's change (sizes are code + meta); carries its package for grouping."""

    package: str = ""


@dataclass(frozen=True)
class ModuleChange:
    path: str
    old_version: str  # "" when added
    new_version: str  # "" when removed


@dataclass(frozen=True)
class BinaryDiff:
    old: BinaryReport
    new: BinaryReport
    sections: tuple[SizeDelta, ...]  # every section in either, sorted by |delta| desc
    packages: tuple[SizeDelta, ...]  # every package in either, sorted by |delta| desc
    modules: tuple[SizeDelta, ...]
    functions: tuple[FunctionDelta, ...]  # changed functions, top N by |delta|
    unattributed: tuple[SizeDelta, ...]
    module_changes: tuple[ModuleChange, ...] = ()
    added_packages: tuple[str, ...] = field(default=())
    removed_packages: tuple[str, ...] = field(default=())
    added_modules: tuple[str, ...] = field(default=())
    removed_modules: tuple[str, ...] = field(default=())

    @property
    def delta(self) -> int:
        return self.new.file_size - self.old.file_size
