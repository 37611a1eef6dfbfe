"""What a warm report prepares ahead, never trusted: main packages kept from an earlier run (it starts
building before go list runs, lists the head again beside its builds, and starts over when a kept listing
is not what go list finds), and the analysis each build gave last time (read while the build runs, taken
only for a binary with its key). Real git, real Go.

The repository: c1 has cmd/app; c2 adds cmd/tool; no sizebot.toml at either (the default config).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sizebot.builds import discovery_cache
from sizebot.builds.discovery_cache import keep_listing, kept_listing, listing_key
from sizebot.builds.workpath import build_path
from sizebot.cli import main
from sizebot.compare import analysis_cache, run
from sizebot.config.loading import CONFIG_NAMES
from tests.support.git import commit_all, git
from tests.support.goprograms import PRINT_HELLO, app_then_tool, write_tree

GO_MOD = "module example.com/kept\n\ngo 1.21\n"
APP = ("app", "./cmd/app")
TOOLT = ("tool", "./cmd/tool")


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> dict[str, object]:
    repo = tmp_path_factory.mktemp("kept") / "kept"
    repo.mkdir()
    c1, c2 = app_then_tool(repo, GO_MOD)
    write_tree(repo, {"sizebot.toml": '[[target]]\nname = "app"\npackage = "./cmd/app"\n'})
    configured = commit_all(repo, "a sizebot.toml")
    return {"path": repo, "c1": c1, "c2": c2, "configured": configured}


@pytest.fixture(autouse=True)
def local_go(monkeypatch):
    monkeypatch.setenv("GOTOOLCHAIN", "local")


def report(repo, cache: Path, capsys, *extra: str) -> tuple[dict, str]:
    capsys.readouterr()
    status = main(["report", "--repo", str(repo["path"]), "--base", repo["c1"], "--head", repo["c2"],
                   "--format", "json", "--cache-dir", str(cache), *extra])
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out), err


def key(repo, sha: str) -> str:
    found = listing_key(repo["path"], sha, build_path(repo["path"]), "go", None)
    assert found is not None
    return found


def test_a_kept_listing_starts_the_builds_and_gives_the_same_report(repo, tmp_path, capsys):
    listed, said = report(repo, tmp_path / "cache", capsys)
    assert "finding main packages (go list)" in said and "as listed before" not in said
    assert kept_listing(tmp_path / "cache", key(repo, repo["c2"])) == (APP, TOOLT)
    again, said = report(repo, tmp_path / "cache", capsys)
    assert "as listed before (listed again beside the builds)" in said and "starting again" not in said
    assert again == listed
    assert [(b["target"], b["strategy"]) for b in again["builds"]] == [
        ("app", "default"), ("app", "release"), ("tool", "default"), ("tool", "release")]
    fresh, _ = report(repo, tmp_path / "other", capsys, "--no-cache")
    assert fresh == listed


@pytest.mark.parametrize("kept", [(APP,), (TOOLT, APP), (APP, TOOLT, ("gone", "./cmd/gone"))])
def test_a_kept_listing_that_go_list_contradicts_starts_over(repo, tmp_path, capsys, kept):
    """A stale (or forged) entry under the head's key: the report lists the head beside its builds, finds
    other main packages, and starts over; the report is the one go list gives, and the entry is replaced."""
    truth, _ = report(repo, tmp_path / "truth", capsys, "--no-cache")
    cache = tmp_path / "cache"
    keep_listing(cache, key(repo, repo["c2"]), kept)
    doc, said = report(repo, cache, capsys)
    assert "as listed before" in said
    assert "the main packages kept for the head are not those go list finds: starting again" in said
    assert doc == truth
    assert kept_listing(cache, key(repo, repo["c2"])) == (APP, TOOLT)


def test_the_config_names_are_the_configs(repo):
    assert discovery_cache.CONFIG_NAMES == CONFIG_NAMES


def test_a_head_with_a_sizebot_toml_has_no_key(repo):
    assert listing_key(repo["path"], repo["configured"], build_path(repo["path"]), "go", None) is None
    assert listing_key(repo["path"], repo["c2"], build_path(repo["path"]), "go", None) is not None


@pytest.mark.parametrize("files", [{".github/sizebot.toml": ""}, {".GitHub/sizebot.toml": ""},
                                   {"SizeBot.toml": ""}, {".github": "a file, or a link"}])
def test_any_name_that_may_be_a_config_has_no_key(tmp_path, files):
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_tree(repo, {"go.mod": GO_MOD, "main.go": PRINT_HELLO, **files})
    sha = commit_all(repo, "c")
    assert listing_key(repo, sha, build_path(repo), "go", None) is None


def test_the_key_follows_the_tree_the_path_and_the_go_setup(repo, tmp_path):
    path = build_path(repo["path"])
    env = dict(os.environ)
    first = listing_key(repo["path"], repo["c2"], path, "go", env)
    assert first == listing_key(repo["path"], repo["c2"], path, "go", env)
    assert first != listing_key(repo["path"], repo["c1"], path, "go", env)
    assert first != listing_key(repo["path"], repo["c2"], tmp_path / "src", "go", env)
    for name, value in (("GOFLAGS", "-tags=extra"), ("CGO_ENABLED", "0"), ("GOOS", "windows"), ("CC", "clang"),
                        ("GOEXPERIMENT", "boringcrypto")):
        assert first != listing_key(repo["path"], repo["c2"], path, "go", {**env, name: value}), name
    goenv = tmp_path / "goenv"
    goenv.write_text("GOFLAGS=-tags=extra\n")
    with_file = listing_key(repo["path"], repo["c2"], path, "go", {**env, "GOENV": str(goenv)})
    goenv.write_text("GOFLAGS=-tags=other\n")
    assert with_file != listing_key(repo["path"], repo["c2"], path, "go", {**env, "GOENV": str(goenv)})
    assert first == listing_key(repo["path"], repo["c2"], path, "go", {**env, "UNRELATED": "1"})


@pytest.mark.parametrize("targets", [
    [["app", "-toolexec=/bin/sh"]], [["app", "../elsewhere"]], [["app", "./../elsewhere"]], [["app", "/abs"]],
    [["app", "./cmd/../../x"]], [["app", "./cmd//app"]], [["app", "./"]], [["app", "./cmd/app\n-x"]],
    [["-o", "./cmd/app"]], [["../x", "./cmd/app"]], [["a/b", "./cmd/app"]], [["", "./cmd/app"]],
    [["app", "./cmd/app"], ["app", "./cmd/tool"]], [["app", "./cmd/app"], ["tool", "./cmd/app"]],
    [["app", "./cmd/app", "extra"]], [["app", 7]], [{"app": "./cmd/app"}], "app", None,
    [["app", "./cmd/app"]] * (discovery_cache.MAX_TARGETS + 1),
])
def test_an_entry_discovery_could_not_have_written_is_no_entry(tmp_path, targets):
    cache = tmp_path / "cache"
    keep_listing(cache, "k" * 64, (APP,))
    entry = cache / "discover" / f"{'k' * 64}.json"
    assert kept_listing(cache, "k" * 64) == (APP,)
    entry.write_text(json.dumps({"schema": discovery_cache.SCHEMA, "key": "k" * 64, "targets": targets}))
    assert kept_listing(cache, "k" * 64) is None


def test_entries_of_another_key_or_shape_and_links_are_no_entries(tmp_path):
    cache = tmp_path / "cache"
    keep_listing(cache, "a" * 64, (APP,))
    (cache / "discover" / f"{'a' * 64}.json").rename(cache / "discover" / f"{'b' * 64}.json")
    assert kept_listing(cache, "b" * 64) is None  # the key inside is a's
    for text in ("", "{", "[]", '{"schema": "other", "key": "' + "c" * 64 + '", "targets": []}', "\ufeff{}"):
        (cache / "discover" / f"{'c' * 64}.json").write_text(text)
        assert kept_listing(cache, "c" * 64) is None
    elsewhere = tmp_path / "elsewhere"
    keep_listing(elsewhere, "d" * 64, (APP,))
    os.symlink(elsewhere / "discover" / f"{'d' * 64}.json", cache / "discover" / f"{'d' * 64}.json")
    assert kept_listing(cache, "d" * 64) is None  # an entry that is a link
    linked = tmp_path / "linked"
    linked.mkdir()
    os.symlink(elsewhere / "discover", linked / "discover")
    assert kept_listing(linked, "d" * 64) is None  # a discover directory that is a link
    keep_listing(linked, "e" * 64, (APP,))
    assert not (elsewhere / "discover" / f"{'e' * 64}.json").exists()  # never written through it
    fifo = cache / "discover" / f"{'f' * 64}.json"
    os.mkfifo(fifo)
    assert kept_listing(cache, "f" * 64) is None  # and never blocks


def test_the_directory_keeps_the_newest_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(discovery_cache, "MAX_ENTRIES", 3)
    cache = tmp_path / "cache"
    for i in range(5):
        keep_listing(cache, f"{i}" * 64, (APP,))
        os.utime(cache / "discover" / f"{f'{i}' * 64}.json", (1000 + i, 1000 + i))
    keep_listing(cache, "9" * 64, (APP,))
    assert sorted(p.name[0] for p in (cache / "discover").iterdir()) == ["3", "4", "9"]


def test_each_build_is_read_ahead_from_what_it_gave_last_time(repo, tmp_path, capsys, monkeypatch):
    cache = tmp_path / "cache"
    first, _ = report(repo, cache, capsys)
    predicted = sorted((cache / "predict").iterdir())
    assert len(predicted) == 6  # app (2 strategies) at base, app and tool at head (tool: none at base)
    keys = {p.read_text().strip() for p in predicted}
    assert {f"{k}.json" for k in keys} == {p.name for p in (cache / "analyze").iterdir()}
    read_ahead = []

    def kept_entry(cache_dir, key):
        read_ahead.append(key)
        return analysis_cache.kept_entry(cache_dir, key)

    def not_read(*_args):
        raise AssertionError("an analysis read after its build, though read ahead")

    worked_out = run._diff
    diffed_after = []

    def diff(base, head, top):
        if base.report is not None and head.report is not None:
            diffed_after.append((base.name, head.name))
        return worked_out(base, head, top)

    monkeypatch.setattr(run, "kept_entry", kept_entry)
    monkeypatch.setattr(run, "kept_analysis", not_read)
    monkeypatch.setattr(run, "_diff", diff)
    again, _ = report(repo, cache, capsys)
    assert again == first and sorted(read_ahead) == sorted(p.read_text().strip() for p in predicted)
    assert diffed_after == []  # app's two diffs worked out from the analyses read ahead, during the builds


def test_a_wrong_prediction_is_not_taken(repo, tmp_path, capsys):
    """Every build predicted to give another build's analysis (a forged or stale prediction, with an entry
    for it): each binary's own key decides, the report is the same, and the predictions are mended."""
    cache = tmp_path / "cache"
    first, _ = report(repo, cache, capsys)
    predicted = sorted((cache / "predict").iterdir())
    keys = [p.read_text() for p in predicted]
    for p, key in zip(predicted, keys[1:] + keys[:1], strict=True):
        p.write_text(key)
    again, _ = report(repo, cache, capsys)
    assert again == first
    assert [p.read_text() for p in predicted] == keys


