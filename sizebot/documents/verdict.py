"""The verdict on a change: its words (the strings of the JSON documents), its order and its exit code."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Verdict(StrEnum):
    """Declared from the mildest to the worst: when verdicts meet (builds, matrix jobs), the worst wins.

    A ``StrEnum``: each member is its JSON string, so documents, outputs and comparisons with the
    plain words keep working."""

    NEUTRAL = "neutral"  # nothing compared (no base, no head), nothing exceeded
    PASS = "pass"
    WARN = "warn"  # a warn budget exceeded, or a fail budget overridden: never fails CI by default
    FAIL = "fail"  # a fail budget exceeded, or a build that failed at head
    ERROR = "error"  # nothing can be judged: the configuration or the run is wrong (exit 2, like any error)

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    @property
    def exit_code(self) -> int:
        """The CLI's exit status: 1 for fail, 2 for error, else 0 (warnings and overrides do not fail CI)."""
        return self.exit_code_for("fail")

    def exit_code_for(self, fail_on: str) -> int:
        """The exit status with the action's ``fail-on`` input: "fail", "warn" (warn fails too) or "never"."""
        if self is Verdict.ERROR:
            return 2
        if fail_on == "never":
            return 0
        failing = {"fail": (Verdict.FAIL,), "warn": (Verdict.FAIL, Verdict.WARN)}[fail_on]
        return 1 if self in failing else 0

    @classmethod
    def worst(cls, verdicts: Iterable[Verdict | str], default: Verdict | None = None) -> Verdict:
        """The worst of ``verdicts``; ``default`` (neutral unless given) when there are none."""
        found = [cls(v) for v in verdicts]
        if not found:
            return default if default is not None else cls.NEUTRAL
        return max(found, key=lambda v: v.rank)


_ORDER = tuple(Verdict)
VERDICTS = tuple(v.value for v in Verdict)  # the words, in order: for schemas and strict readers
FAIL_ON = ("fail", "warn", "never")  # the action's fail-on input
