"""The GitHub Action's surroundings for tests: a pull request of octo/app (base BASE, head HEAD), its
event payloads as GitHub writes them, the runner's environment, the fake GitHub server serving that
pull request, and the action's outputs read back."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import fake_github as fg
from tests.support.paths import DATA

REPO = "octo/app"
BASE, HEAD = "a" * 40, "b" * 40
API = "https://api.github.com/repos"


def sample(verdict: str = "fail") -> dict:
    """The report of tests/data/report-render-sample.json, of BASE and HEAD, with ``verdict``."""
    doc = json.loads((DATA / "report-render-sample.json").read_text())
    doc["base"]["sha"], doc["head"]["sha"] = BASE, HEAD
    doc["verdict"] = verdict
    return doc


def measurement(**pr) -> dict:
    """The measurement file of pull request #12 (``pr`` overrides its pull_request fields)."""
    doc = sample()
    doc["pull_request"] = dict({"number": 12, "base_sha": BASE, "head_sha": HEAD}, **pr)
    doc["comment_key"] = "default"
    return doc


def read_outputs(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT's ``name<<DELIMITER`` blocks."""
    return {m.group(1): m.group(3)
            for m in re.finditer(r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", path.read_text(), re.DOTALL | re.MULTILINE)}


# The base's sizebot.toml whose budgets give sample()'s rows (the comment stage judges them again)
SAMPLE_CONFIG = """[[budget]]
targets = ["app"]
platforms = ["linux/amd64"]
strategies = ["release"]
max_size = "25 MB"
max_increase = "5%"

[[budget]]
level = "warn"
targets = ["app"]
platforms = ["linux/arm64"]
strategies = ["release"]
max_increase = "500 KB"

[[budget]]
targets = ["app"]
platforms = ["linux/amd64"]
strategies = ["default"]
max_increase = "1%"

[[budget]]
targets = ["worker"]
platforms = ["linux/amd64"]
strategies = ["release"]
max_size = "5 MB"

[[budget]]
targets = ["cli"]
max_increase = "1%"
"""


@contextmanager
def fake_github(*pulls: int) -> Iterator[fg.FakeGitHub]:
    """The fake GitHub server of REPO, with open pull requests ``pulls`` from BASE to HEAD, and
    SAMPLE_CONFIG as the base's sizebot.toml."""
    fake = fg.FakeGitHub(REPO).start()
    fake.files[(BASE, "sizebot.toml")] = SAMPLE_CONFIG
    try:
        for number in pulls:
            fake.add_pull(number, BASE, HEAD)
        yield fake
    finally:
        fake.stop()


def pull_request_event(labels: tuple[str, ...] = ()) -> dict:
    """The pull_request payload of #12 (same repository) with ``labels``."""
    return {"number": 12, "repository": {"full_name": REPO}, "pull_request": {
        "number": 12, "labels": [{"name": name} for name in labels],
        "base": {"sha": BASE, "ref": "main", "repo": {"full_name": REPO}},
        "head": {"sha": HEAD, "ref": "feat", "repo": {"full_name": REPO, "fork": False}}}}


def workflow_run(head_sha: str, *, prs: tuple[int, ...] = (), owner: str = "octo", branch: str = "feature") -> dict:
    """A workflow_run payload as GitHub writes it (run 7): a fork's run lists no pull requests."""
    return {"action": "completed", "repository": {"full_name": REPO}, "workflow_run": {
        "id": 7, "event": "pull_request", "head_sha": head_sha, "head_branch": branch,
        "head_repository": {"full_name": f"{owner}/app", "owner": {"login": owner}},
        "pull_requests": [{"url": f"{API}/{REPO}/pulls/{n}", "id": 5000 + n, "number": n,
                           "head": {"ref": branch, "sha": head_sha, "repo": {"url": f"{API}/{owner}/app"}},
                           "base": {"ref": "main", "sha": BASE, "repo": {"url": f"{API}/{REPO}"}}}
                          for n in prs]}}


def action_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, api_url: str, *, labels: tuple[str, ...] = (),
               **extra: str) -> dict[str, str]:
    """The runner's environment for ``sizebot action`` on the pull_request event of #12: nothing of the
    caller's INPUT_/GITHUB_/RUNNER_ variables, a workspace tmp_path/ws, outputs and summary beside it."""
    for k in list(os.environ):
        if k.startswith(("INPUT_", "GITHUB_", "RUNNER_")):
            monkeypatch.delenv(k)
    event = tmp_path / "event.json"
    event.write_text(json.dumps(pull_request_event(labels)))
    (tmp_path / "ws").mkdir()
    values = {"GITHUB_API_URL": api_url, "GITHUB_REPOSITORY": REPO, "GITHUB_EVENT_PATH": str(event),
              "GITHUB_EVENT_NAME": "pull_request", "GITHUB_WORKSPACE": str(tmp_path / "ws"),
              "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
              "INPUT_GITHUB-TOKEN": "tok", **extra}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def comment_mode(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, doc: dict, event: dict | None = None) -> None:
    """Mode comment on the workflow_run of the measuring run, its file ``doc`` as m.json in the workspace."""
    (Path(env["GITHUB_WORKSPACE"]) / "m.json").write_text(json.dumps(doc))
    monkeypatch.setenv("INPUT_MODE", "comment")
    monkeypatch.setenv("INPUT_MEASUREMENT-FILES", "m.json")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "workflow_run")
    Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps(event or workflow_run(HEAD, prs=(12,))))
