"""Baselines: ``sizebot measure`` writes one commit's measurements, ``sizebot report --baseline`` uses
them instead of building the base when commit and fingerprint match (the report is the same document
either way), refuses them with a note otherwise, and a corrupt or hostile file is one line and exit 2.

The repository (real git, the real Go toolchain), on main: c1 prints a line; c2 adds encoding/json;
c3 adds a second line of output. The pull request is c2 -> feature (c2 + net/url); another one,
c2 -> drop, removes encoding/json again (what it removes is explained by the base's import graph).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from sizebot.cli import main
from tests.support.git import commit_all, git
from tests.support.goprograms import write_tree
from tests.support.schemas import validate_document

APP_C1 = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("one") }\n'
APP_C2 = ('package main\n\nimport (\n\t"encoding/json"\n\t"fmt"\n)\n\n'
          'func main() {\n\tb, _ := json.Marshal(map[string]int{"a": 1})\n\tfmt.Println(string(b))\n}\n')
APP_C3 = APP_C2.replace("fmt.Println(string(b))", 'fmt.Println(string(b))\n\tfmt.Println("three")')
APP_PR = ('package main\n\nimport (\n\t"encoding/json"\n\t"fmt"\n\t"net/url"\n)\n\n'
          'func main() {\n\tb, _ := json.Marshal(map[string]int{"a": 1})\n\tu, _ := url.Parse("https://x.invalid/a")\n'
          '\tfmt.Println(string(b), u.Path)\n}\n')
APP_DROP = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("{}") }\n'
CONFIG = """[[target]]
name = "app"
package = "./cmd/app"
platforms = ["linux/amd64"]

