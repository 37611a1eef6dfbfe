"""``sizebot action`` end to end against the fake GitHub server: report, measure, comment modes,
outputs, summary, status, faults. In-process through sizebot.cli.main, once as a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sizebot.cli import action, main
from sizebot.github.client import RetryPolicy
from tests.support import fake_github as fg

DATA = Path(__file__).parent / "data"
REPO = "octo/app"
BASE, HEAD = "a" * 40, "b" * 40


def sample(verdict: str = "fail") -> dict:
    doc = json.loads((DATA / "report-render-sample.json").read_text())
    doc["base"]["sha"], doc["head"]["sha"] = BASE, HEAD
    doc["verdict"] = verdict
    return doc


def read_outputs(path: Path) -> dict[str, str]:
    out, text = {}, path.read_text()
    for m in re.finditer(r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", text, re.DOTALL | re.MULTILINE):
        out[m.group(1)] = m.group(3)
    return out


@pytest.fixture
def fake():
    f = fg.FakeGitHub(REPO).start()
    f.add_pull(12, BASE, HEAD)
    yield f
    f.stop()


@pytest.fixture
def slept(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(action, "RETRY_POLICY", RetryPolicy(sleep=waits.append, clock=lambda: 1_700_000_000.0))
    return waits


@pytest.fixture
def env(tmp_path, fake, monkeypatch, slept):
    for k in list(os.environ):
        if k.startswith(("INPUT_", "GITHUB_", "RUNNER_")):
            monkeypatch.delenv(k)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 12, "repository": {"full_name": REPO}, "pull_request": {
        "number": 12, "labels": [{"name": "size-ok"}],
        "base": {"sha": BASE, "ref": "main", "repo": {"full_name": REPO}},
        "head": {"sha": HEAD, "ref": "feat", "repo": {"full_name": REPO, "fork": False}}}}))
    ws = tmp_path / "ws"
    ws.mkdir()
    values = {"GITHUB_API_URL": fake.url, "GITHUB_REPOSITORY": REPO, "GITHUB_EVENT_PATH": str(event),
              "GITHUB_EVENT_NAME": "pull_request", "GITHUB_WORKSPACE": str(ws),
              "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
              "RUNNER_TEMP": str(tmp_path / "runner"), "INPUT_GITHUB-TOKEN": "tok"}
    (tmp_path / "runner").mkdir()
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


@pytest.fixture
def measured(monkeypatch):
    calls: list[dict] = []
    state = {"verdict": "fail"}

    def fake_measure(**kw):
        calls.append(kw)
        return sample(state["verdict"])

    monkeypatch.setattr(action, "MEASURE", fake_measure)
    return calls, state


def test_report_mode_creates_then_updates(env, fake, measured, monkeypatch):
    calls, state = measured
    assert main(["action"]) == 1  # verdict fail, fail-on fail
    assert calls[0]["base"] == BASE and calls[0]["head"] == HEAD and calls[0]["labels"] == ("size-ok",)
    [c] = fake.comments_on(12)
    assert c["body"].startswith("<!-- sizebot:default -->\n")
    assert c["user"]["login"] == "github-actions[bot]"
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert out["verdict"] == "fail" and out["comment-url"] == c["html_url"]
    assert out["total-delta"] == str(sum(int(b.get("delta") or 0) for b in sample()["builds"]))
    assert json.loads(Path(out["report-json"]).read_text())["verdict"] == "fail"
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text().strip()
    assert fake.statuses[-1]["context"] == "sizebot/default" and fake.statuses[-1]["state"] == "failure"
    assert fake.statuses[-1]["sha"] == HEAD and len(fake.statuses[-1]["description"]) <= 140
    assert fake.check_runs[-1]["conclusion"] == "failure"
    # second run: the same comment, updated
    state["verdict"] = "pass"
    assert main(["action"]) == 0
    [c2] = fake.comments_on(12)
    assert c2["id"] == c["id"] and fake.statuses[-1]["state"] == "success"
    # another key: its own comment
    monkeypatch.setenv("INPUT_COMMENT-KEY", "arm64")
    assert main(["action"]) == 0
    assert len(fake.comments_on(12)) == 2
    assert fake.statuses[-1]["context"] == "sizebot/arm64"


@pytest.mark.parametrize("verdict, fail_on, code", [
    ("fail", "fail", 1), ("warn", "fail", 0), ("warn", "warn", 1), ("fail", "warn", 1),
    ("fail", "never", 0), ("pass", "warn", 0)])
def test_fail_on(env, fake, measured, monkeypatch, verdict, fail_on, code):
    measured[1]["verdict"] = verdict
    monkeypatch.setenv("INPUT_FAIL-ON", fail_on)
    assert main(["action"]) == code


def test_another_users_marker_untouched(env, fake, measured):
    forged = fake.add_comment(12, "<!-- sizebot:default -->\n\nforged", login="mallory")
    main(["action"])
    assert forged["body"].endswith("forged") and len(fake.comments_on(12)) == 2


def test_5xx_then_posted_once(env, fake, measured, slept):
    fake.fault("comments.create", fg.server_error())
    main(["action"])
    assert len(fake.comments_on(12)) == 1 and slept == [1.0]


def test_rate_limit_waited_then_posted(env, fake, measured, slept):
    fake.fault("comments.list", fg.rate_limited(1_700_000_000 + 20))
    main(["action"])
    assert slept == [21.0] and len(fake.comments_on(12)) == 1


def test_403_clear_line_summary_still_written(env, fake, measured, capsys):
    fake.fault("comments.create", fg.forbidden("issues=write; pull_requests=write"))
    fake.fault("statuses", fg.forbidden("statuses=write"))
    fake.fault("check-runs", fg.forbidden("checks=write"))
    assert main(["action"]) == 1  # by the verdict: nothing measured is lost
    lines = capsys.readouterr().out.splitlines()
    warnings = [ln for ln in lines if ln.startswith("::warning::")]
    assert any("permissions: pull-requests: write" in w for w in warnings)
    assert any("permissions: statuses: write" in w for w in warnings)
    assert any("checks: write" in ln for ln in lines)
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text().strip()
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert out["verdict"] == "fail" and out["comment-url"] == ""
    assert fake.comments_on(12) == []


def test_422_retried_smaller(env, fake, measured):
    fake.fault("comments.create", fg.Fault(422, {"message": "Validation Failed", "errors": [
        {"resource": "IssueComment", "code": "unprocessable", "field": "data",
         "message": "Body is too long (maximum is 65536 characters)"}]}))
    main(["action"])
    creates = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/12/comments")]
    assert len(creates) == 2 and len(fake.comments_on(12)) == 1


def test_fork_flow_measure_then_comment(env, fake, measured, monkeypatch, tmp_path):
    monkeypatch.setenv("INPUT_MODE", "measure")
    assert main(["action"]) == 1
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    measurement = Path(out["report-json"])
    assert json.loads(measurement.read_text())["pull_request"] == {"number": 12, "base_sha": BASE, "head_sha": HEAD}
    assert fake.comments_on(12) == [] and fake.statuses == []  # the fork's token writes nothing
    # the workflow_run job: artifacts downloaded into the workspace, a second matrix job beside it
    art = Path(env["GITHUB_WORKSPACE"]) / "artifacts"
    (art / "linux").mkdir(parents=True)
    (art / "linux" / "m.json").write_bytes(measurement.read_bytes())
    second = json.loads(measurement.read_text())
    second["builds"] = [dict(b, target="second-" + str(b.get("target"))) for b in second["builds"]]
    second["verdict"] = "pass"
    (art / "arm").mkdir()
    (art / "arm" / "m.json").write_text(json.dumps(second))
    Path(env["GITHUB_OUTPUT"]).write_text("")
    monkeypatch.setenv("INPUT_MODE", "comment")
    monkeypatch.setenv("INPUT_MEASUREMENT-FILES", "artifacts/**/*.json")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "workflow_run")
    Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps({"workflow_run": {"id": 1}}))
    measured[0].clear()
    assert main(["action"]) == 1
    assert measured[0] == []  # nothing measured, no PR code run
    [c] = fake.comments_on(12)
    assert "second-" in c["body"]
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert out["verdict"] == "fail" and out["comment-url"] == c["html_url"]
    assert fake.statuses[-1]["sha"] == HEAD


def _comment_env(env, monkeypatch, tmp_path, doc: dict) -> None:
    art = Path(env["GITHUB_WORKSPACE"]) / "m.json"
    art.write_text(json.dumps(doc))
    monkeypatch.setenv("INPUT_MODE", "comment")
    monkeypatch.setenv("INPUT_MEASUREMENT-FILES", "m.json")


def measurement(**pr) -> dict:
    doc = sample()
    doc["pull_request"] = dict({"number": 12, "base_sha": BASE, "head_sha": HEAD}, **pr)
    doc["comment_key"] = "default"
    return doc


def test_comment_stale_head_skipped(env, fake, monkeypatch, tmp_path, capsys):
    fake.add_pull(12, BASE, "d" * 40)  # the PR moved on after the measuring run
    _comment_env(env, monkeypatch, tmp_path, measurement())
    assert main(["action"]) == 0
    assert "stale, skipped" in capsys.readouterr().out
    assert fake.comments_on(12) == [] and fake.statuses == []


def test_comment_tampered_refused(env, fake, monkeypatch, tmp_path, capsys):
    doc = measurement()
    doc["head"]["sha"] = "d" * 40
    _comment_env(env, monkeypatch, tmp_path, doc)
    assert main(["action"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "head.sha differs from pull_request.head_sha" in err
    assert fake.comments_on(12) == []


def test_comment_unknown_pr(env, fake, monkeypatch, tmp_path, capsys):
    doc = measurement(number=99)
    _comment_env(env, monkeypatch, tmp_path, doc)
    assert main(["action"]) == 2
    assert "HTTP 404" in capsys.readouterr().err


def test_subprocess_comment_mode(env, fake, tmp_path):
    _ = env
    art = Path(env["GITHUB_WORKSPACE"]) / "m.json"
    art.write_text(json.dumps(measurement()))
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_"))}
    run_env.update(env)
    run_env.update({"INPUT_MODE": "comment", "INPUT_MEASUREMENT-FILES": "m.json", "INPUT_FAIL-ON": "never"})
    proc = subprocess.run([sys.executable, "-m", "sizebot", "action"], env=run_env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    [c] = fake.comments_on(12)
    assert read_outputs(Path(env["GITHUB_OUTPUT"]))["comment-url"] == c["html_url"]
