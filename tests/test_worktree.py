"""Worktrees of base and head: real git repositories, the user's checkout never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sizebot.builds.workpath import shared_checkout
from sizebot.builds.worktree import Checkout, checkouts, resolve_commit, resolve_commits
from sizebot.errors import GitError
from tests.support.git import commit_all, forge_index_stat, git

HEAD_MESSAGE = (
    "Add the tool command\n\n"
    "It prints the version.\n\n"
    "Size-Budget-Override: the tool is worth it\n"
    "Signed-off-by: A Developer <dev@example.invalid>"
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> tuple[Path, str, str]:
    """Two commits: the base has cmd/app, the head adds cmd/tool."""
    root = tmp_path_factory.mktemp("wt") / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "go.mod").write_text("module example.com/wt\n\ngo 1.21\n")
    (root / "cmd" / "app").mkdir(parents=True)
    (root / "cmd" / "app" / "main.go").write_text("package main\n\nfunc main() {}\n")
    base = commit_all(root, "Start the app")
    (root / "cmd" / "tool").mkdir(parents=True)
    (root / "cmd" / "tool" / "main.go").write_text("package main\n\nfunc main() { println(1) }\n")
    head = commit_all(root, HEAD_MESSAGE)
    return root, base, head


def _worktrees(repo: Path) -> list[str]:
    return [ln.split(" ", 1)[1] for ln in git(repo, "worktree", "list", "--porcelain").splitlines()
            if ln.startswith("worktree ")]


def _state(repo: Path) -> tuple[str, str, str]:
    return git(repo, "rev-parse", "HEAD"), git(repo, "symbolic-ref", "HEAD"), git(repo, "status", "--porcelain")


def test_resolve_commit_gives_sha_subject_and_full_message(repo):
    root, base, head = repo
    assert resolve_commit(root, "HEAD") == (head, "Add the tool command", HEAD_MESSAGE)
    assert resolve_commit(root, "main~1") == (base, "Start the app", "Start the app")
    assert resolve_commit(root, base[:10])[0] == base


def test_resolve_commit_of_an_annotated_tag_is_the_commit(repo):
    root, base, _ = repo
    git(root, "tag", "-a", "-m", "v1", "v1.0.0-wt", base)
    try:
        assert resolve_commit(root, "v1.0.0-wt")[0] == base
    finally:
        git(root, "tag", "-d", "v1.0.0-wt")


def test_unknown_ref_is_one_line_git_error(repo):
    root, _, _ = repo
    with pytest.raises(GitError) as err:
        resolve_commit(root, "no-such-branch")
    assert str(err.value) == f"{root}: unknown ref 'no-such-branch': no such commit"
    with pytest.raises(GitError):
        resolve_commit(root, "--output=/tmp/x")  # never taken as an option
    with pytest.raises(GitError) as err:
        resolve_commit(root, "")
    assert str(err.value) == f"{root}: empty ref"


def test_not_a_repository(tmp_path):
    with pytest.raises(GitError) as err:
        resolve_commit(tmp_path, "HEAD")
    assert str(err.value) == f"{tmp_path}: not a git repository"
    with pytest.raises(GitError) as err:
        resolve_commit(tmp_path / "absent", "HEAD")
    assert str(err.value) == f"{tmp_path / 'absent'}: no such directory"


def test_checkouts_are_detached_and_removed_after(repo, tmp_path):
    root, base, head = repo
    before = _state(root)
    work = tmp_path / "work"
    with checkouts(root, ["main~1", "main"], work) as (b, h):
        assert isinstance(b, Checkout)
        assert (b.ref, b.sha, b.subject) == ("main~1", base, "Start the app")
        assert (h.ref, h.sha, h.message) == ("main", head, HEAD_MESSAGE)
        assert b.path.is_relative_to(work.resolve()) and h.path.is_relative_to(work.resolve())
        assert (b.path / "cmd" / "app" / "main.go").is_file()
        assert not (b.path / "cmd" / "tool").exists()
        assert (h.path / "cmd" / "tool" / "main.go").is_file()
        assert git(b.path, "rev-parse", "HEAD") == base
        assert git(h.path, "rev-parse", "--abbrev-ref", "HEAD") == "HEAD"  # detached
        assert sorted(_worktrees(root)[1:]) == sorted([str(b.path), str(h.path)])
        (h.path / "dist").mkdir()
        (h.path / "dist" / "app").write_bytes(b"build output")  # untracked files do not stop removal
        (b.path / "cmd" / "app" / "main.go").write_text("changed\n")  # nor local changes
        paths = (b.path, h.path)
    assert not any(p.exists() for p in paths)
    assert _worktrees(root) == [str(root.resolve())]
    assert list(work.iterdir()) == []
    assert _state(root) == before


def test_same_ref_twice_gets_two_worktrees(repo, tmp_path):
    root, _, head = repo
    with checkouts(root, ["HEAD", head], tmp_path) as (a, b):
        assert a.path != b.path and a.sha == b.sha == head
    assert _worktrees(root) == [str(root.resolve())]


def test_worktrees_removed_on_exception(repo, tmp_path):
    root, _, _ = repo
    with pytest.raises(RuntimeError, match="boom"):
        with checkouts(root, ["main~1", "main"], tmp_path) as cos:
            paths = [c.path for c in cos]
            raise RuntimeError("boom")
    assert not any(p.exists() for p in paths)
    assert _worktrees(root) == [str(root.resolve())]


def test_worktrees_removed_on_ctrl_c(repo, tmp_path):
    root, _, _ = repo
    with pytest.raises(KeyboardInterrupt):
        with checkouts(root, ["main"], tmp_path) as (c,):
            path = c.path
            raise KeyboardInterrupt
    assert not path.exists()
    assert _worktrees(root) == [str(root.resolve())]


def test_worktree_deleted_behind_our_back_is_pruned(repo, tmp_path):
    root, _, _ = repo
    with checkouts(root, ["main"], tmp_path) as (c,):
        shutil.rmtree(c.path)
    assert _worktrees(root) == [str(root.resolve())]


def test_unknown_ref_adds_no_worktree(repo, tmp_path):
    root, _, _ = repo
    with pytest.raises(GitError, match="unknown ref 'nope'"):
        with checkouts(root, ["main", "nope"], tmp_path):
            pass
    assert _worktrees(root) == [str(root.resolve())]
    assert list(tmp_path.iterdir()) == []


def test_shallow_clone(repo, tmp_path):
    root, base, head = repo
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{root}", str(shallow)], check=True)
    with checkouts(shallow, ["HEAD"], tmp_path / "work") as (c,):
        assert c.sha == head and (c.path / "cmd" / "tool" / "main.go").is_file()
    with pytest.raises(GitError) as err:
        resolve_commit(shallow, base)
    assert str(err.value) == (f"{shallow}: unknown ref {base!r}: no such commit "
                              "(shallow clone: fetch it first, e.g. git fetch --deepen=50 origin)")
    # What the action does for a shallow clone: fetch the missing commit, then check it out.
    git(shallow, "fetch", "-q", "--depth", "1", "origin", base)
    with checkouts(shallow, [base, "HEAD"], tmp_path / "work") as (b, h):
        assert (b.sha, h.sha) == (base, head)
        assert not (b.path / "cmd" / "tool").exists()
    assert _worktrees(shallow) == [str(shallow.resolve())]


def test_relative_work_dir(repo, tmp_path, monkeypatch):
    root, _, head = repo
    monkeypatch.chdir(tmp_path)
    with checkouts(root, ["main"], Path("work")) as (c,):
        assert c.path.is_absolute() and c.path.is_relative_to(tmp_path / "work")
        assert git(c.path, "rev-parse", "HEAD") == head
    assert _worktrees(root) == [str(root.resolve())]
    assert list((tmp_path / "work").iterdir()) == []


def test_resolve_commits_gives_what_resolve_commit_gives(repo):
    root, base, head = repo
    refs = ["HEAD", "main~1", base[:10], head, "HEAD"]
    assert resolve_commits(root, refs) == [resolve_commit(root, ref) for ref in refs]
    git(root, "tag", "-a", "-m", "a tag", "v2-wt", base)
    try:
        assert resolve_commits(root, ["v2-wt", "HEAD"]) == [resolve_commit(root, base), resolve_commit(root, head)]
    finally:
        git(root, "tag", "-d", "v2-wt")
    for bad in (["HEAD", "no-such-branch"], ["--output=/tmp/x", "HEAD"], ["HEAD", ""], ["HEAD", "main\nHEAD"]):
        with pytest.raises(GitError) as batch:
            resolve_commits(root, bad)
        with pytest.raises(GitError) as single:
            for ref in bad:
                resolve_commit(root, ref)
        assert str(batch.value) == str(single.value)


def test_resolve_commits_outside_a_repository(tmp_path):
    for where in (tmp_path, tmp_path / "absent"):
        with pytest.raises(GitError) as batch:
            resolve_commits(where, ["HEAD", "HEAD~1"])
        with pytest.raises(GitError) as single:
            resolve_commit(where, "HEAD")
        assert str(batch.value) == str(single.value)


def test_shared_checkout_over_what_a_killed_run_left(repo, tmp_path):
    """At the fixed path: a worktree or a plain directory left behind is replaced; the worktree is gone
    when the block ends, whether removed in the background first or not."""
    from sizebot.builds.workpath import shared_checkout

    root, base, head = repo
    path = tmp_path / "fixed" / "src"
    git(root, "worktree", "add", "-q", "--detach", str(path), base)  # a run killed before its cleanup
    (path / "build-output").write_text("left")
    with shared_checkout(root, head, path) as checkout:
        assert (path / "cmd" / "tool" / "main.go").is_file() and not (path / "build-output").exists()
        checkout.switch(base)
        assert not (path / "cmd" / "tool").exists()
        checkout.remove_soon()
    assert not path.exists() and str(path) not in _worktrees(root)
    shutil.rmtree(tmp_path / "fixed")
    path.mkdir(parents=True)
    (path / "junk").write_text("not a worktree")
    with shared_checkout(root, head, path):
        assert (path / "cmd" / "tool" / "main.go").is_file() and not (path / "junk").exists()
    assert not path.exists() and str(path) not in _worktrees(root)
    git(root, "worktree", "add", "-q", "--detach", str(path), base)
    shutil.rmtree(path)  # registered, its directory gone (a temporary directory cleaned)
    with shared_checkout(root, head, path):
        assert (path / "cmd" / "tool" / "main.go").is_file()
    assert not path.exists() and _worktrees(root) == [str(root)]


# ---- the checkout kept at the default path between runs -----------------------------------------------

def _kept(root: Path, sha: str, path: Path):
    from sizebot.builds.workpath import shared_checkout

    return shared_checkout(root, sha, path, keep=True)


def _files(path: Path) -> dict[str, str]:
    return {p.relative_to(path).as_posix(): p.read_text() for p in sorted(path.rglob("*"))
            if p.is_file() and not p.is_symlink() and p.name != ".git"}


def _fresh(root: Path, sha: str, tmp_path: Path, read: Callable[[Path], dict[str, Any]] = _files) -> dict[str, Any]:
    """The files of a worktree of ``sha`` added anew, as the kept one must hold them."""
    with _kept(root, sha, tmp_path / "fresh" / "src") as checkout:
        files = read(checkout.path)
    shutil.rmtree(tmp_path / "fresh")
    git(root, "worktree", "prune")
    return files


@pytest.fixture
def kept(repo, tmp_path):
    """A kept worktree at a fixed path, removed (and pruned) after the test."""
    root, base, head = repo
    path = (tmp_path / "sizebot-uid" / "name" / "src").resolve()
    yield root, base, head, path
    if path.is_symlink():
        path.unlink()
    shutil.rmtree(path, ignore_errors=True)
    git(root, "worktree", "prune")
    assert _worktrees(root) == [str(root.resolve())]


def test_a_kept_checkout_is_reused_and_holds_exactly_the_commit(kept, tmp_path):
    """Kept: the worktree stays registered after the block; the next run checks its commit out over it
    (the same directory, an unchanged file not written again) and holds exactly that commit: files edited,
    deleted, added and ignored by a build are restored or removed."""
    root, base, head, path = kept
    with _kept(root, head, path) as checkout:
        checkout.switch(base)
        checkout.switch(head)
        checkout.remove_soon()  # kept: a no-op
    assert _worktrees(root) == [str(root.resolve()), str(path)]
    unchanged = (path / "cmd" / "app" / "main.go").stat().st_ino
    (path / "go.mod").write_text("module edited\n")
    (path / "cmd" / "tool" / "main.go").unlink()
    (path / "cmd" / "app" / "generated.go").write_text("package main\n")
    (path / ".gitignore").write_text("*.out\n")  # then removed by the checkout: tracked at neither commit
    (path / "bin.out").write_text("ignored")
    (path / "vendor-dir" / "x").mkdir(parents=True)
    with _kept(root, base, path) as checkout:
        assert checkout.path == path and checkout.sha == base
        assert (path / "cmd" / "app" / "main.go").stat().st_ino == unchanged
        assert _files(path) == _fresh(root, base, tmp_path)
        assert not (path / "vendor-dir").exists() and not (path / "bin.out").exists()
        checkout.switch(head)
        assert _files(path) == _fresh(root, head, tmp_path)
    assert git(path, "rev-parse", "HEAD") == head and git(path, "status", "--porcelain", "--ignored") == ""
    assert _state(root)[2] == ""  # the user's checkout untouched


def test_a_stale_or_half_removed_kept_checkout_is_mended(kept, tmp_path):
    """A kept worktree at another commit, with files removed behind its back, its .git file gone, or
    its directory gone while it is still registered: the block still holds exactly the commit."""
    root, base, head, path = kept
    with _kept(root, base, path):
        pass
    shutil.rmtree(path / "cmd")  # half removed
    with _kept(root, head, path):
        assert _files(path) == _fresh(root, head, tmp_path)
    (path / ".git").unlink()  # not a worktree any more: removed, and added again
    with _kept(root, base, path):
        assert _files(path) == _fresh(root, base, tmp_path)
        assert git(path, "rev-parse", "HEAD") == base
    shutil.rmtree(path)  # registered, its directory gone
    with _kept(root, head, path):
        assert _files(path) == _fresh(root, head, tmp_path)
    assert _worktrees(root) == [str(root.resolve()), str(path)]


def test_a_kept_checkout_with_a_fifo_or_a_lock_is_added_again(kept, tmp_path):
    """git clean leaves FIFOs (a build would hang reading one) and a checkout fails on a lock a killed git
    left: such a worktree is not reused but removed and added again, as without keep."""
    import os

    root, base, head, path = kept
    with _kept(root, base, path):
        pass
    os.mkfifo(path / "cmd" / "app" / "pipe.go")
    with _kept(root, head, path):
        assert not (path / "cmd" / "app" / "pipe.go").exists()
        assert _files(path) == _fresh(root, head, tmp_path)
    lock = Path(git(path, "rev-parse", "--git-dir")) / "index.lock"
    lock.write_text("")
    with _kept(root, base, path):
        assert _files(path) == _fresh(root, base, tmp_path)
        assert git(path, "rev-parse", "HEAD") == base
    assert not lock.exists()


def test_a_forged_kept_checkout_is_never_reused(kept, repo, tmp_path):
    """Not this repository's worktree (another clone's, a plain directory, a .git file naming another
    entry), or a link where the directory or a tracked directory should be: nothing outside is written,
    and the block holds exactly the commit."""
    root, base, head, path = kept
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(root), str(other))
    path.parent.mkdir(parents=True)
    git(other, "worktree", "add", "-q", "--detach", str(path), base)  # another clone's, at the same path
    with _kept(root, head, path):
        assert _files(path) == _fresh(root, head, tmp_path)
        assert Path(git(path, "rev-parse", "--git-common-dir")).resolve() == (root / ".git").resolve()
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine")
    shutil.rmtree(path / "cmd")
    (path / "cmd").symlink_to(victim)  # a tracked directory replaced by a link out of the checkout
    with _kept(root, base, path):
        assert _files(path) == _fresh(root, base, tmp_path) and not (path / "cmd").is_symlink()
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"] and (victim / "keep.txt").read_text() == "mine"
    (path / ".git").write_text(f"gitdir: {other / '.git' / 'worktrees' / 'src'}\n")  # forged: another entry
    with _kept(root, head, path):
        assert _files(path) == _fresh(root, head, tmp_path)
        assert Path(git(path, "rev-parse", "--git-common-dir")).resolve() == (root / ".git").resolve()
    shutil.rmtree(path)
    git(root, "worktree", "prune")
    path.symlink_to(victim, target_is_directory=True)  # the fixed path itself a link
    with _kept(root, head, path):
        assert not path.is_symlink() and _files(path) == _fresh(root, head, tmp_path)
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"]


def test_a_kept_checkout_waits_for_a_concurrent_run(kept):
    """Two runs on one path: the second waits for the first's lock, then reuses its worktree."""
    import threading

    root, base, head, path = kept
    said: list[str] = []
    entered = threading.Event()
    release = threading.Event()

    def first() -> None:
        with _kept(root, base, path):
            entered.set()
            release.wait(30)

    thread = threading.Thread(target=first)
    thread.start()
    assert entered.wait(30)
    from sizebot.builds.workpath import shared_checkout

    def second() -> None:
        with shared_checkout(root, head, path, keep=True, waiting=said.append) as checkout:
            said.append(git(checkout.path, "rev-parse", "HEAD"))

    other = threading.Thread(target=second)
    other.start()
    other.join(1)
    assert other.is_alive() and said == [f"waiting for another sizebot run building in {path}"]
    release.set()
    thread.join(30)
    other.join(30)
    assert said[1:] == [head]
    assert _worktrees(root) == [str(root.resolve()), str(path)]


