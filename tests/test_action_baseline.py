"""The action's baselines end to end against the fake GitHub server, with real Go builds: a push to main
in mode ``baseline`` writes the baseline, the "cache" keeps it under the commit SHA, the pull request's
measure run restores it by its base SHA and builds only the head, and the comment stage charts the size
history. A cache miss or a corrupt baseline is a note, and the base is built."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
import yaml

from sizebot.cli import action, main
from sizebot.github.client import RetryPolicy
from tests.support import fake_github as fg
from tests.support.action import REPO, read_outputs
from tests.support.git import git
from tests.support.goprograms import PRINT_HELLO
from tests.support.schemas import validate_document

API = "https://api.github.com/repos"
ROOT = Path(__file__).resolve().parents[1]
CACHED = "sizebot-output/sizebot-baseline-default.json"  # the path the workflows restore to and save from
MAIN_1 = 'package main\n\nimport "os"\n\nfunc main() { os.Stdout.WriteString("hello\\n") }\n'
MAIN_2 = PRINT_HELLO
PR = ('package main\n\nimport (\n\t"encoding/json"\n\t"fmt"\n)\n\n'
      'func main() { b, _ := json.Marshal(map[string]string{"hello": "sizebot"}); fmt.Println(string(b)) }\n')
GO_CACHE = ".sizebot-cache"  # the action's input go-cache, the path the workflows save and restore
GO_KEY = "sizebot-go-${{ runner.os }}-sizebot-v1-"
CONFIG = '[[target]]\nname = "hello"\npackage = "."\n\n[strategy.default]\n'


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> dict[str, object]:
    """main: two commits (os, then fmt); the pull request adds encoding/json on the second."""
    path = tmp_path_factory.mktemp("action-baseline") / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "go.mod").write_text("module example.com/hello\n\ngo 1.21\n")
    (path / "sizebot.toml").write_text(CONFIG)
    (path / ".gitignore").write_text("sizebot-output/\n")
    (path / "main.go").write_text(MAIN_1)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "hello with os")
    first = git(path, "rev-parse", "HEAD")
    (path / "main.go").write_text(MAIN_2)
    git(path, "commit", "-q", "-am", "hello with fmt")
    second = git(path, "rev-parse", "HEAD")
    git(path, "checkout", "-q", "-b", "feat")
    (path / "main.go").write_text(PR)
    git(path, "commit", "-q", "-am", "hello in JSON")
    head = git(path, "rev-parse", "HEAD")
    git(path, "checkout", "-q", "main")
    return {"path": path, "first": first, "second": second, "head": head}


@pytest.fixture
def fake():
    f = fg.FakeGitHub(REPO).start()
    yield f
    f.stop()


@pytest.fixture
def env(tmp_path, fake, monkeypatch, repo):
    for k in list(os.environ):
        if k.startswith(("INPUT_", "GITHUB_", "RUNNER_")):
            monkeypatch.delenv(k)
    monkeypatch.setenv("GOTOOLCHAIN", "local")
    monkeypatch.setenv("GOFLAGS", "-mod=mod")
    monkeypatch.setattr(action, "RETRY_POLICY", RetryPolicy(sleep=lambda _s: None, clock=lambda: 1_700_000_000.0))
    assert action.MEASURE is action.measure_report  # real builds
    values = {"GITHUB_API_URL": fake.url, "GITHUB_REPOSITORY": REPO, "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
              "GITHUB_WORKSPACE": str(repo["path"]), "GITHUB_OUTPUT": str(tmp_path / "output"),
              "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), "RUNNER_TEMP": str(tmp_path),
              "INPUT_GITHUB-TOKEN": "tok", "INPUT_BASELINE": CACHED}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    shutil.rmtree(Path(str(repo["path"])) / "sizebot-output", ignore_errors=True)
    return values


class Cache:
    """actions/cache/save and actions/cache/restore of the workflows: one file per key."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(exist_ok=True)

    def save(self, workspace: Path, key: str, path: str = CACHED) -> None:
        if (workspace / path).is_dir():
            shutil.copytree(workspace / path, self.root / key)  # a tar keeps the files' times
        else:
            shutil.copy(workspace / path, self.root / key)

    def restore(self, workspace: Path, key: str, restore_prefix: str | None = None, path: str = CACHED) -> bool:
        if (workspace / path).is_dir():
            shutil.rmtree(workspace / path)
        (workspace / path).unlink(missing_ok=True)
        found = self.root / key
        if not found.exists() and restore_prefix:
            older = sorted(self.root.glob(f"{restore_prefix}*"), key=lambda p: p.stat().st_mtime)
            found = older[-1] if older else found
        if not found.exists():
            return False
        (workspace / path).parent.mkdir(parents=True, exist_ok=True)
        if found.is_dir():
            shutil.copytree(found, workspace / path)
        else:
            shutil.copy(found, workspace / path)
        return True


