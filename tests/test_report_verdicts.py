"""Verdicts a reviewer can trust, on a real repository built at test time (real git, the real Go toolchain).

The repository: a small program with a real dependency (github.com/google/uuid from the module proxy),
its sizebot.toml committed beside it.
  c1 (main)  cmd/app prints a UUID; sizebot.toml: target app, max_increase 1%
  c2         cmd/app also prints JSON (encoding/json): grows by far more than 1%
  c3         c2 + the head loosens its own budget to 1000%
  broken     c2 with a cmd/app that does not compile
  h1         c1 + `budgets_from = "head"` (a repository that lets a pull request's budgets judge it)
  h2         h1 + c2's growth and c3's loosened budget
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest

from sizebot.builds.workpath import build_path
from sizebot.cli import main
from tests.support.git import commit_all, git
from tests.support.goprograms import write_tree
from tests.support.schemas import load_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = load_schema("report")

GO_MOD = "module example.com/verdicts\n\ngo 1.21\n\nrequire github.com/google/uuid v1.6.0\n"
APP_C1 = ('package main\n\nimport (\n\t"fmt"\n\n\t"github.com/google/uuid"\n)\n\n'
          'func main() { fmt.Println(uuid.NewString()) }\n')
APP_C2 = ('package main\n\nimport (\n\t"encoding/json"\n\t"fmt"\n\n\t"github.com/google/uuid"\n)\n\n'
          'func main() {\n\tb, _ := json.Marshal(map[string]string{"id": uuid.NewString()})\n'
          '\tfmt.Println(string(b))\n}\n')
CONFIG = """[[target]]
name = "app"
package = "./cmd/app"
platforms = ["linux/amd64"]
env = { CGO_ENABLED = "0" }

