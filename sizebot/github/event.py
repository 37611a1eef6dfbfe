"""The pull_request event payload (GITHUB_EVENT_PATH) -> what the action needs. Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sizebot.errors import SizebotError


@dataclass(frozen=True)
class PullRequestEvent:
    number: int
    base_sha: str
    base_ref: str
    head_sha: str  # the PR head commit, not GitHub's merge commit
    head_ref: str
    labels: tuple[str, ...]
    fork: bool
    repo: str | None  # owner/name of the base repository


def parse_event(payload: dict[str, Any], *, source: str = "event") -> PullRequestEvent | None:
    """The pull request of a ``pull_request``/``pull_request_target`` payload; None for other events
    (push, workflow_run) that carry no ``pull_request`` object."""
    pr = payload.get("pull_request")
    if not isinstance(pr, dict):
        return None
    try:
        base, head = pr["base"], pr["head"]
        head_repo = (head.get("repo") or {}).get("full_name")
        base_repo = (base.get("repo") or {}).get("full_name") or (payload.get("repository") or {}).get("full_name")
        return PullRequestEvent(
            number=int(pr.get("number") or payload["number"]),
            base_sha=str(base["sha"]), base_ref=str(base["ref"]),
            head_sha=str(head["sha"]), head_ref=str(head["ref"]),
            labels=tuple(str(lb.get("name", "")) for lb in pr.get("labels") or []),
            # a deleted fork has head.repo null: still a fork
            fork=bool((head.get("repo") or {}).get("fork")) or head_repo is None or head_repo != base_repo,
            repo=base_repo,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SizebotError(f"pull_request payload lacks {exc}", path=source) from None


def load_event(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SizebotError(f"cannot read the event payload: {exc}", path=str(path)) from None
    if not isinstance(data, dict):
        raise SizebotError("the event payload is not a JSON object", path=str(path))
    return data
