"""The JSON schemas of sizebot's documents, as the tests validate against them."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from tests.support.paths import SCHEMAS


@cache
def _load(name: str) -> str:
    return (SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """``load_schema("report")`` -> sizebot/schemas/report.schema.json, a fresh copy each call."""
    return json.loads(_load(name))
