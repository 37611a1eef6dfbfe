"""One image -> ``ImageReport``: dive's figures (equal to dive v0.13.1's, quirks included)
beside sizebot's own, corrected figures.

dive's rules, as read in its source (dive/image/docker/image_archive.go, dive/image/image.go,
dive/filetree/efficiency.go):

* layer size: the sum of the header sizes of every tar entry of the layer, whatever its type,
  except entries whose cleaned name is "." (whiteout markers count, with their size, usually 0);
  image size = sum of layer sizes; user size = all layers but the first.
* efficiency: every *leaf* of every layer's tree is visited (layer order; depth first, children
  in byte order, before their parent). A normal leaf weighs its header size. A whiteout leaf
  weighs the whole subtree it deletes in the stack of the layers below, but only when that node
  is a directory *with its own payload* (a file, or a directory dive only created on the way to
  a deeper path, weighs 0). A whiteout whose target is absent aborts the visit of the rest of
  that layer (dive logs and moves on) and leaves a record whose minimum is -1. Per path:
  cumulative = sum of weights, minimum = smallest weight; score = sum(minimum) / sum(cumulative)
  (1.0 when the latter is 0). Opaque whiteouts never enter dive's trees.
* inefficiencies: the paths seen at least twice, sorted by cumulative size with Go's
  ``sort.Sort`` (pdqsort, unstable: ties keep the order that algorithm leaves them in), then
  listed in reverse (largest first), as dive's JSON and CI output do.
* wasted bytes = sum of those cumulative sizes (the surviving copy included);
  user wasted percent = wasted / user size (a ratio; NaN for 0/0, +inf for x/0, as Go's floats).
* layer commands: the config history without ``empty_layer`` entries, in order, one per layer;
  "/bin/sh -c " is cut from the front as dive does.

sizebot's own figures (never instead of dive's):

* ``corrected_wasted_bytes`` = the header sizes of all layers' tar entries (= image size, except
  for layers docker save stored as links, which dive counts as empty) - those of the entries visible in the
  final filesystem (OCI semantics: whiteouts and opaque whiteouts hide lower content, a later
  copy hides an earlier one, a file replacing a directory hides all of it). That is exactly the
  bytes of every entry that does not survive: overwritten copies (the survivor is not counted),
  files deleted by a whiteout or hidden by an opaque whiteout, and the whiteout markers.
* ``duplicates``: regular files of the final filesystem with the same sha256 at different
  paths (empty files left out); wasted = size x (copies - 1).
* per-layer ``compressed_size``: the blob's bytes as stored; image ``compressed_size`` their sum.
* ``largest_files``: the top N regular files of the final filesystem.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sizebot.documents.image import (
    KIND_DIR,
    KIND_FILE,
    KIND_HARDLINK,
    KIND_OTHER,
    KIND_SYMLINK,
    DuplicateGroup,
    FileEntry,
    ImageReport,
    Inefficiency,
    LayerReport,
)
from sizebot.image import limits as image_limits
from sizebot.image.go_sort import go_sort
from sizebot.image.layer_pool import iter_layers
from sizebot.image.layers import LayerContents, TarEntry
from sizebot.image.limits import ImageLimits
from sizebot.image.sources import SourceInfo, open_source
from sizebot.image.tree import OPAQUE, WHITEOUT, DiveTree, FinalFS, go_sorted


def analyze_image(
    source_path: str, platform: str | None = None, top: int = 20, limits: ImageLimits | None = None
) -> ImageReport:
    """Read an image archive or OCI layout once (each layer streamed once) and analyse it."""
    limits = limits or image_limits.DEFAULT_LIMITS
    with _no_cyclic_gc(), open_source(source_path, platform, limits) as src:
        stacking = _Stacking(src.info)
        try:
            for contents in iter_layers(src, limits):
                stacking.add(contents)  # while the next layers are read, when workers read them
            return stacking.report(top)
        finally:
            stacking.release()


def build_report(info: SourceInfo, contents: Sequence[LayerContents], top: int = 20) -> ImageReport:
    """Pure: layer contents (in order) + the source description -> ImageReport."""
    with _no_cyclic_gc():
        stacking = _Stacking(info)
        try:
            for c in contents:
                stacking.add(c)
            return stacking.report(top)
        finally:
            stacking.release()


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The analysis makes about ten small objects per tar entry, and the cyclic collector's passes
    over them cost a third of its time; the only cycles it makes (tree nodes and their parents)
    are broken by _Stacking.release(). Workers forked meanwhile inherit the setting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Stacking:
    """The layers in order, each taken in as soon as it is read: dive's trees and efficiency
    visit, and the final filesystem; then the report."""

    def __init__(self, info: SourceInfo):
        self.info = info
        self.contents: list[LayerContents] = []
        self.efficiency = DiveEfficiency()
        self.fs = FinalFS()

    def add(self, c: LayerContents) -> None:
        index = len(self.contents)
        # dive reads a layer stored as a symlink (docker save of a repeated layer) as empty.
        self.efficiency.add(DiveTree.from_entries(() if self.info.layers[index].linked else c.entries))
        self.fs.apply_layer(index, c.entries)
        self.contents.append(c)

    def report(self, top: int) -> ImageReport:
        score, matches = self.efficiency.finish()
        self.efficiency.release()  # before the final filesystem's records are made
        return _report(self.info, self.contents, score, matches, self.fs, top)

    def release(self) -> None:
        """Free the trees now, by reference counting (their nodes point at their parents)."""
        self.efficiency.release()


def _report(info: SourceInfo, contents: list[LayerContents], score: float, matches: list[EfficiencyRecord],
            fs: FinalFS, top: int) -> ImageReport:
    dive_entries = [() if blob.linked else c.entries for blob, c in zip(info.layers, contents, strict=True)]
    sizes = [sum(e.size for e in entries) for entries in dive_entries]
    size = sum(sizes)
    user_size = sum(sizes[1:])
    wasted = sum(m.cumulative for m in matches)
    commands = layer_commands(info.config, len(contents))

    layers = []
    for blob, c, s, cmd in zip(info.layers, contents, sizes, commands, strict=True):
        names = [e.path.rsplit("/", 1)[-1] for e in c.entries]
        layers.append(LayerReport(
            index=blob.index,
            digest=blob.digest or c.blob_digest,
            diff_id=blob.diff_id,
            command=cmd,
            size=s,
            compressed_size=c.blob_size,
            file_count=sum(1 for n in names if not n.startswith(WHITEOUT)),
            compression=c.compression,
            media_type=blob.media_type,
            whiteout_count=sum(1 for n in names if n.startswith(WHITEOUT)),
            opaque_count=sum(1 for n in names if n == OPAQUE),
            linked=blob.linked,
        ))

    files = tuple(_file_entry(path, fs.paths[path].entry, fs.paths[path].layer) for path in go_sorted(fs.paths))
    visible = sum(slot.entry.size for slot in fs.paths.values())
    regular = [f for f in files if f.kind == KIND_FILE]

    return ImageReport(
        source=info.path,
        platform=info.platform,
        size=size,
        user_size=user_size,
        efficiency=score,
        wasted_bytes=wasted,
        user_wasted_percent=go_div(wasted, user_size),
        inefficiencies=tuple(Inefficiency(m.path, m.count, m.cumulative) for m in reversed(matches)),
        layers=tuple(layers),
        compressed_size=sum(c.blob_size for c in contents),
        corrected_wasted_bytes=sum(e.size for c in contents for e in c.entries) - visible,
        duplicates=find_duplicates(regular),
        largest_files=tuple(sorted(regular, key=lambda f: (-f.size, f.path))[: max(top, 0)]),
        files=files,
        format=info.format,
        config_digest=info.config_digest,
        file_count=len(files),
        total_file_size=sum(f.size for f in regular),
    )


def go_div(a: int, b: int) -> float:
    """float64(a) / float64(b) with Go's IEEE semantics (no ZeroDivisionError)."""
    if b == 0:
        return math.nan if a == 0 else math.inf
    return a / b


