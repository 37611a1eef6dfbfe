"""Which pull request a workflow run measured, asked of GitHub rather than of the measurement file.

A fork's ``workflow_run`` payload lists no pull requests, so the open pull requests whose head is
the run's branch in the run's head repository are listed, and only those whose head commit is
the run's ``head_sha`` are kept: the answer comes from GitHub, whatever the measured job wrote."""

from __future__ import annotations

from typing import Any

from sizebot.github.client import GitHubClient
from sizebot.github.event import WorkflowRunEvent


def pulls_of_run(client: GitHubClient, repo: str, run: WorkflowRunEvent) -> tuple[int, ...]:
    """The numbers of ``repo``'s pull requests whose head is ``run.head_sha``."""
    if run.pull_requests:
        return run.pull_requests
    if not (run.head_owner and run.head_branch):
        return ()
    numbers = []
    path = f"/repos/{repo}/pulls"
    pulls = client.repo(repo).get_pulls(state="open", head=f"{run.head_owner}:{run.head_branch}")
    with client.errors("GET", path):
        for pull in pulls:
            if pull.head.sha == run.head_sha:
                numbers.append(int(pull.number))
    return tuple(numbers)


def get_pull(client: GitHubClient, repo: str, number: int) -> dict[str, Any]:
    data = client.get_json(f"/repos/{repo}/pulls/{number}")
    return data if isinstance(data, dict) else {}
