"""The CLI under hostile local input: FIFOs, a work directory that is a file, crashes. Each is one
line on stderr and exit 2, and nothing blocks (every subprocess runs under a timeout)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sizebot.cli import main
from tests.support.git import git

ROOT = Path(__file__).resolve().parents[1]


def _sizebot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "sizebot", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.parametrize("argv", [["analyze", "{fifo}"], ["diff", "{fifo}", "{fifo}"]])
def test_fifo_refused_without_blocking(tmp_path, argv):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # nobody ever writes to it: opening it for reading in blocking mode never returns
    proc = _sizebot(*[a.format(fifo=fifo) for a in argv], cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"sizebot: error: {fifo}: a FIFO, not a regular file\n"


def test_directory_refused(tmp_path, capsys):
    assert main(["analyze", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"sizebot: error: {tmp_path}: a directory, not a regular file\n"


def test_work_dir_naming_a_file(tmp_path, capsys):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    work = tmp_path / "work"
    work.write_text("a file the user keeps\n")
    assert main(["report", "--repo", str(repo), "--base", "HEAD", "--head", "HEAD", "--work-dir", str(work), "-q"]) == 2
    assert capsys.readouterr().err == f"sizebot: error: --work-dir {work}: not a directory\n"
    assert work.read_text() == "a file the user keeps\n"
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
