"""ImageDiff as JSON: ``sizebot/image-diff@1`` (the document's own ``to_json``;
sizebot/schemas/image-diff.schema.json)."""

from __future__ import annotations

from typing import Any

from sizebot.documents.image_diff import ImageDiff
from sizebot.render import renderer
from sizebot.render.common import dump_json


@renderer(ImageDiff, "json")
def render_json(diff: ImageDiff, **_: Any) -> str:
    return dump_json(diff.to_json())