def _builds_seen(monkeypatch) -> list[tuple[str, str]]:
    """(thread name, the build's output directory relative to its side's) of every build from here on."""
    from sizebot.builds import gobuild

    seen: list[tuple[str, str]] = []
    build_binary = gobuild.build_binary

    def recorded(checkout, target, platform, strategy, out_dir, **kwargs):
        import threading

        seen.append((threading.current_thread().name, f"{Path(out_dir).parent.name}/{Path(out_dir).name}"))
        return build_binary(checkout, target, platform, strategy, out_dir, **kwargs)

    monkeypatch.setattr(gobuild, "build_binary", recorded)
    monkeypatch.setattr(run, "build_binary", recorded)
    return seen


def test_with_a_kept_listing_the_base_builds_start_before_the_report_plans_them(repo, tmp_path, capsys,
                                                                                 monkeypatch):
    """The early thread starts the base's first builds (as many as there are CPUs) with the kept main
    packages; the report takes them (not built twice) and is the same document."""
    cache = tmp_path / "cache"
    first, _ = report(repo, cache, capsys)
    seen = _builds_seen(monkeypatch)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    again, _ = report(repo, cache, capsys)
    assert again == first
    early = sorted(where for thread, where in seen if thread == "sizebot-early-build")
    assert early == ["base/0", "base/1"]
    # each job once at each side (the base's tool: missing there)
    assert sorted(where for _thread, where in seen) == [f"{side}/{i}" for side in ("base", "head") for i in range(4)]


