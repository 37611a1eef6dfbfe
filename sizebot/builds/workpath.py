"""One fixed directory where base and head are checked out in turn, so both are built at the same path.

Go embeds the source path of every file of the main module in a binary built without -trimpath (in the
pclntab's file table and in the DWARF), and a different path also moves the linker's string layout and
padding: a worktree at a new random path per run gives a few bytes of noise on every default build. Built
at one path, the same commit gives the same binary at base and head and in every run, and the head's
builds find in Go's build cache every package the base already compiled.

``build_path(repo, work_dir)`` names the directory: ``WORK_DIR/src`` when the caller chose a work directory,
else ``<tmp>/sizebot-<uid>/<repository's name>/src``, the same in every run. ``shared_checkout`` takes an
exclusive lock beside it (a second run on the same path waits for the first), adds one detached worktree
there and yields a ``SharedCheckout`` whose ``switch(sha)`` checks out another commit in place; the
worktree is removed however the block ends. With ``keep`` (the default path, no work directory chosen)
the worktree of a block that ends without an exception stays for the next run, which checks its commit
out over it: only the files that differ are written, and git's index of it is already up to date (a
worktree just added has every entry "racily clean", so that its first checkout reads every file again).
A kept worktree is reused only when it is plainly this repository's own, with nothing in it but files,
directories and links once checked out and cleaned; anything else (another clone's, a lock left by a
killed git, a FIFO, a directory of someone else's) is removed and added again, as without ``keep``.
"""

from __future__ import annotations

import fcntl
import os
import re
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import wait as futures_wait
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sizebot.builds.git import checked_sha
from sizebot.builds.git import last_line as _last_line
from sizebot.builds.git import run_git as _git
from sizebot.builds.worktree import _force_rmtree, resolve_commits
from sizebot.errors import GitError, SizebotError

if TYPE_CHECKING:
    from sizebot.builds.discovery_cache import Listing
    from sizebot.builds.gobuild import BuildOutcome
    from sizebot.config import Job, Strategy, Target

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def build_path(repo: Path, work_dir: Path | None = None) -> Path:
    """Where base and head are checked out, in turn: the same directory in every run."""
    if work_dir is not None:
        return Path(work_dir).resolve() / "src"
    name = _UNSAFE_NAME.sub("_", Path(repo).resolve().name).strip("._") or "repo"
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()).resolve() / f"sizebot-{uid}" / name / "src"


class SharedCheckout:
    """The worktree at the fixed path, with the commit it holds now."""

    def __init__(self, repo: Path, path: Path, sha: str, *, keep: bool = False):
        self.repo = repo
        self.path = path
        self.sha = sha
        self.keep = keep  # left for the next run, not removed
        self._removal: threading.Thread | None = None

    def remove_soon(self) -> None:
        """Start removing the worktree in the background, once nothing reads it any more; the block
        of ``shared_checkout`` still ends only when it is gone (and holds the lock until then)."""
        if self._removal is None and not self.keep:
            self._removal = threading.Thread(target=_remove, args=(self.repo, self.path), daemon=True,
                                             name="sizebot-worktree-remove")
            self._removal.start()

    def _removed(self) -> None:
        if self.keep:
            return
        if self._removal is not None:
            self._removal.join()
        if self._removal is None or self.path.exists():
            _remove(self.repo, self.path)

    def switch(self, sha: str) -> None:
        """Check out ``sha`` in place; files a build left behind (untracked or ignored) are removed."""
        if sha == self.sha:
            return
        # `sha --`: the commit, then no paths (checkout --detach takes no --end-of-options)
        proc = _git(self.path, "checkout", "--quiet", "--force", "--detach", checked_sha(sha), "--")
        if proc.returncode != 0:
            raise GitError(f"git checkout {sha[:12]} in {self.path} failed: {_last_line(proc.stderr)}")
        self.sha = sha
        self.clean()

    def clean(self) -> None:
        proc = _git(self.path, "clean", "-ffdxq")
        if proc.returncode != 0:
            raise GitError(f"git clean in {self.path} failed: {_last_line(proc.stderr)}")


