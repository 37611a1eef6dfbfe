"""Byte sizes as people write them in configs and read them in reports.

Config sizes: a plain integer is bytes; "KB"/"MB"/"GB" are powers of 1000 and
"KiB"/"MiB"/"GiB" powers of 1024 (as `ls -h` and `du` users expect).
Reports use decimal units, the same ones GitHub and registries show.
"""

from __future__ import annotations

import re
from decimal import Decimal

_UNITS = {
    "": 1, "b": 1,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
}
_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")


def parse_size(text: str | int) -> int:
    """Parse "25 MB", "512KiB", "1234" or an int into bytes. Raises ValueError with what was expected."""
    if isinstance(text, bool):
        raise ValueError("expected a size such as 1234, \"50 KB\" or \"2 MiB\"")
    if isinstance(text, int):
        if text < 0:
            raise ValueError("a size cannot be negative")
        return text
    m = _SIZE_RE.match(str(text))
    unit = m.group(2).lower() if m else None
    if not m or unit not in _UNITS:
        raise ValueError(f"expected a size such as 1234, \"50 KB\" or \"2 MiB\", got {text!r}")
    return round(Decimal(m.group(1)) * _UNITS[unit])  # exact: no float overflow on a long number


def parse_size_or_percent(text: str | int) -> tuple[str, float]:
    """Parse a limit that is either a size or a percentage: ("bytes", n) or ("percent", p)."""
    if isinstance(text, str) and text.strip().endswith("%"):
        try:
            value = float(text.strip()[:-1])
        except ValueError:
            raise ValueError(f"expected a percentage such as \"1%\" or a size such as \"50 KB\", "
                             f"got {text!r}") from None
        return ("percent", value)
    return ("bytes", float(parse_size(text)))


def format_size(n: int | float) -> str:
    """1234567 -> "1.23 MB"; three significant digits, decimal units; bytes below 1000."""
    sign = "-" if n < 0 else ""
    n = abs(n)
    if n < 1000:
        return f"{sign}{int(n)} B"
    for unit, scale in (("KB", 1000), ("MB", 1000**2), ("GB", 1000**3), ("TB", 1000**4)):
        value = n / scale
        if value < 999.5 or unit == "TB":
            digits = 2 if value < 9.995 else 1 if value < 99.95 else 0
            return f"{sign}{value:.{digits}f} {unit}"
    raise AssertionError("unreachable")


def format_delta(n: int | float) -> str:
    """Signed size: "+412 KB", "-1.20 KB", "0 B"."""
    if n == 0:
        return "0 B"
    return ("+" if n > 0 else "") + format_size(n)


def format_percent(delta: int | float, base: int | float) -> str:
    """Signed percentage of delta over base: "+1.23%"; "new" when base is 0."""
    if base == 0:
        return "new" if delta else "0.00%"
    return f"{100.0 * delta / base:+.2f}%"
