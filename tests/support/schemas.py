"""The JSON schemas of sizebot's documents, as the tests validate against them."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema
from referencing import Registry, Resource

from tests.support.paths import SCHEMAS


@cache
def _load(name: str) -> str:
    return (SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """``load_schema("report")`` -> sizebot/schemas/report.schema.json, a fresh copy each call."""
    return json.loads(_load(name))


@cache
def _registry() -> Registry:
    schemas = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(SCHEMAS.glob("*.schema.json"))]
    return Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)


def validate_document(doc: dict[str, Any], name: str | None = None) -> None:
    """Validate a document against its schema: ``name``, else the one its ``schema`` field names
    ("sizebot/diff@1" -> diff.schema.json); references between schemas resolved."""
    schema = load_schema(name or doc["schema"].removeprefix("sizebot/").split("@")[0])
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema, registry=_registry()).validate(doc)
