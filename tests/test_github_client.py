"""The REST client, sticky comment, status and check run against the fake GitHub server."""

from __future__ import annotations

import pytest

from sizebot.errors import GitHubError
from sizebot.github.client import (
    GitHubClient,
    GitHubPermissionError,
    GitHubValidationError,
    RetryPolicy,
)
from sizebot.github.comment import ACTIONS_BOT, upsert_comment, whoami
from sizebot.github.status import create_check_run, set_status, status_description
from tests.support import fake_github as fg

REPO = "octo/app"
SHA = "b" * 40


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
    f = fg.FakeGitHub(REPO).start()
    yield f
    f.stop()


@pytest.fixture
def clock():
    return Clock()


def client_for(fake, clock, **kw) -> GitHubClient:
    return GitHubClient(fake.url, "tok", retry=RetryPolicy(sleep=clock.sleep, clock=clock, **kw))


def test_token_sent_and_installation_identity(fake, clock):
    c = client_for(fake, clock)
    assert whoami(c).login == ACTIONS_BOT
    assert fake.requests[0].headers["Authorization"] == "Bearer tok"
    fake.user_403 = False
    fake.login, fake.user_type = "alice", "User"
    assert whoami(c).login == "alice"


def test_create_then_update_never_duplicate(fake, clock):
    c = client_for(fake, clock)
    r1 = upsert_comment(c, REPO, 7, "default", "<!-- sizebot:default -->\n\nfirst")
    r2 = upsert_comment(c, REPO, 7, "default", "<!-- sizebot:default -->\n\nsecond")
    assert r1.created and not r2.created and r1.id == r2.id
    assert [x["body"] for x in fake.comments_on(7)] == ["<!-- sizebot:default -->\n\nsecond"]
    r3 = upsert_comment(c, REPO, 7, "linux", "<!-- sizebot:linux -->\n\nother key")
    assert r3.created and r3.id != r1.id
    assert len(fake.comments_on(7)) == 2


def test_marker_of_another_user_is_not_touched(fake, clock):
    c = client_for(fake, clock)
    forged = fake.add_comment(7, "<!-- sizebot:default -->\n\nfake", login="mallory")
    forged_bot = fake.add_comment(7, "<!-- sizebot:default -->\n\nother bot", login="renovate[bot]", user_type="Bot")
    r = upsert_comment(c, REPO, 7, "default", "<!-- sizebot:default -->\n\nreal")
    assert r.created and r.id not in (forged["id"], forged_bot["id"])
    assert forged["body"].endswith("fake") and forged_bot["body"].endswith("other bot")


def test_marker_found_on_page_3(fake, clock):
    for i in range(65):
        fake.add_comment(7, f"chatter {i}", login="bob")
    ours = fake.add_comment(7, "<!-- sizebot:default -->\n\nold", login=ACTIONS_BOT, user_type="Bot")
    c = client_for(fake, clock)
    # per_page 30 like GitHub's default: our comment (66th) is on page 3
    got = list(c.paginate(f"/repos/{REPO}/issues/7/comments", per_page=30))
    assert len(got) == 66
    pages = [r for r in fake.requests if r.path.endswith("/comments")]
    assert [r.query.get("page", ["1"])[0] for r in pages] == ["1", "2", "3"]
    r = upsert_comment(c, REPO, 7, "default", "<!-- sizebot:default -->\n\nnew")
    assert not r.created and r.id == ours["id"] and ours["body"].endswith("new")
    assert len(fake.comments_on(7)) == 66


def test_5xx_then_success_posts_once(fake, clock):
    fake.fault("comments.create", fg.server_error(), fg.server_error())
    c = client_for(fake, clock)
    upsert_comment(c, REPO, 7, "default", "<!-- sizebot:default -->\n\nx")
    assert len(fake.comments_on(7)) == 1
    assert clock.slept == [1.0, 2.0]


def test_5xx_bounded(fake, clock):
    fake.fault("statuses", *[fg.server_error()] * 10)
    with pytest.raises(GitHubError, match="HTTP 502 after 4 attempts"):
        set_status(client_for(fake, clock), REPO, SHA, "default", "pass", "ok")
    assert len(clock.slept) == 3 and len(fake.statuses) == 0


def test_rate_limit_reset_waits_on_injected_clock(fake, clock):
    fake.fault("comments.create", fg.rate_limited(int(clock.now) + 30))
    upsert_comment(client_for(fake, clock), REPO, 7, "default", "<!-- sizebot:default -->\n\nx")
    assert clock.slept == [31.0]
    assert len(fake.comments_on(7)) == 1


def test_secondary_rate_limit_retry_after(fake, clock):
    fake.fault("statuses", fg.secondary_limited(5))
    set_status(client_for(fake, clock), REPO, SHA, "default", "fail", "too big")
    assert clock.slept == [5.0]
    assert fake.statuses[0]["state"] == "failure" and fake.statuses[0]["context"] == "sizebot/default"


def test_rate_limit_too_long_is_an_error(fake, clock):
    fake.fault("statuses", fg.rate_limited(int(clock.now) + 3600))
    with pytest.raises(GitHubError, match="rate limited"):
        set_status(client_for(fake, clock, max_wait=60), REPO, SHA, "default", "pass", "ok")
    assert clock.slept == []


def test_403_names_the_permission(fake, clock):
    fake.fault("comments.create", fg.forbidden("issues=write; pull_requests=write"))
    with pytest.raises(GitHubPermissionError) as err:
        upsert_comment(client_for(fake, clock), REPO, 7, "default", "<!-- sizebot:default -->\n\nx")
    assert "permissions: pull-requests: write" in str(err.value)
    assert "\n" not in str(err.value)
    fake.fault("statuses", fg.forbidden("statuses=write"))
    with pytest.raises(GitHubPermissionError, match="statuses: write"):
        set_status(client_for(fake, clock), REPO, SHA, "default", "pass", "ok")


def test_422_too_long_retried_smaller(fake, clock):
    c = client_for(fake, clock)
    big = "<!-- sizebot:default -->\n\n" + "x" * 70000
    with pytest.raises(GitHubValidationError, match="Validation Failed"):
        upsert_comment(c, REPO, 7, "default", big)
    r = upsert_comment(c, REPO, 7, "default", big, shorter=lambda: "<!-- sizebot:default -->\n\nshort")
    assert r.created and fake.comments_on(7)[0]["body"].endswith("short")


def test_check_run_403_is_a_note(fake, clock):
    c = client_for(fake, clock)
    fake.fault("check-runs", fg.forbidden("checks=write"))
    res = create_check_run(c, REPO, SHA, "default", "warn", "t", "s")
    assert res.url is None and "checks: write" in res.note
    res = create_check_run(c, REPO, SHA, "default", "fail", "t", "s")
    assert res.url and fake.check_runs[0]["conclusion"] == "failure"
    assert fake.check_runs[0]["head_sha"] == SHA


def test_status_description_limit():
    assert len(status_description("x" * 500)) == 140
    assert status_description("a\nb") == "a b"


def test_base_url_with_path_prefix_enterprise(fake, clock):
    # GHES: https://HOST/api/v3 -> paths are appended to the prefix
    c = GitHubClient(fake.url + "/api/v3", None, retry=RetryPolicy(sleep=clock.sleep, clock=clock))
    with pytest.raises(GitHubError, match="HTTP 404"):
        c.get_json("/user")
    assert fake.requests[-1].path == "/api/v3/user"
