"""The size history in the comment: exact text of the chart and of the sentence that compares this
change with the largest step of the history; hostile build names stay inside the chart's label."""

from __future__ import annotations

import re

from sizebot.documents.report import Trend, TrendPoint
from sizebot.render.trend import trend_markdown, trend_sentence

A, B, C, H = ("a" * 40, "b" * 40, "c" * 40, "d" * 40)


def trend(delta: int | None = 1024, head: int = 2_100_000) -> Trend:
    points = (TrendPoint(A, "2026-11-01T00:00:00+00:00", "one", 2_000_000),
              TrendPoint(B, "2026-11-02T00:00:00+00:00", "two", 2_050_000),
              TrendPoint(C, "2026-11-03T00:00:00+00:00", "three", 2_040_000))
    return Trend(build="app linux/amd64 default", points=points, head_sha=H, head_size=head, delta=delta,
                 largest_step_sha=B, largest_step=50_000)


def test_markdown_exact():
    assert trend_markdown(trend()) == (
        "**Size history** of <code>app linux/amd64 default</code>: 2.00 MB at aaaaaaa → 2.10 MB at this head.\n"
        "\n"
        "```mermaid\n"
        "xychart-beta\n"
        '    title "app linux/amd64 default"\n'
        '    x-axis ["aaaaaaa", "bbbbbbb", "ccccccc", "head ddddddd"]\n'
        '    y-axis "size (MB)"\n'
        "    line [2, 2.05, 2.04, 2.1]\n"
        "```\n"
        "\n"
        "This change: +1.02 KB: 2% of the largest step over the 3 measured commits of the default branch "
        "(+50.0 KB at bbbbbbb).\n")


def test_sentences():
    assert trend_sentence(trend(delta=-120_000)) == (
        "This change: -120 KB: larger than any step over the 3 measured commits of the default branch "
        "(2.4x the largest, +50.0 KB at bbbbbbb).")
    assert trend_sentence(trend(delta=None)) == (
        "The base of this change did not build: no step to compare with the 3 measured commits of the default branch.")
    one = Trend("app", (TrendPoint(A, "d", "s", 10),), H, 12, 2, None, None)
    assert trend_sentence(one) == "This change: +2 B; the history has one measured commit, no step to compare with."


def test_hostile_build_names_stay_in_their_label():
    hostile = Trend('x"]\n%%{init: {"theme":"dark"}}%%\n```\n<img src=x>', trend().points, H, 1, 1, B, 5)
    text = trend_markdown(hostile)
    assert text.count("```") == 2 and "%%{" not in text and "<img" not in text
    chart = text.split("```")[1]
    assert "%%" not in chart and "<" not in chart
    title = next(line for line in chart.splitlines() if line.startswith("    title "))
    assert re.fullmatch(r'    title "[^"]*"', title)
