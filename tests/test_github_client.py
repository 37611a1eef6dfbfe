"""The PyGithub-based client, sticky comment, status and check run against the fake GitHub server."""

from __future__ import annotations

import socket
import threading

import pytest

from sizebot.errors import GitHubError
from sizebot.github.client import (
    GitHubClient,
    GitHubPermissionError,
    GitHubValidationError,
    RetryPolicy,
    permission_for,
)
from sizebot.github.comment import ACTIONS_BOT, Identity, find_comment, upsert_comment, whoami
from sizebot.github.status import create_check_run, set_status, status_description
from tests.support import fake_github as fg

REPO = "octo/app"
SHA = "b" * 40
MARK = "<!-- sizebot:default -->\n\n"


class Clock:
    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


@pytest.fixture
def fake():
    f = fg.FakeGitHub(REPO, token="tok").start()
    yield f
    f.stop()


@pytest.fixture
def clock():
    return Clock()


def client_for(fake, clock, *, per_page: int = 100, token: str = "tok", **kw) -> GitHubClient:
    return GitHubClient(fake.url, token, retry=RetryPolicy(sleep=clock.sleep, clock=clock, **kw), per_page=per_page)


def list_pages(fake) -> list[str]:
    return [r.query.get("page", ["1"])[0] for r in fake.requests if r.path.endswith("/comments")
            and r.method == "GET"]


def test_token_sent_and_installation_identity(fake, clock):
    c = client_for(fake, clock)
    assert whoami(c) == Identity(ACTIONS_BOT, "Bot")  # GET /user is 403 for an installation token
    assert fake.requests[0].headers["Authorization"] == "token tok"
    assert fake.requests[0].headers["User-Agent"] == "sizebot"
    assert clock.slept == []  # a permission 403 is not retried
    fake.user_403 = False
    fake.login, fake.user_type = "alice", "User"
    assert whoami(c) == Identity("alice", "User")


def test_bad_token_is_one_clear_line(fake, clock):
    with pytest.raises(GitHubPermissionError) as err:
        set_status(client_for(fake, clock, token="wrong"), REPO, SHA, "default", "pass", "ok")
    assert err.value.status == 401 and "Bad credentials" in str(err.value) and "github-token" in str(err.value)
    assert "\n" not in str(err.value) and clock.slept == []


def test_create_then_update_never_duplicate(fake, clock):
    c = client_for(fake, clock)
    r1 = upsert_comment(c, REPO, 7, "default", MARK + "first")
    r2 = upsert_comment(c, REPO, 7, "default", MARK + "second")
    assert r1.created and not r2.created and r1.id == r2.id
    assert r1.url == r2.url == f"https://github.com/{REPO}/pull/7#issuecomment-{r1.id}"
    assert [x["body"] for x in fake.comments_on(7)] == [MARK + "second"]
    r3 = upsert_comment(c, REPO, 7, "linux", "<!-- sizebot:linux -->\n\nother key")
    assert r3.created and r3.id != r1.id
    assert len(fake.comments_on(7)) == 2
    assert [(r.method, r.path) for r in fake.requests[:6]] == [
        ("GET", "/user"), ("GET", f"/repos/{REPO}/issues/7/comments"), ("POST", f"/repos/{REPO}/issues/7/comments"),
        ("GET", "/user"), ("GET", f"/repos/{REPO}/issues/7/comments"),
        ("PATCH", f"/repos/{REPO}/issues/comments/{r1.id}")]
    assert fake.requests[3 + 2].body == {"body": MARK + "second"}


def test_marker_of_another_user_is_not_touched(fake, clock):
    c = client_for(fake, clock)
    forged = fake.add_comment(7, MARK + "fake", login="mallory")
    forged_bot = fake.add_comment(7, MARK + "other bot", login="renovate[bot]", user_type="Bot")
    # a user account named like the bot is not the bot
    forged_name = fake.add_comment(7, MARK + "user named like the bot", login=ACTIONS_BOT, user_type="User")
    r = upsert_comment(c, REPO, 7, "default", MARK + "real")
    assert r.created and r.id not in (forged["id"], forged_bot["id"], forged_name["id"])
    assert forged["body"].endswith("fake") and forged_bot["body"].endswith("other bot")
    assert forged_name["body"].endswith("like the bot")


