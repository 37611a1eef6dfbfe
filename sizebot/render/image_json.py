"""ImageReport as JSON: ``sizebot/image@1`` (the document's own ``to_json``; sizebot/schemas/image.schema.json)."""

from __future__ import annotations

from typing import Any

from sizebot.documents.image import ImageReport
from sizebot.render import renderer
from sizebot.render.common import dump_json


@renderer(ImageReport, "json")
def render_json(report: ImageReport, *, files: bool = False, **_: Any) -> str:
    return dump_json(report.to_json(files=files))
