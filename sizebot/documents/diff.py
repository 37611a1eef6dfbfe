"""The diff document (``sizebot/diff@1``): what changed between two analyses, and where."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sizebot.documents.analyze import EMBED_KINDS, BinaryReport
from sizebot.documents.fields import Fields, integer, strings
from sizebot.errors import DocumentError

SCHEMA = "sizebot/diff@1"


@dataclass(frozen=True)
class SizeDelta:
    name: str
    old_size: int
    new_size: int
    # of each size, the bytes of data whose extent is estimated (a package's or module's data_estimated)
    old_estimated: int = 0
    new_estimated: int = 0

    @property
    def delta(self) -> int:
        return self.new_size - self.old_size

    @property
    def estimated(self) -> bool:
        """Whether a figure of this row (either size, hence the delta) holds estimated bytes."""
        return bool(self.old_estimated or self.new_estimated)


@dataclass(frozen=True)
class FunctionDelta(SizeDelta):
    """A function's change (sizes are code + meta); carries its package for grouping."""

    package: str = ""
    old_code: int = 0  # of old_size, the machine code; the rest is its pclntab metadata
    new_code: int = 0

    @property
    def old_meta(self) -> int:
        return self.old_size - self.old_code

    @property
    def new_meta(self) -> int:
        return self.new_size - self.new_code


@dataclass(frozen=True)
class EmbedDelta:
    """An embed (file or string/[]byte variable) added, removed or changed (sizes 0 where it is absent)."""

    package: str
    name: str
    status: str  # "added", "removed", "changed"
    old_size: int
    new_size: int
    kind: str = "file"  # as EmbeddedFile.kind

    @property
    def delta(self) -> int:
        return self.new_size - self.old_size


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
    embeds: tuple[EmbedDelta, ...] = field(default=())  # embedded files added, removed, changed
    # every changed function, of which ``functions`` holds the top N: how many and their deltas' sum
    # (None in a document written before they were recorded)
    functions_changed: int | None = None
    functions_delta: int | None = None

    @property
    def delta(self) -> int:
        return self.new.file_size - self.old.file_size

    def to_json(self, *, top: int | None = None, include_reports: bool = True) -> dict[str, Any]:
        """The diff document. ``top`` trims the function rows (and those of the embedded reports);
        ``include_reports`` adds the two analyze documents as ``old`` and ``new``."""
        functions = self.functions if top is None else self.functions[:top]
        doc: dict[str, Any] = {
            "schema": SCHEMA,
            "old_size": self.old.file_size,
            "new_size": self.new.file_size,
            "delta": self.delta,
            "go_version": {"old": self.old.go_version, "new": self.new.go_version},
            **rows_to_json(self.sections, self.packages, self.modules, functions, self.unattributed,
                           self.module_changes),
            "added_packages": list(self.added_packages),
            "removed_packages": list(self.removed_packages),
            "added_modules": list(self.added_modules),
            "removed_modules": list(self.removed_modules),
        }
        doc.update(function_totals_to_json(self.functions_changed, self.functions_delta))
        if self.embeds:
            doc["embeds"] = embeds_to_json(self.embeds)
        if include_reports:
            doc["old"] = self.old.to_json(top=top)
            doc["new"] = self.new.to_json(top=top)
        return doc

    @classmethod
    def from_json(cls, obj: Any, where: str = "diff") -> BinaryDiff:
        """The record of a diff document written with its reports (``old`` and ``new``)."""
        f = Fields(obj, where, (*DIFF_REQUIRED, "old", "new"), ("embeds", *FUNCTION_TOTALS))
        check_header(f)
        old = BinaryReport.from_json(f.raw("old"), f.at("old"))
        new = BinaryReport.from_json(f.raw("new"), f.at("new"))
        if (f.size("old_size"), f.size("new_size")) != (old.file_size, new.file_size):
            raise DocumentError(f"{where}: old_size and new_size differ from the reports' file sizes")
        rows = rows_from_json(f)
        changed, delta = function_totals_from_json(f, rows["functions"])
        return cls(old=old, new=new, **rows, embeds=f.seq("embeds", embed_delta_from_json, optional=True),
                   functions_changed=changed, functions_delta=delta)


# ---- JSON (sizebot/schemas/diff.schema.json); the report's builds[].diff shares the rows --------------

DIFF_REQUIRED = ("schema", "old_size", "new_size", "delta", "go_version", "sections", "packages", "modules",
                 "functions", "unattributed", "module_changes", "added_packages", "removed_packages",
                 "added_modules", "removed_modules")


def embeds_to_json(embeds: tuple[EmbedDelta, ...]) -> list[dict[str, Any]]:
    return [{"package": e.package, "name": e.name, "status": e.status, "old_size": e.old_size,
             "new_size": e.new_size, "delta": e.delta, "kind": e.kind} for e in embeds]


def embed_delta_from_json(obj: Any, where: str) -> EmbedDelta:
    f = Fields(obj, where, ("package", "name", "status", "old_size", "new_size", "delta"), ("kind",))
    status = f.text("status")
    if status not in ("added", "removed", "changed"):
        raise DocumentError(f"{f.at('status')}: expected added, removed or changed")
    kind = f.text("kind", "file")
    if kind not in EMBED_KINDS:
        raise DocumentError(f"{f.at('kind')}: expected one of {', '.join(EMBED_KINDS)}")
    return EmbedDelta(f.text("package"), f.text("name"), status, f.size("old_size"), f.size("new_size"), kind)