def test_a_run_that_does_not_end_leaves_no_kept_checkout(kept):
    """An error or a signal in the block: the worktree is removed, kept or reused, as without keep."""
    root, base, head, path = kept
    with _kept(root, base, path):
        pass
    for sha in (base, head):  # reused, then added
        with pytest.raises(KeyboardInterrupt), _kept(root, sha, path):
            raise KeyboardInterrupt
        assert not path.exists() and _worktrees(root) == [str(root.resolve())]
        with _kept(root, sha, path):
            pass
    with pytest.raises(GitError), _kept(root, head, path):
        raise GitError("a report that fails")
    assert not path.exists() and _worktrees(root) == [str(root.resolve())]


def _bytes(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file() and not p.is_symlink() and p.name != ".git"}


def test_what_a_build_planted_for_the_next_checkout_is_never_taken(kept, tmp_path):
    """A build runs in the kept checkout and may run git there: an untracked .gitattributes (eol, ident)
    that would rewrite the files the next checkout writes, entries marked skip-worktree or assume-unchanged
    in its index, a config.worktree in its gitdir (read when the repository sets extensions.worktreeConfig:
    core.fsmonitor runs a program, core.sparseCheckout leaves files out) or an info/sparse-checkout there.
    The next run holds exactly what a fresh worktree holds, runs nothing planted, and its index marks
    nothing."""
    root, base, head, path = kept
    marker = tmp_path / "ran"
    program = tmp_path / "fsmonitor.sh"
    program.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    program.chmod(0o755)
    fresh = {sha: _bytes_fresh(root, sha, tmp_path) for sha in (base, head)}
    changed = "package main\n\nfunc main() { println(666) }\n"

    def plant_attributes(gitdir: Path) -> None:
        (path / ".gitattributes").write_text("* ident eol=crlf\n")
        (path / "cmd" / ".gitattributes").write_text("*.go working-tree-encoding=UTF-16\n")

    def plant_flags(gitdir: Path) -> None:
        (path / "cmd" / "app" / "main.go").write_text(changed)
        git(path, "update-index", "--skip-worktree", "cmd/app/main.go")
        (path / "go.mod").write_text("module example.com/pr\n\ngo 1.21\n")
        git(path, "update-index", "--assume-unchanged", "go.mod")

    def plant_fsmonitor(gitdir: Path) -> None:
        (gitdir / "config.worktree").write_text(f"[core]\n\tfsmonitor = {program}\n")

    def plant_sparse(gitdir: Path) -> None:
        (gitdir / "config.worktree").write_text("[core]\n\tsparseCheckout = true\n")
        (gitdir / "info").mkdir(exist_ok=True)
        (gitdir / "info" / "sparse-checkout").write_text("/go.mod\n")
        (path / "cmd" / "app" / "main.go").write_text(changed)

    def plant_forged_index(gitdir: Path) -> None:
        """go.mod (the same at both commits) changed, and the index given its new stat data."""
        go_mod = path / "go.mod"
        go_mod.write_bytes(go_mod.read_bytes().replace(b"example.com/wt", b"example.com/pr"))
        forge_index_stat(gitdir / "index", b"go.mod", os.lstat(go_mod))

    git(root, "config", "extensions.worktreeConfig", "true")  # a repository that uses sparse checkouts
    try:
        for plant in (plant_attributes, plant_flags, plant_fsmonitor, plant_sparse, plant_forged_index):
            for before, after in ((base, head), (head, base)):
                with _kept(root, before, path):
                    pass
                plant(Path(git(path, "rev-parse", "--absolute-git-dir")))
                with _kept(root, after, path) as checkout:
                    assert checkout.path == path, plant.__name__
                    assert _bytes(path) == fresh[after], plant.__name__
                    assert {ln[:2] for ln in git(path, "ls-files", "-v").splitlines()} == {"H "}, plant.__name__
                    assert git(path, "status", "--porcelain", "--ignored") == "", plant.__name__
                assert not marker.exists(), plant.__name__
                gitdir = Path(git(path, "rev-parse", "--absolute-git-dir"))
                assert set(os.listdir(gitdir)) <= {"HEAD", "ORIG_HEAD", "commondir", "gitdir", "index", "logs"}
    finally:
        git(root, "config", "--unset", "extensions.worktreeConfig")