@contextmanager
def shared_checkout(repo: Path, sha: str, path: Path, *, waiting: Callable[[str], None] | None = None,
                    keep: bool = False) -> Iterator[SharedCheckout]:
    """A detached worktree of ``repo`` at ``path`` holding ``sha``, removed on exit (even on error);
    ``keep``: the one kept there by an earlier run, checked out again, and left for the next."""
    repo = Path(repo)
    path = Path(path)
    if keep:  # the default path, under the shared temporary directory
        _make_own_directories((path.parent.parent, path.parent))
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    with _lock_file(path.parent / f".{path.name}.lock") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting(f"waiting for another sizebot run building in {path}")
            fcntl.flock(lock, fcntl.LOCK_EX)
        _check_worktree_entries(repo)
        checkout = _reused(repo, path, sha) if keep else None
        try:
            if checkout is None:
                proc = _git(repo, "worktree", "add", "--detach", "--", str(path), checked_sha(sha))
                if proc.returncode != 0:  # left by a run that was killed: removed, and added again
                    _remove(repo, path, prune=True)
                    proc = _git(repo, "worktree", "add", "--detach", "--", str(path), checked_sha(sha))
                if proc.returncode != 0:
                    raise GitError(f"git worktree add {sha[:12]} at {path} failed: {_last_line(proc.stderr)}")
                checkout = SharedCheckout(repo, path.resolve(), sha, keep=keep)
            yield checkout
        except BaseException:
            if checkout is not None:
                checkout.keep = False  # a run that did not end (an error, a signal) leaves no worktree behind
            raise
        finally:
            if checkout is not None:
                checkout._removed()
            else:
                _remove(repo, path)


