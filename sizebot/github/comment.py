"""The sticky comment: one per (pull request, key), found by its marker among OUR comments.

Our identity: ``GET /user``. A workflow's GITHUB_TOKEN is an installation token and /user answers
403 for it; then we are the app user ``github-actions[bot]`` (type ``Bot``), which is who posts with
that token. A comment with our marker written by anyone else is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sizebot.errors import GitHubError
from sizebot.github.client import GitHubClient, GitHubValidationError
from sizebot.render.comment import is_sizebot_comment

ACTIONS_BOT = "github-actions[bot]"


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
        user = client.get_json("/user")
        return Identity(str(user["login"]), str(user.get("type", "User")))
    except GitHubError:  # installation token (GITHUB_TOKEN): /user is 403
        return Identity(ACTIONS_BOT, "Bot")


def _is_ours(comment: dict[str, Any], me: Identity, key: str) -> bool:
    user = comment.get("user") or {}
    if user.get("login") != me.login:
        return False
    if me.type == "Bot" and user.get("type") != "Bot":
        return False
    return is_sizebot_comment(comment.get("body") or "", key)


def find_comment(client: GitHubClient, repo: str, number: int, key: str, me: Identity) -> dict[str, Any] | None:
    for comment in client.paginate(f"/repos/{repo}/issues/{number}/comments"):
        if _is_ours(comment, me, key):
            return comment
    return None


def upsert_comment(client: GitHubClient, repo: str, number: int, key: str, body: str | Any,
                   *, shorter: Any = None) -> CommentResult:
    """Create the comment once, then update it in place. ``body`` is the text; ``shorter`` (optional)
    gives a smaller body when GitHub answers 422 (too long): tried once."""
    me = whoami(client)
    existing = find_comment(client, repo, number, key, me)

    def send(text: str) -> dict[str, Any]:
        if existing:
            return client.patch_json(f"/repos/{repo}/issues/comments/{existing['id']}", {"body": text})
        return client.post_json(f"/repos/{repo}/issues/{number}/comments", {"body": text})

    try:
        data = send(body)
    except GitHubValidationError:
        if shorter is None:
            raise
        data = send(shorter())
    return CommentResult(int(data["id"]), str(data.get("html_url") or data.get("url") or ""), existing is None)
