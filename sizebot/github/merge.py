"""One report from the reports of several matrix jobs (the comment stage posts one comment)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sizebot.documents.report import Override, Report
from sizebot.documents.verdict import Verdict
from sizebot.errors import SizebotError


class ReportMergeError(SizebotError, ValueError):
    """Reports that cannot be one comment (different commits, no report at all)."""


def merge_reports(reports: Sequence[Report]) -> Report:
    """Several reports (one per matrix job) -> one: builds, waterfalls and budgets concatenated,
    the worst verdict, notes and overrides merged without repeats, the first job's image.

    The reports must compare the same base and head commits: ReportMergeError otherwise."""
    if not reports:
        raise ReportMergeError("no report to merge")
    first = reports[0]
    for i, r in enumerate(reports[1:], start=2):
        for side in ("base", "head"):
            theirs, ours = getattr(r, side).sha, getattr(first, side).sha
            if theirs != ours:
                raise ReportMergeError(f"report {i} compares {side} {theirs!r}, report 1 {ours!r}")
    notes: list[str] = []
    overrides: list[Override] = []
    for r in reports:
        notes += [n for n in r.notes if n not in notes]
        overrides += [o for o in r.overrides if o not in overrides]
    images = [r.image for r in reports if r.image is not None]
    if len(images) > 1:
        notes.append(f"{len(images)} jobs measured an image: showing the first job's")
    return replace(
        first,
        verdict=Verdict.worst(r.verdict for r in reports),
        builds=tuple(b for r in reports for b in r.builds),
        waterfalls=tuple(w for r in reports for w in r.waterfalls),
        budgets=tuple(b for r in reports for b in r.budgets),
        image=images[0] if images else None,
        notes=tuple(notes),
        overrides=tuple(overrides),
    )