def layer_commands(config: dict[str, Any], count: int) -> list[str]:
    """One command per layer from the history, empty_layer entries skipped (as docker and dive do)."""
    history: list[Any] = config["history"] if isinstance(config.get("history"), list) else []
    real = [h for h in history if isinstance(h, dict) and not h.get("empty_layer")]
    out = []
    for i in range(count):
        created_by = str(real[i].get("created_by") or "") if i < len(real) else ""
        out.append(created_by.removeprefix("/bin/sh -c "))
    return out


def find_duplicates(regular: Sequence[FileEntry]) -> tuple[DuplicateGroup, ...]:
    groups: dict[str, list[FileEntry]] = {}
    for f in regular:
        if f.size > 0 and f.digest:
            groups.setdefault(f.digest, []).append(f)
    out = [
        DuplicateGroup(digest, fs[0].size, tuple(sorted(f.path for f in fs)), fs[0].size * (len(fs) - 1))
        for digest, fs in groups.items()
        if len(fs) > 1
    ]
    out.sort(key=lambda g: (-g.wasted, g.paths[0]))
    return tuple(out)


def _file_entry(path: str, e: TarEntry, layer: int) -> FileEntry:
    if e.is_regular:
        kind = KIND_FILE
    elif e.is_dir:
        kind = KIND_DIR
    elif e.type == b"2":
        kind = KIND_SYMLINK
    elif e.type == b"1":
        kind = KIND_HARDLINK
    else:
        kind = KIND_OTHER
    return FileEntry(path=path, size=e.size, digest=e.digest, layer=layer, kind=kind, link=e.link, mode=e.mode & 0o7777)


