"""The sticky comment: one per (pull request, key), found by its marker among OUR comments.

The comment starts with a hidden marker naming its key, so the action finds and updates its own
comment; untrusted text in the report is escaped (``<`` never survives), so no name can forge one.

Our identity: ``GET /user``. A workflow's GITHUB_TOKEN is an installation token and /user answers
403 for it; then we are the app user ``github-actions[bot]`` (type ``Bot``), which is who posts with
that token. A comment with our marker written by anyone else is never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from github.IssueComment import IssueComment

from sizebot.documents.report import Report
from sizebot.errors import GitHubError
from sizebot.github.client import GitHubClient, GitHubValidationError
from sizebot.render.comment import COMMENT_LIMIT, comment_body, github_length, treemap_line

ACTIONS_BOT = "github-actions[bot]"
_KEY = re.compile(r"[A-Za-z0-9._-]{1,100}")


def comment_marker(key: str) -> str:
    """``<!-- sizebot:KEY -->``; KEY is letters, digits, ``.``, ``_``, ``-`` (ValueError otherwise)."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"comment key {key!r}: use 1-100 letters, digits, '.', '_' or '-'")
    return f"<!-- sizebot:{key} -->"


def is_sizebot_comment(body: str, key: str) -> bool:
    """True when ``body`` is our comment for ``key``: the marker is its first line. (The author is
    checked too, by _is_ours: anyone can type a marker at the start of their own comment.)"""
    marker = comment_marker(key)
    return body == marker or body.startswith(marker + "\n")


def build_comment(report: Report, key: str, *, limit: int = COMMENT_LIMIT, summary_url: str | None = None,
                  artifacts_url: str | None = None, html_artifact: str | None = None) -> str:
    """The sticky comment body: marker line, then the report, shortened to stay under ``limit``
    (GitHub's 65,536 characters by default, counted as UTF-16 units, minus a margin); with
    ``artifacts_url`` and ``html_artifact``, a last line linking to the treemap page."""
    head = comment_marker(key) + "\n\n"
    tail = treemap_line(artifacts_url, html_artifact) if artifacts_url and html_artifact else ""
    return head + comment_body(report, limit=limit, reserve=github_length(head) + github_length(tail),
                               summary_url=summary_url) + tail


@dataclass(frozen=True)
class Identity:
    login: str
    type: str  # "User" or "Bot"


@dataclass(frozen=True)
class CommentResult:
    id: int
    url: str
    created: bool


def whoami(client: GitHubClient) -> Identity:
    try:
        with client.errors("GET", "/user"):
            user = client.github.get_user()
            return Identity(str(user.login), str(user.type or "User"))
    except GitHubError:  # installation token (GITHUB_TOKEN): /user is 403
        return Identity(ACTIONS_BOT, "Bot")


def _is_ours(comment: IssueComment, me: Identity, key: str) -> bool:
    user = comment.user
    if user is None or user.login != me.login:
        return False
    if me.type == "Bot" and user.type != "Bot":
        return False
    return is_sizebot_comment(comment.body or "", key)


def find_comment(client: GitHubClient, repo: str, number: int, key: str, me: Identity) -> IssueComment | None:
    """Our comment with ``key``'s marker, looking through every page (PyGithub follows ``Link: next``)."""
    comments = client.repo(repo).get_issue(number).get_comments()
    with client.errors("GET", f"/repos/{repo}/issues/{number}/comments"):
        for comment in comments:
            if _is_ours(comment, me, key):
                return comment
    return None


def upsert_comment(client: GitHubClient, repo: str, number: int, key: str, body: str | Any,
                   *, shorter: Any = None) -> CommentResult:
    """Create the comment once, then update it in place. ``body`` is the text; ``shorter`` (optional)
    gives a smaller body when GitHub answers 422 (too long): tried once."""
    me = whoami(client)
    existing = find_comment(client, repo, number, key, me)

    def send(text: str) -> IssueComment:
        if existing is not None:
            with client.errors("PATCH", f"/repos/{repo}/issues/comments/{existing.id}"):
                existing.edit(text)
            return existing
        with client.errors("POST", f"/repos/{repo}/issues/{number}/comments"):
            return client.repo(repo).get_issue(number).create_comment(text)

    try:
        comment = send(body)
    except GitHubValidationError:
        if shorter is None:
            raise
        comment = send(shorter())
    return CommentResult(int(comment.id), str(comment.html_url or comment.url or ""), existing is None)
