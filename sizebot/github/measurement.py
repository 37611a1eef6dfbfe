"""Measurement files of the fork-safe flow: written by ``mode: measure`` (untrusted PR code ran
there), read by ``mode: comment`` with a write token, so they are validated strictly: the file
itself (a regular file, bounded size), its JSON (no NaN/Infinity, bounded nesting), every value
(finite numbers in range, bounded strings), the schema, and the SHAs it claims."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import referencing
from referencing.jsonschema import DRAFT202012

from sizebot.documents.jsonfile import check_values, parse_json, read_regular_file
from sizebot.documents.measurement import SCHEMA, Measurement
from sizebot.errors import DocumentError, MeasurementFileError

MAX_BYTES = 5 * 1024 * 1024
_SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"

__all__ = ["MAX_BYTES", "SCHEMA", "check_against_pull", "load_measurement", "load_measurement_record",
           "make_measurement", "measurement_validator", "write_measurement"]


@functools.cache
def measurement_validator() -> jsonschema.Draft202012Validator:
    """measurement.schema.json, whose report parts are report.schema.json's own definitions."""
    schema = json.loads((_SCHEMAS / "measurement.schema.json").read_text(encoding="utf-8"))
    registry: referencing.Registry[Any] = referencing.Registry()
    for name in ("report", "image", "image-diff"):
        doc = json.loads((_SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
        if name != "report":  # a report may trim its image documents: their keys optional, their types kept
            doc = _without_required(doc)
        registry = registry.with_resource(doc["$id"], referencing.Resource.from_contents(
            doc, default_specification=DRAFT202012))
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _without_required(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _without_required(v) for k, v in schema.items() if k != "required"}
    if isinstance(schema, list):
        return [_without_required(v) for v in schema]
    return schema


def make_measurement(doc: dict[str, Any], *, number: int, base_sha: str, head_sha: str,
                     comment_key: str) -> dict[str, Any]:
    out = dict(doc)
    out["pull_request"] = {"number": number, "base_sha": base_sha, "head_sha": head_sha}
    out["comment_key"] = comment_key
    return out


def write_measurement(path: str | Path, measurement: dict[str, Any]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(measurement, indent=1, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
    return path


def load_measurement(path: str | Path, *, max_bytes: int = MAX_BYTES,
                     untrusted_below: str | Path | None = None) -> dict[str, Any]:
    """The validated measurement document as it is in the file; MeasurementFileError (one line
    naming the file and the fault) otherwise. ``untrusted_below``: the directory the artifacts were
    downloaded to, below which no symbolic link is followed (sizebot.files)."""
    return _load(path, max_bytes, untrusted_below)[0]


def load_measurement_record(path: str | Path, *, max_bytes: int = MAX_BYTES,
                            untrusted_below: str | Path | None = None) -> Measurement:
    """The typed record of a validated measurement file (its report read by Report.from_json)."""
    return _load(path, max_bytes, untrusted_below)[1]


def _load(path: str | Path, max_bytes: int, untrusted_below: str | Path | None) -> tuple[dict[str, Any], Measurement]:
    where = str(path)
    raw = read_regular_file(path, max_bytes=max_bytes, error=MeasurementFileError, untrusted_below=untrusted_below)
    data = parse_json(raw, where=where, error=MeasurementFileError)
    if not isinstance(data, dict):
        raise MeasurementFileError("not a JSON object", path=where)
    if data.get("schema") != SCHEMA:
        shown = data.get("schema") if isinstance(data.get("schema"), str) else type(data.get("schema")).__name__
        raise MeasurementFileError(f"schema is {str(shown)[:40]!r}, expected {SCHEMA!r}", path=where)
    # values first (bounded, finite), then the schema, then the typed records: no check sees what
    # an earlier one refused
    check_values(data, where=where, error=MeasurementFileError)
    error = jsonschema.exceptions.best_match(measurement_validator().iter_errors(data))
    if error is not None:
        loc = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise MeasurementFileError(f"{loc}: {' '.join(error.message.split())[:160]}", path=where)
    for side in ("base", "head"):  # the report must be of the commits the file claims
        if data[side].get("sha") != data["pull_request"][f"{side}_sha"]:
            raise MeasurementFileError(f"{side}.sha differs from pull_request.{side}_sha", path=where)
    try:
        record = Measurement.from_json(data)
    except DocumentError as exc:
        raise MeasurementFileError(str(exc), path=where) from None
    return data, record


def check_against_pull(measurement: dict[str, Any], pull: dict[str, Any], *, path: str) -> str | None:
    """None when the file measured the PR's current base and head; else the reason to skip it
    (a stale head: the PR moved on since the measuring run)."""
    pr = measurement["pull_request"]
    if pull.get("number") != pr["number"]:
        return f"{path}: measured PR #{pr['number']}, not #{pull.get('number')}"
    head = (pull.get("head") or {}).get("sha")
    base = (pull.get("base") or {}).get("sha")
    if head != pr["head_sha"]:
        return (f"{path}: measured head {pr['head_sha'][:12]}, PR #{pr['number']} head is now {str(head)[:12]}: "
                "stale, skipped")
    if base != pr["base_sha"]:
        return (f"{path}: measured base {pr['base_sha'][:12]}, PR #{pr['number']} base is now {str(base)[:12]}: "
                "stale, skipped")
    return None
