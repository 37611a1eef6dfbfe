"""The verdict on the commit: a status ``sizebot/KEY``, and a check run when the token may create one."""

from __future__ import annotations

from dataclasses import dataclass

from github.GithubObject import NotSet

from sizebot.documents.verdict import Verdict
from sizebot.github.client import GitHubClient, GitHubPermissionError

# A verdict as GitHub's commit status state and check run conclusion.
_STATE: dict[str, str] = {Verdict.PASS: "success", Verdict.NEUTRAL: "success", Verdict.WARN: "success",
                          Verdict.FAIL: "failure", Verdict.ERROR: "error"}
_CONCLUSION: dict[str, str] = {Verdict.PASS: "success", Verdict.NEUTRAL: "neutral", Verdict.WARN: "neutral",
                               Verdict.FAIL: "failure", Verdict.ERROR: "failure"}
DESCRIPTION_LIMIT = 140


@dataclass(frozen=True)
class CheckResult:
    url: str | None
    note: str | None  # why no check run was made


def status_description(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def set_status(client: GitHubClient, repo: str, sha: str, key: str, verdict: str, description: str,
               target_url: str | None = None) -> dict:
    commit = client.repo(repo).get_commit(sha)
    with client.errors("POST", f"/repos/{repo}/statuses/{sha}"):
        status = commit.create_status(_STATE.get(verdict, "error"), target_url=target_url or NotSet,
                                      description=status_description(description), context=f"sizebot/{key}")
    return status.raw_data


def create_check_run(client: GitHubClient, repo: str, sha: str, key: str, verdict: str, title: str,
                     summary: str) -> CheckResult:
    """A completed check run; a 403 (GITHUB_TOKEN without ``checks: write``, a fork) is no error."""
    try:
        with client.errors("POST", f"/repos/{repo}/check-runs"):
            run = client.repo(repo).create_check_run(
                name=f"sizebot/{key}", head_sha=sha, status="completed",
                conclusion=_CONCLUSION.get(verdict, "neutral"),
                output={"title": status_description(title), "summary": summary[:65535]})
    except GitHubPermissionError:
        return CheckResult(None, "no check run: the token may not create one (add `permissions: checks: write`)")
    return CheckResult(run.html_url, None)
