"""The report document as JSON (``sizebot/report@1``; sizebot/schemas/report.schema.json):
its own ``to_json``, with the layout of every other sizebot JSON output."""

from __future__ import annotations

from typing import Any

from sizebot.documents.report import Report
from sizebot.render import renderer
from sizebot.render.common import dump_json


@renderer(Report, "json")
def render_report_json(report: Report, **_: Any) -> str:
    return dump_json(report.to_json())
