"""What a pull request changes in the rules that judge it: budgets, image budgets, the override policy.

``judging_changes(base, head)`` lists each change as a short phrase ("budget[0].max_increase: 10% -> 50%",
"budget[2] added: max_size 20 MB", "override.label: 'size-ok' -> 'yolo'"); empty when the head judges as
the base does. Pure.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sizebot.config import BudgetRule, Config, ImageBudgetRule
from sizebot.units import format_size

_IGNORED = ("index", "line")  # where a rule sits in the file is no change to what it judges


def _size(n: int | float) -> str:
    number, unit = format_size(n).split(" ")
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return f"{number} {unit}"


def _value(name: str, value: Any) -> str:
    if value is None or value == ():
        return "none"
    if name == "max_size":
        return _size(value)
    if name == "max_increase":
        kind, amount = value
        return f"{amount:g}%" if kind == "percent" else _size(amount)
    if name in ("packages", "modules"):
        return "{" + ", ".join(f"{path} {_size(cap)}" for path, cap in value) + "}"
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def _describe(rule: BudgetRule | ImageBudgetRule) -> str:
    parts = []
    for f in fields(rule):
        value = getattr(rule, f.name)
        if f.name in _IGNORED or value == f.default or value in ((), None):
            continue
        parts.append(f"{f.name} {_value(f.name, value)}")
    return ", ".join(parts)


def _rules(prefix: str, base: tuple[Any, ...], head: tuple[Any, ...]) -> list[str]:
    out = []
    for i in range(max(len(base), len(head))):
        if i >= len(base):
            out.append(f"{prefix}[{i}] added: {_describe(head[i])}")
        elif i >= len(head):
            out.append(f"{prefix}[{i}] removed: {_describe(base[i])}")
        else:
            for f in fields(base[i]):
                old, new = getattr(base[i], f.name), getattr(head[i], f.name)
                if f.name not in _IGNORED and old != new:
                    out.append(f"{prefix}[{i}].{f.name}: {_value(f.name, old)} -> {_value(f.name, new)}")
    return out


def judging_changes(base: Config, head: Config) -> list[str]:
    """Every difference between what judges under ``base`` and under ``head``, in file order."""
    out = _rules("budget", base.budgets, head.budgets)
    out += _rules("image.budget", base.image.budgets if base.image else (), head.image.budgets if head.image else ())
    for name in ("label", "trailer"):
        old, new = getattr(base.override, name), getattr(head.override, name)
        if old != new:
            out.append(f"override.{name}: {old!r} -> {new!r}")
    if base.budgets_from != head.budgets_from:
        out.append(f"budgets_from: {base.budgets_from!r} -> {head.budgets_from!r}")
    return out
