"""ImageReport as plain text for a terminal: dive's figures first, sizebot's beside them."""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table
from rich.text import Text

from sizebot.documents.image import ImageReport
from sizebot.render import renderer
from sizebot.render.common import plain_text, rich_to_text
from sizebot.units import format_size


def percent(ratio: float) -> str:
    """dive prints ratios as percentages with 4 decimals; NaN/inf as Go prints them."""
    if math.isnan(ratio):
        return "NaN %"
    if math.isinf(ratio):
        return "+Inf %" if ratio > 0 else "-Inf %"
    return f"{100 * ratio:.4f} %"


def _one_line(text: str, width: int = 70) -> Text:
    """Untrusted text (paths, commands) as a plain rich Text: never parsed as markup."""
    s = plain_text(text.replace("\r", " ").replace("\n", "\u21b5"))  # a newline shown, the rest one line
    return Text(s if len(s) <= width else s[: width - 1] + "\u2026")


@renderer(ImageReport, "text")
def render_text(report: ImageReport, *, top: int = 20, width: int = 110, **_: Any) -> str:
    head = Text()
    head.append(f"Image: {report.source}")
    if report.platform:
        head.append(f" ({report.platform})")
    if report.format:
        head.append(f" [{report.format}]")

    summary = Table(title="dive's figures", show_header=False, box=None, title_justify="left")
    summary.add_column("figure")
    summary.add_column("value", justify="right")
    summary.add_row("efficiency", percent(report.efficiency))
    summary.add_row("wastedBytes", f"{report.wasted_bytes} bytes ({format_size(report.wasted_bytes)})")
    summary.add_row("userWastedPercent", percent(report.user_wasted_percent))
    summary.add_row("image size", f"{report.size} bytes ({format_size(report.size)})")
    summary.add_row("user size", f"{report.user_size} bytes ({format_size(report.user_size)})")

    ours = Table(title="sizebot's figures", show_header=False, box=None, title_justify="left")
    ours.add_column("figure")
    ours.add_column("value", justify="right")
    ours.add_row("layer blobs as stored",
                 f"{report.compressed_size} bytes ({format_size(report.compressed_size)})")
    ours.add_row("corrected wasted bytes",
                 f"{report.corrected_wasted_bytes} bytes ({format_size(report.corrected_wasted_bytes)})")
    dup_waste = sum(g.wasted for g in report.duplicates)
    ours.add_row("duplicate content", f"{len(report.duplicates)} groups, {format_size(dup_waste)} wasted")
    ours.add_row("final filesystem", f"{report.file_count} entries, {format_size(report.total_file_size)} in files")

    layers = Table(title="Layers", title_justify="left")
    for col, just in (("#", "right"), ("size", "right"), ("as stored", "right"), ("files", "right"),
                      ("command", "left")):
        layers.add_column(col, justify=just)  # type: ignore[arg-type]
    for layer in report.layers:
        command = _one_line(layer.command or "(missing)")
        if layer.linked:
            command = Text("(stored as a link: dive reads it as empty) ") + command
        layers.add_row(str(layer.index), format_size(layer.size), format_size(layer.compressed_size),
                       str(layer.file_count), command)

    parts: list[Any] = [head, summary, ours, layers]
    if report.inefficiencies:
        ineff = Table(title="Inefficient files (dive)", title_justify="left")
        ineff.add_column("count", justify="right")
        ineff.add_column("wasted space", justify="right")
        ineff.add_column("path")
        for item in report.inefficiencies[:top]:
            ineff.add_row(str(item.count), format_size(item.size), _one_line(item.path, 80))
        if len(report.inefficiencies) > top:
            ineff.add_row("", "", Text(f"... {len(report.inefficiencies) - top} more"))
        parts.append(ineff)
    else:
        parts.append(Text("Inefficient files (dive): none"))
    if report.duplicates:
        dups = Table(title="Identical content at different paths", title_justify="left")
        dups.add_column("copies", justify="right")
        dups.add_column("size", justify="right")
        dups.add_column("wasted", justify="right")
        dups.add_column("paths")
        for g in report.duplicates[:top]:
            dups.add_row(str(len(g.paths)), format_size(g.size), format_size(g.wasted),
                         _one_line(", ".join(g.paths), 80))
        parts.append(dups)
    if report.largest_files:
        big = Table(title="Largest files", title_justify="left")
        big.add_column("size", justify="right")
        big.add_column("layer", justify="right")
        big.add_column("path")
        for fe in report.largest_files[:top]:
            big.add_row(format_size(fe.size), str(fe.layer), _one_line(fe.path, 80))
        parts.append(big)
    return rich_to_text(*parts, width=width)
