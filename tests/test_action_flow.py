"""``sizebot action`` end to end against the fake GitHub server: report, measure, comment modes,
outputs, summary, status, faults. In-process through sizebot.cli.main, once as a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from sizebot.cli import action, main
from sizebot.documents.report import Report
from sizebot.github.client import RetryPolicy
from sizebot.github.comment import build_comment
from sizebot.github.measurement import load_measurement, measurement_validator
from sizebot.github.merge import merge_reports
from tests.support import fake_github as fg
from tests.support.action import (
    BASE,
    HEAD,
    REPO,
    SAMPLE_CONFIG,
    action_env,
    comment_mode,
    fake_github,
    measurement,
    read_outputs,
    sample,
    workflow_run,
)
from tests.support.git import git


def output_file(outputs: dict[str, str]) -> Path:
    """Output report-json: a path relative to the workspace (what a Docker action shares with later steps)."""
    rel = Path(outputs["report-json"])
    assert not rel.is_absolute() and rel.parts[0] == "sizebot-output"
    return Path(os.environ["GITHUB_WORKSPACE"]) / rel


@pytest.fixture
def fake():
    with fake_github(12) as f:
        yield f


@pytest.fixture
def slept(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(action, "RETRY_POLICY", RetryPolicy(sleep=waits.append, clock=lambda: 1_700_000_000.0))
    return waits


@pytest.fixture
def env(tmp_path, fake, monkeypatch, slept):
    (tmp_path / "runner").mkdir()
    return action_env(monkeypatch, tmp_path, fake.url, labels=("size-ok",), RUNNER_TEMP=str(tmp_path / "runner"))


@pytest.fixture
def measured(monkeypatch):
    calls: list[dict] = []
    state = {"verdict": "fail"}

    def fake_measure(**kw):
        calls.append(kw)
        return Report.from_json(sample(state["verdict"]))

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
    assert json.loads(output_file(out).read_text())["verdict"] == "fail"
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text().strip()
    assert fake.statuses[-1]["context"] == "sizebot/default" and fake.statuses[-1]["state"] == "failure"
    assert fake.statuses[-1]["sha"] == HEAD and len(fake.statuses[-1]["description"]) <= 140
    assert fake.check_runs[-1]["conclusion"] == "failure"
    # beside the check, the comment's headline: never a figure the comment does not show
    headline = c["body"].split("**sizebot: fail** — ", 1)[1].split("\n", 1)[0]
    assert fake.statuses[-1]["description"] == f"fail: {headline}"
    assert fake.check_runs[-1]["output"]["title"] == f"fail: {headline}"
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


def test_bad_comment_key_refused_before_measuring(env, fake, measured, monkeypatch, capsys):
    monkeypatch.setenv("INPUT_COMMENT-KEY", "../linux")
    assert main(["action"]) == 2
    assert capsys.readouterr().err.strip() == (
        "sizebot: error: input comment-key: '../linux' is not 1-100 letters, digits, '.', '_' or '-'")
    assert measured[0] == [] and fake.requests == []


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
    assert main(["action"]) == 0  # a fail verdict: the measure stage still exits 0
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    measurement = output_file(out)
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
    Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps(workflow_run(HEAD, prs=(12,))))
    measured[0].clear()
    assert main(["action"]) == 1
    assert measured[0] == []  # nothing measured, no PR code run
    [c] = fake.comments_on(12)
    assert "second-" in c["body"]
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert out["verdict"] == "fail" and out["comment-url"] == c["html_url"]
    assert fake.statuses[-1]["sha"] == HEAD


def test_comment_stale_head_skipped(env, fake, monkeypatch, tmp_path, capsys):
    fake.add_pull(12, BASE, "d" * 40)  # the PR moved on after the measuring run
    comment_mode(env, monkeypatch, measurement())
    assert main(["action"]) == 0
    assert "stale, skipped" in capsys.readouterr().out
    assert fake.comments_on(12) == [] and fake.statuses == []


def test_comment_tampered_refused(env, fake, monkeypatch, tmp_path, capsys):
    doc = measurement()
    doc["head"]["sha"] = "d" * 40
    comment_mode(env, monkeypatch, doc)
    assert main(["action"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "head.sha differs from pull_request.head_sha" in err
    assert fake.comments_on(12) == []


def test_comment_unknown_pr(env, fake, monkeypatch, tmp_path, capsys):
    """The run names PR #99 (GitHub's payload), which the API does not know: one line, nothing posted."""
    doc = measurement(number=99)
    comment_mode(env, monkeypatch, doc, workflow_run(HEAD, prs=(99,)))
    assert main(["action"]) == 2
    assert "HTTP 404" in capsys.readouterr().err
    assert _writes(fake) == []


OTHER_HEAD = "e" * 40