def _make_own_directories(directories: Sequence[Path]) -> None:
    """Make each directory (the parent before its child) for this user alone, or raise when it is there
    as a link, another user's, or writable by others: in a temporary directory shared by every user,
    anyone may have made it first."""
    uid = os.getuid()
    for where in directories:
        try:
            os.mkdir(where, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise GitError(f"{where}: cannot be made: {exc.strerror}") from None
        st = os.lstat(where)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise GitError(f"{where}: not a directory of this user's alone (a link, another user's, or writable "
                           "by others): remove it, or choose a --work-dir")


@contextmanager
def _lock_file(where: Path) -> Iterator[int]:
    """The lock file's descriptor: a regular file at ``where``, made again when something else is there
    (a link is never followed, a FIFO never waited on)."""
    for _ in range(2):
        try:
            fd = os.open(where, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
        except OSError:  # a link (ELOOP), a directory (EISDIR)
            pass
        else:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                break
            os.close(fd)
        try:
            if stat.S_ISDIR(os.lstat(where).st_mode):
                _force_rmtree(where)
            else:
                os.unlink(where)
        except OSError:
            pass
    else:
        raise GitError(f"{where}: cannot be opened as a lock file")
    try:
        yield fd
    finally:
        os.close(fd)


def _check_worktree_entries(repo: Path) -> None:
    """Raise when git's entries of the repository's worktrees hold anything but regular files and
    directories: every ``git worktree`` command reads each entry's gitdir and HEAD, and waits forever on
    a FIFO (a build in the kept checkout can put one in its entry)."""
    entries = Path(os.path.abspath(repo), ".git", "worktrees")  # named in the message: absolute
    try:
        if not stat.S_ISDIR(os.lstat(entries).st_mode):
            return
    except OSError:
        return
    odd = _odd_entry(entries)
    if odd is not None:
        raise GitError(f"{odd}: not a regular file or a directory among git's worktree entries (git would wait "
                       "on a FIFO there forever): remove it")


def _reused(repo: Path, path: Path, sha: str) -> SharedCheckout | None:
    """The worktree an earlier run kept at ``path``, holding ``sha`` now, or None (nothing was changed
    that a fresh worktree does not replace) when it is not plainly this repository's own.

    A build ran in it and could run git there, so nothing of its state is taken as it is: git's index
    is read anew from the commit (no stat data a build could have forged to match a file it changed,
    no entry marked skip-worktree or assume-unchanged), then what the commit does not track is removed
    (an untracked .gitattributes would apply its eol, ident or encoding to the files checked out), then
    each file is compared by its content, and those that differ are written."""
    # walked first: git reads an untracked .gitattributes as it cleans and checks out, and hangs on a FIFO
    if not _own_worktree(repo, path) or not _only_plain_entries(path):
        return None
    for args in (("read-tree", checked_sha(sha)), ("clean", "-ffdxq"), ("update-index", "-q", "--refresh"),
                 ("checkout", "--quiet", "--force", "--detach", checked_sha(sha), "--")):
        if _git(path, *args).returncode != 0:
            return None
    return SharedCheckout(repo, path, sha, keep=True) if _only_plain_entries(path) else None


# What git keeps in a worktree's own gitdir (.git/worktrees/<name>) as checkouts and resets use it; a
# config.worktree (read when the repository sets extensions.worktreeConfig: core.fsmonitor runs a program,
# core.sparseCheckout leaves files out), an info/sparse-checkout or anything else was put there by
# someone else, for instance by git commands a build ran in the checkout
_WORKTREE_GITDIR = frozenset({"HEAD", "ORIG_HEAD", "AUTO_MERGE", "FETCH_HEAD", "commondir", "gitdir", "index", "logs"})


def _own_worktree(repo: Path, path: Path) -> bool:
    """Whether ``path`` is a directory of this user's (not a link), whose ``.git`` file names a worktree
    entry of ``repo`` that names ``path`` back (repo's ``.git`` a directory: not itself a worktree)."""
    try:
        uid = os.getuid()
        for where in (path.parent.parent, path.parent, path):  # <tmp>/sizebot-<uid>/<name>/src: no one else's
            st = os.lstat(where)
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & stat.S_IWOTH:
                return False
        if os.path.realpath(path) != str(path) or not stat.S_ISREG(os.lstat(path / ".git").st_mode):
            return False
        common = Path(os.path.realpath(Path(repo) / ".git"))
        if not stat.S_ISDIR(os.lstat(common).st_mode):
            return False
        text = _read_file(path / ".git")
        if not text.startswith("gitdir: ") or text.count("\n") != 1 or not text.endswith("\n"):
            return False
        entry = Path(text[len("gitdir: "):-1])
        if not entry.is_absolute() or entry.parent != common / "worktrees" or os.path.realpath(entry) != str(entry):
            return False
        if not set(os.listdir(entry)) <= _WORKTREE_GITDIR or _odd_entry(entry) is not None:
            return False
        back = _read_file(entry / "gitdir").strip()
        return back == str(path / ".git") and _read_file(entry / "commondir").strip() == "../.."
    except (OSError, UnicodeError, ValueError):
        return False


def _read_file(path: Path, limit: int = 65536) -> str:
    """The text of a small regular file, never a link followed or a FIFO waited on (OSError else)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path}: not a regular file")
        data = os.read(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise OSError(f"{path}: too large")
    return data.decode("utf-8", errors="strict")


def _entries(path: Path, limit: int) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Every entry under ``path`` with the directory it is in, links not followed; OSError past ``limit``
    entries (or where a directory cannot be read)."""
    stack, seen = [str(path)], 0
    while stack:
        where = stack.pop()
        with os.scandir(where) as entries:
            for entry in entries:
                seen += 1
                if seen > limit:
                    raise OSError(f"{path}: more than {limit} entries")
                yield where, entry
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)


def _odd_entry(path: Path, limit: int = 10_000) -> str | None:
    """The first thing under ``path`` that is neither a regular file nor a directory (``path`` itself when
    it cannot be read or holds more than ``limit`` entries), or None. For worktrees' gitdirs: git reading
    a HEAD or an index waits forever on a FIFO, and follows a link anywhere."""
    try:
        for _where, entry in _entries(path, limit):
            if not entry.is_dir(follow_symlinks=False) and not entry.is_file(follow_symlinks=False):
                return entry.path
    except OSError:
        return str(path)
    return None


def _only_plain_entries(path: Path, limit: int = 200_000) -> bool:
    """Whether everything under ``path`` is a regular file, a directory or a link (git clean leaves
    FIFOs, sockets and devices where they are: a build could hang reading one), and there are at most
    ``limit`` entries (past that, a walk costs what a fresh worktree would), and no ``.git`` but the
    worktree's own (a repository nested in a tracked directory outlives git clean; git never checks one
    out, and the go command would run git in it to stamp the binary)."""
    root = str(path)
    try:
        for where, entry in _entries(path, limit):
            if entry.name.lower() == ".git" and where != root:
                return False
            if not (entry.is_symlink() or entry.is_dir(follow_symlinks=False) or entry.is_file(follow_symlinks=False)):
                return False
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class HeadListing:
    """What ``EarlyCheckout`` asks of a head that has no sizebot.toml: its main packages (the targets
    of the default config), listed by go list or kept from an earlier run under ``key`` in ``cache``."""

    go: str
    env: Mapping[str, str] | None
    cache: Path


class EarlyCheckout:
    """``resolve_commits`` of (base, head) and ``shared_checkout`` of the head, begun in a thread so that
    git's work overlaps what the caller does meanwhile (a report loads its modules: tenths of a second);
    ``run_report_doc`` takes both over, and the checkout is then its own. ``close`` waits for the thread
    and removes a checkout nobody took. ``waiting``: as ``shared_checkout``'s (called from the thread);
    without it, what would be said is kept in ``said``, for the taker to say in its turn.

    With ``listing``, and a head without a sizebot.toml, the thread goes on to what the report does next:
    it lists the head's main packages (``head_listing``, or ``head_error`` when go list fails) and checks
    out the base; or, when a listing under the same key was kept (``listed_before``), checks out the base
    at once, and the report lists the head again beside its builds (builds/discovery_cache.py). Meanwhile,
    with ``listing`` whatever the head has, it asks the go command for the host's platform and the
    installed Go (``host_platform``, ``installed``: what the report asks before its first build)."""

    def __init__(self, repo: Path, base: str, head: str, path: Path, *,
                 waiting: Callable[[str], None] | None = None, listing: HeadListing | None = None,
                 keep: bool = False, work_dir: Path | None = None):
        self.repo, self.refs, self.path, self.keep = Path(repo), (base, head), Path(path), keep
        self.work_dir = work_dir  # where the builds started early write (None: a temporary directory)
        self.temporary: Path | None = None  # that temporary directory, removed by close()
        self.started: list[tuple[Job, Future[BuildOutcome]]] = []  # the base's builds started early
        self.said: list[str] = []
        self.waiting = waiting if waiting is not None else self.said.append
        self.listing = listing
        self.key: str | None = None  # the head listing's key in the cache (None: not looked up)
        self.head_listing: Listing | None = None
        self.head_error: SizebotError | None = None
        self.listed_before = False
        self.host_platform: Future[str] = Future()
        self.installed: Future[str] = Future()
        self._decided = threading.Event()  # the builds started early, or known to be none
        if listing is None:
            self._decided.set()
        self._commits: list[tuple[str, str, str]] | None = None
        self._held: AbstractContextManager[SharedCheckout] | None = None
        self._checkout: SharedCheckout | None = None
        self._error: BaseException | None = None
        self._taken = False
        self._thread = threading.Thread(target=self._begin, name="sizebot-early-checkout", daemon=True)
        self._thread.start()

    def _begin(self) -> None:
        asking = None
        if self.listing is not None:  # beside git's work, not after it
            asking = threading.Thread(target=self._ask_go, args=(self.listing,), name="sizebot-early-go", daemon=True)
            asking.start()
        try:
            self._prepare()
        finally:
            self._decided.set()
            if asking is not None:
                asking.join()

    def wait_for_builds(self, timeout: float) -> None:
        """Wait (``timeout`` seconds at most) until the builds the thread starts run, or it knows it starts
        none: a caller that loads modules meanwhile (holding the GIL) would hold up the thread's every step
        between git's processes, and the first builds with them."""
        self._decided.wait(timeout)

    def _ask_go(self, listing: HeadListing) -> None:
        from sizebot.builds.gobuild import host_platform
        from sizebot.builds.toolchain import installed_version

        other = threading.Thread(target=_answer, args=(self.installed, installed_version, listing.go, listing.env),
                                 name="sizebot-early-go", daemon=True)
        other.start()
        _answer(self.host_platform, host_platform, listing.go, listing.env)
        # then the config package, which the builds started early are planned with, while git checks out
        import sizebot.config  # noqa: F401

        other.join()

    def _prepare(self) -> None:
        try:
            self._commits = resolve_commits(self.repo, self.refs)
            base_sha, head_sha = self._commits[0][0], self._commits[1][0]
            listing = self.listing
            checkout: SharedCheckout | None = None
            if listing is not None:
                keyed: Future[str | None] = Future()
                if self.keep and _own_worktree(self.repo, self.path):
                    # a kept worktree is checked out at the base (what a kept listing builds first) while the
                    # key is worked out; without a kept listing, the head is then checked out over it
                    working = threading.Thread(target=self._work_out_key, args=(keyed, head_sha, listing),
                                               name="sizebot-early-key", daemon=True)
                    working.start()
                    try:
                        checkout = self._check_out(base_sha)
                    finally:
                        working.join()
                else:
                    self._work_out_key(keyed, head_sha, listing)
                self.key = keyed.result()
                # imported here, in the thread, beside the report's imports (and after the key's own)
                from sizebot.builds.discovery_cache import keep_listing, kept_listing

                kept = kept_listing(listing.cache, self.key) if self.key is not None else None
                if kept is not None:
                    checkout = checkout if checkout is not None else self._check_out(base_sha)
                    self.head_listing, self.listed_before = kept, True
                    self._start_builds(checkout.path, kept, listing)
                    return
                self._decided.set()  # none started: the caller's modules load beside the head's listing
            if checkout is None:
                checkout = self._check_out(head_sha)
            else:
                checkout.switch(head_sha)
            if listing is not None and self.key is not None:
                from sizebot.builds.discover import discover_targets

                try:
                    found = discover_targets(checkout.path, go=listing.go, env=listing.env)
                except SizebotError as exc:
                    self.head_error = exc  # raised by the report, as the listing it would have run
                    return
                self.head_listing = tuple((t.name, t.package) for t in found)
                keep_listing(listing.cache, self.key, self.head_listing)
                checkout.switch(base_sha)
        except BaseException as exc:  # noqa: BLE001 - raised again in the thread that takes them over
            self._error = exc

    def _work_out_key(self, keyed: Future[str | None], head_sha: str, listing: HeadListing) -> None:
        from sizebot.builds.discovery_cache import listing_key

        try:
            keyed.set_result(listing_key(self.repo, head_sha, self.path, listing.go, listing.env))
        except BaseException as exc:  # noqa: BLE001 - raised where the key is read
            keyed.set_exception(exc)

    def _check_out(self, sha: str) -> SharedCheckout:
        held = shared_checkout(self.repo, sha, self.path, waiting=self.waiting, keep=self.keep)
        self._checkout = held.__enter__()
        self._held = held
        return self._checkout

    def _start_builds(self, path: Path, kept: Listing, listing: HeadListing) -> None:
        """The base's first builds, started here, before the report has loaded what plans them: with the
        head's main packages kept and a base without a sizebot.toml, these are the first jobs of its plan
        (the kept main packages, on the host's platform, with the default strategies). The report takes
        each one only when its plan has that very job at that place (``started``); the others it waits
        for and builds again. Returns once each has started (no pipe of theirs is open as the report
        forks its analysis workers)."""
        from sizebot.builds.gobuild import build_binary
        from sizebot.config import Target, default_config, find_config

        try:
            if find_config(path) is not None:
                return
            host = self.host_platform.result()
            root = self.work_dir
            if root is None:
                root = self.temporary = Path(tempfile.mkdtemp(prefix="sizebot-report-"))
            out = root / "out" / "base"
        except Exception:  # noqa: BLE001 - nothing started: the report asks again, and says what fails
            return
        jobs = [(Target(name=name, package=package, platforms=()), host, strategy)
                for name, package in kept for strategy in default_config().strategies][:os.cpu_count() or 1]
        runs: list[threading.Event] = []
        for i, (target, platform, strategy) in enumerate(jobs):
            running = threading.Event()
            built: Future[BuildOutcome] = Future()

            def build(i: int = i, target: Target = target, platform: str = platform, strategy: Strategy = strategy,
                      running: threading.Event = running, built: Future[BuildOutcome] = built) -> None:
                try:
                    built.set_result(build_binary(path, target, platform, strategy, out / str(i), go=listing.go,
                                                  env=listing.env, started=running.set))
                except BaseException as exc:  # noqa: BLE001 - raised where the build is taken
                    built.set_exception(exc)
                finally:
                    running.set()
            threading.Thread(target=build, name="sizebot-early-build", daemon=True).start()
            runs.append(running)
            self.started.append(((target, platform, strategy), built))
        for running in runs:
            running.wait()

    def builds_started(self, jobs: Sequence[Job]) -> dict[int, Future[BuildOutcome]]:
        """The builds started early, by job, when ``jobs`` begin with theirs; else none, once those
        started have ended (they write where the report's own builds will)."""
        if all(i < len(jobs) and jobs[i] == job for i, (job, _built) in enumerate(self.started)):
            return {i: built for i, (_job, built) in enumerate(self.started)}
        self.builds_ended()
        return {}

    def builds_ended(self) -> None:
        """Wait for the builds started early (their results are not taken)."""
        for _job, built in self.started:
            futures_wait([built])
        self.started = []

    def relisted(self, found: Listing | None) -> None:
        """The head's main packages as go list found them beside the builds, unlike those kept: kept
        instead (None: it could not list them; the entry is removed)."""
        if self.listing is not None and self.key is not None:
            from sizebot.builds.discovery_cache import forget, keep_listing

            if found is None:
                forget(self.listing.cache, self.key)
            else:
                keep_listing(self.listing.cache, self.key, found)

    def commits(self) -> list[tuple[str, str, str]]:
        """What ``resolve_commits`` gives for (base, head), or raises."""
        self._thread.join()
        if self._commits is None:
            assert self._error is not None
            raise self._error
        return self._commits

    @contextmanager
    def taken(self) -> Iterator[SharedCheckout]:
        """The shared checkout (of the head; of the base when the head's main packages are known), as
        ``shared_checkout`` yields it (and removes it on exit)."""
        self.commits()
        if self._error is not None or self._checkout is None or self._held is None:
            assert self._error is not None
            raise self._error
        self._taken = True
        held = self._held
        try:
            yield self._checkout
        except BaseException as exc:
            if not held.__exit__(type(exc), exc, exc.__traceback__):
                raise
        else:
            held.__exit__(None, None, None)

    def close(self) -> None:
        self._thread.join()
        self.builds_ended()
        if not self._taken and self._held is not None:
            self._taken = True
            self._held.__exit__(None, None, None)
        if self.temporary is not None:
            _force_rmtree(self.temporary)
            self.temporary = None


def _answer(future: Future[str], ask: Callable[[str, Mapping[str, str] | None], str], go: str,
            env: Mapping[str, str] | None) -> None:
    try:
        future.set_result(ask(go, env))
    except BaseException as exc:  # noqa: BLE001 - raised where the answer is read
        future.set_exception(exc)


def _remove(repo: Path, path: Path, *, prune: bool = False) -> None:
    """Remove the worktree at ``path`` (and what else is there); ``prune``: also forget worktrees whose
    directory is gone (a ``worktree remove`` that worked leaves nothing to prune)."""
    if path.is_symlink():  # a link where the directory should be: removed, never followed
        path.unlink()
        prune = True
    elif path.exists():
        proc = _git(repo, "worktree", "remove", "--force", "--force", "--", str(path))
        if proc.returncode != 0:
            _force_rmtree(path)  # a worktree of another clone with the same name, or a plain directory
            prune = True
    else:
        prune = True
    if prune:
        _git(repo, "worktree", "prune")
