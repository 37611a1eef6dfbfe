"""The comment stage judges the uploaded figures itself, as an attacker's forged file would test it.

The measurement file comes from the pull request's own job, which ran the PR's code: its ``verdict``,
its budget rows and its overrides are claims. The comment stage (real PyGithub against the fake GitHub
server) recomputes every row and the verdict from the file's figures against the budgets of the
sizebot.toml at the pull request's base commit, read through the API, and posts that.

The file is tests/data/report-render-sample.json: app linux/amd64 release grew 6,540,000 -> 7,736,000
bytes (18.2875%), over the base's `max_increase = "5%"` (tests/support/action.py SAMPLE_CONFIG).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sizebot.cli import main
from tests.support.action import (
    BASE,
    HEAD,
    SAMPLE_CONFIG,
    action_env,
    comment_mode,
    fake_github,
    measurement,
    read_outputs,
)

MESSAGE = "Grow the app\n\nThe binary grows; that is fine.\n\nSize-Budget-Override: trust me\n"


@pytest.fixture
def fake():
    with fake_github() as f:
        f.commits[HEAD] = MESSAGE
        yield f


@pytest.fixture
def env(monkeypatch, tmp_path, fake):
    return action_env(monkeypatch, tmp_path, fake.api)


def forged(verdict: str = "pass", **changes) -> dict:
    """The sample's measurement claiming ``verdict``, every budget row a pass, no override."""
    doc = measurement()
    doc["verdict"] = verdict
    doc["budgets"] = [dict(r, status="pass" if r["status"] in ("fail", "warn", "overridden") else r["status"],
                           override_reason=None) for r in doc["budgets"]]
    doc["overrides"] = []
    doc.update(changes)
    return doc


def posted(fake, env) -> tuple[str, list[tuple[str, str, str]], list[tuple[str, str]]]:
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    doc = json.loads((Path(env["GITHUB_WORKSPACE"]) / out["report-json"]).read_text())
    return (out["verdict"], [(s["sha"], s["context"], s["state"]) for s in fake.statuses],
            [(r["rule"], r["status"]) for r in doc["budgets"]])


SAMPLE_ROWS = [("max_size 25 MB", "pass"), ("max_increase 5%", "fail"), ("max_increase 500 KB", "warn"),
               ("max_increase 1%", "fail"), ("max_size 5 MB", "pass"), ("max_increase 1%", "skipped")]


def test_forged_pass_is_judged_again_and_fails(fake, env, monkeypatch, capsys):
    fake.add_pull(12, BASE, HEAD)
    comment_mode(env, monkeypatch, forged("pass"))
    assert main(["action"]) == 1
    verdict, statuses, rows = posted(fake, env)
    assert (verdict, statuses, rows) == ("fail", [(HEAD, "sizebot/default", "failure")], SAMPLE_ROWS)
    out = capsys.readouterr().out
    files = str(Path(env["GITHUB_WORKSPACE"]) / "m.json")
    assert (f"::warning::{files}: budget row 1 is pass (max_increase 5%, app linux/amd64 release), its figures "
            "and the base's budgets give fail (max_increase 5%, app linux/amd64 release): the rows and verdict "
            "recomputed from its figures and the base's budgets are posted, not the file's") in out.splitlines()
    [comment] = fake.comments_on(12)
    assert comment["body"].startswith("<!-- sizebot:default -->\n\n❌ **sizebot: fail** — ")


def test_a_file_without_rows_cannot_drop_the_budgets(fake, env, monkeypatch):
    fake.add_pull(12, BASE, HEAD)
    comment_mode(env, monkeypatch, forged("pass", budgets=[]))
    assert main(["action"]) == 1
    assert posted(fake, env) == ("fail", [(HEAD, "sizebot/default", "failure")], SAMPLE_ROWS)


def test_the_head_s_loosened_sizebot_toml_is_not_read(fake, env, monkeypatch):
    """The head's own file (what the PR's job judged with, forged or not) never judges."""
    fake.files[(HEAD, "sizebot.toml")] = 'budgets_from = "head"\n'  # the PR's own file: no budgets
    fake.add_pull(12, BASE, HEAD)
    comment_mode(env, monkeypatch, forged("pass", budgets=[]))
    assert main(["action"]) == 1
    assert posted(fake, env)[0] == "fail"


def test_a_claimed_override_needs_the_label_on_the_pull_request(fake, env, monkeypatch):
    doc = measurement()
    doc["verdict"] = "warn"
    doc["budgets"] = [dict(r, status="overridden", override_reason="label") if r["status"] == "fail" else r
                      for r in doc["budgets"]]
    fake.add_pull(12, BASE, HEAD)  # no label on the pull request
    comment_mode(env, monkeypatch, doc)
    assert main(["action"]) == 1
    assert posted(fake, env) == ("fail", [(HEAD, "sizebot/default", "failure")], SAMPLE_ROWS)
    # a maintainer applies the label: read from the API when the comment stage runs
    fake.add_pull(12, BASE, HEAD, labels=("Size-Budget-Override",))
    Path(env["GITHUB_OUTPUT"]).write_text("")
    assert main(["action"]) == 0
    verdict, statuses, rows = posted(fake, env)
    assert (verdict, statuses[-1]) == ("warn", (HEAD, "sizebot/default", "success"))
    assert [status for _rule, status in rows] == ["pass", "overridden", "warn", "overridden", "pass", "skipped"]


