"""One independent phase of an analysis run in a forked worker process, beside the main one, so
that a large binary keeps two cores busy.

The child is forked (it shares the parent's mapping of the file and its parsed headers: nothing
is read twice, and starting it costs milliseconds, not an interpreter's start-up). It runs one job,
sends its result back pickled through a pipe (the jobs return compact arrays, not millions of
objects) and exits with ``os._exit`` (no atexit handlers, no buffered output of the parent's).

Nothing of a child that fails is ever used: a job that raises, a child that exits without a
complete result, is killed or dies from a signal, all make ``result()`` raise ``WorkerError``
(one line naming the phase and what happened; the CLI exits 2). The child ignores SIGINT (the
parent, interrupted, ends it as it unwinds: ``close()`` kills and reaps it), dies on SIGTERM, and
on Linux is killed when the parent dies, even by SIGKILL (PR_SET_PDEATHSIG), so no worker
outlives its analysis.

A worker is started only where forking is safe: a POSIX system and a process with one thread
(a fork copies no other thread, and locks they hold would stay held in the child).
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from sizebot.errors import WorkerError

T = TypeVar("T")

_OK, _FAILED = b"R", b"E"
_PR_SET_PDEATHSIG = 1


def can_fork() -> bool:
    """Forking is available and safe here (POSIX, one thread in this process)."""
    return hasattr(os, "fork") and threading.active_count() == 1


class Worker(Generic[T]):
    """``job()`` running in a forked child; ``result()`` waits for it, ``close()`` ends it;
    ``collect()`` takes the result in if it is ready, so that the child ends and frees its memory
    as soon as it is done rather than when the result is used."""

    def __init__(self, what: str, job: Callable[[], T]):
        self.what = what
        read_fd, write_fd = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_fd)
            _run_child(job, write_fd, parent)
        os.close(write_fd)
        self.pid: int | None = pid
        self._pipe = os.fdopen(read_fd, "rb")
        self._data: bytes | None = None
        self._status: int | None = None

    def collect(self) -> None:
        """Read the child's result and reap it if it has started sending (without waiting)."""
        if self._data is None and select.select([self._pipe], [], [], 0)[0]:
            self._receive()

    def _receive(self) -> None:
        try:
            self._data = self._pipe.read()
        finally:
            self._pipe.close()
        self._status = self._reap()

    def result(self) -> T:
        """The job's return value; WorkerError when the child failed in any way."""
        if self._data is None:
            self._receive()
        data, status = self._data or b"", self._status
        self._data = b""
        if data[:1] == _FAILED:
            raise WorkerError(f"{self.what} failed in its worker process: "
                              f"{data[1:].decode('utf-8', 'replace')}")
        if status is not None and os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
            raise WorkerError(f"the worker process of the {self.what} was killed by {name}: no result")
        code = os.waitstatus_to_exitcode(status) if status is not None else -1
        if code != 0 or data[:1] != _OK:
            raise WorkerError(f"the worker process of the {self.what} exited with status {code} "
                              "without a complete result")
        try:
            return pickle.loads(data[1:])  # noqa: S301 - written by our own forked child, never by input
        except (pickle.UnpicklingError, EOFError, ValueError) as e:
            raise WorkerError(f"the worker process of the {self.what} sent a truncated result ({e})") from None

    def close(self) -> None:
        """End the child if it still runs (an error or a signal in the parent) and reap it."""
        if not self._pipe.closed:
            self._pipe.close()
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap()

    def _reap(self) -> int | None:
        pid, self.pid = self.pid, None
        if pid is None:
            return None
        while True:
            try:
                return os.waitpid(pid, 0)[1]
            except ChildProcessError:
                return None
            except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for clarity
                continue

    def __enter__(self) -> Worker[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _run_child(job: Callable[[], object], write_fd: int, parent: int) -> None:
    """Run ``job`` and write its pickled result (or its failure) to ``write_fd``; exit at once."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _die_with(parent)
        try:
            payload = _OK + pickle.dumps(job(), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # noqa: BLE001 - reported to the parent, which raises it as one line
            payload = _FAILED + f"{type(e).__name__}: {e}".encode("utf-8", "replace")
        else:
            code = 0
        with os.fdopen(write_fd, "wb") as out:
            out.write(payload)
    except BaseException:  # noqa: BLE001 - a child never unwinds into the parent's code
        code = 1
    finally:
        os._exit(code)


def _die_with(parent: int) -> None:
    """On Linux, have the kernel kill this child when its parent dies (even by SIGKILL)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
