"""Independent phases of an analysis run in a forked worker process, beside the main one, so that
a large binary keeps two cores busy.

The child is forked (it shares the parent's mapping of the file and its parsed headers: nothing
is read twice, and starting it costs milliseconds, not an interpreter's start-up). It runs its jobs
in order; each result is pickled to an unlinked temporary file of its own (the jobs return compact
arrays, not millions of objects) and announced by one byte on a pipe, so the parent can use the
first result while the child works on the next, and the child exits and frees its memory as soon
as it is done, not when the parent gets round to reading. It exits with ``os._exit`` (no atexit
handlers, no buffered output of the parent's).

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

import gc
import os
import pickle
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from typing import IO, Any

from sizebot.errors import WorkerError

_OK, _FAILED = b"R", b"E"
_PR_SET_PDEATHSIG = 1


def can_fork() -> bool:
    """Forking is available and safe here (POSIX, one thread in this process: native threads, such as
    a numeric library's pool, counted too where /proc lists them)."""
    if not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc: Python's threads are the ones known
        return True


class Worker:
    """``jobs`` running one after the other in a forked child; ``result(k)`` waits for the k-th
    one's return value (taken once: the worker keeps no reference to it), ``close()`` ends the
    child."""

    def __init__(self, what: str, jobs: Sequence[Callable[[], Any]], started: list[Worker] | None = None):
        """Fork the child. ``started``: where the worker is put before any signal can interrupt its
        caller (SIGINT and SIGTERM are held from the fork until it is there), so that a caller that
        closes what ``started`` holds as it unwinds never leaves a child running."""
        self.what = what
        self._files: list[IO[bytes]] = []
        try:
            self._files = [tempfile.TemporaryFile() for _ in jobs]
            read_fd, write_fd = os.pipe()
        except OSError:
            self._close_files()
            raise
        parent = os.getpid()
        held = _hold_signals()
        try:
            try:
                pid = os.fork()
            except OSError:
                os.close(read_fd)
                os.close(write_fd)
                self._close_files()
                raise
            if pid == 0:  # the child: never returns
                os.close(read_fd)
                _run_child(jobs, [f.fileno() for f in self._files], write_fd, parent, held)
            os.close(write_fd)
            self.pid: int | None = pid
            self._ready_fd: int | None = read_fd
            self._ready = 0  # results announced so far
            self._status: int | None = None
            if started is not None:
                started.append(self)
        finally:
            _release_signals(held)

    def result(self, k: int = 0) -> Any:
        """The k-th job's return value; WorkerError when the child failed in any way before it was
        complete."""
        if self._files[k].closed:
            raise ValueError(f"result {k} of the {self.what} was already taken")
        while self._ready <= k and self._ready_fd is not None:
            got = os.read(self._ready_fd, 64)
            if not got:  # the child is gone: it said all it will
                os.close(self._ready_fd)
                self._ready_fd = None
                self._reap()
            self._ready += len(got)
        data = b""
        f = self._files[k]
        if self._ready > k:
            f.seek(0)
            data = f.read()
        f.close()
        if data[:1] == _FAILED:
            raise WorkerError(f"{self.what} failed in its worker process: {data[1:].decode('utf-8', 'replace')}")
        if data[:1] != _OK:
            raise WorkerError(self._death())
        try:
            return pickle.loads(data[1:])  # noqa: S301 - written by our own forked child, never by input
        except (pickle.UnpicklingError, EOFError, ValueError) as e:
            raise WorkerError(f"the worker process of the {self.what} sent a truncated result ({e})") from None

    @property
    def pending(self) -> int:
        """Results not taken yet."""
        return sum(not f.closed for f in self._files)

    def _death(self) -> str:
        status = self._status
        if status is not None and os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
            return f"the worker process of the {self.what} was killed by {name}: no result"
        code = os.waitstatus_to_exitcode(status) if status is not None else -1
        return f"the worker process of the {self.what} exited with status {code} without a complete result"

    def close(self) -> None:
        """End the child if it still runs (an error or a signal in the parent) and reap it."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._reap()
        if self._ready_fd is not None:
            os.close(self._ready_fd)
            self._ready_fd = None
        self._close_files()

    def _close_files(self) -> None:
        for f in self._files:
            f.close()

    def _reap(self) -> None:
        """Wait for the child and keep its wait status."""
        pid, self.pid = self.pid, None
        if pid is not None:
            try:
                self._status = os.waitpid(pid, 0)[1]
            except ChildProcessError:
                self._status = None


_HELD = (signal.SIGINT, signal.SIGTERM)


def _hold_signals() -> set[int | signal.Signals] | None:
    """Block SIGINT and SIGTERM (they wait, pending, until released); the mask before, or None where
    signal masks are not available."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)


def _release_signals(held: set[int | signal.Signals] | None) -> None:
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _run_child(jobs: Sequence[Callable[[], Any]], out_fds: list[int], ready_fd: int, parent: int,
               held: set[int | signal.Signals] | None = None) -> None:
    """Run the jobs; write each pickled result (or the failure) to its file and announce it on
    ``ready_fd``; exit at once. ``held``: the signal mask to restore once the child's own signal
    dispositions are set."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _release_signals(held)
        _die_with(parent)
        gc.freeze()  # the parent's objects: never traversed (nor their pages copied) by the collections here
        for job, out_fd in zip(jobs, out_fds, strict=True):
            try:
                payload = _OK + pickle.dumps(job(), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as e:  # noqa: BLE001 - reported to the parent, which raises it as one line
                payload = _FAILED + f"{type(e).__name__}: {e}".encode("utf-8", "replace")
            with os.fdopen(out_fd, "wb") as out:
                out.write(payload)
            os.write(ready_fd, b"\1")
            if payload[:1] == _FAILED:
                break
            del payload
            _give_back()
        else:
            code = 0
    except BaseException:  # noqa: BLE001 - a child never unwinds into the parent's code
        code = 1
    finally:
        os._exit(code)


def _give_back() -> None:
    """Return what a finished job freed to the system before the next one starts: the memory that
    counts is the sum of both processes'."""
    gc.collect()
    trim_heap()


def trim_heap() -> None:
    """Hand the heap's free pages back to the system (glibc keeps what large arrays freed, up to its
    adaptive thresholds, for later allocations: resident memory that no step uses)."""
    if _trim is not None:
        _trim(0)


def _libc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim (freed heap pages back to the system), where there is one."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


_trim = _libc_trim()


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
