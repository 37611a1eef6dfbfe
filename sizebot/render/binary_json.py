"""BinaryReport and BinaryDiff as JSON: ``sizebot/analyze@1`` and ``sizebot/diff@1``
(the documents' own ``to_json``; sizebot/schemas/analyze.schema.json, diff.schema.json)."""

from __future__ import annotations

from typing import Any

from sizebot.documents.analyze import BinaryReport
from sizebot.documents.diff import BinaryDiff
from sizebot.render import renderer
from sizebot.render.common import dump_json


@renderer(BinaryReport, "json")
def render_report_json(report: BinaryReport, *, top: int | None = None, **_: Any) -> str:
    return dump_json(report.to_json(top=top))


@renderer(BinaryDiff, "json")
def render_diff_json(diff: BinaryDiff, *, top: int | None = None, include_reports: bool = True, **_: Any) -> str:
    return dump_json(diff.to_json(top=top, include_reports=include_reports))