def _nothing_happened(env, fake) -> None:
    """Nothing posted on any pull request, no status, no output, no file written."""
    assert _writes(fake) == [] and fake.statuses == [] and fake.check_runs == []
    assert all(c["user"]["login"] != "github-actions[bot]" or c["_issue"] == 13 for c in fake.comments)
    assert not Path(env["GITHUB_OUTPUT"]).exists() and not Path(env["GITHUB_STEP_SUMMARY"]).exists()
    assert not (Path(env["GITHUB_WORKSPACE"]) / action.OUTPUT_DIR).exists()


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sizebot: error: "), err
    return err


@pytest.mark.parametrize("fork", [False, True], ids=["same-repo", "fork"])
def test_comment_file_naming_another_pr_and_key_reaches_nothing(env, fake, monkeypatch, tmp_path, capsys, fork):
    """A PR's measuring job writes a file that names PR #13 and key `victim`: the workflow run
    (GitHub's payload, or the API for a fork's run) says it measured #12, so nothing reaches #13."""
    fake.add_pull(13, BASE, OTHER_HEAD, head_ref="main-feature")
    if fork:
        fake.add_pull(12, BASE, HEAD, head_ref="feat", head_repo="mallory/app")
    fake.add_comment(13, "<!-- sizebot:victim -->\n\nthe real report", login="github-actions[bot]",
                     user_type="Bot")
    before = [dict(c) for c in fake.comments]
    event = workflow_run(HEAD, owner="mallory", branch="feat") if fork else workflow_run(HEAD, prs=(12,))
    for forged in (measurement(number=13), measurement(number=13, head_sha=OTHER_HEAD)):
        forged["head"]["sha"] = forged["pull_request"]["head_sha"]
        for key in ("default", "victim"):
            forged["comment_key"] = key
            monkeypatch.setenv("INPUT_COMMENT-KEY", "default")
            comment_mode(env, monkeypatch, forged, event)
            assert main(["action"]) == 2
            err = _one_line(capsys)
            assert "nothing posted" in err and "m.json" in err
            assert fake.comments == before
            _nothing_happened(env, fake)


def test_comment_key_comes_from_the_input(env, fake, monkeypatch, tmp_path, capsys):
    """The file's key must be the job's own `comment-key`: the status context is never the file's."""
    doc = measurement()
    doc["comment_key"] = "victim"
    comment_mode(env, monkeypatch, doc)
    assert main(["action"]) == 2
    assert "comment_key 'victim' is not this job's comment-key 'default'" in _one_line(capsys)
    _nothing_happened(env, fake)
    monkeypatch.setenv("INPUT_COMMENT-KEY", "victim")
    Path(env["GITHUB_OUTPUT"]).touch()
    assert main(["action"]) == 1
    assert [s["context"] for s in fake.statuses] == ["sizebot/victim"]


def test_comment_head_must_be_the_runs_head(env, fake, monkeypatch, tmp_path, capsys):
    """The file's head_sha is checked against workflow_run.head_sha, not only against the PR."""
    fake.add_pull(12, BASE, OTHER_HEAD)  # the PR's head is E; the run measured B
    doc = measurement(head_sha=OTHER_HEAD)
    doc["head"]["sha"] = OTHER_HEAD
    comment_mode(env, monkeypatch, doc, workflow_run(HEAD, prs=(12,)))
    assert main(["action"]) == 2
    assert f"the workflow run's head is {HEAD}" in _one_line(capsys)
    _nothing_happened(env, fake)


def test_comment_fork_run_found_through_the_api(env, fake, monkeypatch, tmp_path):
    fake.add_pull(12, BASE, HEAD, head_ref="feat", head_repo="mallory/app")
    fake.add_pull(14, BASE, OTHER_HEAD, head_ref="feat", head_repo="eve/app")  # same branch name elsewhere
    comment_mode(env, monkeypatch, measurement(), workflow_run(HEAD, owner="mallory", branch="feat"))
    assert main(["action"]) == 1
    assert len(fake.comments_on(12)) == 1 and fake.comments_on(14) == []
    assert [(s["sha"], s["context"]) for s in fake.statuses] == [(HEAD, "sizebot/default")]
    lookups = [r for r in fake.requests if r.method == "GET" and r.path == f"/repos/{REPO}/pulls"]
    assert [r.query.get("head") for r in lookups] == [["mallory:feat"]]


