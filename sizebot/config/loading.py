"""Finding and reading sizebot.toml: the only module of the package that touches the file system.

Paths inside the file (packages, dockerfile, context, output) are relative to the repository
root, also when the file lives in ``.github/``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from sizebot.config.lines import MAX_NESTING, key_lines, nesting_error
from sizebot.config.model import Config
from sizebot.config.validation import validate
from sizebot.errors import ConfigError
from sizebot.files import file_kind

CONFIG_NAMES = ("sizebot.toml", ".github/sizebot.toml")
# The largest sizebot.toml read, in bytes: hundreds of times what a real one needs, and bounded so
# that a pull request's file cannot make the parse take minutes (tomllib alone reads a few MB a second)
MAX_CONFIG_BYTES = 1024 * 1024


def find_config(repo_root: str | Path) -> Path | None:
    """sizebot.toml at the repository root, else .github/sizebot.toml, else None."""
    for name in CONFIG_NAMES:
        candidate = Path(repo_root) / name
        if candidate.is_file():
            return candidate
    return None


def load_config(path: str | Path, *, repo_root: str | Path | None = None) -> Config:
    """Read and validate one file. Messages name it relative to ``repo_root`` when given and inside it."""
    path = Path(path)
    display = str(path)
    if repo_root is not None:
        try:
            display = path.resolve().relative_to(Path(repo_root).resolve()).as_posix()
        except ValueError:
            pass
    if path.exists() and not path.is_file():
        # a FIFO would block the read forever
        raise ConfigError(f"{file_kind(path.stat().st_mode)}, not a regular file", path=display)
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:  # before reading it all
            raise _too_large(path.stat().st_size, display)
    except OSError:
        pass  # said by the read below
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such file", path=display) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=display) from None
    return parse_config(text, display)


def parse_config(text: str, path: str = "sizebot.toml") -> Config:
    """Validate the text of a sizebot.toml; ``path`` is how messages name the file."""
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CONFIG_BYTES:
        raise _too_large(size, path)
    deep = nesting_error(text)
    if deep:
        line, key = deep
        raise ConfigError(f"arrays and inline tables nest at most {MAX_NESTING} deep", path=path, line=line,
                          key=key or None)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, text, path) from None
    except RecursionError:  # nesting_error counts brackets; tomllib may still find another way down
        raise ConfigError("nested too deeply", path=path) from None
    try:
        lines = key_lines(text)
    except (AssertionError, IndexError, RecursionError, tomllib.TOMLDecodeError):
        lines = {}  # a scanner gap: messages lose their lines, nothing more
    return validate(data, path, lines)


def _too_large(size: int, path: str) -> ConfigError:
    return ConfigError(f"{size} bytes, more than a sizebot.toml may have ({MAX_CONFIG_BYTES} bytes, 1 MiB)", path=path)


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, path: str) -> ConfigError:
    message = str(exc)
    m = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, re.DOTALL)
    if m:
        return ConfigError(f"invalid TOML: {m.group(1)} (column {m.group(3)})", path=path, line=int(m.group(2)))
    m = re.fullmatch(r"(.*) \(at end of document\)", message, re.DOTALL)
    if m:
        last = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
        return ConfigError(f"invalid TOML: {m.group(1)} (at end of file)", path=path, line=last)
    return ConfigError(f"invalid TOML: {message}", path=path)
