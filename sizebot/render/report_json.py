"""The report document as JSON (``sizebot/report@1``; sizebot/schemas/report.schema.json).

The document is already a dict (compare/report.py builds it, the markdown and text renderers read
it): rendering is serializing, with the same layout as every other sizebot JSON output.
"""

from __future__ import annotations

from typing import Any

from sizebot.compare.model import Report
from sizebot.render import renderer
from sizebot.render.common import dump_json


def report_to_json(report: Report | dict[str, Any]) -> dict[str, Any]:
    return dict(report.doc if isinstance(report, Report) else report)


@renderer(Report, "json")
def render_report_json(report: Report, **_: Any) -> str:
    return dump_json(report_to_json(report))
