"""ImageDiff -> its JSON document (schema ``sizebot/image-diff@1``, sizebot/schemas/image-diff.schema.json).

``image_diff_to_json`` is what ``render(diff, "json")`` writes and what the markdown template renders from.
"""

from __future__ import annotations

from typing import Any

from sizebot.documents.image_diff import Figure, FileChangeSet, ImageDiff, LayerChange, finite
from sizebot.render import renderer
from sizebot.render.common import dump_json

SCHEMA = "sizebot/image-diff@1"


def _int_figure(f: Figure) -> dict[str, Any]:
    return {"old": int(f.old), "new": int(f.new), "delta": int(f.new) - int(f.old)}


def _float_figure(f: Figure) -> dict[str, Any]:
    old, new = finite(f.old), finite(f.new)
    return {"old": old, "new": new, "delta": None if old is None or new is None else new - old}


def _layer(c: LayerChange) -> dict[str, Any]:
    return {
        "old_index": c.old_index, "new_index": c.new_index, "match": c.match, "command": c.command,
        "old_size": c.old_size, "new_size": c.new_size, "size_delta": c.size_delta,
        "old_compressed_size": c.old_compressed_size, "new_compressed_size": c.new_compressed_size,
        "compressed_delta": c.compressed_delta,
    }


def _changes(s: FileChangeSet) -> dict[str, Any]:
    return {
        "count": s.count,
        "bytes": s.bytes,
        "top": [{"path": c.path, "old_size": c.old_size, "new_size": c.new_size, "delta": c.delta, "kind": c.kind}
                for c in s.top],
    }


def image_diff_to_json(diff: ImageDiff) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "old_source": diff.old_source,
        "new_source": diff.new_source,
        "top": diff.top,
        "size": _int_figure(diff.size),
        "compressed_size": _int_figure(diff.compressed_size),
        "efficiency": _float_figure(diff.efficiency),
        "wasted_bytes": _int_figure(diff.wasted_bytes),
        "user_wasted_percent": _float_figure(diff.user_wasted_percent),
        "corrected_wasted_bytes": _int_figure(diff.corrected_wasted_bytes),
        "file_count": _int_figure(diff.file_count),
        "layers": [_layer(c) for c in diff.layers],
        "files": {
            "added": _changes(diff.added),
            "removed": _changes(diff.removed),
            "grown": _changes(diff.grown),
            "shrunk": _changes(diff.shrunk),
            "modified_same_size": diff.modified_same_size,
        },
    }


@renderer(ImageDiff, "json")
def render_json(diff: ImageDiff, **_: Any) -> str:
    return dump_json(image_diff_to_json(diff))
