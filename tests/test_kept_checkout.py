"""The checkout kept at the default path between reports, attacked as a pull request's build could on a
self-hosted runner: it ran in that checkout (and so could run git there, in its gitdir too) and can write
beside it, in the shared temporary directory. The next report must build exactly the commit it names,
give the same document as before, and run nothing planted. Real git, real Go, real ``sizebot report``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from sizebot.builds.workpath import build_path
from sizebot.cli import main
from tests.support.git import forge_index_stat, git
from tests.support.goprograms import app_then_tool

GO_MOD = "module example.com/hostile\n\ngo 1.21\n"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.setenv("GOTOOLCHAIN", "local")
    monkeypatch.delenv("GOWORK", raising=False)
    path = tmp_path / "sizebot-hostile-pr"
    path.mkdir()
    base, head = app_then_tool(path, GO_MOD)
    src = build_path(path)
    yield path, base, head, src
    (src.parent / "go.work").unlink(missing_ok=True)
    shutil.rmtree(src, ignore_errors=True)


def report(repo, tmp_path: Path, capsys) -> dict:
    path, base, head, _src = repo
    capsys.readouterr()
    status = main(["report", "--repo", str(path), "--base", base, "--head", head, "--format", "json",
                   "--no-cache"])
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out)


def test_what_a_build_left_in_and_beside_the_kept_checkout_changes_nothing(repo, tmp_path, capsys):
    """A go.work beside the checkout (the go command looks in every directory above it) whose godebug line
    changes the binaries; go.mod, the same at both commits, changed under an index forged to match it; an
    untracked .gitattributes that would rewrite what the checkout writes; a config.worktree in the
    checkout's gitdir whose core.fsmonitor would run a program: the report is the one given before."""
    path, _base, _head, src = repo
    before = report(repo, tmp_path, capsys)
    assert (src / ".git").is_file()  # kept for the next run
    marker = tmp_path / "ran"
    program = tmp_path / "fsmonitor.sh"
    program.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    program.chmod(0o755)
    (src.parent / "go.work").write_text("go 1.21\n\nuse ./src\n\ngodebug panicnil=1\n")
    go_mod = src / "go.mod"
    go_mod.write_text(GO_MOD.replace("hostile", "pwned!!"))
    gitdir = Path(git(src, "rev-parse", "--absolute-git-dir"))
    forge_index_stat(gitdir / "index", b"go.mod", os.lstat(go_mod))
    (src / ".gitattributes").write_text("* ident eol=crlf\n")
    git(path, "config", "extensions.worktreeConfig", "true")
    (gitdir / "config.worktree").write_text(f"[core]\n\tfsmonitor = {program}\n")
    after = report(repo, tmp_path, capsys)
    assert after == before
    assert not marker.exists()
    assert go_mod.read_text() == GO_MOD and not (src / ".gitattributes").exists()
