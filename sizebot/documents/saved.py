"""A saved document, read back by the ``schema`` it names: the record that renders it.

analyze, diff, image, image-diff, report and baseline documents come back through their records' ``from_json``
(a measurement file is a report plus the pull request it measured). Every fault is one DocumentError
naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sizebot.documents.jsonfile import read_json_file
from sizebot.errors import DocumentError, SizebotError

KINDS = ("analyze", "diff", "image", "image-diff", "report", "measurement", "baseline")


def load_saved(path: str | Path, *, untrusted_below: str | Path | None = None) -> tuple[str, Any]:
    """(kind, record) of the document in ``path``; the record is what ``render`` takes.
    ``untrusted_below``: no symbolic link followed below that directory (sizebot.files)."""
    where = str(path)
    obj = read_json_file(path, untrusted_below=untrusted_below)
    if not isinstance(obj, dict):
        raise DocumentError("not a sizebot document (a JSON object with a \"schema\")", path=where)
    schema = obj.get("schema")
    try:
        return _read(obj, schema, where)
    except SizebotError as exc:
        if exc.path is None and not str(exc).startswith(where):
            raise DocumentError(str(exc), path=where) from None
        raise


def _read(obj: dict[str, Any], schema: Any, where: str) -> tuple[str, Any]:
    if schema == "sizebot/analyze@1":
        from sizebot.documents.analyze import BinaryReport
        return "analyze", BinaryReport.from_json(obj, "analyze")
    if schema == "sizebot/diff@1":
        from sizebot.documents.diff import BinaryDiff
        if "old" not in obj or "new" not in obj:
            raise DocumentError("a diff document without its reports (old, new) cannot be rendered again",
                                path=where)
        return "diff", BinaryDiff.from_json(obj, "diff")
    if schema == "sizebot/image@1":
        from sizebot.documents.image import ImageReport
        return "image", ImageReport.from_json(obj, "image")
    if schema == "sizebot/image-diff@1":
        from sizebot.documents.image_diff import ImageDiff
        return "image-diff", ImageDiff.from_json(obj, "image-diff")
    if schema == "sizebot/report@1":
        kind = "measurement" if "pull_request" in obj or "comment_key" in obj else "report"
        return kind, _report(obj, kind)
    if schema == "sizebot/baseline@2":
        from sizebot.documents.baseline import Baseline
        return "baseline", Baseline.from_json(obj, "baseline")
    if isinstance(schema, str) and schema.startswith("sizebot/baseline@"):
        by = "an older" if schema == "sizebot/baseline@1" else "another"
        raise DocumentError(f"a baseline of schema {json.dumps(schema)[:60]}, measured by {by} sizebot: "
                            "measure again (this sizebot reads sizebot/baseline@2)", path=where)
    shown = json.dumps(schema)[:60] if isinstance(schema, str) else "missing" if schema is None else "not a string"
    raise DocumentError(f"schema {shown} is not one of sizebot's documents ({', '.join(KINDS)})", path=where)


def _report(obj: dict[str, Any], kind: str) -> Any:
    from sizebot.documents.report import Report

    doc = dict(obj)
    if kind == "measurement":  # a report plus the pull request it measured: rendered as the report
        doc.pop("pull_request", None)
        doc.pop("comment_key", None)
    return Report.from_json(doc, "report")


def load_baseline(path: str | Path, *, untrusted_below: str | Path | None = None) -> Any:
    """The Baseline in ``path`` (sizebot measure's output); DocumentError naming the file otherwise."""
    kind, record = load_saved(path, untrusted_below=untrusted_below)
    if kind != "baseline":
        raise DocumentError(f"a {kind} document, not a baseline (sizebot measure writes those)", path=str(path))
    return record
