"""Opening files that came from outside: regular files only, never blocking on a FIFO."""

from __future__ import annotations

import os
import stat

from sizebot.errors import SizebotError

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def file_kind(mode: int) -> str:
    """What a non-regular file is, for a message: "a directory", "a FIFO", ..."""
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def open_regular(path: str | os.PathLike[str], error: type[SizebotError] = SizebotError) -> tuple[int, int]:
    """(descriptor, size) of a regular file. Opened with O_NONBLOCK (a FIFO would wait for a writer
    forever) and checked on the open descriptor (nothing can swap the file after a stat). The caller
    closes the descriptor."""
    where = os.fspath(path)
    try:
        fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", path=where) from None
    mode = os.fstat(fd)
    if not stat.S_ISREG(mode.st_mode):
        os.close(fd)
        raise error(f"{file_kind(mode.st_mode)}, not a regular file", path=where)
    return fd, mode.st_size
