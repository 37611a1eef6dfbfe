"""Which Go toolchain builds a commit: the repository's go.mod decides, as it does for the go command.

The go command reads go.mod's ``toolchain`` line (else its ``go`` line) and, with ``GOTOOLCHAIN=auto``,
runs that toolchain when it is newer than the one installed, downloading it from the module proxy
(``golang.org/toolchain``) on first use. sizebot leaves that choice to the go command: builds run with
the caller's ``GOTOOLCHAIN`` when the environment sets one, else ``auto`` (a machine-wide ``go env -w
GOTOOLCHAIN=local`` would otherwise pin every repository to the installed Go). A ``go-version`` (the
action input, ``--go-version``) overrides go.mod: ``GOTOOLCHAIN=go1.27.3`` runs exactly that release.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sizebot.errors import BuildError, SizebotError

_VERSION = re.compile(r"(?:go)?(1\.\d{1,3}(?:\.\d{1,3})?(?:(?:rc|beta)\d{1,3})?)")
_LINE = re.compile(r"^\s*(toolchain|go)\s+(\S+)\s*(?://.*)?$", re.MULTILINE)
_GO_MOD_BYTES = 1024 * 1024


def go_version_option(text: str) -> str:
    """A ``go-version`` as given ("1.27.3", "go1.27.3", "local") -> the GOTOOLCHAIN value that runs it."""
    text = text.strip()
    if text == "local":
        return "local"
    m = _VERSION.fullmatch(text)
    if m is None:
        raise SizebotError(f"go-version: {text[:40]!r} is not a Go release such as 1.27.3 (or local: the installed Go)")
    return f"go{m.group(1)}"


def toolchain_environ(env: Mapping[str, str] | None, go_version: str | None) -> Mapping[str, str] | None:
    """The build environment with ``go_version`` (when given) in GOTOOLCHAIN; else ``env`` unchanged
    (go_environ then keeps the caller's GOTOOLCHAIN, or sets ``auto``)."""
    if go_version is None:
        return env
    return {**(os.environ if env is None else env), "GOTOOLCHAIN": go_version_option(go_version)}


@dataclass(frozen=True)
class GoModToolchain:
    """What a checkout's go.mod asks for: ``version`` ("go1.27.3") and the line it comes from."""

    version: str
    line: str  # "toolchain" or "go"


def go_mod_toolchain(checkout: Path) -> GoModToolchain | None:
    """The ``toolchain`` line of checkout/go.mod, else its ``go`` line; None without either."""
    try:
        with open(Path(checkout) / "go.mod", "rb") as fh:
            text = fh.read(_GO_MOD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None
    found = {kind: value for kind, value in reversed(_LINE.findall(text))}
    for kind in ("toolchain", "go"):
        value = found.get(kind, "")
        m = _VERSION.fullmatch(value.removeprefix("go") if kind == "toolchain" else value)
        if m is not None:
            return GoModToolchain(f"go{m.group(1)}", kind)
    return None


def installed_version(go: str, env: Mapping[str, str] | None) -> str:
    """The Go that is installed (``go env GOVERSION`` with GOTOOLCHAIN=local, outside any module)."""
    import tempfile

    from sizebot.builds.gobuild import go_environ, one_line, run_go

    with tempfile.TemporaryDirectory(prefix="sizebot-go-") as cwd:
        proc = run_go(go, ["env", "GOVERSION"], Path(cwd), go_environ(env, {"GOTOOLCHAIN": "local", "GOFLAGS": ""}))
    version = proc.stdout.strip()
    if proc.returncode != 0 or not version.startswith("go"):
        raise BuildError(one_line(f"{go} env GOVERSION", proc.stderr or proc.stdout))
    return version.split()[0]


def selected_version(checkout: Path, go: str, env: Mapping[str, str] | None) -> str:
    """``go env GOVERSION`` in the checkout: the toolchain the go command selects there (downloading it
    when GOTOOLCHAIN asks for one that is not installed)."""
    from sizebot.builds.gobuild import go_environ, one_line, run_go

    proc = run_go(go, ["env", "GOVERSION"], Path(checkout), go_environ(env))
    version = proc.stdout.strip()
    if proc.returncode != 0 or not version.startswith("go"):
        raise BuildError(one_line(f"{go} env GOVERSION", proc.stderr or proc.stdout))
    return version.split()[0]


def selected_version_of(files: Mapping[str, str], go: str, env: Mapping[str, str] | None) -> str:
    """``selected_version`` of a commit not checked out, from the files the go command reads to choose
    (``go.mod``, ``go.work``: name -> text) written alone in a temporary directory."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sizebot-go-") as cwd:
        for name, text in files.items():
            (Path(cwd) / name).write_text(text, encoding="utf-8")
        return selected_version(Path(cwd), go, env)
