"""The action writes the treemap page beside the JSON (output report-html), and the comment links
to the run's artifacts when the workflow uploads the page (input html-artifact), with a URL built
from the trusted run context only."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from sizebot.budgets.rejudge import rejudge
from sizebot.cli import action, main
from sizebot.cli.report import render_doc
from sizebot.config.loading import parse_config
from sizebot.documents.report import Commit, Report
from sizebot.github.client import RetryPolicy
from sizebot.github.comment import build_comment
from sizebot.github.merge import merge_reports
from sizebot.render.comment import treemap_line
from tests.support.action import (
    SAMPLE_CONFIG,
    action_env,
    comment_mode,
    fake_github,
    measurement,
    read_outputs,
    sample,
)


@pytest.fixture
def fake():
    with fake_github(12) as f:
        yield f


@pytest.fixture
def env(tmp_path, fake, monkeypatch):
    monkeypatch.setattr(action, "RETRY_POLICY", RetryPolicy(sleep=lambda _s: None, clock=lambda: 1_700_000_000.0))
    return action_env(monkeypatch, tmp_path, fake.url, GITHUB_SERVER_URL="https://github.example", GITHUB_RUN_ID="99")


@pytest.fixture
def measured(monkeypatch):
    calls: list[dict] = []

    def fake_measure(**kw):
        calls.append(kw)
        return Report.from_json(sample())

    monkeypatch.setattr(action, "MEASURE", fake_measure)
    return calls


RUN = "https://github.example/octo/app/actions/runs/99"


def test_comment_mode_writes_the_page_and_links_the_runs_artifacts(env, fake, monkeypatch):
    monkeypatch.setenv("INPUT_HTML-ARTIFACT", "sizebot-treemap")
    doc = measurement()
    comment_mode(env, monkeypatch, doc)  # the measuring run was run 7: never linked
    assert main(["action"]) == 1
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    assert out["report-html"] == "sizebot-output/sizebot-report-default.html"
    page = (Path(env["GITHUB_WORKSPACE"]) / out["report-html"]).read_text()
    # the comment stage judges the figures again, against the base's sizebot.toml (SAMPLE_CONFIG)
    merged = rejudge(merge_reports([Report.from_json(sample())]), parse_config(SAMPLE_CONFIG), ())
    # named as the pull request names its commits (the fake API gives no subject for them)
    merged = replace(merged, base=Commit("main", merged.base.sha, ""), head=Commit("octo:feature", merged.head.sha, ""))
    assert page == render_doc(merged, "html")
    [c] = fake.comments_on(12)
    link = treemap_line(f"{RUN}#artifacts", "sizebot-treemap")
    assert c["body"] == build_comment(merged, "default", summary_url=RUN, artifacts_url=f"{RUN}#artifacts",
                                      html_artifact="sizebot-treemap")
    assert c["body"].endswith(link) and "runs/7" not in c["body"]
    assert link == ("\n🗺️ Where the bytes go, as a zoomable treemap of every build: the artifact `sizebot-treemap` "
                    f"of [this run]({RUN}#artifacts) (one HTML file, opens offline).\n")


def test_no_link_without_the_input_but_the_page_is_written(env, fake, monkeypatch):
    comment_mode(env, monkeypatch, measurement())
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