@pytest.mark.parametrize("event, message", [
    ({"pull_request": None}, "the payload has no workflow_run"),
    ({"workflow_run": "run"}, "workflow_run is not an object"),
    ({"workflow_run": {"head_sha": "--upload-pack=touch /tmp/x"}}, "workflow_run.head_sha is '--upload-pack"),
    ({"workflow_run": {"head_sha": HEAD, "pull_requests": [12]}}, "workflow_run.pull_requests[0] is not an object"),
    ({"workflow_run": {"head_sha": HEAD, "pull_requests": {"number": 12}}}, "pull_requests is not a list"),
    ({"workflow_run": {"head_sha": HEAD, "pull_requests": [{"number": "12"}]}}, "number is '12'"),
    ({"workflow_run": {"head_sha": HEAD}}, "no open pull request of octo/app has head"),
])
def test_comment_forged_events(env, fake, monkeypatch, tmp_path, capsys, event, message):
    comment_mode(env, monkeypatch, measurement(), event)
    assert main(["action"]) == 2
    assert message in _one_line(capsys)
    _nothing_happened(env, fake)


def _hostile_text(kind: str) -> str:
    doc = measurement()
    if kind == "deep":
        return json.dumps(doc)[:-1] + ', "notes": ' + "[" * 5000 + "]" * 5000 + "}"
    if kind == "nan":
        return json.dumps(doc).replace('"delta": ', '"delta": NaN, "x": ', 1)
    if kind == "infinity":
        return json.dumps(doc).replace('"delta": ', '"delta": Infinity, "x": ', 1)
    if kind == "status-object":
        doc["budgets"][0]["status"] = {"state": "pass"}
    elif kind == "string-size":
        doc["builds"][0]["head_size"] = "6540000"
    elif kind == "long-ref":
        doc["head"]["ref"] = "r" * 70_000
    return json.dumps(doc)


@pytest.mark.parametrize("kind, message", [
    ("deep", "JSON nested more than 32 deep"), ("nan", "NaN is not a JSON number"),
    ("infinity", "Infinity is not a JSON number"), ("status-object", "budgets/0/status"),
    ("string-size", "builds/0/head_size"), ("long-ref", "head/ref: a string of 70000 characters")])
def test_comment_hostile_values_one_line(env, fake, monkeypatch, tmp_path, capsys, kind, message):
    comment_mode(env, monkeypatch, {})
    (Path(env["GITHUB_WORKSPACE"]) / "m.json").write_text(_hostile_text(kind))
    assert main(["action"]) == 2
    err = _one_line(capsys)
    assert "m.json: " in err and message in err
    _nothing_happened(env, fake)


def test_comment_forged_build_names_are_text_in_the_status_and_the_check(env, fake, monkeypatch, capsys):
    """The check run's summary is markdown and the status plain text: a build name the file chose,
    shown in both as the headline's largest change, is escaped in the one and one line in the other."""
    doc = measurement()
    evil = "x</code><img src=x onerror=alert(1)>\n## [a](javascript:x) @octocat"
    for b in doc["builds"]:
        b["target"] = evil
    comment_mode(env, monkeypatch, doc)
    main(["action"])
    summary = fake.check_runs[-1]["output"]["summary"]
    assert "<img" not in summary and "&lt;img src=x onerror=alert\\(1\\)&gt;" in summary and "\n" not in summary
    assert "@octocat" not in summary and "javascript:" not in summary
    description = fake.statuses[-1]["description"]
    assert "\n" not in description and len(description) <= 140 and description.count("<img") <= 1


def test_comment_commits_are_named_by_the_api_not_the_file(env, fake, monkeypatch, capsys):
    """The file's refs and subjects are the measuring job's words: the comment names base and head by the
    pull request's branches and their subjects as the API gives them (a subject it cannot give is left out)."""
    doc = measurement()
    doc["base"].update(ref="release-2.0", subject="Security review: approved")
    doc["head"].update(ref="main", subject="Bump nothing")
    fake.commits[HEAD] = "Vendor the v2 SDK\n\nThe S3 client moves to the v2 SDK."
    comment_mode(env, monkeypatch, doc)
    main(["action"])
    [c] = fake.comments_on(12)
    assert ("head <code>octo:feature</code> bbbbbbb “Vendor the v2 SDK” compared with base <code>main</code> "
            "aaaaaaa") in c["body"]
    assert "release-2.0" not in c["body"] and "approved" not in c["body"] and "Bump nothing" not in c["body"]


def test_comment_forged_embeds_are_inert_and_bounded(env, fake, monkeypatch, capsys):
    """A measurement file lists 15,000 embeds whose names and packages a forged binary chose (tags,
    markdown, mentions, bidi controls): the comment shows them as text, within GitHub's limit."""
    doc = measurement()
    evil = "\u202e</code><img src=x onerror=alert(1)>`|[a](javascript:x) @octocat #1\n| x |"
    doc["builds"][0]["diff"]["embeds"] = [
        {"package": f"{evil}{i}", "name": f"{evil}{i}", "status": "added", "old_size": 0, "new_size": i + 1,
         "delta": i + 1, "kind": "file"} for i in range(15_000)]
    comment_mode(env, monkeypatch, doc)
    assert main(["action"]) == 1, capsys.readouterr().err  # the measured verdict: fail
    [c] = fake.comments_on(12)
    body = c["body"]
    assert len(body) <= 65_536 and "Embedded files" in body
    assert "<img" not in body and "\u202e" not in body and "javascript:" not in body and "@octocat" not in body
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in body and "&lt;U\\+202E&gt;" in body


