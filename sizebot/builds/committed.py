"""Files of a commit read from git's object store, without checking the commit out: what a report needs
from a base that a baseline measured (its sizebot.toml, its go.mod) costs a listing and a read, not a
checkout of the whole tree."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sizebot.builds.git import checked_sha, last_line, run_git
from sizebot.errors import GitError

REGULAR_MODES = ("100644", "100755")


def committed_files(repo: Path, sha: str, paths: Sequence[str]) -> dict[str, tuple[str, str]]:
    """path -> (mode, text) of each of ``paths`` the commit has as a file (the others left out; a symbolic
    link or submodule has no text: ""). Text that is not UTF-8 comes back with U+FFFD in it."""
    proc = run_git(repo, "ls-tree", "-r", "-z", "--end-of-options", checked_sha(sha), "--", *paths)
    if proc.returncode != 0:
        raise GitError(f"git ls-tree {sha[:12]} failed: {last_line(proc.stderr)}")
    out: dict[str, tuple[str, str]] = {}
    for entry in proc.stdout.split("\0"):
        meta, tab, path = entry.partition("\t")
        parts = meta.split()
        if not tab or len(parts) != 3 or path not in paths:
            continue
        mode, kind, oid = parts
        if kind != "blob" or mode not in REGULAR_MODES:
            out[path] = (mode, "")
            continue
        blob = run_git(repo, "cat-file", "blob", checked_sha(oid, what="blob"))
        if blob.returncode != 0:
            raise GitError(f"git cat-file {oid[:12]} ({path} at {sha[:12]}) failed: {last_line(blob.stderr)}")
        out[path] = (mode, blob.stdout)
    return out
