"""The measurement file of the fork-safe flow: a report document plus the pull request and comment
key the measuring job says it measured. Written by ``mode: measure`` (untrusted: the PR's code ran
there), read by ``mode: comment``, which checks these claims against the trusted side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sizebot.documents.fields import Fields, integer, string
from sizebot.documents.report import SCHEMA, Report

MEASUREMENT_KEYS = ("pull_request", "comment_key")  # what a measurement adds to its report document

__all__ = ["MEASUREMENT_KEYS", "SCHEMA", "Measurement", "PullRequestRef"]


@dataclass(frozen=True)
class PullRequestRef:
    number: int
    base_sha: str
    head_sha: str

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "base_sha": self.base_sha, "head_sha": self.head_sha}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> PullRequestRef:
        f = Fields(obj, where, ("number", "base_sha", "head_sha"))
        return cls(f.get("number", lambda v, w: integer(v, w, minimum=1)), f.get("base_sha", string),
                   f.get("head_sha", string))


@dataclass(frozen=True)
class Measurement:
    report: Report
    pull_request: PullRequestRef  # claims of the measuring job: checked, never trusted
    comment_key: str

    def to_json(self) -> dict[str, Any]:
        return {**self.report.to_json(), "pull_request": self.pull_request.to_json(), "comment_key": self.comment_key}

    @classmethod
    def from_json(cls, obj: dict[str, Any], where: str = "measurement") -> Measurement:
        """Strict, like Report.from_json (DocumentError naming the bad value's place)."""
        report = Report.from_json({k: v for k, v in obj.items() if k not in MEASUREMENT_KEYS}, where)
        pr = PullRequestRef.from_json(obj.get("pull_request"), f"{where}.pull_request")
        return cls(report, pr, string(obj.get("comment_key"), f"{where}.comment_key"))