def test_a_trailer_overrides_only_where_the_base_opts_in(fake, env, monkeypatch):
    """Any author can write a trailer in their own commit: off by default, on with the base's [override]."""
    fake.add_pull(12, BASE, HEAD)
    comment_mode(env, monkeypatch, forged("warn"))
    assert main(["action"]) == 1
    assert posted(fake, env)[0] == "fail"
    fake.files[(BASE, "sizebot.toml")] = SAMPLE_CONFIG + '\n[override]\ntrailer = "Size-Budget-Override"\n'
    Path(env["GITHUB_OUTPUT"]).write_text("")
    assert main(["action"]) == 0
    verdict, _statuses, rows = posted(fake, env)
    assert verdict == "warn" and ("max_increase 5%", "overridden") in rows
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    doc = json.loads((Path(env["GITHUB_WORKSPACE"]) / out["report-json"]).read_text())
    assert doc["overrides"] == [{"source": "trailer", "reason": "trust me"}]


def test_no_sizebot_toml_at_the_base_lets_the_head_s_judge(fake, env, monkeypatch):
    """The pull request that adds sizebot.toml is judged by its own (as a report does), read at its head."""
    del fake.files[(BASE, "sizebot.toml")]
    fake.files[(HEAD, ".github/sizebot.toml")] = '[[budget]]\nlevel = "warn"\nmax_increase = "10%"\n'
    fake.add_pull(12, BASE, HEAD)
    comment_mode(env, monkeypatch, forged("pass"))
    assert main(["action"]) == 0
    verdict, statuses, rows = posted(fake, env)
    assert (verdict, statuses) == ("warn", [(HEAD, "sizebot/default", "success")])
    assert rows == [("max_increase 10%", "warn"), ("max_increase 10%", "warn"), ("max_increase 10%", "warn"),
                    ("max_increase 10%", "pass"), ("max_increase 10%", "pass"), ("max_increase 10%", "pass"),
                    ("max_increase 10%", "skipped")]


def test_a_config_input_outside_the_repository_is_one_line(fake, env, monkeypatch, capsys):
    fake.add_pull(12, BASE, HEAD)
    comment_mode(env, monkeypatch, forged("pass"))
    monkeypatch.setenv("INPUT_CONFIG", "../../etc/sizebot.toml")
    assert main(["action"]) == 2
    assert capsys.readouterr().err.strip() == (
        "sizebot: error: input config: '../../etc/sizebot.toml' is outside the repository")
    assert fake.statuses == [] and fake.comments_on(12) == []


TARGETED = """[[target]]
name = "app"
package = "./cmd/app"
platforms = ["linux/amd64"]
strategies = ["release"]

[strategy.release]
flags = ["-trimpath", "-ldflags=-s -w"]

[[budget]]
targets = ["app"]
max_increase = "5%"
"""


def test_a_file_that_leaves_out_the_budgeted_build_fails(fake, env, monkeypatch):
    """Rows need builds: a file without the build the base's budgets judge cannot make them judge nothing."""
    fake.files[(BASE, "sizebot.toml")] = TARGETED
    fake.add_pull(12, BASE, HEAD)
    doc = forged("pass", budgets=[])
    doc["builds"] = [b for b in doc["builds"] if b["target"] != "app"]
    comment_mode(env, monkeypatch, doc)
    assert main(["action"]) == 1
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    report = json.loads((Path(env["GITHUB_WORKSPACE"]) / out["report-json"]).read_text())
    assert [(r["rule"], r["status"], r["subject"], r["message"]) for r in report["budgets"]] == [
        ("budget[0]", "skipped", "targets app", "no build of this report is in its scope: it judged nothing"),
        ("budget[0]", "fail", "app linux/amd64 release", "not in the measurement: a build the base's budgets judge")]
    assert (out["verdict"], fake.statuses[-1]["state"]) == ("fail", "failure")
    # the honest file: judged on its figures, nothing added
    Path(env["GITHUB_OUTPUT"]).write_text("")
    comment_mode(env, monkeypatch, measurement())
    assert main(["action"]) == 1
    out = read_outputs(Path(env["GITHUB_OUTPUT"]))
    report = json.loads((Path(env["GITHUB_WORKSPACE"]) / out["report-json"]).read_text())
    assert [(r["rule"], r["status"], r["subject"]) for r in report["budgets"]] == [
        ("max_increase 5%", "fail", "app linux/amd64 release"), ("max_increase 5%", "fail", "app linux/amd64 default"),
        ("max_increase 5%", "fail", "app linux/arm64 release")]
