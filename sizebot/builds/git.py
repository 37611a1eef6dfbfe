"""The one way sizebot runs git: the same environment, the same safety options, everywhere.

- The variables that would point git at another repository than the one named with ``-C``
  (GIT_DIR, GIT_WORK_TREE, ...) are removed: a hook or CI step that sets them must not make
  sizebot read or check out the wrong repository.
- No user hooks (``core.hooksPath=/dev/null``): ``worktree add`` and ``checkout`` would run the
  repository's post-checkout hook (husky, lefthook ...), i.e. code of the commit being measured.
- No prompt for credentials (GIT_TERMINAL_PROMPT=0), stable messages (LC_ALL=C), stdin closed.
- Refs and SHAs are never taken for options: callers put ``--end-of-options`` or ``--`` before
  them, and :func:`checked_sha` refuses a "SHA" from an event that is not hex.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from sizebot.errors import GitError

# Variables that would point git at another repository than the one we name with -C.
LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX",
                 "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES")
SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1, or SHA-256 object names


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LOCATION_VARS}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("LC_ALL", "C")  # stable messages
    env.update(extra or {})
    return env


def run_git(repo: Path | str, *args: str, config: Sequence[str] = (), env: Mapping[str, str] | None = None,
            timeout: float | None = None, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """``git -C repo args`` with the environment and options above; never raises for git's own
    failure (the caller reads ``returncode``). ``config``: more ``-c key=value`` settings; ``input``:
    git's standard input (else none)."""
    cmd = ["git", "-c", "core.hooksPath=/dev/null"]
    for setting in config:
        cmd += ["-c", setting]
    cmd += ["-C", str(repo), *args]
    try:
        if input is not None:
            return subprocess.run(cmd, capture_output=True, text=True, errors="replace", env=git_env(env),
                                  input=input, timeout=timeout)
        return subprocess.run(cmd, capture_output=True, text=True, errors="replace", env=git_env(env),
                              stdin=subprocess.DEVNULL, timeout=timeout)
    except FileNotFoundError:
        raise GitError("git: not installed (sizebot needs git on PATH)") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0] if args else ''}: no answer after {timeout:.0f}s") from None


def checked_sha(value: str, *, what: str = "commit") -> str:
    """A full hexadecimal object name, or GitError: what reaches git as a SHA is never an option."""
    if not isinstance(value, str) or not SHA.fullmatch(value):
        raise GitError(f"{what}: {str(value)[:60]!r} is not a full hexadecimal commit SHA")
    return value


def last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""
