"""The image diff document (``sizebot/image-diff@1``): what changed between two images."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sizebot.documents.fields import Fields, integer, number, one_of, size
from sizebot.errors import DocumentError

SCHEMA = "sizebot/image-diff@1"

MATCH_DIFF_ID = "diff_id"
MATCH_COMMAND = "command"


@dataclass(frozen=True)
class LayerChange:
    """One layer of the pairing; ``old_index`` or ``new_index`` is None for a removed/added layer."""

    old_index: int | None
    new_index: int | None
    match: str  # "diff_id", "command", "added" or "removed"
    command: str  # the head's command (the base's for a removed layer)
    old_size: int
    new_size: int
    old_compressed_size: int
    new_compressed_size: int

    @property
    def size_delta(self) -> int:
        return self.new_size - self.old_size

    @property
    def compressed_delta(self) -> int:
        return self.new_compressed_size - self.old_compressed_size


@dataclass(frozen=True)
class FileChange:
    path: str
    old_size: int  # 0 when added
    new_size: int  # 0 when removed
    kind: str  # the head's kind (the base's when removed)

    @property
    def delta(self) -> int:
        return self.new_size - self.old_size


@dataclass(frozen=True)
class FileChangeSet:
    """One list (added, removed, grown or shrunk): the top N rows plus the full count and byte sum."""

    top: tuple[FileChange, ...]
    count: int
    bytes: int  # sum of deltas over all of them (signed)


@dataclass(frozen=True)
class Figure:
    """A figure before and after (floats may be NaN/inf for dive's user-wasted ratio)."""

    old: float
    new: float

    @property
    def delta(self) -> float:
        return self.new - self.old


@dataclass(frozen=True)
class ImageDiff:
    old_source: str
    new_source: str
    size: Figure  # dive's uncompressed total (sum of layer sizes)
    compressed_size: Figure
    efficiency: Figure
    wasted_bytes: Figure  # dive's
    user_wasted_percent: Figure  # dive's ratio
    corrected_wasted_bytes: Figure  # sizebot's
    file_count: Figure
    layers: tuple[LayerChange, ...]  # head order (matched and added), then removed layers in base order
    added: FileChangeSet
    removed: FileChangeSet
    grown: FileChangeSet
    shrunk: FileChangeSet
    modified_same_size: int  # files whose content digest changed but not their size
    top: int

    @property
    def layers_added(self) -> tuple[LayerChange, ...]:
        return tuple(c for c in self.layers if c.old_index is None)

    @property
    def layers_removed(self) -> tuple[LayerChange, ...]:
        return tuple(c for c in self.layers if c.new_index is None)

    def to_json(self) -> dict[str, Any]:
        """The image diff document."""
        return {
            "schema": SCHEMA,
            "old_source": self.old_source,
            "new_source": self.new_source,
            "top": self.top,
            "size": _int_figure(self.size),
            "compressed_size": _int_figure(self.compressed_size),
            "efficiency": _float_figure(self.efficiency),
            "wasted_bytes": _int_figure(self.wasted_bytes),
            "user_wasted_percent": _float_figure(self.user_wasted_percent),
            "corrected_wasted_bytes": _int_figure(self.corrected_wasted_bytes),
            "file_count": _int_figure(self.file_count),
            "layers": [_layer_to_json(c) for c in self.layers],
            "files": {
                "added": _changes_to_json(self.added),
                "removed": _changes_to_json(self.removed),
                "grown": _changes_to_json(self.grown),
                "shrunk": _changes_to_json(self.shrunk),
                "modified_same_size": self.modified_same_size,
            },
        }

    @classmethod
    def from_json(cls, obj: Any, where: str = "image-diff") -> ImageDiff:
        """The record of an image diff document; DocumentError naming the place of the first bad value."""
        f = Fields(obj, where, ("schema", "old_source", "new_source", "top", "size", "compressed_size", "efficiency",
                                "wasted_bytes", "user_wasted_percent", "corrected_wasted_bytes", "file_count",
                                "layers", "files"))
        if f.raw("schema") != SCHEMA:
            raise DocumentError(f"{f.at('schema')}: expected {SCHEMA!r}")
        files = Fields(f.raw("files"), f.at("files"), ("added", "removed", "grown", "shrunk", "modified_same_size"))
        return cls(
            old_source=f.text("old_source"), new_source=f.text("new_source"),
            size=f.get("size", _int_figure_from_json), compressed_size=f.get("compressed_size", _int_figure_from_json),
            efficiency=f.get("efficiency", _float_figure_from_json),
            wasted_bytes=f.get("wasted_bytes", _int_figure_from_json),
            user_wasted_percent=f.get("user_wasted_percent", _float_figure_from_json),
            corrected_wasted_bytes=f.get("corrected_wasted_bytes", _int_figure_from_json),
            file_count=f.get("file_count", _int_figure_from_json), layers=f.seq("layers", _layer_from_json),
            added=files.get("added", _changes_from_json), removed=files.get("removed", _changes_from_json),
            grown=files.get("grown", _changes_from_json), shrunk=files.get("shrunk", _changes_from_json),
            modified_same_size=files.size("modified_same_size"), top=f.size("top"))


def finite(x: float) -> float | None:
    """JSON has no NaN/inf: None for them."""
    return x if math.isfinite(x) else None


# ---- JSON (sizebot/schemas/image-diff.schema.json) ------------------------------------------------

_MATCHES = (MATCH_DIFF_ID, MATCH_COMMAND, "added", "removed")
_KINDS = ("file", "symlink", "hardlink", "other", "dir")


def _int_figure(f: Figure) -> dict[str, Any]:
    return {"old": int(f.old), "new": int(f.new), "delta": int(f.new) - int(f.old)}


def _float_figure(f: Figure) -> dict[str, Any]:
    old, new = finite(f.old), finite(f.new)
    return {"old": old, "new": new, "delta": None if old is None or new is None else new - old}


def _int_figure_from_json(obj: Any, where: str) -> Figure:
    f = Fields(obj, where, ("old", "new", "delta"))
    old, new = f.count("old"), f.count("new")
    if f.count("delta") != new - old:
        raise DocumentError(f"{f.at('delta')}: is not new - old")
    return Figure(old, new)


def _float_figure_from_json(obj: Any, where: str) -> Figure:
    f = Fields(obj, where, ("old", "new", "delta"))
    old, new = f.nullable("old", number), f.nullable("new", number)
    f.nullable("delta", number)
    return Figure(math.nan if old is None else float(old), math.nan if new is None else float(new))


def _layer_to_json(c: LayerChange) -> dict[str, Any]:
    return {
        "old_index": c.old_index, "new_index": c.new_index, "match": c.match, "command": c.command,
        "old_size": c.old_size, "new_size": c.new_size, "size_delta": c.size_delta,
        "old_compressed_size": c.old_compressed_size, "new_compressed_size": c.new_compressed_size,
        "compressed_delta": c.compressed_delta,
    }


def _layer_from_json(obj: Any, where: str) -> LayerChange:
    f = Fields(obj, where, ("old_index", "new_index", "match", "command", "old_size", "new_size", "size_delta",
                            "old_compressed_size", "new_compressed_size", "compressed_delta"))
    change = LayerChange(old_index=f.nullable("old_index", size), new_index=f.nullable("new_index", size),
                         match=f.get("match", lambda v, w: one_of(v, w, _MATCHES)), command=f.text("command"),
                         old_size=f.size("old_size"), new_size=f.size("new_size"),
                         old_compressed_size=f.size("old_compressed_size"),
                         new_compressed_size=f.size("new_compressed_size"))
    if (f.get("size_delta", integer), f.get("compressed_delta", integer)) != (change.size_delta,
                                                                              change.compressed_delta):
        raise DocumentError(f"{where}: size_delta or compressed_delta is not new - old")
    return change


def _changes_to_json(s: FileChangeSet) -> dict[str, Any]:
    return {
        "count": s.count,
        "bytes": s.bytes,
        "top": [{"path": c.path, "old_size": c.old_size, "new_size": c.new_size, "delta": c.delta, "kind": c.kind}
                for c in s.top],
    }


def _file_change_from_json(obj: Any, where: str) -> FileChange:
    f = Fields(obj, where, ("path", "old_size", "new_size", "delta", "kind"))
    change = FileChange(f.text("path"), f.size("old_size"), f.size("new_size"),
                        f.get("kind", lambda v, w: one_of(v, w, _KINDS)))
    if f.count("delta") != change.delta:
        raise DocumentError(f"{f.at('delta')}: is not new_size - old_size")
    return change


def _changes_from_json(obj: Any, where: str) -> FileChangeSet:
    f = Fields(obj, where, ("count", "bytes", "top"))
    return FileChangeSet(top=f.seq("top", _file_change_from_json), count=f.size("count"), bytes=f.count("bytes"))