def test_comment_fifo_among_measurement_files(env, fake, monkeypatch, tmp_path, capsys):
    comment_mode(env, monkeypatch, measurement())
    os.mkfifo(Path(env["GITHUB_WORKSPACE"]) / "n.json")  # nobody ever writes to it
    monkeypatch.setenv("INPUT_MEASUREMENT-FILES", "*.json")
    assert main(["action"]) == 2
    assert "n.json: a FIFO, not a regular file" in _one_line(capsys)
    _nothing_happened(env, fake)


@pytest.mark.parametrize("where", ["file", "directory"])
def test_comment_measurement_file_through_a_symlink_refused(env, fake, monkeypatch, tmp_path, capsys, where):
    """An artifact is the pull request's: a symbolic link in it (to a file the runner can read, here a
    valid measurement outside the download directory) is refused, not followed."""
    comment_mode(env, monkeypatch, measurement())
    ws = Path(env["GITHUB_WORKSPACE"])
    outside = tmp_path / "outside"
    outside.mkdir()
    (ws / "m.json").rename(outside / "m.json")
    (ws / "artifacts").mkdir()
    if where == "file":
        (ws / "artifacts" / "m.json").symlink_to(outside / "m.json")
        monkeypatch.setenv("INPUT_MEASUREMENT-FILES", "artifacts/*.json")
        fault = f"{ws}/artifacts/m.json: a symbolic link, not followed (an untrusted path)"
    else:
        (ws / "artifacts" / "sizebot-12").symlink_to(outside, target_is_directory=True)
        monkeypatch.setenv("INPUT_MEASUREMENT-FILES", "artifacts/*/*.json")
        fault = (f"{ws}/artifacts/sizebot-12/m.json: {ws}/artifacts/sizebot-12 is a symbolic link, "
                 "not followed (an untrusted path)")
    assert main(["action"]) == 2
    assert _one_line(capsys) == f"sizebot: error: {fault}\n"
    _nothing_happened(env, fake)


def test_comment_symlink_loops_in_the_artifacts_never_hang_the_match(env, fake, monkeypatch, capsys):
    """Links back up in a downloaded artifact made glob's ``**`` walk endless (each level doubles): the
    match never follows a link for ``**``, and reads the one real file."""
    comment_mode(env, monkeypatch, measurement())
    ws = Path(env["GITHUB_WORKSPACE"])
    (ws / "artifacts" / "sizebot-12").mkdir(parents=True)
    (ws / "m.json").rename(ws / "artifacts" / "sizebot-12" / "m.json")
    for name in ("a", "b", "c"):
        (ws / "artifacts" / "sizebot-12" / name).symlink_to("..", target_is_directory=True)
    monkeypatch.setenv("INPUT_MEASUREMENT-FILES", "artifacts/**/*.json")
    assert main(["action"]) == 1, capsys.readouterr().err  # the measured verdict: fail
    assert len(fake.comments_on(12)) == 1


def test_comment_more_measurement_files_than_a_matrix_has_jobs(env, fake, monkeypatch, capsys):
    comment_mode(env, monkeypatch, measurement())
    ws = Path(env["GITHUB_WORKSPACE"])
    for i in range(action.MAX_MEASUREMENT_FILES + 1):
        (ws / f"n{i}.json").write_text("{}")
    monkeypatch.setenv("INPUT_MEASUREMENT-FILES", "*.json")
    assert main(["action"]) == 2
    assert _one_line(capsys) == ("sizebot: error: input measurement-files: '*.json' matches more than 256 files "
                                 "(one per job of a matrix)\n")
    _nothing_happened(env, fake)


def test_comment_workspace_behind_a_symlink_is_the_workflow_s_own(env, fake, monkeypatch, tmp_path, capsys):
    """The directories the workflow names (the workspace, the glob's literal part) are trusted: a
    runner whose workspace is a symbolic link still reads the artifacts below it."""
    comment_mode(env, monkeypatch, measurement())
    link = tmp_path / "ws-link"
    link.symlink_to(env["GITHUB_WORKSPACE"], target_is_directory=True)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(link))
    assert main(["action"]) == 1, capsys.readouterr().err  # the measured verdict: fail
    assert len(fake.comments_on(12)) == 1


def test_event_payload_through_a_symlink_refused(env, fake, monkeypatch, measured, capsys, tmp_path):
    link = tmp_path / "event-link.json"
    link.symlink_to(env["GITHUB_EVENT_PATH"])
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(link))
    assert main(["action"]) == 2
    assert _one_line(capsys) == f"sizebot: error: {link}: a symbolic link, not followed (an untrusted path)\n"
    assert measured[0] == [] and fake.requests == []