def push(env, sha: str) -> None:
    Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps({"ref": "refs/heads/main", "after": sha,
                                                          "repository": {"full_name": REPO}}))
    os.environ["GITHUB_EVENT_NAME"] = "push"
    os.environ["GITHUB_SHA"] = sha
    os.environ["INPUT_MODE"] = "baseline"


def pull_request(env, repo, base: str) -> None:
    Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps({"number": 12, "repository": {"full_name": REPO},
                                                          "pull_request": {
        "number": 12, "labels": [], "base": {"sha": base, "ref": "main", "repo": {"full_name": REPO}},
        "head": {"sha": repo["head"], "ref": "feat", "repo": {"full_name": REPO, "fork": False}}}}))
    os.environ["GITHUB_EVENT_NAME"] = "pull_request"
    os.environ["INPUT_MODE"] = "measure"


def run_action(env, capsys) -> tuple[int, dict[str, str], str]:
    Path(env["GITHUB_OUTPUT"]).write_text("")
    capsys.readouterr()
    status = main(["action"])
    out, err = capsys.readouterr()
    return status, read_outputs(Path(env["GITHUB_OUTPUT"])), out + err


def test_push_writes_the_baseline_and_the_pull_request_builds_only_its_head(env, fake, repo, capsys, tmp_path,
                                                                           monkeypatch):
    ws = Path(str(repo["path"]))
    cache = Cache(tmp_path / "cache")
    go_key = GO_KEY.replace("${{ runner.os }}", "Linux")
    # The action's Go caches under the workspace (its input go-cache, as action.yml's default).
    monkeypatch.setenv("INPUT_GO-CACHE", GO_CACHE)
    shutil.rmtree(ws / GO_CACHE, ignore_errors=True)
    caller = (os.environ.get("GOCACHE"), os.environ.get("GOMODCACHE"))
    # Two pushes to main: the second carries the first's history forward, and builds on the first's Go cache.
    for sha in (repo["first"], repo["second"]):
        assert not cache.restore(ws, f"sizebot-baseline-{sha}", "sizebot-baseline-") or sha == repo["second"]
        assert cache.restore(ws, f"{go_key}{sha}", go_key, GO_CACHE) == (sha == repo["second"])
        push(env, str(sha))
        status, outputs, log = run_action(env, capsys)
        assert status == 0, log
        assert outputs["baseline-json"] == CACHED
        cache.save(ws, f"sizebot-baseline-{sha}")
        cache.save(ws, f"{go_key}{sha}", GO_CACHE)
    # go build wrote there (compiled packages, the cache's own files), and the caller's environment is back.
    compiled = [p for p in (ws / GO_CACHE / "go-build").rglob("*-d") if p.is_file()]
    assert len(compiled) > 20 and (ws / GO_CACHE / "go-build" / "trim.txt").is_file()
    assert (ws / GO_CACHE / "go-mod").is_dir()
    assert (os.environ.get("GOCACHE"), os.environ.get("GOMODCACHE")) == caller
    baseline = json.loads((ws / CACHED).read_text())
    validate_document(baseline, "baseline")
    assert baseline["commit"]["sha"] == repo["second"]
    assert [h["sha"] for h in baseline["history"]] == [repo["first"], repo["second"]]
    assert "Baseline of" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert fake.requests == [] or all(r.method == "GET" for r in fake.requests)  # a push job writes nothing

    # The pull request's measure job: the base's baseline restored by base.sha, only the head built, on
    # the default branch's Go cache restored by base.sha. Its entries made to look two hours old: the go
    # command renews the time of an entry it uses (when older than an hour), so a renewed one was read.
    assert cache.restore(ws, f"sizebot-baseline-{repo['second']}")
    assert cache.restore(ws, f"{go_key}{repo['second']}", go_key, GO_CACHE)
    restored = [p for p in (ws / GO_CACHE / "go-build").rglob("*") if p.is_file()]
    before = time.time() - 7200
    for p in restored:
        os.utime(p, (before, before))
    fake.add_pull(12, str(repo["second"]), str(repo["head"]), head_ref="feat")
    pull_request(env, repo, str(repo["second"]))
    status, outputs, log = run_action(env, capsys)
    assert status == 0, log
    assert f"base {str(repo['second'])[:12]}: measured by the baseline, not built" in log
    assert "building base" not in log and "building head hello" in log
    measurement = json.loads((ws / outputs["report-json"]).read_text())
    assert measurement["builds"][0]["base"]["status"] == "ok" and measurement["builds"][0]["delta"] > 0
    assert [p["sha"] for p in measurement["trend"]["points"]] == [repo["first"], repo["second"]]
    assert not any("baseline" in n for n in measurement["notes"])
    renewed = [p for p in restored if p.stat().st_mtime > before + 3600]
    assert len(renewed) > 20, len(renewed)  # the head's build read the restored cache (fmt, os, runtime...)

    # The workflow_run job comments; the comment charts the history with the head last.
    comment_ws = tmp_path / "comment-ws"
    (comment_ws / "artifacts").mkdir(parents=True)
    shutil.copy(ws / outputs["report-json"], comment_ws / "artifacts" / "m.json")
    os.environ.update({"GITHUB_WORKSPACE": str(comment_ws), "GITHUB_EVENT_NAME": "workflow_run",
                       "INPUT_MODE": "comment", "INPUT_MEASUREMENT-FILES": "artifacts/*.json"})
    Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps({"action": "completed", "repository": {"full_name": REPO},
                                                          "workflow_run": {
        "id": 7, "event": "pull_request", "head_sha": repo["head"], "head_branch": "feat",
        "head_repository": {"full_name": REPO, "owner": {"login": "octo"}},
        "pull_requests": [{"url": f"https://api.github.com/repos/{REPO}/pulls/12", "id": 5012, "number": 12,
                           "head": {"ref": "feat", "sha": repo["head"], "repo": {"url": f"{API}/{REPO}"}},
                           "base": {"ref": "main", "sha": repo["second"], "repo": {"url": f"{API}/{REPO}"}}}]}}))
    status, outputs, log = run_action(env, capsys)
    assert status == 0, log
    [c] = fake.comments_on(12)
    first7, second7, head7 = (str(repo[k])[:7] for k in ("first", "second", "head"))
    assert "**Size history** of <code>hello " in c["body"]
    assert f'x-axis ["{first7}", "{second7}", "head {head7}"]' in c["body"]


