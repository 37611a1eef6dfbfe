"""SIGTERM (what a CI runner sends on cancel) and SIGINT during a real `sizebot report`: the build's
whole process group is ended at once (the step is not waited for), the worktrees are removed from
the user's repository, and the temporary directory is gone. The same during the `docker build` of
the [image] section, on the real engine: the docker client's group is ended, and the engine ends
the build (its RUN container is killed and removed, no image is left tagged)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.docker_engine import DockerEngine
from tests.support.git import commit_all, git
from tests.support.goprograms import write_tree

ROOT = Path(__file__).resolve().parents[1]
APP = 'package main\n\nfunc main() { println("app") }\n'


def _descendants(root: int) -> set[int]:
    """Every process below ``root`` now (build shells, their children, analysis workers)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state  # a zombie has ended; only its parent has not reaped it yet


def _base_and_head(repo: Path, files: dict[str, str]) -> None:
    """A Go module with one command and ``files``; base and head the same tree (nothing to compare)."""
    write_tree(repo, {"go.mod": "module example.com/app\n\ngo 1.21\n", "cmd/app/main.go": APP, **files})
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "base")
    git(repo, "commit", "-q", "--allow-empty", "-m", "head")


def _report(repo: Path, tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """``sizebot report`` of HEAD~1..HEAD in a child process, its temporary files in tmp_path/tmp."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(env, PYTHONPATH=str(ROOT), TMPDIR=str(tmp), XDG_CACHE_HOME=str(tmp_path / "cache"))
    return subprocess.Popen([sys.executable, "-m", "sizebot", "report", "--repo", str(repo), "--base", "HEAD~1",
                             "--head", "HEAD"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _interrupt(proc: subprocess.Popen[str], signum: int, mid_build: Callable[[], bool],
               check: Callable[[set[int]], None]) -> set[int]:
    """Once ``mid_build()``, ``check`` the processes below ``proc``, send ``signum`` and see sizebot end
    as interrupted; the processes that were below it, to check they are gone."""
    try:
        deadline = time.monotonic() + 300  # a bound on the test, not a timing assertion
        while not mid_build():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the build never started"
            time.sleep(0.05)
        below = _descendants(proc.pid)
        check(below)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 128 + signum, err
    assert err.splitlines()[-1] == f"sizebot: interrupted ({signal.Signals(signum).name})"
    return below


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_build_leaves_nothing_behind(tmp_path, signum):
    pids = tmp_path / "pids"
    repo = tmp_path / "repo"
    # The build step starts a grandchild that would outlive a plain kill of the shell by ten minutes.
    config = ('[[target]]\nname = "app"\npackage = "./cmd/app"\n\n[strategy.slow]\n'
              f'command = "echo $$ >> {pids}; sleep 600 & echo $! >> {pids}; wait"\noutput = "dist/app"\n')
    _base_and_head(repo, {"sizebot.toml": config})

    def started(below: set[int]) -> None:
        assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 2
        assert {int(p) for p in pids.read_text().split()} <= below

    below = _interrupt(_report(repo, tmp_path, dict(os.environ)), signum,
                       lambda: pids.exists() and len(pids.read_text().split()) >= 2, started)
    assert not [int(p) for p in pids.read_text().split() if _alive(int(p))]
    assert not [pid for pid in below if _alive(pid)]  # analysis workers too
    _nothing_left(repo, tmp_path)


def _nothing_left(repo: Path, tmp_path: Path) -> None:
    """The user's repository has its own worktree only, and no temporary directory of sizebot's is left."""
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert not (repo / ".git" / "worktrees").exists() or not list((repo / ".git" / "worktrees").iterdir())
    tmp = tmp_path / "tmp"
    left = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if not p.name.endswith(".lock"))
    assert all(not p.startswith("sizebot-report-") for p in left), left
    assert not [p for p in left if p.endswith("/src") or "/src/" in p], left


def _containers(engine: DockerEngine) -> list[str]:
    return engine.docker("ps", "-aq").stdout.decode().split()


@pytest.mark.docker
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_docker_build_ends_the_build(tmp_path, docker_engine, signum):
    repo = tmp_path / "repo"
    # One small Go build, then the image, whose RUN step would take ten minutes.
    config = ('[[target]]\nname = "app"\npackage = "./cmd/app"\n\n[strategy.plain]\n'
              'command = "go build -o {output} ./cmd/app"\noutput = "dist/app"\n\n[image]\n')
    _base_and_head(repo, {"sizebot.toml": config,
                          "Dockerfile": f"FROM {docker_engine.busybox_image()}\nRUN busybox sleep 600\n"})
    assert _containers(docker_engine) == []
    gocache = subprocess.run(["go", "env", "GOCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    proc = _report(repo, tmp_path, dict(docker_engine.env, GOCACHE=gocache))  # the warm build cache

    def own_group(below: set[int]) -> None:  # the docker client leads a process group of its own
        clients = [pid for pid in below if Path(f"/proc/{pid}/comm").read_text().strip() == "docker"]
        assert clients and all(os.getpgid(pid) == pid != os.getpgid(proc.pid) for pid in clients)

    # mid-build: the RUN step's container runs
    below = _interrupt(proc, signum, lambda: bool(_containers(docker_engine)), own_group)
    assert not [pid for pid in below if _alive(pid)]
    deadline = time.monotonic() + 60  # the engine ends the build once its client is gone
    while _containers(docker_engine) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _containers(docker_engine) == []
    tags = docker_engine.docker("images", "--format", "{{.Repository}}").stdout.decode().split()
    assert not [t for t in tags if t.startswith("sizebot-measure-")], tags
    _nothing_left(repo, tmp_path)