def _bytes_fresh(root: Path, sha: str, tmp_path: Path) -> dict[str, bytes]:
    return _fresh(root, sha, tmp_path, read=_bytes)


def test_fifos_a_build_left_for_the_next_run_never_hang_it(kept, tmp_path):
    """git reads an untracked .gitattributes as it checks out and a worktree entry's gitdir, HEAD, index
    and logs as it adds, lists or removes worktrees: a FIFO there would hang it forever. One in the
    checkout: a fresh worktree; one in git's worktree entries: one line, until it is removed."""
    root, base, head, path = kept
    with _kept(root, base, path):
        pass
    os.mkfifo(path / ".gitattributes")
    with _kept(root, head, path):
        assert _bytes(path) == _bytes_fresh(root, head, tmp_path)
    gitdir = Path(git(path, "rev-parse", "--absolute-git-dir"))
    for name in ("HEAD", "gitdir", "index", "logs/HEAD"):
        (gitdir / name).rename(tmp_path / "saved")
        os.mkfifo(gitdir / name)
        for keep in (True, False):
            with pytest.raises(GitError) as err, shared_checkout(root, base, path, keep=keep):
                pass
            assert str(err.value) == (f"{gitdir / name}: not a regular file or a directory among git's worktree "
                                      "entries (git would wait on a FIFO there forever): remove it")
        (gitdir / name).unlink()
        (tmp_path / "saved").rename(gitdir / name)
    with _kept(root, base, path) as checkout:
        assert checkout.path == path and _bytes(path) == _bytes_fresh(root, base, tmp_path)