@pytest.mark.parametrize("content, note", [
    (None, "no baseline at sizebot-output/sizebot-baseline-default.json (no cache entry for this base): "
           "the base was built"),
    ('{"schema": "sizebot/baseline@2", "builds": [', "the baseline sizebot-output/sizebot-baseline-default.json "
                                                    "was ignored ("),
    ('{"schema": "sizebot/analyze@2"}', "is not one of sizebot's documents"),
    ('{"schema": "sizebot/baseline@1"}', "measured by an older sizebot: measure again"),
    # a cache is a tar of what some job wrote: a symbolic link restored from it is not followed
    ("symlink", "sizebot-baseline-default.json: a symbolic link, not followed (an untrusted path)): the base was built"),
    ("fifo", "sizebot-baseline-default.json: a FIFO, not a regular file): the base was built"),  # never blocks
])
def test_a_missing_or_corrupt_baseline_is_a_note_and_the_base_is_built(env, fake, repo, capsys, content, note,
                                                                        tmp_path):
    ws = Path(str(repo["path"]))
    if content is not None:
        (ws / CACHED).parent.mkdir(exist_ok=True)
    if content == "fifo":
        os.mkfifo(ws / CACHED)
    elif content == "symlink":
        (tmp_path / "elsewhere.json").write_text('{"schema": "sizebot/baseline@1"}')
        (ws / CACHED).symlink_to(tmp_path / "elsewhere.json")
    elif content is not None:
        (ws / CACHED).write_text(content)
    fake.add_pull(12, str(repo["second"]), str(repo["head"]), head_ref="feat")
    pull_request(env, repo, str(repo["second"]))
    status, outputs, log = run_action(env, capsys)
    assert status == 0, log
    assert "building base hello" in log and "::notice::" in log
    measurement = json.loads((ws / outputs["report-json"]).read_text())
    assert measurement["builds"][0]["base"]["status"] == "ok"
    assert any(note in n for n in measurement["notes"]), measurement["notes"]
    assert "trend" not in measurement


