"""What changed between two images (pure): ImageReport x ImageReport -> ImageDiff.

* totals: dive's uncompressed size and the compressed (shipped) size, with deltas;
* layers: matched first by diff ID (same content), then by command text among the rest, both in
  order (the first unmatched base layer wins), so a rebuilt ``RUN`` step pairs with its old self;
  unmatched head layers are "added", unmatched base layers "removed";
* files of the final filesystems (directories left out): added, removed, grown and shrunk, the
  top N of each by |delta| (ties by path), with full counts and byte sums;
* efficiency, dive's wasted bytes and sizebot's corrected waste, before and after.
"""

from __future__ import annotations

from sizebot.documents.image import KIND_DIR, FileEntry, ImageReport, LayerReport
from sizebot.documents.image_diff import (
    MATCH_COMMAND,
    MATCH_DIFF_ID,
    Figure,
    FileChange,
    FileChangeSet,
    ImageDiff,
    LayerChange,
)


def match_layers(old: tuple[LayerReport, ...], new: tuple[LayerReport, ...]) -> tuple[LayerChange, ...]:
    pair: dict[int, tuple[int, str]] = {}  # new index -> (old index, how)
    used: set[int] = set()
    for key, how in ((lambda layer: layer.diff_id, MATCH_DIFF_ID), (lambda layer: layer.command, MATCH_COMMAND)):
        for j, nl in enumerate(new):
            if j in pair or not key(nl):
                continue
            for i, ol in enumerate(old):
                if i not in used and key(ol) == key(nl):
                    pair[j] = (i, how)
                    used.add(i)
                    break
    out: list[LayerChange] = []
    for j, nl in enumerate(new):
        if j in pair:
            i, how = pair[j]
            ol = old[i]
            out.append(LayerChange(i, j, how, nl.command, ol.size, nl.size, ol.compressed_size, nl.compressed_size))
        else:
            out.append(LayerChange(None, j, "added", nl.command, 0, nl.size, 0, nl.compressed_size))
    for i, ol in enumerate(old):
        if i not in used:
            out.append(LayerChange(i, None, "removed", ol.command, ol.size, 0, ol.compressed_size, 0))
    return tuple(out)


def _change_set(changes: list[FileChange], top: int) -> FileChangeSet:
    ranked = sorted(changes, key=lambda c: (-abs(c.delta), c.path))
    return FileChangeSet(tuple(ranked[:top]), len(changes), sum(c.delta for c in changes))


def _files(report: ImageReport) -> dict[str, FileEntry]:
    return {p: f for p, f in report.files_by_path().items() if f.kind != KIND_DIR}


def diff_images(old: ImageReport, new: ImageReport, top: int = 20) -> ImageDiff:
    """The diff base (``old``) -> head (``new``). Both reports need their ``files`` (analyze_image fills them)."""
    a, b = _files(old), _files(new)
    added = [FileChange(p, 0, f.size, f.kind) for p, f in b.items() if p not in a]
    removed = [FileChange(p, f.size, 0, f.kind) for p, f in a.items() if p not in b]
    grown: list[FileChange] = []
    shrunk: list[FileChange] = []
    modified = 0
    for p, nf in b.items():
        of = a.get(p)
        if of is None:
            continue
        change = FileChange(p, of.size, nf.size, nf.kind)
        if nf.size > of.size:
            grown.append(change)
        elif nf.size < of.size:
            shrunk.append(change)
        elif of.digest != nf.digest or of.link != nf.link:
            modified += 1
    return ImageDiff(
        old_source=old.source,
        new_source=new.source,
        size=Figure(old.size, new.size),
        compressed_size=Figure(old.compressed_size, new.compressed_size),
        efficiency=Figure(old.efficiency, new.efficiency),
        wasted_bytes=Figure(old.wasted_bytes, new.wasted_bytes),
        user_wasted_percent=Figure(old.user_wasted_percent, new.user_wasted_percent),
        corrected_wasted_bytes=Figure(old.corrected_wasted_bytes, new.corrected_wasted_bytes),
        file_count=Figure(old.file_count, new.file_count),
        layers=match_layers(old.layers, new.layers),
        added=_change_set(added, top),
        removed=_change_set(removed, top),
        grown=_change_set(grown, top),
        shrunk=_change_set(shrunk, top),
        modified_same_size=modified,
        top=top,
    )
