"""`sizebot report` end to end: a real git repository, the real Go toolchain, real binaries.

Commits of the sample repository (no sizebot.toml in it: each run names its config, but one):
  c1 (main)   cmd/app prints with fmt
  c2          + internal/format (encoding/json) and the module example.com/greet through a local
                replace; + cmd/tool (a second main package, built for linux and windows)
  c3          c2 + a comment, and the trailer "Size-Budget-Override: JSON output is worth it"
  c4          c2 without example.com/greet (a module removed)
  broken      c1 with a cmd/app that does not compile (a base that does not build)
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import jsonschema
import pytest

from sizebot.cli import main
from sizebot.compare import run
from sizebot.compare.run import default_base, run_report_doc
from tests.support.git import commit_all, git
from tests.support.goprograms import GREET_MODULE, PRINT_HELLO, requiring_greet, write_tree
from tests.support.schemas import load_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = load_schema("report")
DIFF_SCHEMA = load_schema("diff")
MOD = "example.com/e2e"

GO_MOD = "module example.com/e2e\n\ngo 1.21\n"
GO_MOD_GREET = requiring_greet(GO_MOD, "v1.2.3")
APP_C1 = PRINT_HELLO
APP_C2 = ('package main\n\nimport (\n\t"fmt"\n\t"os"\n\n\t"example.com/e2e/internal/format"\n)\n\n'
          'func main() { fmt.Println(format.Reply(len(os.Args))) }\n')
FORMAT_GREET = '''package format

import (
	"encoding/json"

	"example.com/greet"
)

// Reply is a greeting as JSON.
func Reply(n int) string {
	b, _ := json.Marshal(map[string]any{"greeting": greet.Hello("e2e", n), "n": n})
	return string(b)
}
'''
FORMAT_PLAIN = FORMAT_GREET.replace('\n\t"example.com/greet"\n', "").replace('greet.Hello("e2e", n)', '"hello"')
TOOL = 'package main\n\nimport "os"\n\nfunc main() { os.Exit(len(os.Args) - 1) }\n'

FULL = """
[[target]]
name = "app"
package = "./cmd/app"
platforms = ["linux/amd64"]
env = { CGO_ENABLED = "0" }

[[target]]
name = "tool"
package = "./cmd/tool"
platforms = ["linux/amd64", "windows/amd64"]
strategies = ["default"]

[strategy.release]
flags = ["-trimpath", "-ldflags=-s -w"]

[strategy.stripped]
post = ["strip --strip-unneeded {binary}"]

[strategy.custom]
command = "go build -trimpath -o {output} ./cmd/app"
output = "dist/app-{goos}-{goarch}"

[[budget]]
level = "fail"
max_increase = "10%"
targets = ["app"]

[[budget]]
level = "warn"
new_modules = "warn"
max_size = "50 MB"
"""
ONE = """
[[target]]
name = "app"
package = "./cmd/app"
platforms = ["linux/amd64"]
env = { CGO_ENABLED = "0" }
strategies = ["default"]

[[budget]]
level = "fail"
max_increase = "10%"

