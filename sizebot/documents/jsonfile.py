"""Reading one saved JSON document from disk, safely: a regular file (never a FIFO or a device, which
would block), a size cap, UTF-8, no NaN/Infinity, nesting that the parser can take. Every fault is one DocumentError
naming the file; what the document means is its record's ``from_json``'s business."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from sizebot.errors import DocumentError

MAX_BYTES = 256 * 1024 * 1024


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_json_file(path: str | Path, *, max_bytes: int = MAX_BYTES) -> Any:
    where = str(path)
    try:
        fd = os.open(where, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise DocumentError(f"cannot read: {exc.strerror or exc}", path=where) from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError("not a regular file", path=where)
        if info.st_size > max_bytes:
            raise DocumentError(f"{info.st_size} bytes exceeds the {max_bytes}-byte limit", path=where)
        raw = fh.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise DocumentError(f"more than {max_bytes} bytes", path=where)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"not UTF-8 (byte {exc.start})", path=where) from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise DocumentError("JSON nested too deep", path=where) from None
    except ValueError as exc:
        message = " ".join(str(exc).split())[:120]
        raise DocumentError(f"not JSON ({message})", path=where) from None
