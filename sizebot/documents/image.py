"""The image document (``sizebot/image@1``): one container image analysed, dive-style.

Two families of figures live side by side, never one instead of the other:

* dive's figures, equal to dive v0.13.1's to the byte, quirks included: ``size``,
  ``user_size``, ``efficiency``, ``wasted_bytes``, ``user_wasted_percent``,
  ``inefficiencies`` and each layer's ``size``.
* sizebot's own figures, each clearly named: ``corrected_wasted_bytes``,
  ``duplicates``, ``compressed_size`` (image and layer), ``largest_files`` and ``files``.

Paths are absolute and normalised ("/etc/passwd"), the way dive shows them.
Digests of file contents are "sha256:<hex>"; "" for anything that is not a regular file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sizebot.documents.fields import Fields, number, one_of, strings
from sizebot.errors import DocumentError

SCHEMA = "sizebot/image@1"

# FileEntry.kind values
KIND_FILE = "file"
KIND_DIR = "dir"
KIND_SYMLINK = "symlink"
KIND_HARDLINK = "hardlink"
KIND_OTHER = "other"  # char/block devices, fifos


@dataclass(frozen=True, slots=True)  # one per tar entry / path: tens of thousands
class FileEntry:
    """One path of the final (stacked) filesystem."""

    path: str  # absolute, normalised: "/usr/bin/app"
    size: int  # bytes of content (tar header size; 0 for dirs, links, devices)
    digest: str  # "sha256:<hex>" of the content for regular files; "" otherwise
    layer: int  # index of the layer that last wrote this path
    kind: str = KIND_FILE  # one of KIND_*
    link: str = ""  # symlink or hardlink target, as recorded (never followed)
    mode: int = 0  # permission bits from the tar header


@dataclass(frozen=True)
class LayerReport:
    index: int  # 0 = base layer
    digest: str  # blob digest as stored ("sha256:<hex>" of the possibly compressed blob); "" if unknown
    diff_id: str  # digest of the uncompressed tar, from the config's rootfs.diff_ids ("" if absent)
    command: str  # created_by of the matching non-empty history entry ("" if none)
    size: int  # dive's layer size: sum of tar header sizes of the layer's entries
    compressed_size: int  # bytes of the blob as stored (what a registry pull costs)
    file_count: int  # tar entries that become tree entries (whiteouts excluded)
    compression: str = "none"  # "none", "gzip" or "zstd" (detected by magic)
    media_type: str = ""  # layer media type from the manifest, "" for legacy docker archives
    whiteout_count: int = 0  # ".wh.<name>" entries (opaque markers included)
    opaque_count: int = 0  # ".wh..wh..opq" entries
    # docker save stores a layer seen twice as a symlink to the first copy; dive reads that
    # link as an empty layer, so dive's figures here do too (size 0, no files), while
    # sizebot's figures (final filesystem, corrected waste, duplicates) use the real content.
    linked: bool = False


@dataclass(frozen=True)
class Inefficiency:
    """dive's "inefficient file": a path written by more than one layer (or removed)."""

    path: str
    count: int  # how many layers hold an entry for this path
    size: int  # dive's cumulative size: the sum over all those copies, the surviving one included


@dataclass(frozen=True)
class DuplicateGroup:
    """Regular files of the final filesystem with identical content at different paths."""

    digest: str  # "sha256:<hex>" of the shared content
    size: int  # size of one copy
    paths: tuple[str, ...]  # sorted
    wasted: int  # size * (len(paths) - 1)


@dataclass(frozen=True)
class ImageReport:
    source: str  # the path (or reference) the image was read from
    platform: str  # "os/arch[/variant]" from the config ("" when the config does not say)
    # --- dive's figures ---
    size: int  # sum of layer sizes (dive's "Total Image size")
    user_size: int  # all layers but the first
    efficiency: float  # dive's efficiency score in [0, 1]
    wasted_bytes: int  # dive's "Potential wasted space": every copy of an inefficient path, survivor included
    # dive: wasted_bytes / user_size, a ratio despite the name. As in dive, NaN when both are 0 and
    # +inf when only user_size is 0 (single-layer images); JSON writes null for both.
    user_wasted_percent: float
    inefficiencies: tuple[Inefficiency, ...]  # dive's order (largest cumulative size first)
    layers: tuple[LayerReport, ...]
    # --- sizebot's own figures ---
    compressed_size: int  # sum of layer blob sizes as stored
    corrected_wasted_bytes: int  # bytes that are shipped but invisible in the final filesystem (see analysis.py)
    duplicates: tuple[DuplicateGroup, ...]  # largest waste first
    largest_files: tuple[FileEntry, ...]  # top N regular files of the final filesystem, largest first
    files: tuple[FileEntry, ...] = field(default=(), repr=False)  # the whole final filesystem, sorted by path
    format: str = ""  # "docker-archive", "docker-archive-oci", "oci-layout", "oci-archive", "kaniko"
    config_digest: str = ""  # "sha256:<hex>" of the image config ("" when unknown)
    file_count: int = 0  # entries of the final filesystem (dirs included)
    total_file_size: int = 0  # bytes of regular files in the final filesystem

    def files_by_path(self) -> dict[str, FileEntry]:
        """The final filesystem as path -> FileEntry (what the image diff compares)."""
        return {f.path: f for f in self.files}

    def to_json(self, *, files: bool = False) -> dict[str, Any]:
        """The image document. ``files=True`` adds the whole final filesystem."""
        return _image_to_json(self, files)

    @classmethod
    def from_json(cls, obj: Any, where: str = "image") -> ImageReport:
        """Inverse of to_json (user_wasted_percent null -> NaN or +inf, as dive divides; files () when
        absent); DocumentError naming the place of the first bad value."""
        return _image_from_json(obj, where)


