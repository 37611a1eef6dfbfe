"""A fake GitHub REST API on 127.0.0.1 for tests (ThreadingHTTPServer in a thread).

Answers in GitHub's JSON shapes: /user, repos/O/R, pulls/N, issue comments (list with ``Link``
pagination, per_page default 30; create; update), statuses, check-runs. Faults are scripted per
route as a queue: each request to a route pops the next fault, if any. Every request is recorded.
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DOCS = "https://docs.github.com/rest"


@dataclass
class Fault:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def server_error() -> Fault:
    return Fault(502, {"message": "Server Error"})


def rate_limited(reset: int) -> Fault:
    return Fault(403, {"message": "API rate limit exceeded for installation ID 1.",
                       "documentation_url": f"{DOCS}/overview/resources-in-the-rest-api#rate-limiting"},
                 {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset), "x-ratelimit-limit": "5000"})


def secondary_limited(retry_after: int) -> Fault:
    return Fault(429, {"message": "You have exceeded a secondary rate limit."}, {"Retry-After": str(retry_after)})


def forbidden(permissions: str) -> Fault:
    return Fault(403, {"message": "Resource not accessible by integration",
                       "documentation_url": f"{DOCS}/issues/comments#create-an-issue-comment", "status": "403"},
                 {"x-accepted-github-permissions": permissions})


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


class FakeGitHub:
    """State and routes. ``login``/``user_type`` are who the token is; ``user_403`` mimics an
    installation token (GET /user answers 403)."""

    def __init__(self, repo: str = "octo/app", *, login: str = "github-actions[bot]", user_type: str = "Bot",
                 user_403: bool = True):
        self.repo = repo
        self.login, self.user_type, self.user_403 = login, user_type, user_403
        self.pulls: dict[int, dict[str, Any]] = {}
        self.comments: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        self.check_runs: list[dict[str, Any]] = []
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.requests: list[Request] = []
        self._next_id = 1000
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- scripting --------------------------------------------------------------------------
    def add_pull(self, number: int, base_sha: str, head_sha: str, *, base_ref: str = "main",
                 head_ref: str = "feature") -> None:
        self.pulls[number] = {"number": number, "state": "open",
                              "base": {"sha": base_sha, "ref": base_ref, "repo": {"full_name": self.repo}},
                              "head": {"sha": head_sha, "ref": head_ref, "repo": {"full_name": self.repo}}}

    def add_comment(self, number: int, body: str, *, login: str, user_type: str = "User") -> dict[str, Any]:
        with self._lock:
            return self._new_comment(number, body, login, user_type)

    def fault(self, route: str, *faults: Fault) -> None:
        """route: 'user', 'pull', 'comments.list', 'comments.create', 'comments.update', 'statuses', 'check-runs'."""
        self.faults[route].extend(faults)

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments if c["_issue"] == number]

    # -- server -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _do(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                parts = urlsplit(self.path)
                req = Request(self.command, parts.path, parse_qs(parts.query), body, dict(self.headers))
                with fake._lock:
                    fake.requests.append(req)
                    status, data, headers = fake.handle(req)
                out = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(out)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PATCH = _do

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # -- routes -----------------------------------------------------------------------------
    def _new_comment(self, number: int, body: str, login: str, user_type: str) -> dict[str, Any]:
        self._next_id += 1
        cid = self._next_id
        c = {"id": cid, "body": body, "_issue": number,
             "user": {"login": login, "type": user_type, "id": 41898282 if user_type == "Bot" else 1},
             "html_url": f"https://github.com/{self.repo}/pull/{number}#issuecomment-{cid}",
             "url": f"{self.url if self._server else ''}/repos/{self.repo}/issues/comments/{cid}"}
        self.comments.append(c)
        return c

    @staticmethod
    def _public(c: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in c.items() if not k.startswith("_")}

    def handle(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        route, m = self._route(req)
        if route is None:
            return 404, {"message": "Not Found", "documentation_url": DOCS}, {}
        if self.faults[route]:
            f = self.faults[route].popleft()
            return f.status, f.body, f.headers
        return getattr(self, "_r_" + route.replace(".", "_").replace("-", "_"))(req, m)

    def _route(self, req: Request) -> tuple[str | None, re.Match | None]:
        r = re.escape(self.repo)
        table = [
            ("GET", r"/user", "user"),
            ("GET", rf"/repos/{r}/pulls/(\d+)", "pull"),
            ("GET", rf"/repos/{r}/issues/(\d+)/comments", "comments.list"),
            ("POST", rf"/repos/{r}/issues/(\d+)/comments", "comments.create"),
            ("PATCH", rf"/repos/{r}/issues/comments/(\d+)", "comments.update"),
            ("POST", rf"/repos/{r}/statuses/([0-9a-f]{{40}})", "statuses"),
            ("POST", rf"/repos/{r}/check-runs", "check-runs"),
        ]
        for method, pattern, name in table:
            m = re.fullmatch(pattern, req.path)
            if m and method == req.method:
                return name, m
        return None, None

    def _r_user(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        if self.user_403:
            return 403, {"message": "Resource not accessible by integration", "documentation_url": DOCS}, {}
        return 200, {"login": self.login, "type": self.user_type, "id": 1}, {}

    def _r_pull(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        pr = self.pulls.get(int(m.group(1)))
        return (200, pr, {}) if pr else (404, {"message": "Not Found"}, {})

    def _r_comments_list(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        number = int(m.group(1))
        per_page = int(req.query.get("per_page", ["30"])[0])
        page = int(req.query.get("page", ["1"])[0])
        items = self.comments_on(number)
        chunk = items[(page - 1) * per_page: page * per_page]
        headers = {}
        last = max(1, -(-len(items) // per_page))
        base = f"{self.url}{req.path}?per_page={per_page}"
        links = []
        if page < last:
            links.append(f'<{base}&page={page + 1}>; rel="next"')
            links.append(f'<{base}&page={last}>; rel="last"')
        if page > 1:
            links.append(f'<{base}&page={page - 1}>; rel="prev"')
            links.append(f'<{base}&page=1>; rel="first"')
        if links:
            headers["Link"] = ", ".join(links)
        return 200, [self._public(c) for c in chunk], headers

    def _too_long(self, body: str) -> tuple[int, Any, dict[str, str]] | None:
        if len(body) > 65536:
            return 422, {"message": "Validation Failed",
                         "errors": [{"resource": "IssueComment", "code": "unprocessable", "field": "data",
                                     "message": "Body is too long (maximum is 65536 characters)"}],
                         "documentation_url": f"{DOCS}/issues/comments#create-an-issue-comment",
                         "status": "422"}, {}
        return None

    def _r_comments_create(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        body = (req.body or {}).get("body", "")
        if err := self._too_long(body):
            return err
        c = self._new_comment(int(m.group(1)), body, self.login, self.user_type)
        return 201, self._public(c), {}

    def _r_comments_update(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        body = (req.body or {}).get("body", "")
        if err := self._too_long(body):
            return err
        for c in self.comments:
            if c["id"] == int(m.group(1)):
                c["body"] = body
                return 200, self._public(c), {}
        return 404, {"message": "Not Found"}, {}

    def _r_statuses(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        s = dict(req.body or {}, sha=m.group(1), id=len(self.statuses) + 1)
        if len(s.get("description") or "") > 140:
            return 422, {"message": "Validation Failed"}, {}
        self.statuses.append(s)
        return 201, s, {}

    def _r_check_runs(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        c = dict(req.body or {}, id=len(self.check_runs) + 1,
                 html_url=f"https://github.com/{self.repo}/runs/{len(self.check_runs) + 1}")
        self.check_runs.append(c)
        return 201, c, {}
