"""The GitHub REST client: PyGithub pointed at ``base_url`` (GITHUB_API_URL for Enterprise), with
bounded retries and errors that say what to do.

Retries live in PyGithub's transport (a ``urllib3.Retry`` given to ``github.Github(retry=...)``), so
every request PyGithub makes, each page of a paginated list included, is retried alone: 5xx and
connection errors back off 1, 2, 4 ... s; a rate limit (403/429 with ``Retry-After``, or
``x-ratelimit-remaining: 0`` with ``x-ratelimit-reset``) waits as long as GitHub asks, unless that
is above ``max_wait``. Sleep and clock are injected so tests never wait. What is left after the
retries is a ``GithubException``; :meth:`GitHubClient.errors` turns it into our GitHubError kinds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import github
import requests
from github.GithubException import GithubException
from github.Repository import Repository
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from sizebot.errors import GitHubError

# Which permission a workflow must grant for each kind of endpoint (named in the error line).
_PERMISSION_HINTS = (
    ("/check-runs", "checks: write"),
    ("/statuses/", "statuses: write"),
    ("/comments", "pull-requests: write"),
    ("/contents/", "contents: read"),
)


class GitHubPermissionError(GitHubError):
    """403/401 that is not a rate limit: the token lacks a permission (a fork's read-only token)."""

    def __init__(self, message: str, *, permission: str | None = None, status: int = 403):
        self.permission = permission
        self.status = status
        super().__init__(message)


class GitHubValidationError(GitHubError):
    """422: GitHub refused the payload (e.g. a comment body over 65,536 characters)."""


@dataclass
class RetryPolicy:
    """Bounded retries: at most ``attempts`` tries, no single wait above ``max_wait`` seconds."""

    attempts: int = 4
    backoff: float = 1.0  # 1, 2, 4 ... seconds on 5xx
    max_wait: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep)
    clock: Callable[[], float] = field(default=time.time)


def permission_for(path: str) -> str:
    for needle, perm in _PERMISSION_HINTS:
        if needle in path:
            return perm
    return "contents: read"


def rate_limit_wait(status: int, headers: Mapping[str, str], policy: RetryPolicy) -> float | None:
    """Seconds GitHub asks us to wait when this answer is a rate limit; None when it is not one
    (a 403 without these headers is a missing permission)."""
    if status not in (403, 429):
        return None
    h = {k.lower(): v for k, v in headers.items()}
    if "retry-after" in h:  # secondary rate limit
        try:
            return max(0.0, float(h["retry-after"]))
        except ValueError:
            return policy.backoff
    if h.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in h:  # primary: until the reset
        try:
            # +1: the reset happens somewhere within that second
            return max(0.0, float(h["x-ratelimit-reset"]) - policy.clock()) + 1.0
        except ValueError:
            return policy.backoff
    if status == 429:
        return policy.backoff
    return None


class _Retry(Retry):
    """urllib3's retry with GitHub's rules and the policy's sleep. Every verb is retried, POST and
    PATCH too: a 5xx or rate limit on a write almost always means it was not applied, and losing the
    comment is worse than a rare duplicate. Giving up returns the last answer
    (``raise_on_status=False``) so PyGithub raises its GithubException with status, body, headers."""

    def __init__(self, *, policy: RetryPolicy, wait: float = 0.0, **kw: Any):
        self.policy = policy
        self.wait = wait
        kw.setdefault("total", max(0, policy.attempts - 1))
        kw.setdefault("status_forcelist", frozenset([403, 429, *range(500, 600)]))
        kw.setdefault("allowed_methods", None)  # every verb
        kw.setdefault("raise_on_status", False)
        kw.setdefault("backoff_factor", 0)  # waits are ours, see increment
        super().__init__(**kw)

    def new(self, **kw: Any) -> _Retry:
        kw.setdefault("policy", self.policy)
        return super().new(**kw)

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> _Retry:
        policy = self.policy
        wait = None
        if response is not None and response.status in (403, 429):
            wait = rate_limit_wait(response.status, response.headers, policy)
            if wait is None or wait > policy.max_wait:  # a permission error, or too long a wait: give up now
                raise MaxRetryError(_pool, url or "", error)
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        if wait is None:  # 5xx or a connection error: exponential backoff
            wait = min(policy.max_wait, policy.backoff * 2 ** (len(new.history) - 1))
        new.wait = wait
        return new

    def sleep(self, response: Any = None) -> None:
        if self.wait > 0:
            self.policy.sleep(self.wait)


