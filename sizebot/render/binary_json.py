"""BinaryReport and BinaryDiff as JSON documents: ``sizebot/analyze@1`` and ``sizebot/diff@1``
(sizebot/schemas/analyze.schema.json, diff.schema.json; docs/json-schema.md).

These dicts are the stable interface: ``sizebot analyze/diff --format json`` write them, the
report document embeds them (builds[].base.binary, builds[].diff), and the markdown templates
render from them.
"""

from __future__ import annotations

import math
from typing import Any

from sizebot.documents.analyze import BinaryReport, BuildInfo, Module
from sizebot.documents.diff import BinaryDiff, SizeDelta
from sizebot.render import renderer
from sizebot.render.common import dump_json

ANALYZE_SCHEMA = "sizebot/analyze@1"
DIFF_SCHEMA = "sizebot/diff@1"


def _module(m: Module | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {"path": m.path, "version": m.version, "sum": m.sum, "replace": _module(m.replace)}


def build_info_to_json(info: BuildInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {
        "go_version": info.go_version,
        "path": info.path,
        "main": _module(info.main),
        "deps": [_module(d) for d in info.deps],
        "settings": dict(info.settings),
    }


def report_to_json(report: BinaryReport, *, top: int | None = None) -> dict[str, Any]:
    """The analyze document. ``top`` keeps only the N largest functions (None: all of them);
    sections, packages, modules and unattributed rows are always complete, so they sum to file_size."""
    functions = report.functions if top is None else report.functions[:top]
    return {
        "schema": ANALYZE_SCHEMA,
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
            {"name": p.name, "module": p.module, "size": p.size, "code": p.code, "meta": p.meta, "data": p.data}
            for p in report.packages
        ],
        "modules": [
            {"path": m.path, "version": m.version, "size": m.size, "replace": m.replace} for m in report.modules
        ],
        "unattributed": [{"section": u.section, "size": u.size} for u in report.unattributed],
        "functions": [{"name": f.name, "package": f.package, "code": f.code, "meta": f.meta} for f in functions],
        "build_info": build_info_to_json(report.build_info),
    }


def _delta(d: SizeDelta) -> dict[str, Any]:
    row: dict[str, Any] = {"name": d.name, "old_size": d.old_size, "new_size": d.new_size, "delta": d.delta}
    package = getattr(d, "package", None)
    if package is not None:
        row["package"] = package
    return row


def diff_to_json(diff: BinaryDiff, *, top: int | None = None, include_reports: bool = True) -> dict[str, Any]:
    """The diff document. ``top`` trims the function rows (and those of the embedded reports);
    ``include_reports`` adds the two analyze documents as ``old`` and ``new``."""
    functions = diff.functions if top is None else diff.functions[:top]
    doc: dict[str, Any] = {
        "schema": DIFF_SCHEMA,
        "old_size": diff.old.file_size,
        "new_size": diff.new.file_size,
        "delta": diff.delta,
        "go_version": {"old": diff.old.go_version, "new": diff.new.go_version},
        "sections": [_delta(d) for d in diff.sections],
        "packages": [_delta(d) for d in diff.packages],
        "modules": [_delta(d) for d in diff.modules],
        "functions": [_delta(d) for d in functions],
        "unattributed": [_delta(d) for d in diff.unattributed],
        "module_changes": [
            {"path": c.path, "old_version": c.old_version, "new_version": c.new_version} for c in diff.module_changes
        ],
        "added_packages": list(diff.added_packages),
        "removed_packages": list(diff.removed_packages),
        "added_modules": list(diff.added_modules),
        "removed_modules": list(diff.removed_modules),
    }
    if include_reports:
        doc["old"] = report_to_json(diff.old, top=top)
        doc["new"] = report_to_json(diff.new, top=top)
    return doc


@renderer(BinaryReport, "json")
def render_report_json(report: BinaryReport, *, top: int | None = None, **_: Any) -> str:
    return dump_json(report_to_json(report, top=top))


@renderer(BinaryDiff, "json")
def render_diff_json(diff: BinaryDiff, *, top: int | None = None, include_reports: bool = True, **_: Any) -> str:
    return dump_json(diff_to_json(diff, top=top, include_reports=include_reports))
