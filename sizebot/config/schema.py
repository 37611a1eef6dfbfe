"""The config schema (sizebot/schemas/config.schema.json): the single list of keys, types and ranges.

The validator walks it; the names below are read from it, never repeated by hand.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "config.schema.json"


@cache
def config_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def definition(name: str) -> dict[str, Any]:
    """A ``$defs`` entry by name."""
    return config_schema()["$defs"][name]


def keys_of(name: str | None) -> tuple[str, ...]:
    """The keys a table accepts, in the schema's order; ``None`` = the top level."""
    schema = config_schema() if name is None else definition(name)
    return tuple(schema["properties"])


def default_of(name: str, key: str) -> Any:
    """The schema's ``default`` of a key of a table definition."""
    return definition(name)["properties"][key]["default"]


def known_platforms() -> tuple[str, ...]:
    """GOOS/GOARCH pairs (``go tool dist list``), kept static so that checking needs no toolchain."""
    return tuple(definition("platform")["enum"])


def max_size() -> int:
    """The largest size a budget may name, in bytes."""
    return int(next(b["maximum"] for b in definition("size")["anyOf"] if b.get("type") == "integer"))
