"""ImageDiff as GitHub markdown, rendered from its JSON document (templates/image_diff.md.j2),
so a diff stored as JSON renders without re-reading the images."""

from __future__ import annotations

from typing import Any

from sizebot.documents.image_diff import ImageDiff
from sizebot.render import renderer
from sizebot.render.common import render_template
from sizebot.render.image_markdown import ratio


def ratio_delta(value: float | None) -> str:
    """A change of a ratio in percentage points; "n/a" when unknown."""
    return "n/a" if value is None else f"{100 * value:+.4f} pp"


def render_image_diff_markdown(doc: dict[str, Any], *, top: int = 10) -> str:
    return render_template("image_diff.md.j2", doc=doc, top=top, ratio=ratio, ratio_delta=ratio_delta)


@renderer(ImageDiff, "markdown")
def render_markdown(diff: ImageDiff, *, top: int = 10, **_: Any) -> str:
    return render_image_diff_markdown(diff.to_json(), top=top)
