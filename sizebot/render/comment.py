"""The sticky PR comment and the job summary, assembled from report documents (dicts).

GitHub refuses a comment body over 65,536 characters and a step summary over 1 MiB; both are
rendered at decreasing detail until they fit (report_markdown.LEVELS), never cut mid-tag.
The comment starts with a hidden marker naming its key, so the action finds and updates its own
comment; untrusted text is escaped (``<`` never survives), so no name in a report can forge one.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from sizebot.documents.verdict import Verdict
from sizebot.errors import SizebotError
from sizebot.render.report_markdown import (
    SUMMARY_LEVELS,
    render_report_markdown_measured,
)

COMMENT_LIMIT = 65536
SUMMARY_LIMIT = 1024 * 1024  # GITHUB_STEP_SUMMARY: bytes per step
COMMENT_MARGIN = 512  # stay below the limit: GitHub's own counting may differ by a few
SUMMARY_MARGIN = 8192
SUMMARY_REST = "the JSON report of this run (sizebot report --format json) has every figure"
_KEY = re.compile(r"[A-Za-z0-9._-]{1,100}")
_URL = re.compile(r"https?://[^\s<>\"'`()\[\]]+")


class ReportMergeError(SizebotError, ValueError):
    """Measurement files that cannot be one comment (different commits, no file at all)."""


def github_length(text: str) -> int:
    """Length as GitHub may count it: UTF-16 code units (emoji count 2), never less than characters."""
    return len(text.encode("utf-16-le")) // 2


def comment_marker(key: str) -> str:
    """``<!-- sizebot:KEY -->``; KEY is letters, digits, ``.``, ``_``, ``-`` (ValueError otherwise)."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"comment key {key!r}: use 1-100 letters, digits, '.', '_' or '-'")
    return f"<!-- sizebot:{key} -->"


def is_sizebot_comment(body: str, key: str) -> bool:
    """True when ``body`` is our comment for ``key``: the marker is its first line. (The action should
    also check the author: anyone can type a marker at the start of their own comment.)"""
    marker = comment_marker(key)
    return body == marker or body.startswith(marker + "\n")


def treemap_line(artifacts_url: str, artifact: str) -> str:
    """Where the treemap page is: an artifact of the run (its URL from the trusted run context)."""
    if not _URL.fullmatch(artifacts_url):
        raise ValueError(f"artifacts_url must be an http(s) URL without spaces or quotes, got {artifacts_url!r}")
    if not _KEY.fullmatch(artifact):
        raise ValueError(f"artifact name {artifact!r}: use 1-100 letters, digits, '.', '_' or '-'")
    return (f"\n🗺️ Where the bytes go, as a zoomable treemap of every build: the artifact `{artifact}` of "
            f"[this run]({artifacts_url}) (one HTML file, opens offline).\n")


def build_comment(doc: dict[str, Any], key: str, *, limit: int = COMMENT_LIMIT,
                  summary_url: str | None = None, artifacts_url: str | None = None,
                  html_artifact: str | None = None) -> str:
    """The sticky comment body: marker line, then the report, shortened to stay under ``limit``
    (GitHub's 65,536 characters by default, counted as UTF-16 units, minus a margin); with
    ``artifacts_url`` and ``html_artifact``, a last line linking to the treemap page."""
    marker = comment_marker(key)
    head = marker + "\n\n"
    tail = treemap_line(artifacts_url, html_artifact) if artifacts_url and html_artifact else ""
    reserve = github_length(head) + github_length(tail) + min(COMMENT_MARGIN, limit // 16)
    body = render_report_markdown_measured(doc, limit=limit, measure=github_length,
                                           details_url=summary_url, reserve=reserve)
    return head + body + tail


def build_job_summary(doc: dict[str, Any], *, limit: int = SUMMARY_LIMIT) -> str:
    """The report for GITHUB_STEP_SUMMARY: longer tables than the comment (top 100 packages, 50
    functions), shortened like the comment when it passes ``limit`` UTF-8 bytes (1 MiB)."""
    return render_report_markdown_measured(doc, limit=limit, measure=lambda s: len(s.encode("utf-8")),
                                           reserve=min(SUMMARY_MARGIN, limit // 16), rest_text=SUMMARY_REST,
                                           levels=SUMMARY_LEVELS)


def _commit_key(side: dict[str, Any] | None) -> Any:
    side = side or {}
    return side.get("sha") or side.get("ref")


def merge_reports(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several report documents (one per matrix job) -> one: builds, waterfalls and budgets
    concatenated, the worst verdict, notes and overrides merged without repeats.

    The documents must compare the same base and head commits (and the same pull request and
    comment key when they carry them): ReportMergeError (a ValueError) otherwise. The inputs are
    not modified."""
    if not docs:
        raise ReportMergeError("no report to merge")
    first = docs[0]
    for i, d in enumerate(docs[1:], start=2):
        for side in ("base", "head"):
            if _commit_key(d.get(side)) != _commit_key(first.get(side)):
                raise ReportMergeError(
                    f"report {i} compares {side} {_commit_key(d.get(side))!r}, report 1 {_commit_key(first.get(side))!r}")
        for extra in ("pull_request", "comment_key"):
            if (extra in first or extra in d) and d.get(extra) != first.get(extra):
                raise ReportMergeError(f"report {i} has {extra} {d.get(extra)!r}, report 1 {first.get(extra)!r}")
    merged = copy.deepcopy(first)
    merged["verdict"] = Verdict.worst(d.get("verdict", "neutral") for d in docs).value
    for key in ("builds", "waterfalls", "budgets"):
        merged[key] = [copy.deepcopy(x) for d in docs for x in d.get(key) or []]
    notes: list[str] = []
    overrides: list[dict[str, Any]] = []
    for d in docs:
        notes += [n for n in d.get("notes") or [] if n not in notes]
        overrides += [copy.deepcopy(o) for o in d.get("overrides") or [] if o not in overrides]
    images = [d["image"] for d in docs if d.get("image")]
    merged["image"] = copy.deepcopy(images[0]) if images else None
    if len(images) > 1:
        notes.append(f"{len(images)} jobs measured an image: showing the first job's")
    merged["notes"] = notes
    merged["overrides"] = overrides
    return merged