def test_the_workflows_save_and_restore_the_baseline_by_commit():
    baseline = yaml.safe_load((ROOT / ".github/workflows/sizebot-baseline.yml").read_text())
    measure = yaml.safe_load((ROOT / ".github/workflows/sizebot-pr-measure.yml").read_text())
    assert baseline[True]["push"]["branches"] == ["main"] and baseline["permissions"] == {"contents": "read"}
    steps = baseline["jobs"]["baseline"]["steps"]
    save = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save"))
    assert save["with"]["key"] == "sizebot-baseline-${{ github.sha }}"
    assert save["with"]["path"] == "${{ steps.sizebot.outputs.baseline-json }}"
    action_step = next(s for s in steps if s.get("id") == "sizebot")
    assert action_step["with"]["mode"] == "baseline" and action_step["with"]["baseline"] == CACHED
    steps = measure["jobs"]["measure"]["steps"]
    restore = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore"))
    assert restore["with"] == {"path": CACHED, "key": "sizebot-baseline-${{ github.event.pull_request.base.sha }}"}
    action_step = next(s for s in steps if s.get("id") == "sizebot")
    assert action_step["with"]["baseline"] == CACHED
    # The Go caches: saved by the push job under its commit, restored by the pull request (never saved there).
    steps = baseline["jobs"]["baseline"]["steps"]
    go_steps = [s for s in steps if s.get("with", {}).get("path") == GO_CACHE]
    assert [s["uses"] for s in go_steps] == ["actions/cache/restore@v4", "actions/cache/save@v4"]
    assert go_steps[0]["with"] == {"path": GO_CACHE, "key": GO_KEY + "${{ github.sha }}", "restore-keys": GO_KEY}
    assert go_steps[1]["with"] == {"path": GO_CACHE, "key": GO_KEY + "${{ github.sha }}"}
    assert steps.index(go_steps[0]) < steps.index(action_step_of(steps)) < steps.index(go_steps[1])
    steps = measure["jobs"]["measure"]["steps"]
    go_steps = [s for s in steps if s.get("with", {}).get("path") == GO_CACHE]
    assert go_steps == [{"uses": "actions/cache/restore@v4", "with": {
        "path": GO_CACHE, "key": GO_KEY + "${{ github.event.pull_request.base.sha }}", "restore-keys": GO_KEY}}]
    assert steps.index(go_steps[0]) < steps.index(action_step_of(steps))
    assert not any("cache/save" in s.get("uses", "") for s in steps)
    # go-cache is not set in the workflows: action.yml's default is the path they carry
    assert all("go-cache" not in action_step_of(s)["with"] for s in (baseline["jobs"]["baseline"]["steps"], steps))
    inputs = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    assert inputs["go-cache"]["default"] == GO_CACHE
    docs = (ROOT / "docs/action.md").read_text()
    for name in ("sizebot-baseline.yml", "sizebot-pr-measure.yml"):
        assert (ROOT / ".github/workflows" / name).read_text() in docs


def action_step_of(steps: list[dict]) -> dict:
    return next(s for s in steps if s.get("id") == "sizebot")


@pytest.mark.parametrize("value", ["/root/.cache/go-build", "../outside", "cache/../../outside"])
def test_a_go_cache_outside_the_workspace_is_refused(env, repo, capsys, monkeypatch, value):
    """The workflow's steps carry only the workspace: a Go cache elsewhere is one line, exit 2, nothing built."""
    monkeypatch.setenv("INPUT_GO-CACHE", value)
    pull_request(env, repo, str(repo["second"]))
    status, outputs, log = run_action(env, capsys)
    assert status == 2
    assert log.strip().splitlines()[-1].endswith(f"input go-cache: {value!r} is not a directory inside the workspace "
                                                 "(a relative path without '..')")
    assert "building" not in log and outputs == {}
