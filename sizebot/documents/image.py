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

from dataclasses import dataclass, field

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
