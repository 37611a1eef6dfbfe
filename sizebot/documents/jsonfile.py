"""JSON files from outside (saved documents, baselines, measurement files, event payloads): read and
parsed so that no value in them can hang, exhaust or crash the reader. A regular file only (a FIFO
would block forever), of bounded size; JSON without NaN/Infinity and of bounded nesting (checked by
a linear scan before the recursive parser runs); ``check_values``: every number finite and in range,
every string bounded. Each fault is one line naming the file; what the document means is its
record's ``from_json``'s business."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path
from typing import Any

from sizebot.errors import DocumentError, SizebotError
from sizebot.files import open_regular

MAX_DEPTH = 32  # the report document nests 8 deep; what is far deeper is no report
MAX_STRING = 65_536  # no string of a report is this long (refs, subjects, names, error lines)
MAX_INTEGER = 2**53  # sizes and deltas are bytes: beyond this, not a measurement (and not a float)
MAX_BYTES = 256 * 1024 * 1024  # a saved document (a gopls-sized analysis is a few MB)


def read_regular_file(path: str | Path, *, max_bytes: int, error: type[SizebotError] = SizebotError,
                      untrusted_below: str | Path | None = None) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``. Opened without blocking (a FIFO
    would wait for a writer forever) and checked on the open descriptor (no swap after a stat);
    ``untrusted_below``: no symbolic link followed below that directory (sizebot.files)."""
    where = str(path)
    fd, size = open_regular(path, error, untrusted_below=untrusted_below)
    with open(fd, "rb") as fh:
        if size > max_bytes:
            raise error(f"{size} bytes exceeds the {max_bytes}-byte limit", path=where)
        try:
            raw = fh.read(max_bytes + 1)
        except OSError as exc:
            raise error(f"cannot read: {exc.strerror or exc}", path=where) from None
    if len(raw) > max_bytes:  # it grew while we read
        raise error(f"more than the {max_bytes}-byte limit", path=where)
    return raw


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes, *, where: str, error: type[SizebotError] = SizebotError) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, nesting at most MAX_DEPTH (checked before parsing, so
    the parser's recursion never meets a hostile depth)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error("not UTF-8 text", path=where) from None
    if _max_depth(raw) > MAX_DEPTH:
        raise error(f"JSON nested more than {MAX_DEPTH} deep", path=where)
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise error(f"not valid JSON ({' '.join(str(exc).split())[:100]})", path=where) from None


_KEEP = b'"[]{}'
_DROP = bytes(b for b in range(256) if b not in _KEEP)
_STRING = re.compile(rb'"[^"]*"')
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


def _max_depth(raw: bytes) -> int:
    """The deepest nesting of [ and { outside strings, in a linear pass that runs in C but for one
    step per bracket (a character loop in Python took a minute near MAX_BYTES). UTF-8 never puts
    these ASCII bytes inside a multi-byte character. Escaped backslashes, then escaped quotes go
    first; what is left of a string once all but quotes and brackets are dropped is mostly "" (an
    empty string, or the end of one beside the start of the next: either way no bracket of the
    document moves in or out of a string when the pair goes)."""
    kept = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _DROP)
    while b'""' in kept:
        kept = kept.replace(b'""', b"")
    brackets = _STRING.sub(b"", kept).replace(b'"', b"")
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0)


def check_values(data: Any, *, where: str, error: type[SizebotError] = SizebotError) -> None:
    """Every number finite and within MAX_INTEGER, every string and key at most MAX_STRING long."""
    if not _values_fit(data):
        _check_values_at(data, where=where, error=error)  # finds the fault again, with its place


def _values_fit(data: Any) -> bool:
    """check_values without the places: one pass over what json.loads makes (exact types), False at the
    first doubt (a value out of bounds, or a type json.loads does not make)."""
    stack = [data]
    pop, extend = stack.pop, stack.extend
    while stack:
        value = pop()
        kind = type(value)
        if kind is str:
            if len(value) > MAX_STRING:
                return False
        elif kind is int:
            if value > MAX_INTEGER or value < -MAX_INTEGER:
                return False
        elif kind is dict:
            for key in value:
                if type(key) is not str or len(key) > MAX_STRING:
                    return False
            extend(value.values())
        elif kind is list:
            extend(value)
        elif kind is float:
            if not math.isfinite(value):
                return False
        elif value is not None and kind is not bool:
            return False
    return True


def _check_values_at(data: Any, *, where: str, error: type[SizebotError]) -> None:
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, at = stack.pop()
        if isinstance(value, dict):
            for k, v in value.items():
                if len(k) > MAX_STRING:
                    raise error(f"{at or '(top)'}: a key of {len(k)} characters", path=where)
                stack.append((v, f"{at}/{k}" if at else k))
        elif isinstance(value, list):
            stack.extend((v, f"{at}/{i}") for i, v in enumerate(value))
        elif isinstance(value, str):
            if len(value) > MAX_STRING:
                raise error(f"{at}: a string of {len(value)} characters, more than {MAX_STRING}", path=where)
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int):
            if abs(value) > MAX_INTEGER:
                raise error(f"{at}: an integer of {len(str(abs(value)))} digits is out of range", path=where)
        elif isinstance(value, float) and not math.isfinite(value):
            raise error(f"{at}: {value} is not a finite number", path=where)


def read_json_file(path: str | Path, *, max_bytes: int = MAX_BYTES, error: type[SizebotError] = DocumentError,
                   untrusted_below: str | Path | None = None) -> Any:
    """A saved JSON document: ``read_regular_file`` then ``parse_json``."""
    raw = read_regular_file(path, max_bytes=max_bytes, error=error, untrusted_below=untrusted_below)
    return parse_json(raw, where=str(path), error=error)