[[budget]]
level = "fail"
max_increase = "1%"
targets = ["app"]
"""
LOOSE = CONFIG.replace('max_increase = "1%"', 'max_increase = "1000%"')
HEAD_BUDGETS = 'budgets_from = "head"\n\n'


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("verdicts")
    repo = root / "verdicts"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_tree(repo, {"go.mod": GO_MOD, "cmd/app/main.go": APP_C1, "sizebot.toml": CONFIG})
    env = {**os.environ, "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
    subprocess.run(["go", "mod", "tidy"], cwd=repo, env=env, check=True, capture_output=True)
    c1 = commit_all(repo, "Print a UUID")
    git(repo, "checkout", "-q", "-b", "feature")
    write_tree(repo, {"cmd/app/main.go": APP_C2})
    c2 = commit_all(repo, "Print JSON")
    write_tree(repo, {"sizebot.toml": LOOSE})
    c3 = commit_all(repo, "Loosen the budget")
    git(repo, "checkout", "-q", c2)
    write_tree(repo, {"cmd/app/main.go": APP_C2.replace("func main() {", "func main() {{")})
    broken = commit_all(repo, "Break the build")
    git(repo, "checkout", "-q", c1)
    write_tree(repo, {"sizebot.toml": HEAD_BUDGETS + CONFIG})
    h1 = commit_all(repo, "Budgets from the head")
    write_tree(repo, {"cmd/app/main.go": APP_C2, "sizebot.toml": HEAD_BUDGETS + LOOSE})
    h2 = commit_all(repo, "Print JSON, loosen the budget")
    git(repo, "checkout", "-q", "main")  # the default branch is checked out
    configs = root / "configs"
    configs.mkdir()
    return {"path": repo, "c1": c1, "c2": c2, "c3": c3, "broken": broken, "h1": h1, "h2": h2,
            "configs": configs}


@pytest.fixture(autouse=True)
def local_toolchain(monkeypatch):
    monkeypatch.setenv("GOTOOLCHAIN", "local")
    monkeypatch.setenv("GOFLAGS", "-mod=mod")


def report(capsys, repo: dict, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(["report", "--repo", str(repo["path"]), "--quiet",
                   "--cache-dir", str(Path(repo["configs"]).parent / "analyses"), *args])
    out, err = capsys.readouterr()
    return status, out, err


def report_json(capsys, repo: dict, *args: str) -> tuple[int, dict]:
    status, out, err = report(capsys, repo, "--format", "json", *args)
    assert out, err
    doc = json.loads(out)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    return status, doc


def config_file(repo: dict, name: str, text: str) -> str:
    path = Path(repo["configs"]) / name
    path.write_text(text)
    return str(path)


def sizes(doc: dict) -> dict[tuple[str, str], tuple[int | None, int | None]]:
    return {(b["target"], b["strategy"]): (b["base_size"], b["head_size"]) for b in doc["builds"]}


# ---- a build that fails never passes --------------------------------------------------------------

BROKEN_STRATEGY = CONFIG.replace("[[budget]]", '[strategy.release]\nflags = ["-ldflags=-bogus"]\n\n[[budget]]')


def test_strategy_that_cannot_build_is_an_error(repo, capsys):
    """Flags go rejects at base and head alike: the config is wrong, exit 2, and nothing says pass."""
    broken = config_file(repo, "broken-flags.toml", BROKEN_STRATEGY)
    status, doc = report_json(capsys, repo, "--base", repo["c1"], "--head", repo["c2"], "--config", broken)
    assert (status, doc["verdict"]) == (2, "error")
    release = [b for b in doc["builds"] if b["strategy"] == "release"]
    assert [(b["base"]["status"], b["head"]["status"]) for b in release] == [("failed", "failed")]
    assert any(n.startswith("app linux/amd64 release: fails to build at the base and the head alike (")
               for n in doc["notes"])
    status, out, _ = report(capsys, repo, "--base", repo["c1"], "--head", repo["c2"], "--config", broken,
                            "--format", "markdown")
    assert status == 2 and out.startswith("🛑 **sizebot: error**")
    assert "pass" not in out.splitlines()[0]
    status, out, _ = report(capsys, repo, "--base", repo["c1"], "--head", repo["c2"], "--config", broken)
    assert status == 2 and out.startswith("sizebot: error")


def test_head_that_does_not_build_fails_even_when_overridden(repo, capsys):
    status, doc = report_json(capsys, repo, "--base", repo["c1"], "--head", repo["broken"],
                              "--label", "size-budget-override")
    assert (status, doc["verdict"]) == (1, "fail")
    assert {b["head"]["status"] for b in doc["builds"]} == {"failed"}
    assert {b["base"]["status"] for b in doc["builds"]} == {"ok"}
    assert [n.split(" (")[0] for n in doc["notes"]] == ["app linux/amd64 default: the head does not build",
                                                        "app linux/amd64 release: the head does not build"]


# ---- budgets and targets that name nothing --------------------------------------------------------

def test_budget_naming_an_undiscovered_target_is_a_config_error(repo, capsys):
    path = config_file(repo, "typo-target.toml", '[[budget]]\nlevel = "fail"\nmax_size = "50 MB"\ntargets = ["ap"]\n')
    status, out, err = report(capsys, repo, "--base", repo["c1"], "--head", repo["c2"], "--config", path)
    assert (status, out) == (2, "")
    assert err.strip().splitlines() == [
        f"sizebot: error: {path}:1: budget[0].targets[0]: unknown target 'ap'; did you mean 'app'?"]


def test_an_error_in_the_base_budgets_names_the_base_file(repo, capsys):
    """The base's budgets judge: a fault in them is reported as the base's file at the base's commit,
    not as the sizebot.toml a reviewer has open (the head's, where that line says something else)."""
    path = repo["path"]
    typo = CONFIG + '\n[[budget]]\nlevel = "fail"\nmax_size = "50 MB"\npackages = { "github.com/google/uuidx" = "1 MB" }\n'
    git(path, "checkout", "-q", repo["c1"])
    write_tree(path, {"sizebot.toml": typo})
    base = commit_all(path, "Cap a package (a typo)")
    write_tree(path, {"sizebot.toml": typo.replace("uuidx", "uuid")})
    head = commit_all(path, "Fix the package's name")
    git(path, "checkout", "-q", "main")
    status, out, err = report(capsys, repo, "--base", base, "--head", head)
    assert (status, out) == (2, "")
    assert err.strip().splitlines() == [
        f"sizebot: error: base sizebot.toml (at {base[:12]}):12: budget[1].packages: package "
        "'github.com/google/uuidx' is in no binary of this budget's builds, at the base or the head (a typo, or a "
        "package path the binaries do not use)"]


def test_target_package_at_neither_commit_is_a_config_error(repo, capsys):
    path = config_file(repo, "no-package.toml", CONFIG.replace("./cmd/app", "./cmd/ap"))
    status, out, err = report(capsys, repo, "--base", repo["c1"], "--head", repo["c2"], "--config", path)
    assert (status, out) == (2, "")
    assert err.strip().splitlines() == [
        f"sizebot: error: {path}:1: target[0].package: ./cmd/ap exists at neither the base ({repo['c1'][:12]}) "
        f"nor the head ({repo['c2'][:12]})"]


def test_budget_package_in_no_binary_is_a_config_error(repo, capsys):
    path = config_file(repo, "no-such-cap.toml", CONFIG + '\n[[budget]]\nlevel = "warn"\n'
                       'packages = { "github.com/google/uuidd" = "1 MB" }\n')
    status, out, err = report(capsys, repo, "--base", repo["c1"], "--head", repo["c2"], "--config", path)
    assert (status, out) == (2, "")
    assert err.strip().splitlines() == [
        f"sizebot: error: {path}:12: budget[1].packages: package 'github.com/google/uuidd' is in no binary of this "
        "budget's builds, at the base or the head (a typo, or a package path the binaries do not use)"]
    # the package that is there is judged
    path = config_file(repo, "cap.toml", CONFIG + '\n[[budget]]\nlevel = "warn"\n'
                       'packages = { "github.com/google/uuid" = "1 MB" }\n')
    status, doc = report_json(capsys, repo, "--base", repo["c1"], "--head", repo["c2"], "--config", path)
    assert [r["status"] for r in doc["budgets"] if r["rule"].startswith("package ")] == ["pass", "pass"]


def test_budget_whose_scope_names_no_build_is_a_skipped_row(repo, capsys):
    """A rule that judges no build (here: a platform nothing is built for) is said, never silent: it
    would otherwise pass every pull request, as a typo or a head that stopped building what it judges."""
    path = config_file(repo, "other-platform.toml", CONFIG + '\n[[budget]]\nlevel = "fail"\nmax_increase = "1%"\n'
                       'platforms = ["linux/arm64"]\nstrategies = ["release"]\n')
    status, doc = report_json(capsys, repo, "--base", repo["c1"], "--head", repo["c2"], "--config", path)
    assert [(r["rule"], r["status"], r["subject"], r["message"]) for r in doc["budgets"]
            if not r["rule"].startswith("max_increase")] == [
        ("budget[1]", "skipped", "platforms linux/arm64; strategies release",
         "no build of this report is in its scope: it judged nothing")]
    status, out, _ = report(capsys, repo, "--base", repo["c1"], "--head", repo["c2"], "--config", path,
                            "--format", "markdown")
    assert ("| ⏭️ skipped | budget\\[1\\] | platforms linux/arm64; strategies release | no build of this report is "
            "in its scope: it judged nothing |") in out


# ---- base and head the same commit ----------------------------------------------------------------

def test_same_commit_is_said_and_gives_zero_deltas(repo, capsys):
    """`sizebot report` with no --base on the default branch: base and head are one commit."""
    status, doc = report_json(capsys, repo)
    assert doc["base"]["sha"] == doc["head"]["sha"] == repo["c1"]
    assert doc["notes"][0].startswith(f"base and head are the same commit ({repo['c1'][:12]})")
    assert [(b["strategy"], b["delta"]) for b in doc["builds"]] == [("default", 0), ("release", 0)]
    assert all(b["base_size"] > 0 for b in doc["builds"])
    assert (status, doc["verdict"]) == (0, "pass")
    status, out, _ = report(capsys, repo, "--format", "markdown")
    assert "base and head are the same commit" in out.splitlines()[0]
    assert "no size change" not in out


# ---- budgets from the base ------------------------------------------------------------------------

def test_head_cannot_loosen_its_own_budget(repo, capsys):
    status, doc = report_json(capsys, repo, "--base", repo["c1"], "--head", repo["c3"])
    assert (status, doc["verdict"]) == (1, "fail")
    assert {r["rule"] for r in doc["budgets"]} == {"max_increase 1%"}
    assert ("the head changes the budgets (budget[0].max_increase: 1% -> 1000%): the base's budgets were "
            "applied") in " ".join(doc["notes"])
    status, out, _ = report(capsys, repo, "--base", repo["c1"], "--head", repo["c3"], "--format", "markdown")
    assert ("- the head changes the budgets \\(budget\\[0\\].max\\_increase: 1% -&gt; 1000%\\): the base's budgets "
            "were applied") in out
    # the same growth without a change to the budgets: judged by them, and nothing to say
    status, doc = report_json(capsys, repo, "--base", repo["c1"], "--head", repo["c2"])
    assert (status, doc["verdict"]) == (1, "fail")
    assert not any("changes the budgets" in n for n in doc["notes"])


def test_budgets_from_head_lets_the_head_judge(repo, capsys):
    status, doc = report_json(capsys, repo, "--base", repo["h1"], "--head", repo["h2"])
    assert (status, doc["verdict"]) == (0, "pass")
    assert {r["rule"] for r in doc["budgets"]} == {"max_increase 1000%"}
    assert any(n.startswith("the head changes the budgets (budget[0].max_increase: 1% -> 1000%): the head's "
                            "budgets were applied") for n in doc["notes"])


# ---- reproducible sizes ---------------------------------------------------------------------------

def test_two_runs_give_identical_binaries(repo, capsys, tmp_path):
    """Built at one fixed path (both sides, every run): default builds embed it and still do not move."""
    first = report_json(capsys, repo, "--base", repo["c1"], "--head", repo["c2"])[1]
    second = report_json(capsys, repo, "--base", repo["c1"], "--head", repo["c2"])[1]
    assert sizes(first) == sizes(second)
    assert set(sizes(first)) == {("app", "default"), ("app", "release")}
    work = tmp_path / "work"

    def binaries() -> dict[str, str]:
        report_json(capsys, repo, "--base", repo["c1"], "--head", repo["c2"], "--work-dir", str(work))
        return {p.relative_to(work / "out").as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in (work / "out").rglob("app-*") if p.is_file()}

    once, again = binaries(), binaries()
    assert len(once) == 4 and once == again
    # the default build embeds the checkout's path, and it is the same at base and head
    src = str(build_path(repo["path"], work)).encode()
    assert src in next((work / "out" / "head").rglob("default/app-*")).read_bytes()
    assert src not in next((work / "out" / "head").rglob("release/app-*")).read_bytes()
