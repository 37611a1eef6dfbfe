"""Strict reading of JSON documents: every value checked against its expected type, with the path
to it in the error (``builds[2].diff.packages[0].delta: expected an integer, got "12"``).

The documents' ``from_json`` read through ``Fields``: a key the schema requires is present, a key
it does not know is refused, an integer is an integer (never a bool or a float), a number is finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sizebot.errors import DocumentError

T = TypeVar("T")


def kind(value: Any) -> str:
    """What a JSON value is, in words, for error messages (never the value itself: it may be huge)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _fail(where: str, expected: str, value: Any) -> DocumentError:
    return DocumentError(f"{where}: expected {expected}, got {kind(value)}")


def string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(where, "a string", value)
    return value


def integer(value: Any, where: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, "an integer", value)
    if minimum is not None and value < minimum:
        raise DocumentError(f"{where}: expected an integer >= {minimum}, got {value}")
    return value


def size(value: Any, where: str) -> int:
    return integer(value, where, minimum=0)


def number(value: Any, where: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(where, "a number", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise DocumentError(f"{where}: expected a finite number, got {value}")
    return value


def boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, "a boolean", value)
    return value


def one_of(value: Any, where: str, choices: Sequence[str]) -> str:
    text = string(value, where)
    if text not in choices:
        raise DocumentError(f"{where}: expected one of {', '.join(choices)}, got {text[:40]!r}")
    return text


class Fields:
    """One JSON object of a document: its keys checked against ``required`` and ``optional``
    (``open=True`` lets unknown keys through, for objects the schema leaves open)."""

    def __init__(self, value: Any, where: str, required: Sequence[str], optional: Sequence[str] = (), *,
                 open: bool = False):
        if not isinstance(value, dict):
            raise _fail(where, "an object", value)
        self.value: dict[str, Any] = value
        self.where = where
        missing = [k for k in required if k not in value]
        if missing:
            raise DocumentError(f"{where}: missing {', '.join(missing)}")
        if not open:
            known = set(required) | set(optional)
            unknown = [k for k in value if k not in known]
            if unknown:
                names = ", ".join(repr(str(k)[:40]) for k in unknown[:3])
                raise DocumentError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {names}")

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def has(self, key: str) -> bool:
        return key in self.value

    def raw(self, key: str, default: Any = None) -> Any:
        return self.value.get(key, default)

    def get(self, key: str, read: Callable[[Any, str], T], default: T | None = None) -> T:
        """``read`` of the value at ``key``; ``default`` when the key is absent (optional keys)."""
        if key not in self.value:
            if default is None:
                raise DocumentError(f"{self.where}: missing {key}")
            return default
        return read(self.value[key], self.at(key))

    def text(self, key: str, default: str | None = None) -> str:
        return self.get(key, string, default)

    def count(self, key: str, default: int | None = None) -> int:
        return self.get(key, integer, default)

    def size(self, key: str, default: int | None = None) -> int:
        return self.get(key, size, default)

    def flag(self, key: str, default: bool | None = None) -> bool:
        return self.get(key, boolean, default)

    def nullable(self, key: str, read: Callable[[Any, str], T]) -> T | None:
        """A key that is present and may be null (absent counts as null)."""
        value = self.value.get(key)
        return None if value is None else read(value, self.at(key))

    def seq(self, key: str, read: Callable[[Any, str], T], *, optional: bool = False) -> tuple[T, ...]:
        if key not in self.value and optional:
            return ()
        return array(self.value.get(key), self.at(key), read)


def array(value: Any, where: str, read: Callable[[Any, str], T]) -> tuple[T, ...]:
    if not isinstance(value, list):
        raise _fail(where, "an array", value)
    return tuple(read(item, f"{where}[{i}]") for i, item in enumerate(value))


def strings(value: Any, where: str) -> tuple[str, ...]:
    return array(value, where, string)


def items(value: Any, where: str) -> Iterator[tuple[Any, str]]:
    if not isinstance(value, list):
        raise _fail(where, "an array", value)
    for i, item in enumerate(value):
        yield item, f"{where}[{i}]"
