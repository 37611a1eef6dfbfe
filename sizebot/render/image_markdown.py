"""ImageReport as GitHub markdown, rendered from its JSON document (templates/image.md.j2),
so measurement files downloaded by ``sizebot action`` render without re-measuring."""

from __future__ import annotations

import math
from typing import Any

from sizebot.documents.image import ImageReport
from sizebot.render import renderer
from sizebot.render.common import render_template


def ratio(value: float | None) -> str:
    """A ratio as dive shows it (4 decimals, percent); "n/a" for null/NaN/inf (user size 0)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{100 * value:.4f}%"


def render_image_markdown(doc: dict[str, Any], *, top: int = 10) -> str:
    """Markdown of one image from its JSON document (a dict, as ImageReport.to_json returns)."""
    return render_template(
        "image.md.j2", doc=doc, top=top, ratio=ratio,
        dup_wasted=sum(g["wasted"] for g in doc.get("duplicates", [])),
    )


@renderer(ImageReport, "markdown")
def render_markdown(report: ImageReport, *, top: int = 10, **_: Any) -> str:
    return render_image_markdown(report.to_json(), top=top)
