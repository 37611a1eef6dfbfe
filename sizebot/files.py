"""Opening files that came from outside: regular files only, never blocking on a FIFO, and, where
the path itself is untrusted, never through a symbolic link.

Which paths are untrusted: what a pull request's job produced (the measurement files the comment
stage downloads as artifacts) and what a cache restores (the action's baseline), below the
directory the workflow named. A path the user typed (``sizebot render FILE``, ``--baseline``,
``--previous``, ``analyze BINARY``) is the user's own choice and may be a symbolic link.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO

from sizebot.errors import SizebotError

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def file_kind(mode: int) -> str:
    """What a non-regular file is, for a message: "a directory", "a FIFO", ..."""
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def open_regular(path: str | os.PathLike[str], error: type[SizebotError] = SizebotError, *,
                 untrusted_below: str | os.PathLike[str] | None = None) -> tuple[int, int]:
    """(descriptor, size) of a regular file. Opened with O_NONBLOCK (a FIFO would wait for a writer
    forever) and checked on the open descriptor (nothing can swap the file after a stat). The caller
    closes the descriptor.

    ``untrusted_below``: a trusted directory (the workspace, the root of the artifacts' glob) under
    which ``path`` must lie; every name from there down is opened with O_NOFOLLOW, one directory
    descriptor at a time, so a symbolic link anywhere below it is refused, not followed (and cannot
    be swapped in between a check and the open)."""
    where = os.fspath(path)
    try:
        fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK) if untrusted_below is None else \
            _open_below(where, os.fspath(untrusted_below), error)
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", path=where) from None
    mode = os.fstat(fd)
    if not stat.S_ISREG(mode.st_mode):
        os.close(fd)
        raise error(f"{file_kind(mode.st_mode)}, not a regular file", path=where)
    return fd, mode.st_size


def _open_below(where: str, root: str, error: type[SizebotError]) -> int:
    root = os.path.abspath(root)
    rel = os.path.relpath(os.path.abspath(where), root)
    parts = rel.split(os.sep)
    if rel == "." or parts[0] == os.pardir:
        raise error(f"not inside {root}", path=where)
    dir_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i, name in enumerate(parts):
            last = i == len(parts) - 1
            flags = os.O_RDONLY | os.O_NOFOLLOW | (os.O_NONBLOCK if last else os.O_DIRECTORY)
            try:
                fd = os.open(name, flags, dir_fd=dir_fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(name, dir_fd):
                    what = "a symbolic link" if last else f"{os.path.join(root, *parts[:i + 1])} is a symbolic link"
                    raise error(f"{what}, not followed (an untrusted path)", path=where) from None
                raise
            os.close(dir_fd)
            dir_fd = fd
        return dir_fd
    except BaseException:
        os.close(dir_fd)
        raise


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


# -- a cache's directory: entries written whole, never through a link ----------------------------


def open_cache_directory(path: Path) -> int | None:
    """A descriptor of the cache directory ``path`` (made if missing), never reached through a symbolic
    link; None when it is one, or cannot be made: no cache then, never one written through a link."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()
        except FileExistsError:
            pass
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None


def keep_cache_entry(path: Path, name: str, write: Callable[[IO[str]], object], *, keep: int, suffix: str,
                     also: str | None = None, encoding: str = "utf-8") -> None:
    """Write the entry ``name`` of the cache directory ``path`` with ``write``, whole or not at all, then
    keep the directory's newest ``keep`` entries named ``*suffix`` (and none named ``*also``). Nothing is
    written when the directory is a link or cannot be made: a cache that cannot be written or pruned only
    costs time and room."""
    directory = open_cache_directory(path)
    if directory is None:
        return
    try:
        if _write_entry(directory, name, write, encoding):
            _prune_entries(directory, keep, suffix, also=also)
    except OSError:
        pass
    finally:
        os.close(directory)


def _write_entry(directory: int, name: str, write: Callable[[IO[str]], object], encoding: str) -> bool:
    """Write the entry ``name`` in ``directory`` with ``write``, whole or not at all: into a new private
    file, then renamed over ``name`` (readers see a whole entry or none). False when it could not be
    written (OSError or ValueError, e.g. a value JSON cannot carry)."""
    tmp = f".tmp-{os.urandom(8).hex()}"  # secrets.token_hex's own source, without hashlib and OpenSSL on import
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=directory)
        with os.fdopen(fd, "w", encoding=encoding) as f:
            write(f)
        os.replace(tmp, name, src_dir_fd=directory, dst_dir_fd=directory)
        return True
    except (OSError, ValueError):
        try:
            os.unlink(tmp, dir_fd=directory)
        except OSError:
            pass
        return False


def _prune_entries(directory: int, keep: int, suffix: str, *, also: str | None = None) -> None:
    """Keep the newest ``keep`` regular files named ``*suffix`` (not hidden: those are writes under
    way), and drop every ``*also`` file; a name that is not a regular file is only ever unlinked itself."""
    with os.scandir(directory) as found:
        listed = [(e.name, e.stat(follow_symlinks=False).st_mtime) for e in found
                  if e.name.endswith(suffix) and not e.name.startswith(".") and e.is_file(follow_symlinks=False)]
    listed.sort(key=lambda entry: entry[1], reverse=True)
    stale = [name for name, _ in listed[keep:]]
    if also is not None:
        with os.scandir(directory) as found:
            stale += [e.name for e in found if e.name.endswith(also)]
    for name in stale:
        try:
            os.unlink(name, dir_fd=directory)
        except FileNotFoundError:
            pass