def test_personal_token_identity_owns_its_comments(fake, clock):
    fake.user_403, fake.login, fake.user_type = False, "alice", "User"
    c = client_for(fake, clock)
    bot = fake.add_comment(7, MARK + "bot's", login=ACTIONS_BOT, user_type="Bot")
    r1 = upsert_comment(c, REPO, 7, "default", MARK + "alice 1")
    r2 = upsert_comment(c, REPO, 7, "default", MARK + "alice 2")
    assert r1.created and r2.id == r1.id != bot["id"] and bot["body"].endswith("bot's")


def test_marker_found_on_page_3_following_link(fake, clock):
    for i in range(65):
        fake.add_comment(7, f"chatter {i}", login="bob")
    ours = fake.add_comment(7, MARK + "old", login=ACTIONS_BOT, user_type="Bot")
    c = client_for(fake, clock, per_page=30)
    found = find_comment(c, REPO, 7, "default", whoami(c))
    assert found is not None and found.id == ours["id"]
    assert list_pages(fake) == ["1", "2", "3"]
    # pages 2 and 3 are the URLs of the Link headers, taken as they are (30 is GitHub's default: not sent)
    assert [r.query for r in fake.requests if r.path.endswith("/comments")] == [
        {}, {"per_page": ["30"], "page": ["2"]}, {"per_page": ["30"], "page": ["3"]}]
    r = upsert_comment(c, REPO, 7, "default", MARK + "new")
    assert not r.created and r.id == ours["id"] and ours["body"].endswith("new")
    assert len(fake.comments_on(7)) == 66


def test_default_page_size_100(fake, clock):
    for i in range(250):
        fake.add_comment(7, f"chatter {i}", login="bob")
    c = client_for(fake, clock)
    assert find_comment(c, REPO, 7, "default", whoami(c)) is None
    assert list_pages(fake) == ["1", "2", "3"]
    assert {r.query["per_page"][0] for r in fake.requests if r.path.endswith("/comments")} == {"100"}


def test_5xx_on_page_2_retries_that_page_only(fake, clock):
    for i in range(65):
        fake.add_comment(7, f"chatter {i}", login="bob")
    ours = fake.add_comment(7, MARK + "old", login=ACTIONS_BOT, user_type="Bot")
    fake.fault("comments.list", None, fg.server_error())
    c = client_for(fake, clock, per_page=30)
    assert find_comment(c, REPO, 7, "default", whoami(c)).id == ours["id"]
    assert list_pages(fake) == ["1", "2", "2", "3"] and clock.slept == [1.0]


def test_5xx_then_success_posts_once(fake, clock):
    fake.fault("comments.create", fg.server_error(), fg.server_error())
    c = client_for(fake, clock)
    upsert_comment(c, REPO, 7, "default", MARK + "x")
    assert len(fake.comments_on(7)) == 1
    assert clock.slept == [1.0, 2.0]


def test_5xx_on_update_retried(fake, clock):
    c = client_for(fake, clock)
    first = upsert_comment(c, REPO, 7, "default", MARK + "x")
    fake.fault("comments.update", fg.server_error())
    assert upsert_comment(c, REPO, 7, "default", MARK + "y").id == first.id
    assert fake.comments_on(7)[0]["body"].endswith("y") and clock.slept == [1.0]


def test_5xx_bounded(fake, clock):
    fake.fault("statuses", *[fg.server_error()] * 10)
    with pytest.raises(GitHubError, match="HTTP 502 after 4 attempts"):
        set_status(client_for(fake, clock), REPO, SHA, "default", "pass", "ok")
    assert clock.slept == [1.0, 2.0, 4.0] and len(fake.statuses) == 0
    assert len([r for r in fake.requests if "/statuses/" in r.path]) == 4


