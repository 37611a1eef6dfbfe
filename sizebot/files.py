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
