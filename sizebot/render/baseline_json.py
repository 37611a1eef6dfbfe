"""The baseline document as JSON (``sizebot/baseline@2``; sizebot/schemas/baseline.schema.json)."""

from __future__ import annotations

from typing import Any

from sizebot.documents.baseline import Baseline
from sizebot.render import renderer
from sizebot.render.common import dump_json


@renderer(Baseline, "json")
def render_baseline_json(baseline: Baseline, **_: Any) -> str:
    return dump_json(baseline.to_json())