def test_backoff_capped_by_max_wait(fake, clock):
    fake.fault("statuses", *[fg.server_error()] * 10)
    with pytest.raises(GitHubError, match="after 6 attempts"):
        set_status(client_for(fake, clock, attempts=6, max_wait=5), REPO, SHA, "default", "pass", "ok")
    assert clock.slept == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_connection_refused_is_bounded(clock):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = GitHubClient(f"http://127.0.0.1:{port}", "tok", retry=RetryPolicy(sleep=clock.sleep, clock=clock))
    with pytest.raises(GitHubError, match=rf"POST http://127.0.0.1:{port}/repos/{REPO}/statuses/{SHA}: cannot connect"):
        set_status(c, REPO, SHA, "default", "pass", "ok")
    assert clock.slept == [1.0, 2.0, 4.0]


def test_rate_limit_reset_waits_on_injected_clock(fake, clock):
    fake.fault("comments.create", fg.rate_limited(int(clock.now) + 30))
    upsert_comment(client_for(fake, clock), REPO, 7, "default", MARK + "x")
    assert clock.slept == [31.0]
    assert len(fake.comments_on(7)) == 1


@pytest.mark.parametrize("status", [429, 403])
def test_secondary_rate_limit_retry_after(fake, clock, status):
    fake.fault("statuses", fg.secondary_limited(5, status))
    set_status(client_for(fake, clock), REPO, SHA, "default", "fail", "too big")
    assert clock.slept == [5.0]
    assert fake.statuses[0]["state"] == "failure" and fake.statuses[0]["context"] == "sizebot/default"


def test_429_without_headers_backs_off(fake, clock):
    fake.fault("check-runs", fg.Fault(429, {"message": "Too Many Requests"}))
    assert create_check_run(client_for(fake, clock), REPO, SHA, "default", "pass", "t", "s").url
    assert clock.slept == [1.0]


def test_rate_limit_too_long_is_an_error(fake, clock):
    fake.fault("statuses", fg.rate_limited(int(clock.now) + 3600))
    with pytest.raises(GitHubError, match=r"rate limited \(wait 3601s exceeds the 60s limit\)"):
        set_status(client_for(fake, clock, max_wait=60), REPO, SHA, "default", "pass", "ok")
    assert clock.slept == []


def test_rate_limit_that_persists_is_bounded(fake, clock):
    fake.fault("statuses", *[fg.secondary_limited(2)] * 10)
    with pytest.raises(GitHubError, match=r"rate limited \(still limited after 4 attempts\)"):
        set_status(client_for(fake, clock), REPO, SHA, "default", "pass", "ok")
    assert clock.slept == [2.0, 2.0, 2.0] and fake.statuses == []


def test_403_names_the_permission(fake, clock):
    fake.fault("comments.create", fg.forbidden("issues=write; pull_requests=write"))
    with pytest.raises(GitHubPermissionError) as err:
        upsert_comment(client_for(fake, clock), REPO, 7, "default", MARK + "x")
    assert str(err.value) == (
        f"POST {fake.url}/repos/{REPO}/issues/7/comments: HTTP 403 'Resource not accessible by integration': "
        "the token lacks a permission; add `permissions: pull-requests: write` to the workflow "
        "(GitHub accepts: issues=write; pull_requests=write)")
    assert err.value.permission == "pull-requests: write" and err.value.status == 403
    fake.fault("statuses", fg.forbidden("statuses=write"))
    with pytest.raises(GitHubPermissionError, match="statuses: write"):
        set_status(client_for(fake, clock), REPO, SHA, "default", "pass", "ok")
    assert clock.slept == [] and fake.comments_on(7) == [] and fake.statuses == []


def test_permission_for():
    assert permission_for(f"/repos/{REPO}/issues/comments/5") == "pull-requests: write"
    assert permission_for(f"/repos/{REPO}/statuses/{SHA}") == "statuses: write"
    assert permission_for(f"/repos/{REPO}/check-runs") == "checks: write"
    assert permission_for(f"/repos/{REPO}/pulls/3") == "contents: read"