@pytest.mark.parametrize("name", ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"])
def test_unwritable_outputs_checked_before_posting(env, fake, monkeypatch, tmp_path, capsys, measured, name):
    missing = tmp_path / "no-such-dir" / "file"
    monkeypatch.setenv(name, str(missing))
    env = dict(env, **{name: str(missing)})
    comment_mode(env, monkeypatch, measurement())
    assert main(["action"]) == 2
    assert f"{name}: {missing}: its directory does not exist" in _one_line(capsys)
    _nothing_happened(env, fake)
    monkeypatch.setenv("INPUT_MODE", "report")  # and nothing is measured either
    _pr_event(Path(env["GITHUB_EVENT_PATH"]), BASE, HEAD)
    assert main(["action"]) == 2
    _one_line(capsys)
    assert measured[0] == [] and fake.requests == []


@pytest.mark.parametrize("url", ["not a url", "ftp://example.com", "http://"])
def test_api_url_not_a_url(env, fake, monkeypatch, measured, capsys, url):
    monkeypatch.setenv("GITHUB_API_URL", url)
    assert main(["action"]) == 2
    assert f"GITHUB_API_URL: {url!r} is not an http(s) URL" in _one_line(capsys)
    assert measured[0] == []


@pytest.mark.parametrize("change, message", [
    (lambda pr: pr.update(labels=["a"]), "pull_request.labels[0] is 'a', not a label object with a name"),
    (lambda pr: pr.update(base="main"), "pull_request.base is 'main', not an object"),
    (lambda pr: pr["base"].update(sha="--upload-pack=touch pwned"), "pull_request.base.sha is '--upload-pack"),
])
def test_event_fields_of_the_wrong_type(env, fake, monkeypatch, measured, capsys, change, message):
    payload = json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text())
    change(payload["pull_request"])
    Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps(payload))
    assert main(["action"]) == 2
    assert message in _one_line(capsys)
    assert measured[0] == [] and fake.requests == []


def test_event_payload_fifo_and_deep(env, fake, monkeypatch, measured, capsys, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"pull_request": ' + "[" * 5000 + "]" * 5000 + "}")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(deep))
    assert main(["action"]) == 2
    assert "deep.json: JSON nested more than 32 deep" in _one_line(capsys)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(fifo))
    assert main(["action"]) == 2
    assert "fifo.json: a FIFO, not a regular file" in _one_line(capsys)
    assert measured[0] == [] and fake.requests == []


