"""ImageDiff as plain text for a terminal (rich tables rendered without colour)."""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table
from rich.text import Text

from sizebot.documents.image_diff import Figure, FileChangeSet, ImageDiff
from sizebot.render import renderer
from sizebot.render.common import plain_text, rich_to_text
from sizebot.units import format_delta, format_percent, format_size


def _ratio(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:.4f} %"


def _one_line(text: str, width: int = 60) -> Text:
    s = plain_text(text.replace("\r", " ").replace("\n", "\u21b5"))  # a newline shown, the rest one line
    return Text(s if len(s) <= width else s[: width - 1] + "\u2026")


def _size_row(t: Table, name: str, f: Figure) -> None:
    t.add_row(name, format_size(f.old), format_size(f.new), format_delta(f.delta), format_percent(f.delta, f.old))


def _ratio_row(t: Table, name: str, f: Figure) -> None:
    d = f.delta
    t.add_row(name, _ratio(f.old), _ratio(f.new), "n/a" if not math.isfinite(d) else f"{100 * d:+.4f} pp", "")


def _files_table(title: str, s: FileChangeSet) -> Table:
    t = Table(title=f"{title}: {s.count} ({format_delta(s.bytes)})", title_justify="left")
    t.add_column("delta", justify="right")
    t.add_column("old", justify="right")
    t.add_column("new", justify="right")
    t.add_column("path")
    for c in s.top:
        t.add_row(format_delta(c.delta), format_size(c.old_size), format_size(c.new_size), _one_line(c.path, 70))
    if s.count > len(s.top):
        t.add_row("", "", "", Text(f"… {s.count - len(s.top)} more"))
    return t


@renderer(ImageDiff, "text")
def render_text(diff: ImageDiff, *, width: int = 110, **_: Any) -> str:
    head = Text(f"Image diff: {diff.old_source} -> {diff.new_source}")
    totals = Table(title="Totals", title_justify="left")
    for col, just in (("", "left"), ("base", "right"), ("head", "right"), ("delta", "right"), ("%", "right")):
        totals.add_column(col, justify=just)  # type: ignore[arg-type]
    _size_row(totals, "image size (dive)", diff.size)
    _size_row(totals, "layer blobs as stored", diff.compressed_size)
    _ratio_row(totals, "efficiency (dive)", diff.efficiency)
    _size_row(totals, "wasted bytes (dive)", diff.wasted_bytes)
    _ratio_row(totals, "user wasted percent (dive)", diff.user_wasted_percent)
    _size_row(totals, "corrected wasted bytes", diff.corrected_wasted_bytes)
    totals.add_row("files", str(int(diff.file_count.old)), str(int(diff.file_count.new)),
                   f"{int(diff.file_count.delta):+d}", "")

    layers = Table(title="Layers", title_justify="left")
    for col, just in (("base", "right"), ("head", "right"), ("match", "left"), ("size", "right"),
                      ("delta", "right"), ("stored delta", "right"), ("command", "left")):
        layers.add_column(col, justify=just)  # type: ignore[arg-type]
    for c in diff.layers:
        layers.add_row("" if c.old_index is None else str(c.old_index), "" if c.new_index is None else str(c.new_index),
                       c.match, format_size(c.new_size if c.new_index is not None else c.old_size),
                       format_delta(c.size_delta), format_delta(c.compressed_delta),
                       _one_line(c.command or "(missing)"))
    parts: list[Any] = [head, totals, layers]
    for title, s in (("Files added", diff.added), ("Files removed", diff.removed), ("Files grown", diff.grown),
                     ("Files shrunk", diff.shrunk)):
        if s.count:
            parts.append(_files_table(title, s))
    if diff.modified_same_size:
        parts.append(Text(f"Files changed in content but not in size: {diff.modified_same_size}"))
    return rich_to_text(*parts, width=width)
