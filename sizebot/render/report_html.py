"""The report document as a page: the verdict and budgets on top, one treemap per build."""

from __future__ import annotations

from typing import Any

from sizebot.documents.report import Report
from sizebot.render import renderer
from sizebot.render.treemap import report_page


@renderer(Report, "html")
def render_report_html(report: Report, **_: Any) -> str:
    return report_page(report.to_json())
