"""`sizebot demo`, as the README's quick start runs it (./scripts/demo), end to end."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest

from sizebot.cli.report import render_doc
from sizebot.demo import BASE_BRANCH, HEAD_BRANCH, materialize, sample_files
from sizebot.documents.report import Report
from tests.support.git import git
from tests.support.schemas import load_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = load_schema("report")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("demo-out")
    env = {**os.environ, "GOTOOLCHAIN": "local"}
    proc = subprocess.run([str(ROOT / "scripts" / "demo"), "--out", str(out), "--exit-code"], capture_output=True,
                          text=True, env=env, timeout=600)
    return {"proc": proc, "out": out, "doc": json.loads((out / "sizebot-report.json").read_text())}


def test_sample_trees():
    assert list(sample_files("1")) == ["cmd/app/main.go", "go.mod", "internal/greeting/greeting.go", "sizebot.toml"]
    assert list(sample_files("2")) == ["cmd/app/main.go", "go.mod", "internal/api/api.go",
                                       "internal/greeting/greeting.go", "sizebot.toml", "third_party/quotes/go.mod",
                                       "third_party/quotes/quotes.go"]
    assert b"replace example.com/quotes => ./third_party/quotes" in sample_files("2")["go.mod"]


def test_materialize_makes_two_fixed_commits(tmp_path):
    first = materialize(tmp_path / "a")
    second = materialize(tmp_path / "b")
    log = git(first, "log", "--format=%H %s", HEAD_BRANCH)
    assert [line.split(" ", 1)[1] for line in log.splitlines()] == [
        "Serve greetings and quotes as JSON over HTTP", "Greet from the command line"]
    assert log == git(second, "log", "--format=%H %s", HEAD_BRANCH)  # same authors and dates: same commits
    assert git(first, "rev-parse", BASE_BRANCH) == git(first, "rev-parse", f"{HEAD_BRANCH}~1")
    assert git(first, "status", "--porcelain") == ""
    assert git(first, "rev-parse", "--abbrev-ref", "HEAD") == HEAD_BRANCH
    assert (first / "third_party" / "quotes" / "quotes.go").is_file()


def test_demo_with_exit_code_exits_1_and_says_where_the_files_are(demo):
    proc, out = demo["proc"], demo["out"]
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("sizebot: fail — app ")
    assert f"The PR comment:  {out / 'sizebot-report.md'}" in lines
    assert f"As GitHub shows it: {out / 'sizebot-report.html'}" in lines
    assert f"The JSON report: {out / 'sizebot-report.json'}" in lines
    assert f"Where the bytes go: {out / 'sizebot-treemap.html'}" in lines
    assert lines[-1] == ("The sample change exceeds a fail budget on purpose: a pull request check would fail "
                         "(exit status 1; the demo exits with it under --exit-code).")
    assert "example.com/quotes ← example.com/demo/internal/api ← example.com/demo/cmd/app" in proc.stdout
    assert "sizebot: building head app" in proc.stderr  # progress on stderr, plain lines off a terminal
    assert sorted(p.name for p in out.iterdir()) == ["sizebot-report.html", "sizebot-report.json",
                                                     "sizebot-report.md", "sizebot-treemap.html"]
    page = (out / "sizebot-treemap.html").read_text()
    assert page == render_doc(Report.from_json(demo["doc"]), "html")


def test_demo_report_document(demo):
    doc = demo["doc"]
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["verdict"] == "fail"
    assert doc["config"] == {"path": "sizebot.toml", "defaulted": False}
    assert (doc["base"]["ref"], doc["base"]["subject"]) == ("main", "Greet from the command line")
    assert (doc["head"]["ref"], doc["head"]["subject"]) == ("feature/http-api",
                                                            "Serve greetings and quotes as JSON over HTTP")
    assert [b["strategy"] for b in doc["builds"]] == ["default", "release"]
    statuses = [(r["rule"], r["subject"].split()[-1], r["status"]) for r in doc["budgets"]]
    assert statuses == [("max_size 20 MB", "default", "pass"), ("max_increase 50%", "default", "fail"),
                        ("max_size 20 MB", "release", "pass"), ("max_increase 50%", "release", "fail"),
                        ("new_modules warn", "default", "warn"), ("new_modules warn", "release", "warn")]
    for b in doc["builds"]:
        assert b["delta"] == b["head_size"] - b["base_size"] > 0
        assert b["diff"]["added_modules"] == ["example.com/quotes"]
        deps = {(d["kind"], d["name"]): d["chain"] for d in b["new_dependencies"]}
        assert deps[("module", "example.com/quotes")] == ["example.com/quotes", "example.com/demo/internal/api",
                                                          "example.com/demo/cmd/app"]
        assert deps[("package", "net/http")] == ["net/http", "example.com/demo/internal/api",
                                                 "example.com/demo/cmd/app"]
        assert deps[("package", "example.com/demo/internal/api")] == ["example.com/demo/internal/api",
                                                                      "example.com/demo/cmd/app"]
    steps = doc["waterfalls"][0]["steps"]
    assert [s["strategy"] for s in steps] == ["default", "release"]
    assert steps[1]["saving"] == steps[0]["size"] - steps[1]["size"] > 0


def test_demo_sizes_are_what_go_build_makes(demo, tmp_path, go, go_env):
    """The release build is reproducible (-trimpath, same commit, same stamp): build it again here."""
    repo = materialize(tmp_path / "sizebot-demo")
    release = {b["strategy"]: b for b in demo["doc"]["builds"]}["release"]
    env = {**go_env, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"}
    for ref, key in ((BASE_BRANCH, "base_size"), (HEAD_BRANCH, "head_size")):
        git(repo, "checkout", "-q", ref)
        out = tmp_path / f"app-{key}"
        subprocess.run([go, "build", "-trimpath", "-ldflags=-s -w", "-o", str(out), "./cmd/app"], cwd=repo,
                       env=env, check=True, capture_output=True)
        assert out.stat().st_size == release[key]


def test_demo_markdown_and_html(demo):
    markdown = (demo["out"] / "sizebot-report.md").read_text()
    assert markdown.startswith("<!-- sizebot:demo -->\n\n❌ **sizebot: fail** — app linux/")
    assert "<details" in markdown and "Strategy waterfall" in markdown
    page = (demo["out"] / "sizebot-report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "sizebot demo: feature/http-api compared with main" in page
    assert "<table>" in page and "<script" not in page


def test_scripts_demo_is_what_the_readme_says():
    readme = (ROOT / "README.md").read_text()
    assert "./scripts/demo" in readme
    for name in ("sizebot-report.md", "sizebot-report.json", "sizebot-report.html", "sizebot-treemap.html",
                 "./sizebot-demo-out/"):
        assert name in readme
    assert "exits with status 0 once it has shown that failing" in readme and "--exit-code" in readme
    script = (ROOT / "scripts" / "demo").read_text()
    assert "scripts/missing-deps" in script and '-m sizebot demo "$@"' in script
    from sizebot.cli.demo import DEFAULT_OUT, HTML, JSON, MARKDOWN

    assert (DEFAULT_OUT, MARKDOWN, JSON, HTML) == ("sizebot-demo-out", "sizebot-report.md", "sizebot-report.json",
                                                   "sizebot-report.html")
