"""The image diff document (``sizebot/image-diff@1``): what changed between two images."""

from __future__ import annotations

import math
from dataclasses import dataclass


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


def finite(x: float) -> float | None:
    """JSON has no NaN/inf: None for them."""
    return x if math.isfinite(x) else None
