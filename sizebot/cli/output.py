"""Writing a rendered result to stdout or to --output (CLI layer only)."""

from __future__ import annotations

import sys
from pathlib import Path

from sizebot.errors import SizebotError


def emit(text: str, output: str | None = None) -> None:
    if output and output != "-":
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise SizebotError(f"cannot write: {exc.strerror}", path=output) from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
