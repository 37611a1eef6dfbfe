"""The pull_request event payload (GITHUB_EVENT_PATH) -> what the action needs. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sizebot.documents.jsonfile import parse_json, read_regular_file
from sizebot.errors import SizebotError

MAX_EVENT_BYTES = 25 * 1024 * 1024  # GitHub's payloads are capped at 25 MB


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
    (push, workflow_run) that carry no ``pull_request`` object. Every field is type-checked: a
    payload of the wrong shape is one line naming the field, and the SHAs reach git only as hex."""
    pr = payload.get("pull_request")
    if pr is None:
        return None
    if not isinstance(pr, dict):
        raise SizebotError("pull_request is not an object", path=source)
    sides = {}
    for side in ("base", "head"):
        obj = pr.get(side)
        if not isinstance(obj, dict):
            raise SizebotError(f"pull_request.{side} is {_shown(obj)}, not an object", path=source)
        ref = obj.get("ref")
        if not isinstance(ref, str):
            raise SizebotError(f"pull_request.{side}.ref is {_shown(ref)}, not a string", path=source)
        repo_obj = obj.get("repo")
        if repo_obj is not None and not isinstance(repo_obj, dict):
            raise SizebotError(f"pull_request.{side}.repo is {_shown(repo_obj)}, not an object", path=source)
        sides[side] = (checked_sha(obj.get("sha"), what=f"pull_request.{side}.sha", source=source), ref,
                       repo_obj or {})
    number = pr.get("number", payload.get("number"))
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise SizebotError(f"pull_request.number is {_shown(number)}, not a pull request number", path=source)
    labels = pr.get("labels") or []
    if not isinstance(labels, list):
        raise SizebotError(f"pull_request.labels is {_shown(labels)}, not a list", path=source)
    names = []
    for i, label in enumerate(labels):
        name = label.get("name") if isinstance(label, dict) else None
        if not isinstance(name, str):
            raise SizebotError(f"pull_request.labels[{i}] is {_shown(label)}, not a label object with a name",
                               path=source)
        names.append(name)
    (base_sha, base_ref, base_repo_obj), (head_sha, head_ref, head_repo_obj) = sides["base"], sides["head"]
    payload_repo = payload.get("repository")
    head_repo = head_repo_obj.get("full_name")
    base_repo = base_repo_obj.get("full_name") or (
        payload_repo.get("full_name") if isinstance(payload_repo, dict) else None)
    return PullRequestEvent(
        number=number, base_sha=base_sha, base_ref=base_ref, head_sha=head_sha, head_ref=head_ref,
        labels=tuple(names),
        # a deleted fork has head.repo null: still a fork
        fork=bool(head_repo_obj.get("fork")) or head_repo is None or head_repo != base_repo,
        repo=base_repo if isinstance(base_repo, str) else None,
    )


def load_event(path: str | Path) -> dict[str, Any]:
    """The event payload: GitHub writes it, but a forged or broken one must still be one line; the
    runner writes a regular file, so a symbolic link in its place is refused, not followed."""
    where = str(path)
    data = parse_json(read_regular_file(path, max_bytes=MAX_EVENT_BYTES,
                                        untrusted_below=Path(path).absolute().parent), where=where)
    if not isinstance(data, dict):
        raise SizebotError("the event payload is not a JSON object", path=where)
    return data


SHA_RE = re.compile(r"[0-9a-f]{40}")


def checked_sha(value: Any, *, what: str, source: str) -> str:
    """A commit SHA taken from an event: 40 lowercase hex digits, nothing else (it reaches git's argv)."""
    if not isinstance(value, str) or not SHA_RE.fullmatch(value):
        raise SizebotError(f"{what} is {_shown(value)}, not a 40-digit commit SHA", path=source)
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class WorkflowRunEvent:
    """What the comment stage trusts: GitHub wrote this payload, not the pull request's job."""

    run_id: int | None
    event: str  # the event that triggered the measuring run ("pull_request")
    head_sha: str  # the commit the measuring run checked out and measured
    head_branch: str | None
    head_owner: str | None  # the owner of the head repository (a fork's owner)
    pull_requests: tuple[int, ...]  # this repository's PRs GitHub lists for the run (empty for forks)


def parse_workflow_run(payload: dict[str, Any], *, repo: str, source: str = "event") -> WorkflowRunEvent | None:
    """The ``workflow_run`` object of a workflow_run payload; None when the payload has none.

    ``pull_requests`` keeps only entries of ``repo`` (GitHub also lists pull requests of other
    repositories whose head is the same branch) whose head is the run's head commit."""
    run = payload.get("workflow_run")
    if run is None:
        return None
    if not isinstance(run, dict):
        raise SizebotError("workflow_run is not an object", path=source)
    head_sha = checked_sha(run.get("head_sha"), what="workflow_run.head_sha", source=source)
    prs = run.get("pull_requests")
    if prs is None:
        prs = []
    if not isinstance(prs, list):
        raise SizebotError("workflow_run.pull_requests is not a list", path=source)
    numbers: list[int] = []
    for i, entry in enumerate(prs):
        where = f"workflow_run.pull_requests[{i}]"
        if not isinstance(entry, dict):
            raise SizebotError(f"{where} is not an object", path=source)
        number = entry.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise SizebotError(f"{where}.number is {_shown(number)}, not a pull request number", path=source)
        base_url = _get(entry, "base", "repo", "url")
        if isinstance(base_url, str) and not base_url.rstrip("/").lower().endswith(f"/repos/{repo}".lower()):
            continue  # a pull request of another repository
        entry_head = _get(entry, "head", "sha")
        if entry_head is not None and entry_head != head_sha:
            continue
        numbers.append(number)
    run_id = run.get("id")
    owner = _get(run, "head_repository", "owner", "login")
    branch = run.get("head_branch")
    event = run.get("event")
    return WorkflowRunEvent(
        run_id=run_id if isinstance(run_id, int) and not isinstance(run_id, bool) else None,
        event=event if isinstance(event, str) else "",
        head_sha=head_sha,
        head_branch=branch if isinstance(branch, str) and branch else None,
        head_owner=owner if isinstance(owner, str) and owner else None,
        pull_requests=tuple(dict.fromkeys(numbers)),
    )


def _get(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj
