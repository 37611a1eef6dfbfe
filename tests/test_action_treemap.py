"""The action writes the treemap page beside the JSON (output report-html), and the comment links
to the run's artifacts when the workflow uploads the page (input html-artifact), with a URL built
from the trusted run context only."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from sizebot.cli import action, main
from sizebot.cli.report import render_doc
from sizebot.documents.report import Report
from sizebot.github.client import RetryPolicy
from sizebot.github.comment import build_comment
from sizebot.github.merge import merge_reports
from sizebot.render.comment import treemap_line
from tests.support import fake_github as fg
from tests.support.paths import DATA

REPO = "octo/app"
BASE, HEAD = "a" * 40, "b" * 40


def sample() -> dict:
    doc = json.loads((DATA / "report-render-sample.json").read_text())
    doc["base"]["sha"], doc["head"]["sha"] = BASE, HEAD
    return dict(doc)


def measurement() -> dict:
    return {**sample(), "pull_request": {"number": 12, "base_sha": BASE, "head_sha": HEAD}, "comment_key": "default"}


def read_outputs(path: Path) -> dict[str, str]:
    return {m.group(1): m.group(3)
            for m in re.finditer(r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", path.read_text(), re.DOTALL | re.MULTILINE)}


@pytest.fixture
def fake():
    f = fg.FakeGitHub(REPO).start()
    f.add_pull(12, BASE, HEAD)
    yield f
    f.stop()


@pytest.fixture
def env(tmp_path, fake, monkeypatch):
    for k in list(os.environ):
        if k.startswith(("INPUT_", "GITHUB_", "RUNNER_")):
            monkeypatch.delenv(k)
    monkeypatch.setattr(action, "RETRY_POLICY", RetryPolicy(sleep=lambda _s: None, clock=lambda: 1_700_000_000.0))
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"number": 12, "repository": {"full_name": REPO}, "pull_request": {
        "number": 12, "labels": [],
        "base": {"sha": BASE, "ref": "main", "repo": {"full_name": REPO}},
        "head": {"sha": HEAD, "ref": "feat", "repo": {"full_name": REPO, "fork": False}}}}))
    (tmp_path / "ws").mkdir()
    values = {"GITHUB_API_URL": fake.url, "GITHUB_REPOSITORY": REPO, "GITHUB_EVENT_PATH": str(event),
              "GITHUB_EVENT_NAME": "pull_request", "GITHUB_WORKSPACE": str(tmp_path / "ws"),
              "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
              "INPUT_GITHUB-TOKEN": "tok", "GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "99"}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


@pytest.fixture
def measured(monkeypatch):
    calls: list[dict] = []

    def fake_measure(**kw):
        calls.append(kw)
        return Report.from_json(sample())

    monkeypatch.setattr(action, "MEASURE", fake_measure)
    return calls


def _comment_env(env, monkeypatch, doc: dict) -> None:
    """Mode comment on the workflow_run of the measuring run (id 7), its file in the workspace."""
    (Path(env["GITHUB_WORKSPACE"]) / "m.json").write_text(json.dumps(doc))
    monkeypatch.setenv("INPUT_MODE", "comment")
    monkeypatch.setenv("INPUT_MEASUREMENT-FILES", "m.json")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "workflow_run")
    api = "https://api.github.com/repos"
    Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps({
        "action": "completed", "repository": {"full_name": REPO}, "workflow_run": {
            "id": 7, "event": "pull_request", "head_sha": HEAD, "head_branch": "feat",
            "head_repository": {"full_name": REPO, "owner": {"login": "octo"}},
            "pull_requests": [{"url": f"{api}/{REPO}/pulls/12", "id": 5012, "number": 12,
                               "head": {"ref": "feat", "sha": HEAD, "repo": {"url": f"{api}/{REPO}"}},
                               "base": {"ref": "main", "sha": BASE, "repo": {"url": f"{api}/{REPO}"}}}]}}))


RUN = "https://github.example/octo/app/actions/runs/99"


def test_comment_mode_writes_the_page_and_links_the_runs_artifacts(env, fake, monkeypatch):
    monkeypatch.setenv("INPUT_HTML-ARTIFACT", "sizebot-treemap")
    doc = measurement()
    _comment_env(env, monkeypatch, doc)  # the measuring run was run 7: never linked
    assert main(["action"]) == 1
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert out["report-html"] == "sizebot-output/sizebot-report-default.html"
    page = (Path(env["GITHUB_WORKSPACE"]) / out["report-html"]).read_text()
    merged = merge_reports([Report.from_json(sample())])
    assert page == render_doc(merged, "html")
    [c] = fake.comments_on(12)
    link = treemap_line(f"{RUN}#artifacts", "sizebot-treemap")
    assert c["body"] == build_comment(merged, "default", summary_url=RUN, artifacts_url=f"{RUN}#artifacts",
                                      html_artifact="sizebot-treemap")
    assert c["body"].endswith(link) and "runs/7" not in c["body"]
    assert link == ("\n🗺️ Where the bytes go, as a zoomable treemap of every build: the artifact `sizebot-treemap` "
                    f"of [this run]({RUN}#artifacts) (one HTML file, opens offline).\n")


def test_no_link_without_the_input_but_the_page_is_written(env, fake, monkeypatch):
    _comment_env(env, monkeypatch, measurement())
    assert main(["action"]) == 1
    [c] = fake.comments_on(12)
    assert "treemap" not in c["body"]
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert (Path(env["GITHUB_WORKSPACE"]) / out["report-html"]).read_text().startswith("<!DOCTYPE html>")


def test_report_mode_writes_the_page_beside_the_json(env, fake, measured, monkeypatch):
    monkeypatch.setenv("INPUT_HTML-ARTIFACT", "pages")
    assert main(["action"]) == 1
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    ws = Path(env["GITHUB_WORKSPACE"])
    assert Path(out["report-html"]).parent == Path(out["report-json"]).parent
    doc = json.loads((ws / out["report-json"]).read_text())
    assert (ws / out["report-html"]).read_text() == render_doc(Report.from_json(doc), "html")
    [c] = fake.comments_on(12)
    assert c["body"].endswith(treemap_line(f"{RUN}#artifacts", "pages"))


def test_hostile_artifact_name_refused_before_measuring(env, fake, measured, monkeypatch, capsys):
    monkeypatch.setenv("INPUT_HTML-ARTIFACT", "x](https://evil.example)")
    assert main(["action"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "input html-artifact" in err
    assert measured == [] and fake.comments_on(12) == []
