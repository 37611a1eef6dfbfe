"""Writing a rendered result to stdout or to --output (CLI layer only)."""

from __future__ import annotations

import sys
from pathlib import Path

from sizebot.errors import SizebotError


def check_output(output: str | None, option: str) -> None:
    """Refuse, before any work, an output file that cannot be written where it is asked: its directory
    missing or not a directory, or the path itself a directory (a report takes minutes to build)."""
    if not output or output == "-":
        return
    path = Path(output)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise SizebotError(f"{option}: cannot write there: {parent} is not a directory", path=output)
    if path.is_dir():
        raise SizebotError(f"{option}: cannot write there: it is a directory", path=output)


def emit(text: str, output: str | None = None) -> None:
    if output and output != "-":
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise SizebotError(f"cannot write: {exc.strerror}", path=output) from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
