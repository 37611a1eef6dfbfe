"""``{binary}``, ``{output}``, ``{goos}``, ``{goarch}``, ``{target}``, ``{package}`` in post-steps and custom
build commands (a strategy's command serves every target: {target} and {package} tell it which)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

POST_PLACEHOLDERS = ("binary", "goos", "goarch")
COMMAND_PLACEHOLDERS = ("output", "goos", "goarch", "target", "package")
OUTPUT_PLACEHOLDERS = ("goos", "goarch", "target")

# A placeholder is {identifier} not preceded by '$', so shell's ${VAR} and awk's '{print $1}' pass through.
_PLACEHOLDER_RE = re.compile(r"(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_placeholders(template: str, values: Mapping[str, str], *, quote: bool = True) -> str:
    """Fill the placeholders of a command; values are shell-quoted unless ``quote`` is False."""
    def fill(m: re.Match[str]) -> str:
        value = values[m.group(1)]
        return shlex.quote(value) if quote else value
    return _PLACEHOLDER_RE.sub(fill, template)


def placeholders(template: str) -> tuple[str, ...]:
    """The placeholder names used in a command, in order."""
    return tuple(m.group(1) for m in _PLACEHOLDER_RE.finditer(template))