def test_unexpected_exception_is_one_line_exit_2(env, fake, monkeypatch, capsys):
    """A crash never looks like a verdict (1): one line naming what failed, exit 2; --debug: the traceback."""
    def crash(**_kw):
        raise KeyError("builds")

    monkeypatch.setattr(action, "MEASURE", crash)
    assert main(["action"]) == 2
    err = _one_line(capsys)
    assert err.startswith("sizebot: error: action failed unexpectedly: KeyError: 'builds' at sizebot/cli/action.py:")
    assert err.rstrip().endswith("(--debug shows the traceback)")
    assert main(["--debug", "action"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and err.splitlines()[-1].startswith("sizebot: error: action")
    monkeypatch.setattr(action, "MEASURE", lambda **_kw: (_ for _ in ()).throw(RecursionError("maximum recursion")))
    assert main(["action"]) == 2
    assert "RecursionError: input nested too deeply" in _one_line(capsys)
    assert fake.comments == [] and fake.statuses == []


def test_subprocess_comment_mode(env, fake, tmp_path):
    _ = env
    art = Path(env["GITHUB_WORKSPACE"]) / "m.json"
    art.write_text(json.dumps(measurement()))
    Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps(workflow_run(HEAD, prs=(12,))))
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_"))}
    run_env.update(env)
    run_env.update({"INPUT_MODE": "comment", "INPUT_MEASUREMENT-FILES": "m.json", "INPUT_FAIL-ON": "never"})
    proc = subprocess.run([sys.executable, "-m", "sizebot", "action"], env=run_env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    [c] = fake.comments_on(12)
    assert read_outputs(Path(env["GITHUB_OUTPUT"]))["comment-url"] == c["html_url"]


# ---- modes report and measure for real: two Go builds of a tiny repository, no MEASURE stub ----

HELLO_BASE = 'package main\n\nimport "os"\n\nfunc main() { os.Stdout.WriteString("hello\\n") }\n'
HELLO_HEAD = ('package main\n\nimport (\n\t"encoding/json"\n\t"os"\n)\n\n'
              'func main() { _ = json.NewEncoder(os.Stdout).Encode(map[string]string{"hello": "sizebot"}) }\n')
# One target, one strategy (one build per side), one budget the head's encoding/json breaks.
HELLO_CONFIG = '[[target]]\nname = "hello"\npackage = "."\n\n[strategy.default]\n\n[[budget]]\nmax_increase = "1%"\n'


@pytest.fixture(scope="module")
def hello_repo(tmp_path_factory) -> tuple[Path, str, str]:
    """A git repository: base commit prints with os, head commit encodes JSON (a real size increase)."""
    repo = tmp_path_factory.mktemp("hello") / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "go.mod").write_text("module example.com/hello\n\ngo 1.21\n")
    (repo / "sizebot.toml").write_text(HELLO_CONFIG)
    (repo / "main.go").write_text(HELLO_BASE)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hello with os")
    base = git(repo, "rev-parse", "HEAD")
    (repo / "main.go").write_text(HELLO_HEAD)
    git(repo, "commit", "-q", "-a", "-m", "hello in JSON")
    head = git(repo, "rev-parse", "HEAD")
    # What actions/checkout checks out on a pull_request: GitHub's merge commit, one commit deep.
    merge = git(repo, "commit-tree", f"{head}^{{tree}}", "-p", base, "-p", head, "-m", "Merge feat into main")
    git(repo, "branch", "pr-merge", merge)
    return repo, base, head


def _pr_event(path: Path, base: str, head: str, *, labels: tuple[str, ...] = (), fork: bool = False) -> None:
    head_repo = {"full_name": "mallory/app", "fork": True} if fork else {"full_name": REPO, "fork": False}
    path.write_text(json.dumps({"number": 12, "repository": {"full_name": REPO}, "pull_request": {
        "number": 12, "labels": [{"name": n} for n in labels],
        "base": {"sha": base, "ref": "main", "repo": {"full_name": REPO}},
        "head": {"sha": head, "ref": "feat", "repo": head_repo}}}))


@pytest.fixture
def real_env(env, fake, monkeypatch, hello_repo):
    repo, base, head = hello_repo
    fake.add_pull(12, base, head)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(repo))
    _pr_event(Path(env["GITHUB_EVENT_PATH"]), base, head)
    assert action.MEASURE is action.measure_report  # no stub: run_report_doc builds for real
    return dict(env, GITHUB_WORKSPACE=str(repo)), base, head


def _writes(fake) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.requests if r.method in ("POST", "PATCH", "PUT", "DELETE")]


def test_real_report_mode_comment_created_then_updated(real_env, fake, monkeypatch):
    env, base, head = real_env
    assert main(["action"]) == 1  # max_increase 1% fails: encoding/json is far more than 1%
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    doc = json.loads(output_file(out).read_text())
    assert (doc["base"]["sha"], doc["head"]["sha"]) == (base, head)
    [build] = doc["builds"]
    assert (build["target"], build["strategy"], build["base"]["status"], build["head"]["status"]) == (
        "hello", "default", "ok", "ok")
    assert build["delta"] == build["head_size"] - build["base_size"] > 0
    assert out["verdict"] == doc["verdict"] == "fail" and out["total-delta"] == str(build["delta"])
    [budget] = doc["budgets"]
    assert (budget["rule"], budget["status"]) == ("max_increase 1%", "fail")
    [c] = fake.comments_on(12)
    first_body = c["body"]  # (the fake edits its comment dicts in place)
    assert first_body == build_comment(Report.from_json(doc), "default")  # the comment is the report document rendered
    assert out["comment-url"] == c["html_url"]
    assert [(s["sha"], s["context"], s["state"]) for s in fake.statuses] == [(head, "sizebot/default", "failure")]
    assert [(r["head_sha"], r["conclusion"]) for r in fake.check_runs] == [(head, "failure")]
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("❌ **sizebot: fail** — hello ")
    assert git(Path(env["GITHUB_WORKSPACE"]), "worktree", "list", "--porcelain").count("worktree ") == 1

    # Second run: the PR got the override label; the same comment is edited in place.
    _pr_event(Path(env["GITHUB_EVENT_PATH"]), base, head, labels=("size-budget-override",))
    Path(env["GITHUB_OUTPUT"]).write_text("")
    assert main(["action"]) == 0  # overridden: verdict warn, fail-on fail
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    doc2 = json.loads(output_file(out).read_text())
    assert doc2["verdict"] == out["verdict"] == "warn"
    assert doc2["budgets"][0]["status"] == "overridden"
    [c2] = fake.comments_on(12)
    assert c2["id"] == c["id"] and c2["body"] == build_comment(Report.from_json(doc2), "default") != first_body
    assert out["comment-url"] == c["html_url"]
    comment_writes = [w for w in _writes(fake) if "/comments" in w[1]]
    assert comment_writes == [("POST", f"/repos/{REPO}/issues/12/comments"),
                              ("PATCH", f"/repos/{REPO}/issues/comments/{c['id']}")]
    assert [s["state"] for s in fake.statuses] == ["failure", "success"]
    assert [r["conclusion"] for r in fake.check_runs] == ["failure", "neutral"]