# ---- JSON (sizebot/schemas/image.schema.json) -----------------------------------------------------

_KINDS = (KIND_FILE, KIND_DIR, KIND_SYMLINK, KIND_HARDLINK, KIND_OTHER)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _file_to_json(f: FileEntry) -> dict[str, Any]:
    return {"path": f.path, "size": f.size, "digest": f.digest, "layer": f.layer, "kind": f.kind,
            "link": f.link, "mode": f.mode}


def _file_from_json(obj: Any, where: str) -> FileEntry:
    f = Fields(obj, where, ("path", "size", "digest", "layer"), ("kind", "link", "mode"))
    return FileEntry(f.text("path"), f.size("size"), f.text("digest"), f.size("layer"),
                     f.get("kind", lambda v, w: one_of(v, w, _KINDS), KIND_FILE), f.text("link", ""),
                     f.size("mode", 0))


def _layer_to_json(layer: LayerReport) -> dict[str, Any]:
    return {"index": layer.index, "digest": layer.digest, "diff_id": layer.diff_id, "command": layer.command,
            "size": layer.size, "compressed_size": layer.compressed_size, "file_count": layer.file_count,
            "compression": layer.compression, "media_type": layer.media_type,
            "whiteout_count": layer.whiteout_count, "opaque_count": layer.opaque_count, "linked": layer.linked}


def _layer_from_json(obj: Any, where: str) -> LayerReport:
    f = Fields(obj, where, ("index", "digest", "command", "size", "compressed_size"),
               ("diff_id", "file_count", "compression", "media_type", "whiteout_count", "opaque_count", "linked"))
    return LayerReport(index=f.size("index"), digest=f.text("digest"), diff_id=f.text("diff_id", ""),
                       command=f.text("command"), size=f.size("size"), compressed_size=f.size("compressed_size"),
                       file_count=f.size("file_count", 0), compression=f.text("compression", "none"),
                       media_type=f.text("media_type", ""), whiteout_count=f.size("whiteout_count", 0),
                       opaque_count=f.size("opaque_count", 0), linked=f.flag("linked", False))


def _inefficiency(obj: Any, where: str) -> Inefficiency:
    f = Fields(obj, where, ("path", "count", "size"))
    return Inefficiency(f.text("path"), f.size("count"), f.size("size"))


def _duplicates(obj: Any, where: str) -> DuplicateGroup:
    f = Fields(obj, where, ("digest", "size", "paths", "wasted"))
    return DuplicateGroup(f.text("digest"), f.size("size"), f.get("paths", strings), f.size("wasted"))


def _image_to_json(report: ImageReport, files: bool) -> dict[str, Any]:
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
        "layers": [_layer_to_json(layer) for layer in report.layers],
        "inefficiencies": [{"path": i.path, "count": i.count, "size": i.size} for i in report.inefficiencies],
        "duplicates": [
            {"digest": g.digest, "size": g.size, "paths": list(g.paths), "wasted": g.wasted} for g in report.duplicates
        ],
        "largest_files": [_file_to_json(f) for f in report.largest_files],
    }
    if files:
        doc["files"] = [_file_to_json(f) for f in report.files]
    return doc


_REQUIRED = ("schema", "source", "platform", "format", "size", "compressed_size", "user_size", "efficiency",
             "wasted_bytes", "user_wasted_percent", "corrected_wasted_bytes", "layers", "inefficiencies",
             "duplicates", "largest_files")


def _image_from_json(obj: Any, where: str) -> ImageReport:
    f = Fields(obj, where, _REQUIRED, ("config_digest", "file_count", "total_file_size", "files"))
    if f.raw("schema") != SCHEMA:
        raise DocumentError(f"{f.at('schema')}: expected {SCHEMA!r}")
    uwp = f.nullable("user_wasted_percent", number)
    user_size, wasted_bytes = f.size("user_size"), f.size("wasted_bytes")
    if uwp is None:  # null is dive's 0/0 (NaN) or x/0 (+inf): which one follows from the two figures
        uwp = math.nan if user_size == 0 and wasted_bytes == 0 else math.inf
    return ImageReport(
        source=f.text("source"), platform=f.text("platform"), size=f.size("size"), user_size=user_size,
        efficiency=float(f.get("efficiency", number)), wasted_bytes=wasted_bytes, user_wasted_percent=float(uwp),
        inefficiencies=f.seq("inefficiencies", _inefficiency), layers=f.seq("layers", _layer_from_json),
        compressed_size=f.size("compressed_size"), corrected_wasted_bytes=f.size("corrected_wasted_bytes"),
        duplicates=f.seq("duplicates", _duplicates), largest_files=f.seq("largest_files", _file_from_json),
        files=f.seq("files", _file_from_json, optional=True), format=f.text("format"),
        config_digest=f.text("config_digest", ""), file_count=f.size("file_count", 0),
        total_file_size=f.size("total_file_size", 0))
