"""A fake GitHub REST API on 127.0.0.1 for tests (ThreadingHTTPServer in a thread), for PyGithub.

Answers in GitHub's JSON shapes: /user, repos/O/R, pulls/N, issue comments (list with ``Link``
pagination, per_page default 30, max 100; create; update), statuses, check-runs; ``x-ratelimit-*``
headers on every answer. ``prefix`` serves the API under a path as GitHub Enterprise does
(``/api/v3``). Faults are scripted per route as a queue: each request to a route pops the next
fault, if any. Every request is recorded.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import urllib.parse
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DOCS = "https://docs.github.com/rest"
NOW = "2026-01-02T03:04:05Z"
RESET = 1_700_003_600  # the x-ratelimit-reset of ordinary answers


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
                 {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset), "x-ratelimit-limit": "5000",
                  "x-ratelimit-used": "5000"})


def secondary_limited(retry_after: int, status: int = 429) -> Fault:
    """GitHub answers a secondary rate limit with 403 or 429 and ``Retry-After``."""
    return Fault(status, {"message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                                     "before you try again.",
                          "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api"},
                 {"Retry-After": str(retry_after)})


def forbidden(permissions: str) -> Fault:
    return Fault(403, {"message": "Resource not accessible by integration",
                       "documentation_url": f"{DOCS}/issues/comments#create-an-issue-comment", "status": "403"},
                 {"x-accepted-github-permissions": permissions})


def validation_failed(resource: str, message: str, field_: str = "data") -> dict[str, Any]:
    return {"message": "Validation Failed",
            "errors": [{"resource": resource, "code": "unprocessable", "field": field_, "message": message}],
            "documentation_url": DOCS, "status": "422"}


@dataclass
class Request:
    method: str
    path: str  # without the prefix
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    """Remembers its open connections so that stopping can end them; a keep-alive connection's
    handler thread otherwise waits on it until its timeout."""

    daemon_threads = False  # tracked, so that server_close joins them (daemon handler threads are not)

    def __init__(self, *args: Any):
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            open_ = list(self._open)
        for conn in open_:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:  # closed by its handler meanwhile
                pass


class FakeGitHub:
    """State and routes. ``login``/``user_type`` are who the token is; ``user_403`` mimics an
    installation token (GET /user answers 403). ``token``: when set, any other credential gets 401."""

    def __init__(self, repo: str = "octo/app", *, login: str = "github-actions[bot]", user_type: str = "Bot",
                 user_403: bool = True, prefix: str = "", token: str | None = None):
        self.repo = repo
        self.login, self.user_type, self.user_403 = login, user_type, user_403
        self.prefix = prefix.rstrip("/")
        self.token = token
        self.pulls: dict[int, dict[str, Any]] = {}
        self.comments: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        self.check_runs: list[dict[str, Any]] = []
        self.files: dict[tuple[str, str], str] = {}  # (commit, path) -> text: GET contents
        self.commits: dict[str, str] = {}  # sha -> message: GET commits/SHA
        self.faults: dict[str, deque[Fault | None]] = defaultdict(deque)
        self.requests: list[Request] = []
        self.remaining = 5000
        self._next_id = 1000
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._serving: threading.Thread | None = None

    # -- scripting --------------------------------------------------------------------------
    def add_pull(self, number: int, base_sha: str, head_sha: str, *, base_ref: str = "main",
                 head_ref: str = "feature", head_repo: str | None = None, labels: tuple[str, ...] = ()) -> None:
        """``head_repo``: a fork's owner/name (the head branch lives there); default this repository."""
        api = f"{self.api}/repos/{self.repo}"
        head = self._repo() if head_repo is None else dict(
            self._repo(), full_name=head_repo, name=head_repo.split("/")[1], fork=True,
            owner=self._user(head_repo.split("/")[0], "User"), url=f"{self.api}/repos/{head_repo}")
        self.pulls[number] = {
            "url": f"{api}/pulls/{number}", "id": 5000 + number, "node_id": f"PR_{number}",
            "html_url": f"https://github.com/{self.repo}/pull/{number}", "number": number, "state": "open",
            "title": f"PR {number}", "user": self._user("octocat", "User"),
            "issue_url": f"{api}/issues/{number}", "comments_url": f"{api}/issues/{number}/comments",
            "statuses_url": f"{api}/statuses/{head_sha}",
            "labels": [{"id": 900 + i, "name": name, "color": "ededed"} for i, name in enumerate(labels)],
            "base": {"label": f"octo:{base_ref}", "sha": base_sha, "ref": base_ref, "repo": self._repo()},
            "head": {"label": f"{head['owner']['login']}:{head_ref}", "sha": head_sha, "ref": head_ref,
                     "repo": head},
            "created_at": NOW, "updated_at": NOW}

    def add_comment(self, number: int, body: str, *, login: str, user_type: str = "User") -> dict[str, Any]:
        with self._lock:
            return self._new_comment(number, body, login, user_type)

    def fault(self, route: str, *faults: Fault | None) -> None:
        """route: 'user', 'repo', 'pull', 'comments.list', 'comments.create', 'comments.update', 'statuses',
        'check-runs'. ``None`` in the queue: that request is answered normally (fault page 2, not page 1)."""
        self.faults[route].extend(faults)

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments if c["_issue"] == number]

    # -- server -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The API root, what GITHUB_API_URL would be."""
        assert self._server
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    @property
    def api(self) -> str:
        return self.url if self._server else f"https://api.github.com{self.prefix}"

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as PyGithub's pooled session expects
            disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall
            timeout = 60  # an idle keep-alive connection's thread ends by itself

            def log_message(self, *a: Any) -> None:
                pass

            def _do(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                parts = urlsplit(self.path)
                path = parts.path
                if fake.prefix and path.startswith(fake.prefix + "/"):
                    path = path[len(fake.prefix):]
                elif fake.prefix:
                    path = "/-outside-the-prefix" + path
                req = Request(self.command, path, parse_qs(parts.query), body, dict(self.headers))
                with fake._lock:
                    fake.requests.append(req)
                    status, data, headers = fake.handle(req)
                out = json.dumps(data).encode() if status != 204 else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(out)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PATCH = do_DELETE = _do

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._serving = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                         daemon=True)
        self._serving.start()
        return self

    def stop(self) -> None:
        """Stop serving and end every connection, kept-alive ones too: no thread of the server outlives
        this call (a later in-process test may need a process with one thread, e.g. to fork)."""
        if self._server:
            self._server.shutdown()
            if self._serving:
                self._serving.join()
            self._server.close_connections()
            self._server.server_close()  # joins the handler threads, which now read end-of-file

    # -- shapes -----------------------------------------------------------------------------
    def _user(self, login: str, user_type: str) -> dict[str, Any]:
        uid = 41898282 if login == "github-actions[bot]" else 1 + sum(map(ord, login))
        return {"login": login, "id": uid, "node_id": f"U_{uid}", "type": user_type, "site_admin": False,
                "url": f"{self.api}/users/{login}", "html_url": f"https://github.com/{login}"}

    def _repo(self) -> dict[str, Any]:
        owner, name = self.repo.split("/")
        return {"id": 1296269, "node_id": "R_1", "name": name, "full_name": self.repo, "private": False,
                "owner": self._user(owner, "Organization"), "html_url": f"https://github.com/{self.repo}",
                "url": f"{self.api}/repos/{self.repo}", "default_branch": "main", "fork": False}

    def _new_comment(self, number: int, body: str, login: str, user_type: str) -> dict[str, Any]:
        self._next_id += 1
        cid = self._next_id
        c = {"id": cid, "node_id": f"IC_{cid}", "body": body, "_issue": number,
             "user": self._user(login, user_type),
             "html_url": f"https://github.com/{self.repo}/pull/{number}#issuecomment-{cid}",
             "url": f"{self.api}/repos/{self.repo}/issues/comments/{cid}",
             "issue_url": f"{self.api}/repos/{self.repo}/issues/{number}",
             "author_association": "NONE", "created_at": NOW, "updated_at": NOW}
        self.comments.append(c)
        return c

    @staticmethod
    def _public(c: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in c.items() if not k.startswith("_")}

    # -- routes -----------------------------------------------------------------------------
    def handle(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        status, data, headers = self._answer(req)
        self.remaining = max(0, self.remaining - 1)
        rate = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": str(self.remaining),
                "x-ratelimit-reset": str(RESET), "x-ratelimit-used": str(5000 - self.remaining),
                "x-ratelimit-resource": "core", "X-GitHub-Media-Type": "github.v3; format=json"}
        return status, data, {**rate, **headers}  # a fault's own rate-limit headers win

    def _answer(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        if self.token is not None:
            auth = req.headers.get("Authorization", "")
            if auth not in (f"token {self.token}", f"Bearer {self.token}"):
                return 401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}, {}
        route, m = self._route(req)
        if route is None:
            return 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, {}
        f = self.faults[route].popleft() if self.faults[route] else None
        if f is not None:
            return f.status, f.body, f.headers
        return getattr(self, "_r_" + route.replace(".", "_").replace("-", "_"))(req, m)

    def _route(self, req: Request) -> tuple[str | None, re.Match | None]:
        r = re.escape(self.repo)
        table = [
            ("GET", r"/user", "user"),
            ("GET", rf"/repos/{r}", "repo"),
            ("GET", rf"/repos/{r}/pulls", "pulls"),
            ("GET", rf"/repos/{r}/pulls/(\d+)", "pull"),
            ("GET", rf"/repos/{r}/issues/(\d+)/comments", "comments.list"),
            ("POST", rf"/repos/{r}/issues/(\d+)/comments", "comments.create"),
            ("PATCH", rf"/repos/{r}/issues/comments/(\d+)", "comments.update"),
            ("POST", rf"/repos/{r}/statuses/([0-9a-f]{{40}})", "statuses"),
            ("POST", rf"/repos/{r}/check-runs", "check-runs"),
            ("GET", rf"/repos/{r}/contents/(.+)", "contents"),
            ("GET", rf"/repos/{r}/commits/([0-9a-f]{{40}})", "commit"),
        ]
        for method, pattern, name in table:
            m = re.fullmatch(pattern, req.path)
            if m and method == req.method:
                return name, m
        return None, None

    def _r_user(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        if self.user_403:
            return 403, {"message": "Resource not accessible by integration", "documentation_url": DOCS,
                         "status": "403"}, {}
        return 200, self._user(self.login, self.user_type), {}

    def _r_repo(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        return 200, self._repo(), {}

    def _r_pull(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        pr = self.pulls.get(int(m.group(1)))
        return (200, pr, {}) if pr else (404, {"message": "Not Found", "documentation_url": DOCS}, {})

    def _r_contents(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        """A file at ``?ref=SHA`` as GitHub answers it (base64 content), 404 when that commit lacks it."""
        path = urllib.parse.unquote(m.group(1))
        text = self.files.get((req.query.get("ref", [""])[0], path))
        if text is None:
            return 404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}, {}
        raw = text.encode()
        return 200, {"type": "file", "encoding": "base64", "size": len(raw), "name": path.rsplit("/", 1)[-1],
                     "path": path, "content": base64.b64encode(raw).decode(), "sha": "f" * 40}, {}

    def _r_commit(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        message = self.commits.get(m.group(1))
        if message is None:
            return 422, {"message": f"No commit found for SHA: {m.group(1)}", "documentation_url": DOCS}, {}
        return 200, {"sha": m.group(1), "commit": {"message": message}}, {}

    def _r_pulls(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        """Open pull requests, ``head=OWNER:BRANCH`` filtered as GitHub does (one page)."""
        head = req.query.get("head", [""])[0]
        state = req.query.get("state", ["open"])[0]
        items = [p for p in self.pulls.values() if (not head or p["head"]["label"] == head)
                 and state in ("all", p["state"])]
        return 200, items, {}

    def _r_comments_list(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        number = int(m.group(1))
        per_page = min(100, int(req.query.get("per_page", ["30"])[0]))
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

    @staticmethod
    def _comment_body(req: Request) -> tuple[str | None, tuple[int, Any, dict[str, str]] | None]:
        body = (req.body or {}).get("body") if isinstance(req.body, dict) else None
        if not isinstance(body, str):
            return None, (422, validation_failed("IssueComment", "body wasn't supplied.", "body"), {})
        if len(body) > 65536:
            return None, (422, validation_failed("IssueComment", "Body is too long (maximum is 65536 characters)"),
                          {})
        return body, None

    def _r_comments_create(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        body, err = self._comment_body(req)
        if err:
            return err
        c = self._new_comment(int(m.group(1)), body or "", self.login, self.user_type)
        return 201, self._public(c), {"Location": c["url"]}

    def _r_comments_update(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        body, err = self._comment_body(req)
        if err:
            return err
        for c in self.comments:
            if c["id"] == int(m.group(1)):
                c["body"] = body
                c["updated_at"] = NOW
                return 200, self._public(c), {}
        return 404, {"message": "Not Found", "documentation_url": DOCS}, {}

    def _r_statuses(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        p = req.body if isinstance(req.body, dict) else {}
        if p.get("state") not in ("error", "failure", "pending", "success"):
            return 422, validation_failed("Status", f"state is {p.get('state')!r}", "state"), {}
        if len(p.get("description") or "") > 140:
            return 422, validation_failed("Status", "description is too long (maximum is 140 characters)",
                                          "description"), {}
        sid = len(self.statuses) + 1
        s = {"url": f"{self.api}/repos/{self.repo}/statuses/{m.group(1)}", "id": sid, "node_id": f"SC_{sid}",
             "state": p["state"], "description": p.get("description"), "target_url": p.get("target_url"),
             "context": p.get("context", "default"), "created_at": NOW, "updated_at": NOW,
             "creator": self._user(self.login, self.user_type), "sha": m.group(1)}
        self.statuses.append(s)
        return 201, s, {}

    def _r_check_runs(self, req: Request, m: re.Match) -> tuple[int, Any, dict[str, str]]:
        p = req.body if isinstance(req.body, dict) else {}
        if not p.get("name") or not re.fullmatch(r"[0-9a-f]{40}", str(p.get("head_sha"))):
            return 422, validation_failed("CheckRun", "name and head_sha are required", "head_sha"), {}
        if p.get("status") == "completed" and p.get("conclusion") not in (
                "action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"):
            return 422, validation_failed("CheckRun", "conclusion is required when status is completed",
                                          "conclusion"), {}
        rid = len(self.check_runs) + 1
        out = p.get("output") or {}
        c = {"id": rid, "node_id": f"CR_{rid}", "name": p["name"], "head_sha": p["head_sha"],
             "status": p.get("status", "queued"), "conclusion": p.get("conclusion"),
             "url": f"{self.api}/repos/{self.repo}/check-runs/{rid}",
             "html_url": f"https://github.com/{self.repo}/runs/{rid}", "details_url": p.get("details_url"),
             "started_at": NOW, "completed_at": NOW if p.get("status") == "completed" else None,
             "output": {"title": out.get("title"), "summary": out.get("summary"), "text": out.get("text"),
                        "annotations_count": 0,
                        "annotations_url": f"{self.api}/repos/{self.repo}/check-runs/{rid}/annotations"},
             "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"}}
        self.check_runs.append(c)
        return 201, c, {}
