"""Bounds on the work and memory one image may cost (documented in docs/image.md, "Limits").

An archive is untrusted input: a few kilobytes can describe an index that fans out without end,
millions of empty tar entries, or a gzip stream that inflates a thousandfold. Every bound below
is far above what real images need and turns such an input into one ``ImageError`` line.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageLimits:
    # OCI indexes: descriptors examined over all indexes of one layout (each distinct index is read
    # once: an index listing the same child many times costs one read of it).
    max_index_descriptors: int = 10_000
    # Tar entries over all layers of one image (real images: thousands to ~200,000).
    max_entries: int = 500_000
    # Bytes of tar entry names and link targets over all layers (what is kept per entry
    # besides a fixed-size record).
    max_name_bytes: int = 128 << 20
    # A PAX or GNU long-name record, like Go's archive/tar (whose limit dive inherits).
    max_special_header: int = 1 << 20
    # A compressed layer may inflate to at most this many times the image's stored size
    # (the sum of its layer blobs as stored), and always to inflate_floor.
    inflate_ratio: int = 100
    inflate_floor: int = 256 << 20
    # JSON documents (manifests, indexes, configs); their nesting is bounded by the parser's
    # recursion limit (a document nested deeper is refused, never a RecursionError).
    max_json_bytes: int = 64 << 20

    def inflate_cap(self, stored_size: int) -> int:
        return max(self.inflate_floor, self.inflate_ratio * stored_size)


DEFAULT_LIMITS = ImageLimits()


def too_many_entries(limit: int) -> str:
    return f"the image holds more than {limit:,} tar entries (the limit; see docs/image.md, Limits)"


def names_too_long(limit: int) -> str:
    return f"the image's tar entry names add up to more than {limit:,} bytes (the limit; see docs/image.md, Limits)"