def test_the_lock_and_the_directories_above_the_kept_checkout_are_never_followed(kept, tmp_path):
    """The lock file beside the kept checkout replaced by a link out of it, a FIFO or a directory: made
    again, nothing written outside, never a wait. A directory above it that is a link, another user's or
    writable by others (anyone may make it first in a shared temporary directory): one line."""
    root, base, head, path = kept
    lock = path.parent / ".src.lock"
    outside = tmp_path / "outside"
    for plant in (lambda: lock.symlink_to(outside), lambda: os.mkfifo(lock), lock.mkdir):
        with _kept(root, base, path):
            pass
        lock.unlink()
        plant()
        with _kept(root, head, path) as checkout:
            assert checkout.path == path and _bytes(path) == _bytes_fresh(root, head, tmp_path)
        assert lock.is_file() and not lock.is_symlink() and not outside.exists()
    shutil.rmtree(path.parent.parent)
    git(root, "worktree", "prune")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path.parent.parent.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(GitError) as err, _kept(root, base, path):
        pass
    assert str(err.value) == (f"{path.parent.parent}: not a directory of this user's alone (a link, another "
                              "user's, or writable by others): remove it, or choose a --work-dir")
    assert list(elsewhere.iterdir()) == []
    path.parent.parent.unlink()
    path.parent.parent.mkdir(0o700)
    path.parent.mkdir(0o775)
    path.parent.chmod(0o775)
    with pytest.raises(GitError) as err, _kept(root, base, path):
        pass
    assert str(err.value).startswith(f"{path.parent}: not a directory of this user's alone")
    path.parent.chmod(0o700)
    if os.getuid() == 0:  # only root can make a directory another user's
        os.chown(path.parent, 4242, -1)
        with pytest.raises(GitError) as err, _kept(root, base, path):
            pass
        assert str(err.value).startswith(f"{path.parent}: not a directory of this user's alone")
        os.chown(path.parent, 0, -1)
    with _kept(root, base, path) as checkout:
        assert _bytes(checkout.path) == _bytes_fresh(root, base, tmp_path)


def test_a_repository_nested_in_a_tracked_directory_of_the_kept_checkout_is_gone(kept, tmp_path):
    """git clean leaves a repository a build made in a directory that holds tracked files (and a .git file
    naming some gitdir): the next run adds the worktree again, with no .git but its own."""
    root, base, head, path = kept
    for plant in ("repository", "file"):
        with _kept(root, base, path):
            pass
        app = path / "cmd" / "app"
        if plant == "repository":
            git(app, "init", "-q", ".")
            (app / "main.go").write_text("package main\n\nfunc main() { println(666) }\n")
            git(app, "add", "-A")
            git(app, "commit", "-q", "-m", "planted")
        else:
            (app / ".git").write_text(f"gitdir: {Path(git(path, 'rev-parse', '--absolute-git-dir'))}\n")
        with _kept(root, head, path) as checkout:
            assert checkout.path == path and _bytes(path) == _bytes_fresh(root, head, tmp_path)
            assert not (app / ".git").exists()
