"""Commits checked out side by side in detached ``git worktree``s, never touching the user's checkout.

``resolve_commit`` turns a ref into (sha, subject, message); ``checkouts`` adds one
worktree per ref under a work directory and removes them again (``git worktree remove
--force`` + ``prune``) however the block ends, Ctrl-C included. Missing commits are not
fetched here: in a shallow clone the caller (the action) fetches them first.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sizebot.builds.git import checked_sha, last_line, run_git
from sizebot.errors import GitError

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Checkout:
    ref: str  # as the user named it ("main", "HEAD~1", a sha)
    sha: str
    subject: str
    message: str  # the full commit message (subject, body, trailers)
    path: Path  # the worktree's root


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_git(repo, *args)


_last_line = last_line


def _check_repo(repo: Path) -> None:
    if not Path(repo).is_dir():
        raise GitError(f"{repo}: no such directory")
    proc = _git(repo, "rev-parse", "--git-dir")
    if proc.returncode != 0:
        raise GitError(f"{repo}: not a git repository")


def _is_shallow(repo: Path) -> bool:
    proc = _git(repo, "rev-parse", "--is-shallow-repository")
    return proc.returncode == 0 and proc.stdout.strip() == "true"


def resolve_commit(repo: Path, ref: str) -> tuple[str, str, str]:
    """(sha, subject, full message) of ``ref``; GitError when it names no commit here."""
    repo = Path(repo)
    _check_repo(repo)
    if not ref or not ref.strip():
        raise GitError(f"{repo}: empty ref")
    proc = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if proc.returncode != 0 or not proc.stdout.strip():
        hint = " (shallow clone: fetch it first, e.g. git fetch --deepen=50 origin)" if _is_shallow(repo) else ""
        raise GitError(f"{repo}: unknown ref {ref!r}: no such commit{hint}")
    sha = proc.stdout.strip()
    # %x00 separates subject from the raw message; both come from one process.
    proc = _git(repo, "show", "-s", "--format=%s%x00%B", "--end-of-options", checked_sha(sha))
    if proc.returncode != 0:
        raise GitError(f"{repo}: cannot read commit {sha}: {_last_line(proc.stderr)}")
    subject, _, message = proc.stdout.partition("\0")
    return sha, subject.strip(), message.rstrip("\n")


def resolve_commits(repo: Path, refs: Sequence[str]) -> list[tuple[str, str, str]]:
    """``resolve_commit`` of each ref, in two git processes (``cat-file --batch-check`` resolves them
    all, one ``show`` reads their messages); a ref that does not resolve there goes through
    ``resolve_commit`` for its exact error."""
    repo = Path(repo)
    if not refs or any(not ref.strip() or "\n" in ref or "\r" in ref for ref in refs) or not Path(repo).is_dir():
        return [resolve_commit(repo, ref) for ref in refs]
    proc = run_git(repo, "cat-file", "--batch-check=%(objectname) %(objecttype)",
                   input="".join(f"{ref}^{{commit}}\n" for ref in refs))
    lines = proc.stdout.splitlines()
    shas = [line.split()[0] for line in lines if line.endswith(" commit")]
    if proc.returncode != 0 or len(lines) != len(refs) or len(shas) != len(refs):
        return [resolve_commit(repo, ref) for ref in refs]
    unique = list(dict.fromkeys(checked_sha(sha) for sha in shas))
    # each commit's record starts with NUL SOH (neither can be in a subject or a message)
    proc = run_git(repo, "show", "-s", "--format=%x00%x01%H%x00%s%x00%B", "--end-of-options", *unique)
    records = {}
    for record in proc.stdout.split("\0\1")[1:] if proc.returncode == 0 else ():
        sha, _, rest = record.partition("\0")
        subject, _, message = rest.partition("\0")
        records[sha] = (sha, subject.strip(), message.rstrip("\n"))
    if set(records) != set(unique):
        return [resolve_commit(repo, ref) for ref in refs]
    return [records[sha] for sha in shas]


def _force_rmtree(path: Path) -> None:
    def onerror(func, p, _exc):  # read-only files (Go's module cache marks them so)
        try:
            os.chmod(p, stat.S_IWUSR | stat.S_IRUSR | stat.S_IXUSR)
            func(p)
        except OSError:
            pass
    if path.exists():
        shutil.rmtree(path, onerror=onerror)


@contextmanager
def checkouts(repo: Path, refs: Sequence[str], work_dir: Path) -> Iterator[tuple[Checkout, ...]]:
    """One detached worktree per ref under ``work_dir``; all removed (and pruned) on exit, even on error."""
    repo = Path(repo)
    resolved = [(ref, *resolve_commit(repo, ref)) for ref in refs]  # every ref checked before any worktree
    work_dir = Path(work_dir).resolve()  # git -C would read a relative path against the repository
    work_dir.mkdir(parents=True, exist_ok=True)
    holders: list[Path] = []  # one private directory per worktree, so reruns and equal refs never clash
    added: list[Path] = []
    try:
        result = []
        for i, (ref, sha, subject, message) in enumerate(resolved):
            label = _UNSAFE_NAME.sub("_", ref).strip("._")[:40] or "ref"
            holder = Path(tempfile.mkdtemp(prefix=f"{i}-{label}-", dir=work_dir))
            holders.append(holder)
            path = holder / "src"
            added.append(path)  # before the add: an interrupted add still gets cleaned up
            proc = _git(repo, "worktree", "add", "--detach", "--", str(path), checked_sha(sha))
            if proc.returncode != 0:
                raise GitError(f"git worktree add {ref} ({sha[:12]}) failed: {_last_line(proc.stderr)}")
            result.append(Checkout(ref=ref, sha=sha, subject=subject, message=message, path=path.resolve()))
        yield tuple(result)
    finally:
        for path in reversed(added):
            if path.exists():
                # twice --force: also removes a worktree that got locked
                proc = _git(repo, "worktree", "remove", "--force", "--force", "--", str(path))
                if proc.returncode != 0:
                    _force_rmtree(path)
        if added:
            _git(repo, "worktree", "prune")
        for holder in holders:
            _force_rmtree(holder)