# --------------------------------------------------------------------------------------------
# dive's efficiency


@dataclass(slots=True)  # one per path dive visits
class EfficiencyRecord:
    path: str
    count: int = 0
    cumulative: int = 0
    minimum: int = -1


def dive_efficiency(trees: Sequence[DiveTree]) -> tuple[float, list[EfficiencyRecord]]:
    """dive's Efficiency(): the score and the inefficient records, sorted ascending as dive leaves them."""
    efficiency = DiveEfficiency()
    for tree in trees:
        efficiency.add(tree)
    return efficiency.finish()


class DiveEfficiency:
    """dive's Efficiency(), one layer tree at a time, in layer order."""

    def __init__(self) -> None:
        self.trees: list[DiveTree] = []
        self.records: dict[str, EfficiencyRecord] = {}
        self.matches: list[EfficiencyRecord] = []
        self._stacked: DiveTree | None = None  # dive's StackTreeRange(trees, 0, k-1), built lazily
        self._stacked_upto = -1

    def _below(self, k: int) -> DiveTree:
        # dive: copy of tree 0, then tree 0 stacked on it again, then trees 1..k-1.
        if self._stacked is None:
            self._stacked = self.trees[0].copy()
        while self._stacked_upto < k - 1:
            self._stacked_upto += 1
            self._stacked.stack(self.trees[self._stacked_upto])
        return self._stacked

    def add(self, tree: DiveTree) -> None:
        k = len(self.trees)
        self.trees.append(tree)
        records, matches = self.records, self.matches
        for node, path in tree.leaves():
            rec = records.get(path)
            if rec is None:
                rec = records[path] = EfficiencyRecord(path)
            if node.name.startswith(WHITEOUT):
                prev = self._below(k).get_node(path)
                if prev is None:
                    break  # dive: "unable to propagate ref tree", the rest of this layer is not visited
                weight = prev.subtree_size() if prev.is_dir else 0  # the subtree, prev itself included
            else:
                weight = node.info.size if node.info is not None else 0
            rec.cumulative += weight
            if rec.minimum < 0 or weight < rec.minimum:
                rec.minimum = weight
            rec.count += 1
            if rec.count == 2:
                matches.append(rec)

    def release(self) -> None:
        for tree in [*self.trees, self._stacked]:
            if tree is not None:
                tree.release()
        self.trees, self._stacked, self.records = [], None, {}

    def finish(self) -> tuple[float, list[EfficiencyRecord]]:
        records, matches = self.records, self.matches
        minimum = sum(r.minimum for r in records.values())
        discovered = sum(r.cumulative for r in records.values())
        score = 1.0 if discovered == 0 else minimum / discovered
        go_sort(matches, lambda a, b: a.cumulative < b.cumulative)
        return score, matches
