"""The baseline document as markdown (names from the repository escaped)."""

from __future__ import annotations

from typing import Any

from sizebot.documents.baseline import Baseline
from sizebot.render import renderer
from sizebot.render.baseline_view import build_rows, history_rows, summary_lines
from sizebot.render.common import escape_md


@renderer(Baseline, "markdown")
def render_baseline_markdown(baseline: Baseline, **_: Any) -> str:
    lines = [escape_md(line) + "  " for line in summary_lines(baseline)]
    lines += ["", "| build | size |", "|---|---:|"]
    lines += [f"| {escape_md(label)} | {escape_md(size)} |" for label, size in build_rows(baseline)]
    header, rows = history_rows(baseline)
    if rows:
        lines += ["", "| " + " | ".join(escape_md(h) for h in header) + " |",
                  "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(escape_md(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
