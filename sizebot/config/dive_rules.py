""".dive-ci rules as dive v0.13.1 reads them: from a .dive-ci file or sizebot.toml's ``[image.rules]``.

dive's semantics (its v0.13.1 source, checked against the binary), kept exactly:

* keys under ``rules:``: ``lowestEfficiency`` (default "0.9"), ``highestWastedBytes``
  (default "disabled"), ``highestUserWastedPercent`` (default "0.1"); a key left out or null keeps
  its default;
* values are typed YAML turned into text the way viper's GetString does (1e6 -> "1000000",
  true -> "true"); exactly "disabled" disables a rule (SKIP); "", "off", "Disabled" are invalid;
* ratios are Go ``strconv.ParseFloat`` numbers and must lie in [0, 1] (NaN slips through, as in dive);
* byte sizes are go-humanize ``ParseBytes``: "20MB" and "20M" are 20*1000^2, "20MiB" and "20Mi"
  20*1024^2, "1,000" is 1000, the result truncated to whole bytes.

A value dive reports as MISCONFIGURED (exit 1) is a ``ConfigError`` here (exit 2), naming the file and
the key. Evaluating the rules on an image is sizebot.image.ci_rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sizebot.errors import ConfigError

LOWEST_EFFICIENCY = "lowestEfficiency"
HIGHEST_WASTED_BYTES = "highestWastedBytes"
HIGHEST_USER_WASTED_PERCENT = "highestUserWastedPercent"
RULE_KEYS = (LOWEST_EFFICIENCY, HIGHEST_WASTED_BYTES, HIGHEST_USER_WASTED_PERCENT)
DEFAULTS = {LOWEST_EFFICIENCY: "0.9", HIGHEST_WASTED_BYTES: "disabled", HIGHEST_USER_WASTED_PERCENT: "0.1"}

_BYTES_TABLE = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "ki": 1024, "kib": 1024,
    "m": 1000**2, "mb": 1000**2, "mi": 1024**2, "mib": 1024**2,
    "g": 1000**3, "gb": 1000**3, "gi": 1024**3, "gib": 1024**3,
    "t": 1000**4, "tb": 1000**4, "ti": 1024**4, "tib": 1024**4,
    "p": 1000**5, "pb": 1000**5, "pi": 1024**5, "pib": 1024**5,
    "e": 1000**6, "eb": 1000**6, "ei": 1024**6, "eib": 1024**6,
}
# Go's ParseFloat syntax (decimal, exponent, inf/nan; hex floats are too rare in configs to matter).
_GO_FLOAT = re.compile(r"^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)$", re.IGNORECASE)
_GO_HEX_FLOAT = re.compile(r"^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+$")


@dataclass(frozen=True)
class DiveRules:
    """Thresholds; ``None`` means the rule is disabled. ``raw`` keeps the values as written."""

    lowest_efficiency: float | None = 0.9
    highest_wasted_bytes: int | None = None
    highest_user_wasted_percent: float | None = 0.1
    source: str = "defaults"
    raw: tuple[tuple[str, str], ...] = tuple(DEFAULTS.items())


def is_disabled(value: str) -> bool:
    return value == "disabled"  # dive v0.13.1 compares the exact text


def parse_go_float(text: str) -> float:
    """Go's strconv.ParseFloat for the forms a config uses; ValueError otherwise."""
    if _GO_HEX_FLOAT.match(text):
        return float.fromhex(text)
    if not _GO_FLOAT.match(text):
        raise ValueError(f"invalid syntax: {text!r}")
    return float(text)


def parse_humanize_bytes(text: str) -> int:
    """go-humanize ParseBytes: leading digits, dots and commas, then an optional unit (any case)."""
    i = 0
    while i < len(text) and (text[i].isdigit() or text[i] in ".,"):
        i += 1
    number = text[:i].replace(",", "")
    if not number or not _GO_FLOAT.match(number):
        raise ValueError(f"expected a size such as 20MB or 20MiB, got {text!r}")
    unit = text[i:].strip().lower()
    if unit not in _BYTES_TABLE:
        raise ValueError(f"unhandled size name: {unit!r}")
    f = float(number) * _BYTES_TABLE[unit]
    if f >= 2.0**64:
        raise ValueError(f"too large: {text!r}")
    return int(f)  # Go's uint64(f) truncates


def _as_text(value: Any) -> str:
    """A typed value as viper's GetString gives it to dive (spf13/cast ToString)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_go_float(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"expected a number or a string, got {type(value).__name__}")


def rules_from_mapping(mapping: Mapping[str, Any], source: str) -> DiveRules:
    """Rules from the mapping under ``rules:`` (a .dive-ci file or sizebot.toml's ``[image.rules]``).

    Keys not given keep dive's defaults; unknown keys and bad values raise ConfigError naming ``source``.
    """
    raw = dict(DEFAULTS)
    for key, value in mapping.items():
        if value is None:  # null: viper falls back to the default
            continue
        if key not in RULE_KEYS:
            raise ConfigError(f"unknown rule (expected one of {', '.join(RULE_KEYS)})", path=source, key=str(key))
        try:
            raw[key] = _as_text(value)
        except ValueError as exc:
            raise ConfigError(str(exc), path=source, key=key) from None
    values: dict[str, Any] = {}
    for key in RULE_KEYS:
        text = raw[key]
        if is_disabled(text):
            values[key] = None
            continue
        try:
            if key == HIGHEST_WASTED_BYTES:
                values[key] = parse_humanize_bytes(text)
            else:
                ratio = parse_go_float(text)
                if ratio < 0 or ratio > 1:  # NaN passes this check in dive too
                    raise ValueError(f"outside the allowed range 0-1, given {text!r}")
                values[key] = ratio
        except ValueError as exc:
            raise ConfigError(str(exc), path=source, key=key) from None
    return DiveRules(
        lowest_efficiency=values[LOWEST_EFFICIENCY],
        highest_wasted_bytes=values[HIGHEST_WASTED_BYTES],
        highest_user_wasted_percent=values[HIGHEST_USER_WASTED_PERCENT],
        source=source,
        raw=tuple((k, raw[k]) for k in RULE_KEYS),
    )


def load_dive_ci(path: str | Path) -> DiveRules:
    """Read a .dive-ci YAML file (typed scalars, then text as viper's GetString makes it)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", path=str(p)) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", path=str(p)) from None
    import yaml  # only a .dive-ci file needs it (a report without [image] never loads it)

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(problem, path=str(p), line=line) from None
    if doc is None:
        return rules_from_mapping({}, str(p))
    if not isinstance(doc, dict):
        raise ConfigError("expected a mapping with a 'rules' key", path=str(p))
    rules = doc.get("rules")
    if rules is None:
        return rules_from_mapping({}, str(p))
    if not isinstance(rules, dict):
        raise ConfigError("expected a mapping of rule: value", path=str(p), key="rules")
    return rules_from_mapping(rules, str(p))


def default_rules() -> DiveRules:
    return DiveRules()


def format_go_float(x: float) -> str:
    """Go's strconv.FormatFloat(x, 'f', -1, 64): shortest digits, never an exponent."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    text = format(Decimal(repr(x)), "f")
    return text.removesuffix(".0")