def delta_to_json(d: SizeDelta) -> dict[str, Any]:
    row: dict[str, Any] = {"name": d.name, "old_size": d.old_size, "new_size": d.new_size, "delta": d.delta}
    if isinstance(d, FunctionDelta):
        row.update(package=d.package, old_code=d.old_code, new_code=d.new_code)
    if d.old_estimated:
        row["old_estimated"] = d.old_estimated
    if d.new_estimated:
        row["new_estimated"] = d.new_estimated
    return row


def delta_from_json(obj: Any, where: str) -> SizeDelta:
    f = Fields(obj, where, ("name", "old_size", "new_size", "delta"), ("old_estimated", "new_estimated"))
    row = SizeDelta(f.text("name"), f.size("old_size"), f.size("new_size"), f.size("old_estimated", 0),
                    f.size("new_estimated", 0))
    _check_delta(f, row.delta)
    if row.old_estimated > row.old_size or row.new_estimated > row.new_size:
        raise DocumentError(f"{where}: estimated bytes more than the size they are part of")
    return row


def function_delta_from_json(obj: Any, where: str) -> FunctionDelta:
    f = Fields(obj, where, ("name", "old_size", "new_size", "delta", "package", "old_code", "new_code"))
    row = FunctionDelta(f.text("name"), f.size("old_size"), f.size("new_size"), package=f.text("package"),
                        old_code=f.size("old_code"), new_code=f.size("new_code"))
    _check_delta(f, row.delta)
    if row.old_code > row.old_size or row.new_code > row.new_size:
        raise DocumentError(f"{where}: code larger than the function's size")
    return row


def _check_delta(f: Fields, delta: int) -> None:
    if f.get("delta", integer) != delta:
        raise DocumentError(f"{f.at('delta')}: is not new_size - old_size")


def _module_change(obj: Any, where: str) -> ModuleChange:
    f = Fields(obj, where, ("path", "old_version", "new_version"))
    return ModuleChange(f.text("path"), f.text("old_version"), f.text("new_version"))


def rows_to_json(sections: tuple[SizeDelta, ...], packages: tuple[SizeDelta, ...], modules: tuple[SizeDelta, ...],
                 functions: tuple[FunctionDelta, ...], unattributed: tuple[SizeDelta, ...],
                 module_changes: tuple[ModuleChange, ...]) -> dict[str, Any]:
    return {
        "sections": [delta_to_json(d) for d in sections],
        "packages": [delta_to_json(d) for d in packages],
        "modules": [delta_to_json(d) for d in modules],
        "functions": [delta_to_json(d) for d in functions],
        "unattributed": [delta_to_json(d) for d in unattributed],
        "module_changes": [{"path": c.path, "old_version": c.old_version, "new_version": c.new_version}
                           for c in module_changes],
    }


FUNCTION_TOTALS = ("functions_changed", "functions_delta")


def function_totals_to_json(changed: int | None, delta: int | None) -> dict[str, int]:
    return {} if changed is None or delta is None else {"functions_changed": changed, "functions_delta": delta}


def function_totals_from_json(f: Fields, functions: tuple[FunctionDelta, ...]) -> tuple[int | None, int | None]:
    """functions_changed and functions_delta, both or neither; a count below the rows listed, or a sum
    other than the rows' when they are all listed, is refused (the comment would say what is not so)."""
    if not any(f.has(k) for k in FUNCTION_TOTALS):
        return None, None
    changed = f.get("functions_changed", lambda v, w: integer(v, w, minimum=0))
    delta = f.count("functions_delta")
    if changed < len(functions):
        raise DocumentError(f"{f.at('functions_changed')}: {changed}, fewer than the {len(functions)} functions listed")
    if changed == len(functions) and delta != sum(r.delta for r in functions):
        raise DocumentError(f"{f.at('functions_delta')}: is not the sum of the functions' deltas")
    return changed, delta


def check_header(f: Fields) -> None:
    """schema, go_version's shape, and delta == new_size - old_size."""
    if f.raw("schema") != SCHEMA:
        raise DocumentError(f"{f.at('schema')}: expected {SCHEMA!r}")
    if f.get("delta", integer) != f.size("new_size") - f.size("old_size"):
        raise DocumentError(f"{f.at('delta')}: is not new_size - old_size")


def go_versions_from_json(f: Fields) -> tuple[str, str]:
    g = Fields(f.raw("go_version"), f.at("go_version"), ("old", "new"))
    return g.text("old"), g.text("new")


def rows_from_json(f: Fields) -> dict[str, Any]:
    """The row fields of BinaryDiff (sections ... removed_modules) from a diff document."""
    go_versions_from_json(f)
    return {
        "sections": f.seq("sections", delta_from_json),
        "packages": f.seq("packages", delta_from_json),
        "modules": f.seq("modules", delta_from_json),
        "functions": f.seq("functions", function_delta_from_json),
        "unattributed": f.seq("unattributed", delta_from_json),
        "module_changes": f.seq("module_changes", _module_change),
        "added_packages": f.get("added_packages", strings),
        "removed_packages": f.get("removed_packages", strings),
        "added_modules": f.get("added_modules", strings),
        "removed_modules": f.get("removed_modules", strings),
    }