def test_real_measure_mode_then_fork_comment(real_env, fake, monkeypatch):
    env, base, head = real_env
    _pr_event(Path(env["GITHUB_EVENT_PATH"]), base, head, fork=True)
    # A shallow checkout of the merge commit: sizebot fetches the base and the PR head itself.
    checkout = Path(env["RUNNER_TEMP"]) / "checkout"
    git(checkout.parent, "clone", "-q", "--depth=1", "--branch=pr-merge", f"file://{env['GITHUB_WORKSPACE']}",
        checkout.name)
    assert git(checkout, "rev-parse", "--is-shallow-repository") == "true"
    for sha in (base, head):
        assert subprocess.run(["git", "-C", str(checkout), "cat-file", "-e", f"{sha}^{{commit}}"],
                              capture_output=True, check=False).returncode != 0
    monkeypatch.setenv("GITHUB_WORKSPACE", str(checkout))
    monkeypatch.setenv("INPUT_MODE", "measure")
    monkeypatch.setenv("INPUT_GITHUB-TOKEN", "read-only")
    assert main(["action"]) == 0  # verdict fail: exit 0, the file is written for the upload
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    path = output_file(out)
    assert out["report-json"] == "sizebot-output/sizebot-measurement-default.json"
    measurement = json.loads(path.read_text())
    measurement_validator().validate(measurement)
    assert load_measurement(path) == measurement  # the comment job's strict reader accepts it
    assert measurement["pull_request"] == {"number": 12, "base_sha": base, "head_sha": head}
    assert measurement["comment_key"] == "default" and measurement["verdict"] == out["verdict"] == "fail"
    assert [b["target"] for b in measurement["builds"]] == ["hello"]
    assert out["comment-url"] == "" and _writes(fake) == []  # the fork's token writes nothing

    # The workflow_run job: the artifact downloaded into its own workspace, no checkout of PR code.
    ws = Path(env["RUNNER_TEMP"]) / "comment-ws"
    (ws / "sizebot-artifacts" / "sizebot-measurement-linux").mkdir(parents=True)
    (ws / "sizebot-artifacts" / "sizebot-measurement-linux" / path.name).write_bytes(path.read_bytes())
    monkeypatch.setenv("GITHUB_WORKSPACE", str(ws))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "workflow_run")
    # A fork's run: GitHub lists no pull request; sizebot asks the API for the fork branch's PR.
    fake.add_pull(12, base, head, head_ref="feat", head_repo="mallory/app")
    Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps(workflow_run(head, owner="mallory", branch="feat")))
    monkeypatch.setenv("INPUT_MODE", "comment")
    monkeypatch.setenv("INPUT_MEASUREMENT-FILES", "sizebot-artifacts/**/*.json")
    monkeypatch.setenv("INPUT_GITHUB-TOKEN", "tok")

    def must_not_measure(**_kw):
        raise AssertionError("mode comment measured (ran PR code)")

    monkeypatch.setattr(action, "MEASURE", must_not_measure)
    # the budgets that judge are the base's sizebot.toml, read through the API
    fake.files[(base, "sizebot.toml")] = HELLO_CONFIG
    fake.commits.update({base: "hello with os\n", head: "hello in JSON\n"})
    Path(env["GITHUB_OUTPUT"]).write_text("")
    assert main(["action"]) == 1
    [c] = fake.comments_on(12)
    # judged again from its figures, the honest file is posted as it was measured, its commits named
    # as the pull request names them
    report = Report.from_json({k: v for k, v in measurement.items() if k not in ("pull_request", "comment_key")})
    assert (report.base.subject, report.head.subject) == ("hello with os", "hello in JSON")
    report = replace(report, base=replace(report.base, ref="main"), head=replace(report.head, ref="mallory:feat"))
    assert c["body"] == build_comment(merge_reports([report]), "default")
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert out["verdict"] == "fail" and out["comment-url"] == c["html_url"]
    assert [(s["sha"], s["state"]) for s in fake.statuses] == [(head, "failure")]


