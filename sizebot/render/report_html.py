"""The report document as a page: the verdict and budgets on top, one treemap per build."""

from __future__ import annotations

from typing import Any

from sizebot.compare.model import Report
from sizebot.render import renderer
from sizebot.render.report_json import report_to_json
from sizebot.render.treemap import report_page


@renderer(Report, "html")
def render_report_html(report: Report, **_: Any) -> str:
    return report_page(report_to_json(report))
