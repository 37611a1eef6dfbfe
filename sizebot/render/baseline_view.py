"""What a reader of a baseline sees, shared by its text and markdown renderers: the commit, the Go, the
builds with their sizes, and the history of the sizes per build."""

from __future__ import annotations

from sizebot.documents.baseline import Baseline
from sizebot.units import format_size


def summary_lines(baseline: Baseline) -> list[str]:
    fp = baseline.fingerprint
    return [f"Baseline of {baseline.repo} at {baseline.sha[:12]} ({baseline.date}): {baseline.subject}",
            f"Go {fp.go_version}, sizebot {fp.sizebot}, fingerprint {fp.digest[:16]}, "
            f"{len(baseline.builds)} builds, {len(baseline.history)} commits of history"]


def build_rows(baseline: Baseline) -> list[tuple[str, str]]:
    return [(b.spec.label, format_size(b.size) if b.size is not None else f"{b.status}: {b.error or ''}".strip())
            for b in baseline.builds]


def history_rows(baseline: Baseline) -> tuple[list[str], list[list[str]]]:
    """(header, rows): one row per measured commit, oldest first, one column per build."""
    labels = [b.spec.label for b in baseline.builds]
    rows = []
    for h in baseline.history:
        sizes = [h.size_of(label) for label in labels]
        rows.append([h.sha[:12], h.date[:10], *(format_size(s) if s is not None else "-" for s in sizes)])
    return ["commit", "date", *labels], rows
