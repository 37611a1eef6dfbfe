"""A small GitHub REST client: base URL from the caller (GITHUB_API_URL for Enterprise), bounded retries.

Why not PyGithub's objects: the action needs four endpoints, exact control of the retry policy
(5xx, primary rate limit with ``x-ratelimit-reset``, secondary with ``Retry-After``) and an injected
sleep/clock so tests never wait; a thin ``requests`` session gives that with less surface.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from sizebot.errors import GitHubError

_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
# Which permission a workflow must grant for each kind of endpoint (named in the error line).
_PERMISSION_HINTS = (
    ("/check-runs", "checks: write"),
    ("/statuses/", "statuses: write"),
    ("/comments", "pull-requests: write"),
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


class GitHubClient:
    """JSON over HTTPS (or HTTP for a local fake) to ``base_url`` with ``token``."""

    def __init__(self, base_url: str, token: str | None, *, retry: RetryPolicy | None = None,
                 timeout: float = 30.0, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers.update({"Accept": "application/vnd.github+json",
                                     "X-GitHub-Api-Version": "2022-11-28",
                                     "User-Agent": "sizebot"})
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def _rate_limit_wait(self, resp: requests.Response) -> float | None:
        """Seconds to wait when ``resp`` is a rate limit, None when it is not one."""
        h = resp.headers
        if resp.status_code not in (403, 429):
            return None
        if "Retry-After" in h:
            try:
                return max(0.0, float(h["Retry-After"]))
            except ValueError:
                return self.retry.backoff
        if h.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in h:
            try:
                return max(0.0, float(h["x-ratelimit-reset"]) - self.retry.clock()) + 1.0
            except ValueError:
                return self.retry.backoff
        if resp.status_code == 429:
            return self.retry.backoff
        return None

    def request(self, method: str, path: str, *, json: Any = None,
                params: dict[str, Any] | None = None) -> requests.Response:
        """One call with retries on 5xx, connection errors and rate limits; raises GitHubError
        subclasses for everything else that is not 2xx."""
        url = self._url(path)
        policy = self.retry
        for attempt in range(1, policy.attempts + 1):
            last = attempt == policy.attempts
            try:
                resp = self.session.request(method, url, json=json, params=params, timeout=self.timeout)
            except requests.ConnectionError as exc:
                if last:
                    raise GitHubError(f"{method} {url}: cannot connect ({exc.__class__.__name__})") from None
                policy.sleep(min(policy.max_wait, policy.backoff * 2 ** (attempt - 1)))
                continue
            if resp.status_code < 400:
                return resp
            wait = self._rate_limit_wait(resp)
            if wait is not None:
                if last or wait > policy.max_wait:
                    raise GitHubError(f"{method} {url}: rate limited (wait {wait:.0f}s exceeds the retry budget)")
                policy.sleep(wait)
                continue
            if resp.status_code >= 500:
                if last:
                    raise GitHubError(f"{method} {url}: HTTP {resp.status_code} after {attempt} attempts")
                policy.sleep(min(policy.max_wait, policy.backoff * 2 ** (attempt - 1)))
                continue
            self._raise(method, url, path, resp)
        raise AssertionError("unreachable")  # pragma: no cover

    def _raise(self, method: str, url: str, path: str, resp: requests.Response) -> None:
        try:
            message = resp.json().get("message", "")
        except ValueError:
            message = resp.text[:200]
        message = " ".join(str(message).split())
        if resp.status_code in (401, 403):
            accepted = resp.headers.get("x-accepted-github-permissions", "")
            perm = permission_for(path)
            raise GitHubPermissionError(
                f"{method} {url}: HTTP {resp.status_code} {message!r}: the token lacks a permission; "
                f"add `permissions: {perm}` to the workflow"
                + (f" (GitHub accepts: {accepted})" if accepted else ""),
                permission=perm, status=resp.status_code)
        if resp.status_code == 422:
            raise GitHubValidationError(f"{method} {url}: HTTP 422 {message!r}")
        raise GitHubError(f"{method} {url}: HTTP {resp.status_code} {message!r}")

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params).json()

    def post_json(self, path: str, payload: Any) -> Any:
        return self.request("POST", path, json=payload).json()

    def patch_json(self, path: str, payload: Any) -> Any:
        return self.request("PATCH", path, json=payload).json()

    def paginate(self, path: str, *, per_page: int = 100) -> Iterator[Any]:
        """Every item of a list endpoint, following ``Link: rel="next"`` through every page."""
        url: str | None = path
        params: dict[str, Any] | None = {"per_page": per_page}
        while url:
            resp = self.request("GET", url, params=params)
            yield from resp.json()
            m = _NEXT.search(resp.headers.get("Link", ""))
            url, params = (m.group(1), None) if m else (None, None)