[[budget]]
level = "warn"
new_modules = "warn"
"""
WARN_ONLY = ONE.replace('level = "fail"\nmax_increase = "10%"', 'level = "fail"\nmax_increase = "1000%"')
BAD = '[[target]]\nname = "app"\npackage = "./cmd/app"\n\n[[budget]]\nlevel = "fail"\nmax_sise = "1 MB"\n'


def validate(doc: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    for b in doc["builds"]:
        if b["diff"] is not None:
            jsonschema.Draft202012Validator(DIFF_SCHEMA).validate(b["diff"])


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("e2e")
    repo = root / "app"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_tree(repo, {"go.mod": GO_MOD, "cmd/app/main.go": APP_C1})
    c1 = commit_all(repo, "Print hello")
    git(repo, "checkout", "-q", "-b", "feature")
    write_tree(repo, {"go.mod": GO_MOD_GREET, "cmd/app/main.go": APP_C2, "internal/format/format.go": FORMAT_GREET,
                 "cmd/tool/main.go": TOOL, **GREET_MODULE})
    c2 = commit_all(repo, "Reply in JSON")
    write_tree(repo, {"cmd/tool/main.go": "// Command tool exits with the number of its arguments.\n" + TOOL})
    c3 = commit_all(repo, "Document the tool\n\nSize-Budget-Override: JSON output is worth it")
    git(repo, "checkout", "-q", c2)
    (repo / "greet" / "greet.go").unlink()
    (repo / "greet" / "go.mod").unlink()
    write_tree(repo, {"go.mod": GO_MOD, "internal/format/format.go": FORMAT_PLAIN})
    c4 = commit_all(repo, "Drop example.com/greet")
    git(repo, "checkout", "-q", c1)
    write_tree(repo, {"cmd/app/main.go": APP_C1.replace("func main()", "func main(")})
    broken = commit_all(repo, "Break the build")
    git(repo, "checkout", "-q", "feature")
    configs = root / "configs"
    write_tree(configs, {"full.toml": FULL, "one.toml": ONE, "warn.toml": WARN_ONLY, "bad.toml": BAD})
    return {"path": repo, "c1": c1, "c2": c2, "c3": c3, "c4": c4, "broken": broken, "configs": configs,
            "root": root}


def cli(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(["report", *args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def full(repo, tmp_path_factory):
    """c1 -> c2 with every strategy, through the CLI: JSON, markdown and text at once."""
    out = tmp_path_factory.mktemp("full")
    env_before = dict(os.environ)
    os.environ["GOTOOLCHAIN"] = "local"
    try:
        status = main(["report", "--repo", str(repo["path"]), "--base", "main", "--head", repo["c2"],
                       "--config", str(repo["configs"] / "full.toml"), "--format", "text",
                       "--output", str(out / "report.txt"), "--json", str(out / "report.json"),
                       "--markdown", str(out / "report.md"), "--work-dir", str(out / "work"), "--quiet"])
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    doc = json.loads((out / "report.json").read_text())
    return {"status": status, "doc": doc, "out": out, "work": out / "work"}


def builds(doc: dict) -> dict[tuple[str, str, str], dict]:
    return {(b["target"], b["platform"], b["strategy"]): b for b in doc["builds"]}


def test_full_report_verdict_and_outputs(full, repo):
    doc = full["doc"]
    validate(doc)
    assert full["status"] == 1 and doc["verdict"] == "fail"
    assert doc["base"] == {"ref": "main", "sha": repo["c1"], "subject": "Print hello"}
    assert doc["head"] == {"ref": repo["c2"], "sha": repo["c2"], "subject": "Reply in JSON"}
    assert doc["repo"] == {"path": str(Path(repo["path"]).resolve()), "name": "app"}
    assert list(builds(doc)) == [
        ("app", "linux/amd64", "default"), ("app", "linux/amd64", "release"), ("app", "linux/amd64", "stripped"),
        ("app", "linux/amd64", "custom"), ("tool", "linux/amd64", "default"), ("tool", "windows/amd64", "default")]
    markdown = (full["out"] / "report.md").read_text()
    assert markdown.startswith("❌ **sizebot: fail**")
    text = (full["out"] / "report.txt").read_text()
    assert text.startswith("sizebot: fail")
    # the user's checkout is untouched and no worktree is left behind
    assert git(repo["path"], "status", "--porcelain") == ""
    assert len(git(repo["path"], "worktree", "list").splitlines()) == 1


def test_sizes_are_the_files_on_disk_and_deltas_add_up(full):
    doc = full["doc"]
    for b in doc["builds"]:
        for side in ("base", "head"):
            if b[side]["status"] != "ok":
                continue
            name = b[side]["binary"]["path"]
            files = list((full["work"] / "out" / side).glob(f"*/{b['strategy']}/{name}"))
            assert len(files) == 1, (side, b["strategy"], name)
            assert b[f"{side}_size"] == b[side]["binary"]["file_size"] == files[0].stat().st_size
        if b["diff"] is not None:
            d = b["diff"]
            assert b["delta"] == b["head_size"] - b["base_size"] == d["delta"]
            assert sum(r["delta"] for r in d["packages"]) + sum(r["delta"] for r in d["unattributed"]) == b["delta"]
    app = builds(doc)
    assert app[("app", "linux/amd64", "stripped")]["head_size"] < app[("app", "linux/amd64", "default")]["head_size"]
    assert app[("app", "linux/amd64", "custom")]["head"]["binary"]["path"] == "app-linux-amd64"
    assert app[("tool", "windows/amd64", "default")]["head"]["binary"]["format"] == "pe"


def test_new_module_and_packages_with_import_chains(full):
    b = builds(full["doc"])[("app", "linux/amd64", "default")]
    assert b["diff"]["added_modules"] == ["example.com/greet"]
    assert b["diff"]["module_changes"][0]["path"] == "example.com/greet"
    assert b["diff"]["module_changes"][0]["old_version"] == ""
    assert b["diff"]["module_changes"][0]["new_version"].startswith("v1.2.3 => ./greet")
    packages = {p["name"]: p["size"] for p in b["head"]["binary"]["packages"]}
    modules = {m["path"]: m["size"] for m in b["head"]["binary"]["modules"]}
    deps = {(d["kind"], d["name"]): d for d in b["new_dependencies"]}
    main_pkg = f"{MOD}/cmd/app"
    assert deps[("module", "example.com/greet")] == {
        "kind": "module", "name": "example.com/greet", "module": "example.com/greet",
        "size": modules["example.com/greet"], "chain": ["example.com/greet", f"{MOD}/internal/format", main_pkg],
        # only the module's own package is reached only through it
        "total_size": modules["example.com/greet"], "replaces": "", "replaced_size": 0}
    assert deps[("package", "encoding/json")]["chain"] == ["encoding/json", f"{MOD}/internal/format", main_pkg]
    assert deps[("package", f"{MOD}/internal/format")]["chain"] == [f"{MOD}/internal/format", main_pkg]
    for d in b["new_dependencies"]:
        if d["kind"] == "package" and d["name"] in packages:
            assert d["size"] == packages[d["name"]]
    sizes = [d["size"] for d in b["new_dependencies"]]
    assert sizes == sorted(sizes, reverse=True)
    # encoding/json's own dependencies come in behind it: not listed
    assert ("package", "encoding/base64") not in deps and ("package", "example.com/greet") not in deps


def test_waterfall_budgets_and_notes(full):
    doc = full["doc"]
    by = builds(doc)
    steps = doc["waterfalls"][0]["steps"]
    assert doc["waterfalls"][0]["target"] == "app" and len(doc["waterfalls"]) == 1
    assert [s["strategy"] for s in steps] == ["default", "release", "stripped", "custom"]
    previous = None
    for s in steps:
        assert s["size"] == by[("app", "linux/amd64", s["strategy"])]["head_size"]
        assert s["saving"] == (0 if previous is None else previous - s["size"])
        previous = s["size"]
    results = {(r["subject"], r["rule"]): r for r in doc["budgets"]}
    grow = results[("app linux/amd64 default", "max_increase 10%")]
    b = by[("app", "linux/amd64", "default")]
    assert grow["status"] == "fail"
    assert grow["actual"] == round(100 * b["delta"] / b["base_size"], 4)
    assert results[("app linux/amd64 release", "new_modules warn")]["status"] == "warn"
    assert results[("tool linux/amd64 default", "new_modules warn")]["status"] == "skipped"
    assert results[("tool windows/amd64 default", "max_size 50 MB")]["status"] == "pass"
    assert ("tool linux/amd64 default", "max_increase 10%") not in results  # scoped to app
    assert doc["notes"] == ["tool: the base does not build (package ./cmd/tool does not exist at the base): "
                            "comparing against nothing"]
    assert by[("tool", "linux/amd64", "default")]["base"]["status"] == "missing"


def test_override_by_trailer_and_by_label(repo, capsys):
    one = str(repo["configs"] / "one.toml")
    # a trailer any author can write overrides nothing unless the file opts in
    status, out, _ = cli(capsys, "--repo", str(repo["path"]), "--base", repo["c1"], "--head", repo["c3"],
                         "--config", one, "--format", "json", "--quiet")
    doc = json.loads(out)
    assert (status, doc["verdict"], doc["overrides"]) == (1, "fail", [])
    opted_in = repo["configs"] / "one-trailer.toml"
    opted_in.write_text(ONE + '\n[override]\ntrailer = "Size-Budget-Override"\n')
    status, out, _ = cli(capsys, "--repo", str(repo["path"]), "--base", repo["c1"], "--head", repo["c3"],
                         "--config", str(opted_in), "--format", "json", "--quiet")
    doc = json.loads(out)
    validate(doc)
    assert (status, doc["verdict"]) == (0, "warn")
    assert doc["overrides"] == [{"source": "trailer", "reason": "JSON output is worth it"}]
    overridden = [r for r in doc["budgets"] if r["status"] == "overridden"]
    assert [r["rule"] for r in overridden] == ["max_increase 10%"]
    assert overridden[0]["override_reason"] == "JSON output is worth it"
    status, out, _ = cli(capsys, "--repo", str(repo["path"]), "--base", repo["c1"], "--head", repo["c2"],
                         "--config", one, "--format", "json", "--quiet", "--label", "Size-Budget-Override")
    doc = json.loads(out)
    assert (status, doc["verdict"]) == (0, "warn")
    assert doc["overrides"] == [{"source": "label", "reason": "PR label size-budget-override"}]


def test_pass_and_warn_verdicts(repo, capsys):
    status, out, _ = cli(capsys, "--repo", str(repo["path"]), "--base", repo["c2"], "--head", repo["c3"],
                         "--config", str(repo["configs"] / "one.toml"), "--format", "json", "--quiet")
    doc = json.loads(out)
    assert (status, doc["verdict"]) == (0, "pass")
    assert {r["status"] for r in doc["budgets"]} == {"pass"}
    status, out, _ = cli(capsys, "--repo", str(repo["path"]), "--base", repo["c1"], "--head", repo["c2"],
                         "--config", str(repo["configs"] / "warn.toml"), "--format", "markdown", "--quiet")
    assert status == 0
    assert out.startswith("⚠️ **sizebot: warn**")
    assert "1 new module: example.com/greet" in out


def test_removed_module(repo):
    doc = run_report_doc(repo=repo["path"], base=repo["c2"], head=repo["c4"],
                         config=str(repo["configs"] / "one.toml"), env={**os.environ, "GOTOOLCHAIN": "local"}).to_json()
    validate(doc)
    b = doc["builds"][0]
    assert b["diff"]["removed_modules"] == ["example.com/greet"]
    assert b["diff"]["module_changes"][0]["path"] == "example.com/greet"
    assert b["diff"]["module_changes"][0]["new_version"] == ""
    assert b["delta"] < 0 and b["new_dependencies"] == []
    # The removed module, from the base's import graph: its bytes and what only it brought in.
    greet = {d["name"]: d for d in b["removed_dependencies"]}["example.com/greet"]
    assert (greet["kind"], greet["chain"]) == ("module", ["example.com/greet", f"{MOD}/internal/format",
                                                          f"{MOD}/cmd/app"])
    base_modules = {m["path"]: m["size"] for m in b["base"]["binary"]["modules"]}
    assert greet["size"] == greet["total_size"] == base_modules["example.com/greet"] > 0
    assert doc["verdict"] == "pass"


def test_base_that_does_not_build_is_neutral(repo, capsys):
    status, out, err = cli(capsys, "--repo", str(repo["path"]), "--base", repo["broken"], "--head", repo["c1"],
                           "--config", str(repo["configs"] / "one.toml"), "--format", "json")
    doc = json.loads(out)
    validate(doc)
    assert (status, doc["verdict"]) == (0, "neutral")
    b = doc["builds"][0]
    assert b["base"]["status"] == "failed" and b["base"]["error"].startswith("go build")
    assert (b["base_size"], b["delta"], b["diff"]) == (None, None, None)
    assert b["head_size"] > 0
    assert {r["status"] for r in doc["budgets"]} == {"skipped"}
    assert doc["notes"][0].startswith("app linux/amd64 default: the base does not build (go build")
    assert doc["notes"][0].endswith("comparing against nothing")
    assert "sizebot: building base app linux/amd64 default" in err  # progress, plain lines off a terminal


def test_default_config_discovers_main_packages(repo, capsys):
    status, out, _ = cli(capsys, "--repo", str(repo["path"]), "--base", repo["c1"], "--head", repo["c2"],
                         "--format", "json", "--quiet")
    doc = json.loads(out)
    validate(doc)
    assert doc["config"] == {"path": None, "defaulted": True}
    assert (status, doc["verdict"]) == (0, "pass")  # no budgets
    assert [(b["target"], b["strategy"]) for b in doc["builds"]] == [
        ("app", "default"), ("app", "release"), ("tool", "default"), ("tool", "release")]
    assert doc["notes"][0].startswith("no sizebot.toml at the head: built every main package for ")
    assert [s["strategy"] for s in doc["waterfalls"][0]["steps"]] == ["default", "release"]


def test_user_errors_exit_2(repo, capsys, tmp_path):
    status, _, err = cli(capsys, "--repo", str(repo["path"]), "--base", repo["c1"], "--head", repo["c2"],
                         "--config", str(repo["configs"] / "bad.toml"))
    assert status == 2
    assert err.strip().splitlines()[-1] == (f"sizebot: error: {repo['configs'] / 'bad.toml'}:7: budget[0].max_sise: "
                           "unknown key; did you mean 'max_size'?")
    status, _, err = cli(capsys, "--repo", str(repo["path"]), "--base", "no-such-branch")
    assert status == 2 and "unknown ref 'no-such-branch'" in err
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    git(lonely, "init", "-q", "-b", "trunk")
    git(lonely, "commit", "-q", "--allow-empty", "-m", "first")
    status, _, err = cli(capsys, "--repo", str(lonely))
    assert status == 2 and "none of origin/HEAD, main, master exists: name the base commit with --base REF" in err


def test_a_run_that_fails_before_building_leaves_no_worktree(repo, capsys, tmp_path):
    """With --base, both refs are resolved and the head checked out while the report's modules load; a
    run that fails before it builds (a bad config, an unknown ref) leaves no worktree behind, and one
    that works removes its own (in --work-dir; the one at the default path, which earlier tests' runs
    keep for the next run, is not this test's)."""
    from sizebot.builds.workpath import build_path

    def worktrees():
        return [line for line in git(repo["path"], "worktree", "list", "--porcelain").splitlines()
                if line.startswith("worktree ") and line != f"worktree {build_path(repo['path'])}"]

    assert worktrees() == [f"worktree {repo['path']}"]
    work = tmp_path / "work"
    status, _, err = cli(capsys, "--repo", str(repo["path"]), "--base", repo["c1"], "--head", repo["c2"],
                         "--config", str(repo["configs"] / "bad.toml"), "--work-dir", str(work))
    assert status == 2 and "budget[0].max_sise: unknown key" in err
    assert worktrees() == [f"worktree {repo['path']}"] and not (work / "src").exists()
    status, _, err = cli(capsys, "--repo", str(repo["path"]), "--base", repo["c1"], "--head", "no-such-ref",
                         "--work-dir", str(work))
    assert status == 2 and "unknown ref 'no-such-ref'" in err
    assert worktrees() == [f"worktree {repo['path']}"] and not (work / "src").exists()
    status, _, _ = cli(capsys, "--repo", str(repo["path"]), "--base", repo["c1"], "--head", repo["c2"],
                       "--config", str(repo["configs"] / "one.toml"), "--work-dir", str(work), "--quiet",
                       "--format", "json")
    assert status in (0, 1)
    assert worktrees() == [f"worktree {repo['path']}"] and not (work / "src").exists()


def test_default_base_is_the_merge_base(repo):
    assert default_base(repo["path"], repo["c3"]) == (repo["c1"], "main")
    assert default_base(repo["path"], "HEAD") == (repo["c1"], "main")


IMAGE_CONFIG = """
[[target]]
name = "app"
package = "./cmd/app"
platforms = ["linux/amd64"]
strategies = ["release"]

[strategy.release]
flags = ["-trimpath", "-ldflags=-s -w"]

[image]
dockerfile = "Dockerfile"

[[image.budget]]
level = "warn"
max_increase = "10 KB"
measure = "uncompressed"
"""


@pytest.mark.docker
def test_image_section_and_image_budget(tmp_path, docker_engine):
    """[image]: the Dockerfile built at base and head by the engine, diffed, judged by the image budget."""
    repo = tmp_path / "imaged"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_tree(repo, {"go.mod": GO_MOD, "cmd/app/main.go": APP_C1, "sizebot.toml": IMAGE_CONFIG,
                 "Dockerfile": "FROM scratch\nCOPY blob.bin /blob.bin\n"})
    (repo / "blob.bin").write_bytes(b"a" * 10_000)
    base = commit_all(repo, "An image")
    (repo / "blob.bin").write_bytes(b"b" * 30_000)
    head = commit_all(repo, "A bigger image")
    doc = run_report_doc(repo=repo, base=base, head=head, docker_host=docker_engine.host,
                         env={**os.environ, "GOTOOLCHAIN": "local"}).to_json()
    validate(doc)
    image = doc["image"]
    assert image["error"] is None
    assert (image["base"]["size"], image["head"]["size"]) == (10_000, 30_000)
    assert sorted(r["name"] for r in image["rules"]) == ["highestUserWastedPercent", "highestWastedBytes",
                                                         "lowestEfficiency"]
    result = [r for r in doc["budgets"] if r["subject"] == "image (uncompressed)"]
    assert [(r["rule"], r["status"], r["actual"], r["limit"]) for r in result] == [
        ("max_increase 10 KB", "warn", 20_000, 10_000)]
    assert doc["verdict"] == "warn"
    assert doc["builds"][0]["delta"] == 0  # the program did not change


def test_a_report_from_cached_analyses_is_the_same(repo, tmp_path):
    """Analyses read back from the cache (JSON entries) give the report that analysing gives."""
    def report(cache):
        return run_report_doc(repo=repo["path"], base=repo["c1"], head=repo["c2"],
                              config=str(repo["configs"] / "full.toml"), env={**os.environ, "GOTOOLCHAIN": "local"},
                              analysis_cache=cache).to_json()

    cache = tmp_path / "cache"
    analysed = report(None)
    assert report(cache) == analysed  # analysed and kept
    kept = sorted(p.name for p in (cache / "analyze").iterdir())
    assert 1 < len(kept) <= 2 * len(analysed["builds"]) and all(name.endswith(".json") for name in kept)
    assert report(cache) == analysed  # every analysis read back
    assert sorted(p.name for p in (cache / "analyze").iterdir()) == kept


def test_a_diff_still_queued_when_the_last_analysis_is_read_is_worked_out(repo, monkeypatch):
    """Each build's diff is worked out in one thread as soon as both its sides are analysed. A diff still
    queued when the builds are done and the last analysis is read is worked out all the same (it was
    cancelled, and the report crashed with CancelledError). No sizebot.toml: app and tool, two strategies."""
    def report():
        return run_report_doc(repo=repo["path"], base=repo["c1"], head=repo["c2"],
                              env={**os.environ, "GOTOOLCHAIN": "local"}).to_json()

    expected = report()
    assert len(expected["builds"]) == 4
    worked_out = run._diff

    def slow(base, head, top):
        if threading.current_thread().name.startswith("sizebot-diff"):
            time.sleep(2)  # the diffs queue up behind this one until after the last build
        return worked_out(base, head, top)

    monkeypatch.setattr(run, "_diff", slow)
    assert report() == expected
