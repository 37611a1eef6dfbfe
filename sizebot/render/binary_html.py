"""BinaryReport and BinaryDiff as a treemap page (sizebot/render/treemap.py), built from their JSON
documents with every function (the page folds the small ones itself)."""

from __future__ import annotations

from typing import Any

from sizebot.documents.analyze import BinaryReport
from sizebot.documents.diff import BinaryDiff
from sizebot.render import renderer
from sizebot.render.treemap import analyze_page, diff_page


@renderer(BinaryReport, "html")
def render_report_html(report: BinaryReport, **_: Any) -> str:
    return analyze_page(report.to_json(top=None))


@renderer(BinaryDiff, "html")
def render_diff_html(diff: BinaryDiff, **_: Any) -> str:
    return diff_page(diff.to_json(top=None, include_reports=True))
