"""ImageReport <-> its JSON document (schema ``sizebot/image@1``, sizebot/schemas/image.schema.json).

``image_to_json`` is what ``render(report, "json")`` writes, what the markdown template renders
from, and what measurement files carry; ``image_from_json`` reads it back (the full file list
only when the document was written with ``files=True``).
"""

from __future__ import annotations

import math
from typing import Any

from sizebot.documents.image import DuplicateGroup, FileEntry, ImageReport, Inefficiency, LayerReport
from sizebot.render import renderer
from sizebot.render.common import dump_json

SCHEMA = "sizebot/image@1"


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _file(f: FileEntry) -> dict[str, Any]:
    return {"path": f.path, "size": f.size, "digest": f.digest, "layer": f.layer, "kind": f.kind,
            "link": f.link, "mode": f.mode}


def image_to_json(report: ImageReport, *, files: bool = False) -> dict[str, Any]:
    """The JSON document of a report. ``files=True`` adds the whole final filesystem."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "source": report.source,
        "platform": report.platform,
        "format": report.format,
        "config_digest": report.config_digest,
        # dive's figures
        "size": report.size,
        "user_size": report.user_size,
        "efficiency": report.efficiency,
        "wasted_bytes": report.wasted_bytes,
        "user_wasted_percent": _finite(report.user_wasted_percent),
        # sizebot's figures
        "compressed_size": report.compressed_size,
        "corrected_wasted_bytes": report.corrected_wasted_bytes,
        "file_count": report.file_count,
        "total_file_size": report.total_file_size,
        "layers": [
            {
                "index": layer.index,
                "digest": layer.digest,
                "diff_id": layer.diff_id,
                "command": layer.command,
                "size": layer.size,
                "compressed_size": layer.compressed_size,
                "file_count": layer.file_count,
                "compression": layer.compression,
                "media_type": layer.media_type,
                "whiteout_count": layer.whiteout_count,
                "opaque_count": layer.opaque_count,
                "linked": layer.linked,
            }
            for layer in report.layers
        ],
        "inefficiencies": [{"path": i.path, "count": i.count, "size": i.size} for i in report.inefficiencies],
        "duplicates": [
            {"digest": g.digest, "size": g.size, "paths": list(g.paths), "wasted": g.wasted} for g in report.duplicates
        ],
        "largest_files": [_file(f) for f in report.largest_files],
    }
    if files:
        doc["files"] = [_file(f) for f in report.files]
    return doc


def image_from_json(doc: dict[str, Any]) -> ImageReport:
    """Inverse of image_to_json (user_wasted_percent null -> NaN; files () when absent)."""

    def file(x: dict[str, Any]) -> FileEntry:
        return FileEntry(x["path"], x["size"], x["digest"], x["layer"], x.get("kind", "file"), x.get("link", ""), x.get("mode", 0))

    uwp = doc.get("user_wasted_percent")
    return ImageReport(
        source=doc["source"],
        platform=doc.get("platform", ""),
        size=doc["size"],
        user_size=doc["user_size"],
        efficiency=doc["efficiency"],
        wasted_bytes=doc["wasted_bytes"],
        user_wasted_percent=math.nan if uwp is None else uwp,
        inefficiencies=tuple(Inefficiency(i["path"], i["count"], i["size"]) for i in doc["inefficiencies"]),
        layers=tuple(
            LayerReport(
                index=x["index"], digest=x["digest"], diff_id=x.get("diff_id", ""), command=x["command"],
                size=x["size"], compressed_size=x["compressed_size"], file_count=x.get("file_count", 0),
                compression=x.get("compression", "none"), media_type=x.get("media_type", ""),
                whiteout_count=x.get("whiteout_count", 0), opaque_count=x.get("opaque_count", 0),
                linked=x.get("linked", False),
            )
            for x in doc["layers"]
        ),
        compressed_size=doc["compressed_size"],
        corrected_wasted_bytes=doc["corrected_wasted_bytes"],
        duplicates=tuple(DuplicateGroup(g["digest"], g["size"], tuple(g["paths"]), g["wasted"]) for g in doc["duplicates"]),
        largest_files=tuple(file(x) for x in doc["largest_files"]),
        files=tuple(file(x) for x in doc.get("files", ())),
        format=doc.get("format", ""),
        config_digest=doc.get("config_digest", ""),
        file_count=doc.get("file_count", 0),
        total_file_size=doc.get("total_file_size", 0),
    )


@renderer(ImageReport, "json")
def render_json(report: ImageReport, *, files: bool = False, **_: Any) -> str:
    return dump_json(image_to_json(report, files=files))