def test_workflows_never_run_pr_code_with_a_write_token():
    """The rule of .github/workflows: a job that builds a pull request's code holds a read-only token
    (contents: read) and hands its measurement to a workflow_run job, which comments with the write
    token and never checks out or runs PR code."""
    root = Path(__file__).resolve().parents[1] / ".github" / "workflows"
    files = sorted(root.glob("*.yml"))
    assert files
    for f in files:
        wf = yaml.safe_load(f.read_text())
        triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
        triggers = set(triggers if isinstance(triggers, (dict, list)) else [triggers])
        assert "pull_request_target" not in triggers, f.name
        for name, job in wf["jobs"].items():
            perms = job.get("permissions", wf.get("permissions"))
            assert isinstance(perms, dict), f"{f.name}: {name} must state its permissions"
            writes = sorted(k for k, v in perms.items() if v == "write")
            if "pull_request" in triggers:
                assert writes == [], f"{f.name}: job {name} runs PR code with write access to {writes}"
            if writes:
                assert triggers <= {"workflow_run", "push", "workflow_dispatch", "schedule"}, f.name
                for step in job["steps"]:
                    ref = str((step.get("with") or {}).get("ref", ""))
                    assert "head" not in ref and "pull" not in ref, f"{f.name}: {name} checks out {ref}"


@pytest.mark.parametrize("verdict", ["fail", "warn", "pass"])
@pytest.mark.parametrize("fail_on", ["fail", "warn", "never"])
def test_measure_stage_exits_0_for_any_verdict(env, fake, measured, monkeypatch, verdict, fail_on):
    """In the README's workflow a failing measure step would skip the upload, and a PR that fails its
    budget would get no comment: the measure stage exits 0 and writes the file whatever the verdict;
    the comment stage's status (and exit status, by fail-on) is the failing check."""
    measured[1]["verdict"] = verdict
    monkeypatch.setenv("INPUT_MODE", "measure")
    monkeypatch.setenv("INPUT_FAIL-ON", fail_on)
    assert main(["action"]) == 0
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert out["verdict"] == verdict and load_measurement(output_file(out))["verdict"] == verdict
    assert _writes(fake) == []
    # stage 2 on the uploaded file: the commit status carries the verdict its figures get against the
    # base's budgets (read through the API), here budgets that give the verdict the file claims
    fake.files[(BASE, "sizebot.toml")] = {
        "fail": SAMPLE_CONFIG, "pass": "",
        "warn": SAMPLE_CONFIG.replace('[[budget]]\ntargets = ["app"]\nplatforms = ["linux/amd64"]\n',
                                      '[[budget]]\nlevel = "warn"\ntargets = ["app"]\nplatforms = ["linux/amd64"]\n')}[verdict]
    (Path(env["GITHUB_WORKSPACE"]) / "m.json").write_bytes(output_file(out).read_bytes())
    comment_mode(env, monkeypatch, json.loads(output_file(out).read_text()))
    code = main(["action"])
    assert code == {("fail", "fail"): 1, ("fail", "warn"): 1, ("warn", "warn"): 1}.get((verdict, fail_on), 0)
    assert [(s["sha"], s["context"], s["state"]) for s in fake.statuses] == [
        (HEAD, "sizebot/default", "failure" if verdict == "fail" else "success")]


def test_measure_stage_still_exits_2_on_errors(env, fake, monkeypatch, capsys):
    def broken(**_kw):
        raise action.SizebotError("sizebot.toml:3: strategy.x.flags: nope")

    monkeypatch.setattr(action, "MEASURE", broken)
    monkeypatch.setenv("INPUT_MODE", "measure")
    assert main(["action"]) == 2
    assert capsys.readouterr().err == "sizebot: error: sizebot.toml:3: strategy.x.flags: nope\n"


def test_readme_workflows_are_the_files():
    """Every workflow the README shows is the file in .github/workflows/, byte for byte, and the README
    shows both stages of the pull request flow."""
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    shown = {}
    for block in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL):
        first = block.splitlines()[0]
        m = re.match(r"# (\.github/workflows/[\w.-]+\.yml)", first)
        assert m, f"a workflow snippet in the README names its file on its first line: {first!r}"
        shown[m.group(1)] = block
    assert {".github/workflows/sizebot-pr-measure.yml", ".github/workflows/sizebot-pr-comment.yml"} <= set(shown)
    for path, block in shown.items():
        assert block == (root / path).read_text(), f"README's {path} differs from the file"


def test_comment_ignores_pull_requests_of_other_repositories(env, fake, monkeypatch, tmp_path, capsys):
    """GitHub also lists, in workflow_run.pull_requests, pull requests of other repositories whose head
    is the same branch (the fork's own #13): only this repository's count, else the API is asked."""
    fake.add_pull(12, BASE, HEAD, head_ref="feat", head_repo="mallory/app")
    event = workflow_run(HEAD, owner="mallory", branch="feat", prs=(13,))
    event["workflow_run"]["pull_requests"][0]["base"]["repo"]["url"] = "https://api.github.com/repos/mallory/app"
    comment_mode(env, monkeypatch, measurement(number=13), event)
    assert main(["action"]) == 2
    assert "names pull request #13, the workflow run measured #12: nothing posted" in _one_line(capsys)
    _nothing_happened(env, fake)