def test_a_base_with_a_sizebot_toml_starts_no_build_early(repo, tmp_path, capsys, monkeypatch):
    """The base's sizebot.toml may change what is built (its budgets judge): nothing is started before
    the report plans it, and the report is the one a run without kept listings gives."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo["path"]), str(clone))
    git(clone, "checkout", "-q", "--detach", repo["configured"])
    git(clone, "rm", "-q", "sizebot.toml")
    head = commit_all(clone, "no sizebot.toml")
    other = {"path": clone, "c1": repo["configured"], "c2": head}
    truth, _ = report(other, tmp_path / "truth", capsys, "--no-cache")
    cache = tmp_path / "cache"
    report(other, cache, capsys)
    seen = _builds_seen(monkeypatch)
    doc, said = report(other, cache, capsys)
    assert "as listed before" in said and doc == truth
    assert seen and not [thread for thread, _where in seen if thread == "sizebot-early-build"]


def test_builds_started_early_for_other_jobs_are_waited_for_not_taken(repo, tmp_path):
    """A plan that does not begin with the jobs started early: none is taken, and none is still running
    (they write where the report's builds will) when the report goes on."""
    import threading
    from concurrent.futures import Future

    from sizebot.builds.workpath import EarlyCheckout
    from sizebot.config import Target, default_config

    early = EarlyCheckout.__new__(EarlyCheckout)
    strategies = default_config().strategies
    job = (Target(name="app", package="./cmd/app", platforms=()), "linux/amd64", strategies[0])
    running: Future = Future()
    early.started = [(job, running)]
    threading.Timer(0.3, running.set_result, args=(None,)).start()
    assert early.builds_started([(job[0], job[1], strategies[1])]) == {}
    assert running.done() and early.started == []
    taken: Future = Future()
    early.started = [(job, taken)]
    assert early.builds_started([job, (job[0], job[1], strategies[1])]) == {0: taken}