class GitHubClient:
    """A ``github.Github`` for ``base_url`` and ``token``; ``errors()`` wraps each call."""

    def __init__(self, base_url: str, token: str | None, *, retry: RetryPolicy | None = None,
                 timeout: int = 30, per_page: int = 100):
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.github = github.Github(
            base_url=self.base_url,
            auth=github.Auth.Token(token) if token else None,
            retry=_Retry(policy=self.retry),
            timeout=timeout,
            per_page=per_page,
            user_agent="sizebot",
            # lazy: objects named by URL (repo, issue, commit) cost no request until one is needed
            lazy=True,
            # PyGithub's own spacing sleeps in-process without our clock; a run makes at most a few
            # writes, and a secondary rate limit answered anyway is waited out by _Retry.
            seconds_between_requests=None,
            seconds_between_writes=None,
        )

    def repo(self, full_name: str) -> Repository:
        """The repository by name, without a request (lazy)."""
        return self.github.get_repo(full_name)

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    @contextmanager
    def errors(self, method: str, path: str) -> Iterator[None]:
        """Turn what PyGithub raises inside the block into GitHubError kinds; ``method`` and
        ``path`` name the call in the message and choose the permission to name on a 403."""
        try:
            yield
        except GithubException as exc:
            raise self._error(method, path, exc) from None
        except requests.RequestException as exc:  # connection errors left after the retries
            raise GitHubError(f"{method} {self._url(path)}: cannot connect ({exc.__class__.__name__})") from None

    def _error(self, method: str, path: str, exc: GithubException) -> GitHubError:
        url = self._url(path)
        status = int(exc.status or 0)
        data = exc.data
        message = data.get("message", "") if isinstance(data, dict) else str(data or "")[:200]
        message = " ".join(str(message).split())
        headers = {k.lower(): str(v) for k, v in (exc.headers or {}).items()}
        wait = rate_limit_wait(status, headers, self.retry)
        if wait is not None:
            why = (f"wait {wait:.0f}s exceeds the {self.retry.max_wait:.0f}s limit" if wait > self.retry.max_wait
                   else f"still limited after {self.retry.attempts} attempts")
            return GitHubError(f"{method} {url}: rate limited ({why})")
        if status == 401:  # no permission would help: the credential itself is refused
            return GitHubPermissionError(
                f"{method} {url}: HTTP 401 {message!r}: the token is missing, expired or invalid; "
                "check the action's github-token input", permission=None, status=401)
        if status == 403:
            accepted = headers.get("x-accepted-github-permissions", "")
            perm = permission_for(path)
            return GitHubPermissionError(
                f"{method} {url}: HTTP {status} {message!r}: the token lacks a permission; "
                f"add `permissions: {perm}` to the workflow"
                + (f" (GitHub accepts: {accepted})" if accepted else ""),
                permission=perm, status=status)
        if status == 422:
            details = [" ".join(str(e.get("message", "")).split()) for e in (data or {}).get("errors") or []
                       if isinstance(e, dict) and e.get("message")] if isinstance(data, dict) else []
            return GitHubValidationError(f"{method} {url}: HTTP 422 {message!r}"
                                         + (f": {'; '.join(details)}" if details else ""))
        if status >= 500:
            return GitHubError(f"{method} {url}: HTTP {status} after {self.retry.attempts} attempts")
        return GitHubError(f"{method} {url}: HTTP {status} {message!r}")

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """One GET through PyGithub's requester (same retries and errors), for the raw JSON."""
        with self.errors("GET", path):
            _, data = self.github.requester.requestJsonAndCheck("GET", path, parameters=params)
        return data