[strategy.release]
flags = ["-trimpath", "-ldflags=-s -w"]
"""


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    write_tree(repo, files)
    return commit_all(repo, message)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("baseline")
    repo = root / "app"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    c1 = commit(repo, {"go.mod": "module example.com/app\n\ngo 1.21\n", "cmd/app/main.go": APP_C1,
                       "sizebot.toml": CONFIG}, "One")
    c2 = commit(repo, {"cmd/app/main.go": APP_C2}, "Two: JSON")
    git(repo, "checkout", "-q", "-b", "feature")
    pr = commit(repo, {"cmd/app/main.go": APP_PR}, "Parse a URL")
    git(repo, "checkout", "-q", "-b", "drop", c2)
    drop = commit(repo, {"cmd/app/main.go": APP_DROP}, "Drop JSON")
    git(repo, "checkout", "-q", "main")
    c3 = commit(repo, {"cmd/app/main.go": APP_C3}, "Three")
    configs = root / "configs"
    configs.mkdir()
    return {"path": repo, "c1": c1, "c2": c2, "c3": c3, "pr": pr, "drop": drop, "root": root, "configs": configs}


@pytest.fixture(autouse=True)
def go_environment(monkeypatch):
    monkeypatch.setenv("GOTOOLCHAIN", "local")
    monkeypatch.setenv("GOFLAGS", "-mod=mod")


def sizebot(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def measure(capsys, repo, ref: str, out: Path, *extra: str) -> dict:
    status, _, err = sizebot(capsys, "measure", "--repo", str(repo["path"]), "--ref", ref, "-o", str(out),
                             "--quiet", *extra)
    assert status == 0, err
    doc = json.loads(out.read_text())
    validate_document(doc, "baseline")
    return doc


def report(capsys, repo, *extra: str, head: str = "pr", quiet: bool = True) -> tuple[int, dict, str]:
    status, out, err = sizebot(capsys, "report", "--repo", str(repo["path"]), "--base", str(repo["c2"]),
                               "--head", str(repo[head]), *(["--quiet"] if quiet else []), "--format", "json", *extra)
    assert out, err
    return status, json.loads(out), err


@pytest.fixture(scope="module")
def measured(repo, tmp_path_factory) -> dict[str, Path]:
    """Baselines of c2 (the pull request's base) and c1, measured once for the module."""
    out = tmp_path_factory.mktemp("measured")
    env = {"GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        for name in ("c1", "c2"):
            assert main(["measure", "--repo", str(repo["path"]), "--ref", str(repo[name]), "-q",
                         "-o", str(out / f"{name}.json")]) == 0
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return {"c1": out / "c1.json", "c2": out / "c2.json"}


def test_the_baseline_document(repo, measured):
    doc = json.loads(measured["c2"].read_text())
    validate_document(doc, "baseline")
    assert doc["commit"]["sha"] == repo["c2"] and doc["commit"]["subject"] == "Two: JSON"
    assert doc["go_version"] == doc["fingerprint"]["go_version"]
    assert [b["label"] for b in doc["builds"]] == ["app linux/amd64 default", "app linux/amd64 release"]
    assert [s["strategy"] for s in doc["fingerprint"]["builds"]] == ["default", "release"]
    assert doc["fingerprint"]["builds"][1]["flags"] == ["-trimpath", "-ldflags=-s -w"]
    assert doc["fingerprint"]["env"] == {"GOFLAGS": "-mod=mod"}
    assert all(b["status"] == "ok" and b["binary"]["file_size"] > 0 for b in doc["builds"])
    assert [h["sha"] for h in doc["history"]] == [repo["c2"]]
    assert doc["history"][0]["sizes"] == [{"build": b["label"], "size": b["binary"]["file_size"]}
                                          for b in doc["builds"]]
    # one import graph per target x platform, as go list -deps gives it
    [graph] = doc["graphs"]
    assert (graph["target"], graph["platform"], graph["error"]) == ("app", "linux/amd64", None)
    assert graph["roots"] == ["example.com/app/cmd/app"]
    assert graph["imports"]["example.com/app/cmd/app"] == ["encoding/json", "fmt"]
    assert "reflect" in graph["imports"]["encoding/json"]
    assert doc["image"] is None  # no [image]


def test_a_matching_baseline_gives_the_same_report_without_building_the_base(capsys, repo, measured, tmp_path):
    status_built, built, _ = report(capsys, repo)
    status_used, used, err = report(capsys, repo, "--baseline", str(measured["c2"]))
    assert status_used == status_built
    trend = used.pop("trend")  # the baseline's history: the only addition
    assert used == built
    validate_document(dict(used, trend=trend), "report")
    head = next(b for b in built["builds"] if b["strategy"] == "default")
    assert trend == {"build": "app linux/amd64 default",
                     "points": [{"sha": repo["c2"], "date": trend["points"][0]["date"], "subject": "Two: JSON",
                                 "size": head["base_size"]}],
                     "head": {"sha": repo["pr"], "size": head["head_size"]}, "delta": head["delta"],
                     "largest_step": None}
    assert not any("baseline" in n for n in used["notes"])
    # the base was not built: progress says so (and the user's own path may be a symbolic link)
    link = tmp_path / "baseline-link.json"
    link.symlink_to(measured["c2"])
    _, _, progress = sizebot(capsys, "report", "--repo", str(repo["path"]), "--base", str(repo["c2"]),
                             "--head", str(repo["pr"]), "--format", "json", "--baseline", str(link))
    assert f"base {str(repo['c2'])[:12]}: measured by the baseline, not built" in progress
    assert "building base" not in progress and "building head app linux/amd64 default" in progress
    assert "checking out base" not in progress  # its sizebot.toml and go.mod read from git


def test_what_the_head_removes_is_explained_from_the_baselines_import_graph(capsys, repo, measured, tmp_path):
    """A pull request that drops encoding/json: the chain and total cost of what it removes come from
    the base's import graph, which the baseline carries: the same report, and no go list at the base."""
    status_built, built, _ = report(capsys, repo, head="drop")
    status_used, used, _ = report(capsys, repo, "--baseline", str(measured["c2"]), head="drop")
    assert status_used == status_built
    used.pop("trend")
    assert used == built
    removed = {d["name"]: d for b in built["builds"] for d in b["removed_dependencies"]}
    assert removed["encoding/json"]["chain"] == ["encoding/json", "example.com/app/cmd/app"]
    assert removed["encoding/json"]["total_size"] > removed["encoding/json"]["size"]  # reflect-heavy code goes too
    # the graph read is the baseline's: one where encoding/json imports nothing gives it no more than its own bytes
    doc = json.loads(measured["c2"].read_text())
    doc["graphs"][0]["imports"]["encoding/json"] = []
    edited = tmp_path / "edited-graph.json"
    edited.write_text(json.dumps(doc))
    _, from_edited, _ = report(capsys, repo, "--baseline", str(edited), head="drop")
    removed = {d["name"]: d for b in from_edited["builds"] for d in b["removed_dependencies"]}
    assert removed["encoding/json"]["total_size"] == removed["encoding/json"]["size"]


def test_the_totals_of_what_a_forged_graph_removes_stop_at_a_work_budget(measured, monkeypatch):
    """Each removed package's total walks the base's whole graph: a baseline listing thousands of removed
    packages, each imported by the main package, would make the report quadratic. Past the budget the
    totals are unknown (None); every package is still listed with its chain."""
    from dataclasses import replace

    from sizebot.builds.discover import graph_of
    from sizebot.compare import report as report_module
    from sizebot.documents.analyze import PackageSize
    from sizebot.documents.baseline import Baseline
    from sizebot.documents.diff import BinaryDiff

    baseline = Baseline.from_json(json.loads(measured["c2"].read_text()))
    real = baseline.builds[0].report
    record = baseline.graphs[0]
    forged = [f"example.com/app/p{i}" for i in range(5000)]
    old = replace(real, packages=(*real.packages, *(PackageSize(p, "example.com/app", 10, 10, 0, 0) for p in forged)))
    imports = dict(record.imports)
    root = record.roots[0]
    imports[root] = (*imports[root], *forged)
    graph = graph_of(imports, record.roots)
    walk = len(graph.parent) + sum(len(i) for i in graph.imports.values())
    monkeypatch.setattr(report_module, "TOTALS_WORK", 10 * walk)
    diff = BinaryDiff(old=old, new=real, sections=(), packages=(), modules=(), functions=(), unattributed=(),
                      removed_packages=tuple(forged))
    listed = report_module.removed_dependencies(diff, graph, top=None)
    assert sorted(d.name for d in listed) == sorted(forged)
    assert all(d.chain == (d.name, root) for d in listed)
    assert sum(d.total_size is not None for d in listed) == 10
    assert {d.total_size for d in listed} == {10, None}


def test_without_a_config_the_bases_main_packages_come_from_the_baseline(capsys, tmp_path):
    """No sizebot.toml: every main package is built, the base's too (one the head removes is shown as
    removed). The baseline lists the base's main packages, so the base is not even checked out."""
    path = tmp_path / "tools"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    base = commit(path, {"go.mod": "module example.com/tools\n\ngo 1.21\n", "cmd/app/main.go": APP_C1,
                         "cmd/old/main.go": APP_C2}, "Two tools")
    (path / "cmd" / "old" / "main.go").unlink()
    head = commit(path, {"cmd/app/main.go": APP_C2}, "One tool, with JSON")
    tools = {"path": path, "c2": base, "head": head}
    out = tmp_path / "base.json"
    measured = measure(capsys, tools, base, out)
    assert measured["discovered"] == [{"name": "app", "package": "./cmd/app"}, {"name": "old", "package": "./cmd/old"}]
    _, built, _ = report(capsys, tools, head="head")
    _, used, progress = report(capsys, tools, "--baseline", str(out), head="head", quiet=False)
    used.pop("trend")
    assert used == built
    assert [(b["target"], b["base"]["status"], b["head"]["status"]) for b in built["builds"]] == [
        ("app", "ok", "ok"), ("app", "ok", "ok"), ("old", "ok", "missing"), ("old", "ok", "missing")]
    assert "checking out base" not in progress and "building base" not in progress


def test_a_baseline_of_another_commit_is_not_used(capsys, repo, measured):
    _, built, _ = report(capsys, repo)
    _, doc, _ = report(capsys, repo, "--baseline", str(measured["c1"]))
    note = (f"the baseline was measured at {str(repo['c1'])[:12]}, not at the base {str(repo['c2'])[:12]}: "
            "the base was built")
    assert note in doc["notes"]
    trend = doc.pop("trend")  # the same builds: its history still charts the trend
    assert [p["sha"] for p in trend["points"]] == [repo["c1"]]
    assert dict(doc, notes=[n for n in doc["notes"] if n != note]) == built


def test_a_baseline_with_another_flag_is_not_used(capsys, repo, measured):
    other = repo["configs"] / "other-flag.toml"
    other.write_text(CONFIG.replace('"-trimpath", ', ""))
    _, doc, _ = report(capsys, repo, "--config", str(other), "--baseline", str(measured["c2"]))
    assert (f"the baseline of {str(repo['c2'])[:12]} was measured with other build settings "
            "(app linux/amd64 release): the base was built") in doc["notes"]
    assert all(b["base"]["status"] == "ok" for b in doc["builds"])
    assert "trend" not in doc  # other builds: the history is not theirs


def test_a_baseline_with_another_go_is_not_used(capsys, repo, measured):
    _, doc, _ = report(capsys, repo, "--go-version", "1.27.3", "--baseline", str(measured["c2"]))
    installed = json.loads(measured["c2"].read_text())["go_version"]
    assert (f"the baseline of {str(repo['c2'])[:12]} was measured with Go {installed} instead of go1.27.3: "
            "the base was built") in doc["notes"]
    assert {b["base"]["binary"]["go_version"] for b in doc["builds"]} == {"go1.27.3"}


def test_a_baseline_of_another_analysis_is_not_used(capsys, repo, measured, tmp_path):
    """Measured by another sizebot (its analyser's sources differ): its figures are not this one's."""
    from sizebot.documents.baseline import Fingerprint

    doc = json.loads(measured["c2"].read_text())
    doc["fingerprint"]["sizebot"] = "0.0.9+0123456789abcdef"
    inputs = {k: v for k, v in doc["fingerprint"].items() if k != "digest"}
    doc["fingerprint"]["digest"] = hashlib.sha256(json.dumps(inputs, sort_keys=True, separators=(",", ":"),
                                                             ensure_ascii=True).encode()).hexdigest()
    old = tmp_path / "old-analysis.json"
    old.write_text(json.dumps(doc))
    Fingerprint.from_json(doc["fingerprint"], "fingerprint")  # a well-formed baseline
    _, report_doc, _ = report(capsys, repo, "--baseline", str(old))
    assert any(n.startswith(f"the baseline of {str(repo['c2'])[:12]} was measured with another sizebot analysis "
                            "(0.0.9+0123456789abcdef instead of ") for n in report_doc["notes"]), report_doc["notes"]
    assert "trend" not in report_doc


def test_history_is_carried_across_three_measurements(capsys, repo, tmp_path):
    first = measure(capsys, repo, str(repo["c1"]), tmp_path / "1.json")
    second = measure(capsys, repo, str(repo["c2"]), tmp_path / "2.json", "--previous", str(tmp_path / "1.json"))
    third = measure(capsys, repo, str(repo["c3"]), tmp_path / "3.json", "--previous", str(tmp_path / "2.json"))
    assert [h["sha"] for h in third["history"]] == [repo["c1"], repo["c2"], repo["c3"]]
    assert third["history"][:2] == second["history"] and second["history"][:1] == first["history"]
    sizes = [h["sizes"][0]["size"] for h in third["history"]]
    assert sizes[0] < sizes[1] < sizes[2]  # JSON, then one more line
    kept = measure(capsys, repo, str(repo["c3"]), tmp_path / "4.json", "--previous", str(tmp_path / "3.json"),
                   "--history", "2")
    assert [h["sha"] for h in kept["history"]] == [repo["c2"], repo["c3"]]  # c3 measured again: one entry


def test_the_comment_shows_the_trend_over_the_history(capsys, repo, tmp_path):
    """Two measurements of main carried forward: the report on c2 charts c1, c2, then the head."""
    measure(capsys, repo, str(repo["c1"]), tmp_path / "1.json")
    measure(capsys, repo, str(repo["c2"]), tmp_path / "2.json", "--previous", str(tmp_path / "1.json"))
    status, out, err = sizebot(capsys, "report", "--repo", str(repo["path"]), "--base", str(repo["c2"]),
                               "--head", str(repo["pr"]), "--quiet", "--format", "markdown",
                               "--baseline", str(tmp_path / "2.json"))
    assert status == 0, err
    c1, c2, pr = (str(repo[k])[:7] for k in ("c1", "c2", "pr"))
    assert "**Size history** of <code>app linux/amd64 default</code>:" in out
    assert f'    x-axis ["{c1}", "{c2}", "head {pr}"]' in out
    assert "of the largest step over the 2 measured commits of the default branch (+" in out or \
        "larger than any step over the 2 measured commits" in out
    assert f" at {c2})." in out


def _tampered(doc: dict) -> dict[str, tuple[str, str]]:
    """name -> (file content, what the one error line says)."""
    def edited(fn) -> str:
        copy = json.loads(json.dumps(doc))
        fn(copy)
        return json.dumps(copy)

    def grow(d):
        d["builds"][0]["binary"]["file_size"] += 1

    def rename(d):
        d["builds"][0]["label"] = "other linux/amd64 default"

    def flags(d):
        d["fingerprint"]["builds"][1]["flags"] = []

    def deep_history(d):
        d["history"] = [d["history"][0]] * 1001

    def string_size(d):
        d["history"][0]["sizes"][0]["size"] = "12"

    def bad_sha(d):
        d["commit"]["sha"] = "--upload-pack=touch /tmp/x"

    def no_binary(d):
        d["builds"][0]["binary"] = None

    def graph_target(d):
        d["graphs"][0]["target"] = "other"

    def graph_imports(d):
        d["graphs"][0]["imports"] = ["fmt"]

    def discovered(d):
        d["discovered"] = [{"name": "app"}]

    def discovered_name(d):
        d["discovered"] = [{"name": "../../.bashrc", "package": "./cmd/app"}]

    def discovered_package(d):
        d["discovered"] = [{"name": "app", "package": "./cmd/../../outside"}]

    def discovered_twice(d):
        d["discovered"] = [{"name": "app", "package": "./cmd/app"}, {"name": "app", "package": "."}]

    def long_chain(d):  # 20,000 packages each importing the next: every removed package's chain walks them all
        imports = d["graphs"][0]["imports"]
        root = d["graphs"][0]["roots"][0]
        imports[root] = [*imports[root], "chain/p0"]
        imports.update({f"chain/p{i}": [f"chain/p{i + 1}"] for i in range(20_000)})

    def many_imports(d):
        d["graphs"][0]["imports"].update({f"many/p{i}": ["errors"] * 100_000 for i in range(11)})

    return {
        "not-json": ("{", "not valid JSON"),
        "report": (json.dumps({"schema": "sizebot/report@1"}), "report"),
        "grown": (edited(grow), "builds[0].binary"),
        "renamed": (edited(rename), "builds[0].label"),
        "flags": (edited(flags), "fingerprint.digest: does not match the fingerprint's inputs"),
        "history": (edited(deep_history), "baseline.history: 1001 entries, more than 1000"),
        "string-size": (edited(string_size), "history[0].sizes[0].size"),
        "bad-sha": (edited(bad_sha), "commit.sha: expected a hexadecimal commit id"),
        "no-binary": (edited(no_binary), "a build has its analysis exactly when its status is ok"),
        "graph-target": (edited(graph_target), "graphs[0]: no build of the fingerprint is other linux/amd64"),
        "graph-imports": (edited(graph_imports), "graphs[0].imports: expected an object"),
        "discovered": (edited(discovered), "discovered[0]: missing package"),
        "discovered-name": (edited(discovered_name), "discovered[0].name: '../../.bashrc' is not a main package's name"),
        "discovered-package": (edited(discovered_package),
                               "discovered[0].package: './cmd/../../outside' is not a directory of the checkout"),
        "discovered-twice": (edited(discovered_twice), "discovered: two main packages of the same name"),
        "long-chain": (edited(long_chain), "graphs[0].imports: an import chain longer than 200 packages"),
        "many-imports": (edited(many_imports), "imports, more than 1000000"),
        "older": (json.dumps({"schema": "sizebot/baseline@1", "builds": []}),
                  "a baseline of schema \"sizebot/baseline@1\", measured by an older sizebot: measure again"),
        "deep": ("[" * 50_000 + "]" * 50_000, "JSON nested more than 32 deep"),
    }


def test_a_corrupt_or_hostile_baseline_is_one_line_and_exit_2(capsys, repo, measured, tmp_path):
    doc = json.loads(measured["c2"].read_text())
    for name, (content, fault) in _tampered(doc).items():
        path = tmp_path / f"{name}.json"
        path.write_text(content)
        for argv in (("report", "--repo", str(repo["path"]), "--base", str(repo["c2"]), "--head", str(repo["pr"]),
                      "--baseline", str(path)),
                     ("measure", "--repo", str(repo["path"]), "--previous", str(path)),
                     ("render", str(path))):
            status, out, err = sizebot(capsys, *argv)
            assert (status, out) == (2, ""), (name, argv[0], err)
            assert err.startswith(f"sizebot: error: {path}: ") and err.count("\n") == 1, (name, err)
            assert fault in err, (name, err)


def test_a_baseline_renders(capsys, measured, repo):
    status, out, _ = sizebot(capsys, "render", str(measured["c2"]))
    assert status == 0
    assert out.startswith(f"Baseline of app at {str(repo['c2'])[:12]} (")
    assert "app linux/amd64 release" in out
    status, out, _ = sizebot(capsys, "render", str(measured["c2"]), "--format", "json")
    assert status == 0 and json.loads(out) == json.loads(measured["c2"].read_text())


def test_a_baseline_s_own_text_is_inert_in_every_format(capsys, measured, tmp_path):
    """The repository's name and the commit subject come from the file: in text they cannot move the
    cursor, clear the screen or fake a line; in markdown they are escaped."""
    doc = json.loads(measured["c2"].read_text())
    doc["commit"]["subject"] = "Two\x1b[2J\n  app linux/amd64 default  1 B\u202e"
    doc["repo"] = "app\r<img src=x>"
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc))
    status, out, err = sizebot(capsys, "render", str(path))
    assert status == 0, err
    head = out.splitlines()[0]
    assert head.startswith("Baseline of app <img src=x> at ") and head.endswith(
        ": Two [2J   app linux/amd64 default  1 B<U+202E>")
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out
    status, out, err = sizebot(capsys, "render", str(path), "--format", "markdown")
    assert status == 0 and "<img" not in out and "\x1b" not in out and "\u202e" not in out
