"""The processes a build starts (go, a custom command, post-steps, ``docker build`` and ``docker
save``), each in its own process group, so that an interrupted run ends all of them at once,
grandchildren included (go's compile and link, make's recipes, the buildx plugin that ``docker
build`` runs when BuildKit is on), instead of waiting for a build step to finish. The engine ends
a classic build whose client went away: its RUN container is killed and removed.

:func:`run_group` runs one command in a new process group and records the group while it runs;
:func:`end_all` (called from the signal handler) kills every recorded group and makes any later
:func:`run_group` raise :class:`Stopped`, so build threads stop instead of starting the next job.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

_lock = threading.Lock()
_groups: set[int] = set()
_stopping = threading.Event()


class Stopped(KeyboardInterrupt):
    """Raised in a build thread once the run is being interrupted (SIGINT or SIGTERM)."""


def run_group(cmd: Sequence[str], *, cwd: Path | str | None = None, env: Mapping[str, str],
              timeout: float | None = None, started: Callable[[], None] | None = None,
              ) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(cmd, capture_output=True, text=True)`` in a new process group that
    :func:`end_all` can kill. FileNotFoundError/NotADirectoryError propagate as with subprocess;
    past ``timeout`` seconds the whole group is killed and subprocess.TimeoutExpired raised.
    ``started``: called once the process runs, before it is waited for."""
    if _stopping.is_set():
        raise Stopped()
    proc = subprocess.Popen(list(cmd), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace", process_group=0)
    with _lock:
        _groups.add(proc.pid)
    try:
        if started is not None:
            started()
        if _stopping.is_set():  # end_all ran between the check above and the registration
            _kill(proc.pid)
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        _kill(proc.pid)
        proc.wait()
        raise
    finally:
        with _lock:
            _groups.discard(proc.pid)
    if _stopping.is_set():
        raise Stopped()
    return subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)


def end_all() -> None:
    """Kill every running build's process group; later run_group calls raise Stopped."""
    _stopping.set()
    with _lock:
        groups = list(_groups)
    for pgid in groups:
        _kill(pgid)


def reset() -> None:
    """A new run (in the same process) may start builds again."""
    _stopping.clear()


def running_groups() -> tuple[int, ...]:
    with _lock:
        return tuple(sorted(_groups))


def _kill(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # already gone
