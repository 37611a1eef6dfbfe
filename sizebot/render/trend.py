"""The size history in the comment: the headline build's size over the default branch's measured
commits with the pull request's head as the last point (a mermaid line chart GitHub renders), and how
this change compares to the largest step in that history. Pure."""

from __future__ import annotations

from sizebot.documents.report import Trend
from sizebot.render.common import code_md
from sizebot.render.mermaid import _number, mermaid_label
from sizebot.units import format_delta, format_size

_UNITS = ((1_000_000, "MB"), (1_000, "KB"), (1, "B"))  # as format_size counts


def _scale(largest: int) -> tuple[int, str]:
    return next((d, name) for d, name in _UNITS if largest >= d or d == 1)


def trend_chart(trend: Trend) -> str:
    """A fenced ``xychart-beta`` line: one point per measured commit (its short sha), then the head."""
    sizes = [p.size for p in trend.points] + [trend.head_size]
    divisor, unit = _scale(max(sizes))
    labels = [mermaid_label(p.sha[:7], 12) for p in trend.points] + [f"head {mermaid_label(trend.head_sha[:7], 12)}"]
    return "\n".join([
        "```mermaid",
        "xychart-beta",
        f'    title "{mermaid_label(trend.build, 80)}"',
        f"    x-axis [{', '.join(f'{chr(34)}{label}{chr(34)}' for label in labels)}]",
        f'    y-axis "size ({unit})"',
        f"    line [{', '.join(_number(s / divisor) for s in sizes)}]",
        "```",
    ]) + "\n"


def trend_sentence(trend: Trend) -> str:
    """How this change compares to the largest step of the history, in one sentence (our words and numbers)."""
    measured = f"{len(trend.points)} measured commit{'s' if len(trend.points) != 1 else ''} of the default branch"
    if trend.delta is None:
        return f"The base of this change did not build: no step to compare with the {measured}."
    change = f"This change: {format_delta(trend.delta)}"
    if trend.largest_step is None or trend.largest_step_sha is None:
        return f"{change}; the history has one measured commit, no step to compare with."
    step = f"{format_delta(trend.largest_step)} at {trend.largest_step_sha[:7]}"
    if trend.largest_step == 0:
        return f"{change}; the size did not change over the {measured}."
    ratio = abs(trend.delta) / abs(trend.largest_step)
    if abs(trend.delta) > abs(trend.largest_step):
        return (f"{change}: larger than any step over the {measured} "
                f"({ratio:.1f}x the largest, {step}).")
    return f"{change}: {ratio:.0%} of the largest step over the {measured} ({step})."


def trend_markdown(trend: Trend | None) -> str:
    if trend is None:
        return ""
    return "\n".join([
        f"**Size history** of {code_md(trend.build)}: {format_size(trend.points[0].size)} at "
        f"{trend.points[0].sha[:7]} → {format_size(trend.head_size)} at this head.",
        "",
        trend_chart(trend),
        trend_sentence(trend),
    ]) + "\n"