def test_422_too_long_retried_smaller(fake, clock):
    c = client_for(fake, clock)
    big = MARK + "x" * 70000
    with pytest.raises(GitHubValidationError,
                       match=r"HTTP 422 'Validation Failed': Body is too long \(maximum is 65536 characters\)"):
        upsert_comment(c, REPO, 7, "default", big)
    r = upsert_comment(c, REPO, 7, "default", big, shorter=lambda: MARK + "short")
    assert r.created and fake.comments_on(7)[0]["body"].endswith("short")
    assert clock.slept == []


def test_status_payload(fake, clock):
    c = client_for(fake, clock)
    got = set_status(c, REPO, SHA, "linux", "warn", "warn:\n+12 bytes", target_url="https://example.test/run/1")
    assert fake.requests[-1].body == {"state": "success", "context": "sizebot/linux", "description": "warn: +12 bytes",
                                      "target_url": "https://example.test/run/1"}
    assert got["state"] == "success" and got["id"] == 1
    set_status(c, REPO, SHA, "default", "fail", "x" * 500)
    assert fake.requests[-1].body == {"state": "failure", "context": "sizebot/default", "description": "x" * 139 + "…"}
    assert [r.path for r in fake.requests] == [f"/repos/{REPO}/statuses/{SHA}"] * 2  # no extra GETs


def test_check_run_403_is_a_note(fake, clock):
    c = client_for(fake, clock)
    fake.fault("check-runs", fg.forbidden("checks=write"))
    res = create_check_run(c, REPO, SHA, "default", "warn", "t", "s")
    assert res.url is None and "checks: write" in res.note
    res = create_check_run(c, REPO, SHA, "default", "fail", "title", "summary")
    assert res.url == f"https://github.com/{REPO}/runs/1"
    assert fake.requests[-1].body == {"name": "sizebot/default", "head_sha": SHA, "status": "completed",
                                      "conclusion": "failure", "output": {"title": "title", "summary": "summary"}}


def test_status_description_limit():
    assert len(status_description("x" * 500)) == 140
    assert status_description("a\nb") == "a b"


def test_enterprise_base_url_with_path_prefix(clock):
    # GHES: GITHUB_API_URL is https://HOST/api/v3; every call and every Link page stays under it
    f = fg.FakeGitHub(REPO, prefix="/api/v3").start()
    try:
        assert f.url.endswith("/api/v3")
        f.add_pull(12, "a" * 40, SHA)
        for i in range(40):
            f.add_comment(12, f"chatter {i}", login="bob")
        c = client_for(f, clock, per_page=30)
        assert c.get_json(f"/repos/{REPO}/pulls/12")["head"]["sha"] == SHA
        r1 = upsert_comment(c, REPO, 12, "default", MARK + "one")
        r2 = upsert_comment(c, REPO, 12, "default", MARK + "two")
        assert r1.created and r2.id == r1.id
        set_status(c, REPO, SHA, "default", "pass", "ok")
        assert create_check_run(c, REPO, SHA, "default", "pass", "t", "s").url
        assert list_pages(f) == ["1", "2", "1", "2"]
        assert not [r.path for r in f.requests if r.path.startswith("/-outside-the-prefix")]
        with pytest.raises(GitHubError, match=r"GET .*/api/v3/repos/octo/app/pulls/99: HTTP 404 'Not Found'"):
            c.get_json(f"/repos/{REPO}/pulls/99")
    finally:
        f.stop()


def test_stop_leaves_no_thread_of_the_server(clock):
    # PyGithub keeps its connection open (keep-alive): stopping the server must end that connection's
    # handler thread too, or a later in-process test sees a second thread (the image pool forks only
    # from a process with one)
    before = set(threading.enumerate())
    f = fg.FakeGitHub(REPO).start()
    f.add_pull(12, "a" * 40, SHA)
    c = client_for(f, clock)
    assert c.get_json(f"/repos/{REPO}/pulls/12")["number"] == 12
    assert c.get_json(f"/repos/{REPO}/pulls/12")["number"] == 12  # the same kept-alive connection
    f.stop()
    assert [t.name for t in threading.enumerate() if t not in before] == []
