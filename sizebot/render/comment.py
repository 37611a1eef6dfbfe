"""The report shortened for GitHub: the sticky comment's body and the job summary.

GitHub refuses a comment body over 65,536 characters and a step summary over 1 MiB; both are
rendered at decreasing detail until they fit (report_markdown.LEVELS), never cut mid-tag.
(The comment's marker line and the merge of matrix jobs are GitHub's concerns: sizebot.github.)
"""

from __future__ import annotations

import re

from sizebot.documents.report import Report
from sizebot.render.report_markdown import REST_IN_SUMMARY, SUMMARY_LEVELS, render_report_markdown_measured

COMMENT_LIMIT = 65536
SUMMARY_LIMIT = 1024 * 1024  # GITHUB_STEP_SUMMARY: bytes per step
COMMENT_MARGIN = 512  # stay below the limit: GitHub's own counting may differ by a few
SUMMARY_MARGIN = 8192
SUMMARY_REST = "the JSON report of this run (sizebot report --format json) has every figure"
_URL = re.compile(r"https?://[^\s<>\"'`()\[\]]+")
_ARTIFACT = re.compile(r"[A-Za-z0-9._-]{1,100}")


def github_length(text: str) -> int:
    """Length as GitHub may count it: UTF-16 code units (emoji count 2), never less than characters."""
    return len(text.encode("utf-16-le")) // 2


def treemap_line(artifacts_url: str, artifact: str) -> str:
    """Where the treemap page is: an artifact of the run (its URL from the trusted run context)."""
    if not _URL.fullmatch(artifacts_url):
        raise ValueError(f"artifacts_url must be an http(s) URL without spaces or quotes, got {artifacts_url!r}")
    if not _ARTIFACT.fullmatch(artifact):
        raise ValueError(f"artifact name {artifact!r}: use 1-100 letters, digits, '.', '_' or '-'")
    return (f"\n🗺️ Where the bytes go, as a zoomable treemap of every build: the artifact `{artifact}` of "
            f"[this run]({artifacts_url}) (one HTML file, opens offline).\n")


def comment_body(report: Report, *, limit: int = COMMENT_LIMIT, reserve: int = 0,
                 summary_url: str | None = None, rest_text: str = REST_IN_SUMMARY) -> str:
    """The report as a comment of at most ``limit`` characters (UTF-16 units, as GitHub counts them)
    minus ``reserve`` (what goes before it) and a margin; ``summary_url`` or ``rest_text`` says where
    the rest is. ``sizebot report --format markdown`` shortens the same way (--max-chars)."""
    return render_report_markdown_measured(report, limit=limit, measure=github_length, details_url=summary_url,
                                           reserve=reserve + min(COMMENT_MARGIN, limit // 16), rest_text=rest_text)


def build_job_summary(report: Report, *, limit: int = SUMMARY_LIMIT) -> str:
    """The report for GITHUB_STEP_SUMMARY: longer tables than the comment (top 100 packages, 50
    functions), shortened like the comment when it passes ``limit`` UTF-8 bytes (1 MiB)."""
    return render_report_markdown_measured(report, limit=limit, measure=lambda s: len(s.encode("utf-8")),
                                           reserve=min(SUMMARY_MARGIN, limit // 16), rest_text=SUMMARY_REST,
                                           levels=SUMMARY_LEVELS)
