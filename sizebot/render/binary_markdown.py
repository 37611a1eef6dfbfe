"""BinaryReport and BinaryDiff as GitHub markdown, rendered from their JSON documents
(templates/binary.md.j2, binary_diff.md.j2) so a stored document renders without re-measuring."""

from __future__ import annotations

import re
from typing import Any

from sizebot.documents.analyze import BinaryReport
from sizebot.documents.diff import BinaryDiff
from sizebot.render import renderer
from sizebot.render.common import estimated_legend, render_template

ALL = 10**9  # "no limit" for the templates' slices and comparisons


def render_analyze_markdown(doc: dict[str, Any], *, top: int | None = 20) -> str:
    """Markdown of one binary from its analyze document (a dict, as BinaryReport.to_json returns)."""
    limit = ALL if top is None else top
    whole = doc["file_size"]

    def share(part: int) -> str:
        return f"{100.0 * part / whole:.2f}%" if whole else "-"

    return render_template(
        "binary.md.j2", doc=doc, top=limit, share=share,
        unattributed=sum(u["size"] for u in doc["unattributed"]),
        rest_packages=sum(p["size"] for p in doc["packages"][limit:]),
        estimated=sum(p.get("data_estimated", 0) for p in doc["packages"]),
    )


def _changed(rows: list[dict[str, Any]], top: int) -> dict[str, Any]:
    changed = [r for r in rows if r["delta"]]
    old_estimated = sum(r.get("old_estimated", 0) for r in changed)
    new_estimated = sum(r.get("new_estimated", 0) for r in changed)
    return {"rows": changed[:top], "more": max(0, len(changed) - top),
            "rest": sum(r["delta"] for r in changed[top:]),
            "rest_estimated": any(r.get("old_estimated") or r.get("new_estimated") for r in changed[top:]),
            "estimated": estimated_legend(old_estimated, new_estimated, ("old", "new"))}


def render_diff_markdown(doc: dict[str, Any], *, old_path: str, new_path: str, top: int | None = 20) -> str:
    """Markdown of a diff from its diff document (the old/new reports are not needed)."""
    limit = ALL if top is None else top
    views = {key: _changed(doc[key], ALL if key in ("sections", "unattributed") else limit)
             for key in ("modules", "packages", "sections", "unattributed", "functions")}
    functions, count = views["functions"], doc.get("functions_changed")
    if isinstance(count, int) and count >= len(functions["rows"]) + functions["more"]:
        # the document lists the top N functions: the "… more" row counts every other change
        functions["more"] = count - len(functions["rows"])
        functions["rest"] = doc["functions_delta"] - sum(r["delta"] for r in functions["rows"])
    lists = [("Added modules", doc["added_modules"]), ("Removed modules", doc["removed_modules"]),
             ("Added packages", doc["added_packages"]), ("Removed packages", doc["removed_packages"])]
    unchanged = (not any(views[k]["rows"] or views[k]["more"] for k in views) and not doc["module_changes"]
                 and not any(names for _, names in lists) and doc["go_version"]["old"] == doc["go_version"]["new"])
    text = render_template("binary_diff.md.j2", doc=doc, old_path=old_path, new_path=new_path, top=limit,
                           lists=lists, unchanged=unchanged, **views)
    return re.sub(r"\n{3,}", "\n\n", text)  # optional blocks leave runs of blank lines


@renderer(BinaryReport, "markdown")
def render_report_markdown(report: BinaryReport, *, top: int | None = 20, **_: Any) -> str:
    return render_analyze_markdown(report.to_json(), top=top)


@renderer(BinaryDiff, "markdown")
def render_diff_markdown_result(diff: BinaryDiff, *, top: int | None = 20, **_: Any) -> str:
    return render_diff_markdown(diff.to_json(include_reports=False), old_path=diff.old.path,
                                new_path=diff.new.path, top=top)
