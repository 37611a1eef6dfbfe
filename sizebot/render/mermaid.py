"""Mermaid charts for GitHub comments (GitHub renders ```mermaid blocks in comments and job summaries).

Mermaid has its own injection surface, apart from markdown's: a label can close its quotes, end
its line, open a ``%%{init: ...}%%`` directive, or (with backticks) close the markdown fence the
chart lives in. Labels therefore keep only a small alphabet that Go package paths, targets and
strategy names use; anything else becomes ``?``. Pure functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

# Go import paths, versions, targets, strategies: letters, digits and ._/+-@ (plus space, parens, *).
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._/+\-()*@]")
_SPACES = re.compile(r" {2,}")


def mermaid_label(text: object, max_len: int = 48) -> str:
    """A label that cannot leave its quotes, its line, or the chart: safe alphabet, bounded length.

    Never empty (mermaid rejects ``""`` in some diagrams): an empty or all-unsafe name is ``?``.
    Long labels keep their end (the last path elements say most about a Go package)."""
    s = _UNSAFE.sub("?", str(text))
    s = _SPACES.sub(" ", s).strip()
    if len(s) > max_len:
        s = "…" + s[-(max_len - 1):]
    return s or "?"


def _number(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _unique(labels: Iterable[str]) -> list[str]:
    # Mermaid merges pie slices with equal labels: keep them apart.
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        n = seen.get(label, 0) + 1
        seen[label] = n
        out.append(label if n == 1 else f"{label} ({n})")
    return out


def pie_chart(title: str, slices: Sequence[tuple[str, float]]) -> str:
    """A fenced ``pie`` block. Slices with a value <= 0 are left out (a pie has no negative slice).

    Returns "" when nothing is left to draw."""
    kept = [(label, float(value)) for label, value in slices if value > 0]
    if not kept:
        return ""
    labels = _unique(mermaid_label(label) for label, _ in kept)
    lines = ["```mermaid", f'pie title {mermaid_label(title, 80)}']
    lines += [f'    "{label}" : {_number(value)}' for label, (_, value) in zip(labels, kept, strict=True)]
    lines.append("```")
    return "\n".join(lines) + "\n"


def bar_chart(title: str, bars: Sequence[tuple[str, float]], y_label: str) -> str:
    """A fenced ``xychart-beta`` bar chart (one bar per label, values may be negative).

    Returns "" when there are no bars."""
    if not bars:
        return ""
    labels = _unique(mermaid_label(label, 24) for label, _ in bars)
    values = [_number(float(v)) for _, v in bars]
    x_axis = ", ".join(f'"{label}"' for label in labels)
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{mermaid_label(title, 80)}"',
        f"    x-axis [{x_axis}]",
        f'    y-axis "{mermaid_label(y_label, 24)}"',
        f"    bar [{', '.join(values)}]",
        "```",
    ]
    return "\n".join(lines) + "\n"
