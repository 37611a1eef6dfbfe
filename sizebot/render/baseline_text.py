"""The baseline document as plain text."""

from __future__ import annotations

from typing import Any

from sizebot.documents.baseline import Baseline
from sizebot.render import renderer
from sizebot.render.baseline_view import build_rows, history_rows, summary_lines
from sizebot.render.common import plain_text


@renderer(Baseline, "text")
def render_baseline_text(baseline: Baseline, **_: Any) -> str:
    # the repository, the subject, labels and errors are the file's: one line each, no escape sequence
    lines = [plain_text(line) for line in summary_lines(baseline)]
    lines.append("")
    builds = [(plain_text(label), plain_text(size)) for label, size in build_rows(baseline)]
    width = max((len(label) for label, _ in builds), default=0)
    lines.extend(f"  {label.ljust(width)}  {size}" for label, size in builds)
    header, rows = history_rows(baseline)
    header = [plain_text(c) for c in header]
    if rows:
        lines.append("")
        lines.append("History:")
        widths = [max(len(c) for c in column) for column in zip(header, *rows, strict=True)]
        for row in (header, *rows):
            lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines) + "\n"
