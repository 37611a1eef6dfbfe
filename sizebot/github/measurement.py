"""Measurement files of the fork-safe flow: written by ``mode: measure`` (untrusted PR code ran
there), read by ``mode: comment`` with a write token, so they are validated strictly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from sizebot.errors import MeasurementFileError

MAX_BYTES = 5 * 1024 * 1024
SCHEMA = "sizebot/report@1"


def _schema() -> dict[str, Any]:
    return json.loads((Path(__file__).resolve().parent.parent / "schemas" / "measurement.schema.json").read_text())


def make_measurement(doc: dict[str, Any], *, number: int, base_sha: str, head_sha: str,
                     comment_key: str) -> dict[str, Any]:
    out = dict(doc)
    out["pull_request"] = {"number": number, "base_sha": base_sha, "head_sha": head_sha}
    out["comment_key"] = comment_key
    return out


def write_measurement(path: str | Path, measurement: dict[str, Any]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(measurement, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load_measurement(path: str | Path, *, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """Size limit, JSON, schema (no unknown top-level keys), schema string; one-line error naming the file."""
    path = Path(path)
    where = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise MeasurementFileError(f"{size} bytes exceeds the {max_bytes}-byte limit", path=where)
        with path.open("rb") as fh:
            raw = fh.read(max_bytes + 1)
        data = json.loads(raw.decode("utf-8"))
    except MeasurementFileError:
        raise
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise MeasurementFileError(f"not a readable JSON file ({exc.__class__.__name__}: {str(exc)[:80]})",
                                   path=where) from None
    if not isinstance(data, dict):
        raise MeasurementFileError("not a JSON object", path=where)
    if data.get("schema") != SCHEMA:
        raise MeasurementFileError(f"schema is {str(data.get('schema'))[:40]!r}, expected {SCHEMA!r}", path=where)
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(_schema()).iter_errors(data))
    if error is not None:
        loc = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise MeasurementFileError(f"{loc}: {' '.join(error.message.split())[:160]}", path=where)
    for side in ("base", "head"):  # the report must be of the commits the file claims
        if data[side].get("sha") != data["pull_request"][f"{side}_sha"]:
            raise MeasurementFileError(f"{side}.sha differs from pull_request.{side}_sha", path=where)
    return data


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
