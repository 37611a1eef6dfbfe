"""One build: a target, for one platform, with one strategy, in one checkout.

``build_binary`` runs ``go build`` (or the strategy's custom command), then the strategy's
post-steps, and reports what happened as a ``BuildOutcome``; a build that fails is an
outcome, never an exception. The binary lands in ``out_dir/<strategy>/<target>-<goos>-<goarch>[.exe]``,
outside the checkout, so it outlives the worktree. Safe to call from several threads
at once (distinct outputs; Go's build cache is concurrency-safe).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sizebot.errors import BuildError
from sizebot.processes import run_group

if TYPE_CHECKING:  # the config package is loaded by what plans builds: asking go env needs none of it
    from sizebot.config import Strategy, Target

OK = "ok"
FAILED = "failed"
MISSING = "missing"  # the target's package does not exist in this checkout

_TAIL_LINES = 4
_ERROR_CHARS = 600
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_MODULE_LINE = re.compile(r"^\s*module\s+(\"[^\"]+\"|`[^`]+`|\S+)", re.MULTILINE)


@dataclass(frozen=True)
class BuildOutcome:
    target: str
    platform: str  # "goos/goarch"
    strategy: str
    status: str  # "ok" | "failed" | "missing"
    binary: Path | None  # set when status is "ok"
    error: str | None  # one line: the command and the tail of its output
    command: tuple[str, ...]  # the build command (go build ... or sh -c CUSTOM)


# ------------------------------------------------------------------------------------------
# Helpers shared with discover.py
# ------------------------------------------------------------------------------------------

def split_platform(platform: str) -> tuple[str, str]:
    goos, sep, goarch = platform.partition("/")
    if not sep or not goos or not goarch or "/" in goarch:
        raise BuildError(f"platform must be GOOS/GOARCH such as linux/amd64, got {platform!r}")
    return goos, goarch


def go_environ(env: Mapping[str, str] | None, *layers: Mapping[str, str] | Sequence[tuple[str, str]]) -> dict[str, str]:
    """The caller's environment (os.environ when None) with each layer applied in order.

    GOFLAGS and the caches pass through untouched; GOTOOLCHAIN=auto unless the caller set it, so
    go.mod's `toolchain` (else `go`) line picks the Go that builds, as it does for the go command
    (builds/toolchain.py), whatever a machine-wide `go env -w GOTOOLCHAIN=local` says.
    """
    out = dict(os.environ if env is None else env)
    out.setdefault("GOTOOLCHAIN", "auto")
    for layer in layers:
        out.update(dict(layer))
    return out


def one_line(command: str, output: str, *, prefix: str | None = None) -> str:
    """``command: last lines of output`` on one line (long ones cut)."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    tail = "; ".join(lines[-_TAIL_LINES:])
    text = f"{prefix or command}: {tail}" if tail else (prefix or command)
    if len(text) > _ERROR_CHARS:
        text = text[: _ERROR_CHARS - 3] + "..."
    return text


def own_workspace(cwd: Path, env: Mapping[str, str]) -> Mapping[str, str]:
    """``env`` for a go command run in ``cwd`` (a checkout's root): GOWORK names the checkout's own
    go.work, else is off, unless the caller set it. The go command would look for a go.work in every
    directory above too: the checkouts sit in the shared temporary directory, where anyone can put one
    (its `use`, `replace` and `godebug` lines change what is built)."""
    if "GOWORK" in env:
        return env
    work = Path(os.path.abspath(cwd), "go.work")
    return {**env, "GOWORK": str(work) if work.is_file() else "off"}


def run_go(go: str, args: Sequence[str], cwd: Path, env: Mapping[str, str], *,
           started: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the go command; BuildError when the toolchain itself is missing (a setup error, not a build failure).
    ``started``: called once it runs."""
    try:
        return run_group([go, *args], cwd=cwd, env=own_workspace(cwd, env), started=started)
    except FileNotFoundError:
        raise BuildError(f"{go}: not installed (sizebot needs the Go toolchain on PATH)") from None
    except NotADirectoryError:
        raise BuildError(f"{cwd}: not a directory") from None


def host_platform(go: str = "go", env: Mapping[str, str] | None = None) -> str:
    """``go env GOOS GOARCH`` as "goos/goarch" (what a build without platforms targets)."""
    proc = run_go(go, ["env", "GOOS", "GOARCH"], Path.cwd(), go_environ(env))
    parts = proc.stdout.split()
    if proc.returncode != 0 or len(parts) != 2:
        raise BuildError(one_line(f"{go} env GOOS GOARCH", proc.stderr or proc.stdout))
    return f"{parts[0]}/{parts[1]}"


def module_path(root: Path) -> str | None:
    """The module path declared in root/go.mod, or None."""
    try:
        text = (Path(root) / "go.mod").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    m = _MODULE_LINE.search(text)
    return m.group(1).strip("\"`") if m else None


# ------------------------------------------------------------------------------------------
# The build
# ------------------------------------------------------------------------------------------

def binary_name(target: str, goos: str, goarch: str) -> str:
    return f"{target}-{goos}-{goarch}" + (".exe" if goos == "windows" else "")


def package_present(checkout: Path, package: str) -> bool:
    """Whether the target's package exists in this checkout (a directory with .go files).

    Decided from the tree, not from go's error text: "./cmd/tool" is a directory; an import
    path inside the checkout's module maps to one. Packages of other modules are left to go build.
    """
    checkout = Path(checkout)
    if package in (".", "..") or package.startswith(("./", "../")) or os.path.isabs(package):
        directory = checkout / package
    else:
        mod = module_path(checkout)
        if mod is None:
            return (checkout / "go.work").is_file()  # a workspace: let go resolve it
        if package == mod:
            directory = checkout
        elif package.startswith(mod + "/"):
            directory = checkout / package[len(mod) + 1:]
        else:
            return True
    if "..." in package:  # a pattern is go build's business
        return True
    try:
        return directory.is_dir() and any(p.suffix == ".go" and p.is_file() for p in directory.iterdir())
    except OSError:
        return False


def _tags_and_flags(flags: Sequence[str], target_tags: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split a strategy's -tags out of its flags, so target and strategy tags go in one -tags flag
    (go build keeps only the last -tags it is given)."""
    rest: list[str] = []
    tags: list[str] = list(target_tags)
    i = 0
    while i < len(flags):
        flag = flags[i]
        name, eq, value = flag.lstrip("-").partition("=")
        if flag.startswith("-") and name == "tags":
            if not eq:
                if i + 1 >= len(flags):
                    rest.append(flag)  # dangling: let go report it
                    break
                value = flags[i + 1]
                i += 1
            for t in re.split(r"[,\s]+", value):
                if t and t not in tags:
                    tags.append(t)
        else:
            rest.append(flag)
        i += 1
    return rest, tags


def go_build_command(go: str, target: Target, strategy: Strategy, output: Path) -> list[str]:
    flags, tags = _tags_and_flags(strategy.flags, target.tags)
    cmd = [go, "build", "-o", str(output), *flags]
    if tags:
        cmd += ["-tags", ",".join(tags)]
    cmd.append(target.package)
    return cmd


def _run_shell(command: str, cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return run_group(["/bin/sh", "-c", command], cwd=cwd, env=own_workspace(cwd, env))


def _program(command: str) -> str | None:
    """The program a simple shell command runs (after VAR=value assignments), or None."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    for w in words:
        if not _ASSIGNMENT.match(w):
            return w
    return None


def _shell_failure(command: str, proc: subprocess.CompletedProcess[str], env: Mapping[str, str],
                   what: str) -> str:
    program = _program(command)
    if proc.returncode == 127 and program and "/" not in program and \
            shutil.which(program, path=env.get("PATH")) is None:
        return f"{program}: not installed ({what} `{command}`)"
    return one_line(command, proc.stderr + proc.stdout,
                    prefix=f"{what} `{command}` exited with status {proc.returncode}")


_FILE_FORMATS = {"windows": "pe", "darwin": "macho", "ios": "macho"}  # every other GOOS writes ELF (or no
# format sizebot reads: wasm, Plan 9)


def _built_for_another_platform(binary: Path, goos: str, goarch: str) -> str | None:
    """What a custom command's binary is when it is not for goos/goarch ("linux/amd64", "a Mach-O"): a
    command that ignores GOOS/GOARCH would have one platform's row measure another's binary. None when
    it matches, or when the file says too little (not a format sizebot reads: its analysis says so)."""
    from sizebot.binary.container import open_binary  # only custom commands need a binary reader here
    from sizebot.errors import SizebotError

    try:
        with open_binary(binary) as b:
            file_format, file_goos, file_goarch = b.format, b.goos, b.goarch
    except SizebotError:
        return None
    if file_format != _FILE_FORMATS.get(goos, "elf"):
        return f"{file_goos}/{file_goarch}"
    known = re.fullmatch(r"[a-z0-9]+", file_goarch) is not None  # not "elf-machine-N": a machine Go has no name for
    return f"{file_goos}/{file_goarch}" if known and file_goarch != goarch else None


def build_binary(checkout: Path, target: Target, platform: str, strategy: Strategy, out_dir: Path, *,
                 go: str = "go", env: Mapping[str, str] | None = None,
                 started: Callable[[], None] | None = None) -> BuildOutcome:
    """Build ``target`` for ``platform`` with ``strategy`` in ``checkout``; never raises for a failed build.

    BuildError only for misuse: a malformed platform, a checkout that is not a directory, no go.
    ``started``: called once ``go build`` runs (not for a custom command).
    """
    checkout = Path(checkout).resolve()
    if not checkout.is_dir():
        raise BuildError(f"{checkout}: no such checkout directory")
    if not target.package:
        raise BuildError(f"target {target.name!r} has no package")
    if target.package.startswith("-"):  # from a document or go list: never a flag of go build
        raise BuildError(f"target {target.name!r}: {target.package[:80]!r} is not a package")
    if target.name in ("", ".", "..") or any(c in target.name for c in "/\\\0"):  # it names the binary's file
        raise BuildError(f"target {target.name[:80]!r}: not a name for a file in {out_dir}")
    goos, goarch = split_platform(platform)
    out = Path(out_dir).resolve() / strategy.name / binary_name(target.name, goos, goarch)
    build_env = go_environ(env, target.env, strategy.env, {"GOOS": goos, "GOARCH": goarch})

    from sizebot.config import expand_placeholders

    if strategy.command is not None:
        if not strategy.output:
            raise BuildError(f"strategy {strategy.name!r}: a custom command needs an output path")
        rel_output = expand_placeholders(strategy.output, {"goos": goos, "goarch": goarch, "target": target.name},
                                         quote=False)
        values = {"output": rel_output, "goos": goos, "goarch": goarch, "target": target.name,
                  "package": target.package}
        shell_cmd = expand_placeholders(strategy.command, values)
        command: tuple[str, ...] = ("/bin/sh", "-c", shell_cmd)
    else:
        command = tuple(go_build_command(go, target, strategy, out))

    def outcome(status: str, binary: Path | None = None, error: str | None = None) -> BuildOutcome:
        return BuildOutcome(target=target.name, platform=platform, strategy=strategy.name, status=status,
                            binary=binary, error=error, command=command)

    if not package_present(checkout, target.package):
        return outcome(MISSING, error=f"package {target.package} does not exist at this commit")

    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)  # a failed build must not leave the previous binary behind

    if strategy.command is not None:
        produced = inside_checkout(checkout, rel_output)
        if produced is None:
            return outcome(FAILED, error=f"strategy {strategy.name!r}: output {rel_output!r} is outside the checkout")
        if produced.is_file():
            # left by the build of another platform or target: make would call it up to date
            produced.unlink()
        proc = _run_shell(shell_cmd, checkout, build_env)
        if proc.returncode != 0:
            return outcome(FAILED, error=_shell_failure(shell_cmd, proc, build_env, "build command"))
        # again after the build: it may have made the path (or a directory on it) a symlink out
        produced = inside_checkout(checkout, rel_output)
        if produced is None:
            return outcome(FAILED, error=f"build command `{shell_cmd}`: output {rel_output!r} resolves outside "
                                         "the checkout")
        if not produced.is_file():
            return outcome(FAILED, error=f"build command `{shell_cmd}` succeeded but left no file at {rel_output}")
        shutil.copy2(produced, out)  # the worktree goes away; the binary must not
        other = _built_for_another_platform(out, goos, goarch)
        if other is not None:
            out.unlink()
            return outcome(FAILED, error=f"build command `{shell_cmd}` left a {other} binary at {rel_output}, "
                                         f"not {platform}: it must build for the GOOS and GOARCH it is given")
    else:
        proc = run_go(go, command[1:], checkout, build_env, started=started)
        if proc.returncode != 0 or not out.is_file():
            return outcome(FAILED, error=one_line(shlex.join(_display(command)), proc.stderr + proc.stdout))
        if _is_archive(out):  # go build -o on a non-main package writes a package archive, and succeeds
            out.unlink(missing_ok=True)
            return outcome(FAILED, error=f"{shlex.join(_display(command))}: {target.package} is not a main package")

    for step in strategy.post:
        step_cmd = expand_placeholders(step, {"binary": str(out), "goos": goos, "goarch": goarch})
        proc = _run_shell(step_cmd, checkout, build_env)
        if proc.returncode != 0:
            out.unlink(missing_ok=True)  # half post-processed: not something to measure
            return outcome(FAILED, error=_shell_failure(step_cmd, proc, build_env, "post-step"))
        if not out.is_file():
            return outcome(FAILED, error=f"post-step `{step_cmd}` removed the binary")
    return outcome(OK, binary=out)


def inside_checkout(checkout: Path, rel_output: str) -> Path | None:
    """The real path of ``rel_output`` when it is inside ``checkout`` (a resolved path), else None:
    symlinks are followed, `..` is resolved, an absolute path is outside. A lexical check is not
    enough: `dist/../../victim` and a symlinked `dist` both look inside."""
    if not rel_output or os.path.isabs(rel_output):
        return None
    real = Path(os.path.realpath(checkout / rel_output))
    return real if real != checkout and real.is_relative_to(checkout) else None


def _is_archive(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(8) == b"!<arch>\n"


def _display(command: Sequence[str]) -> list[str]:
    """The command as a user would type it: go by name, the output by its file name."""
    shown = list(command)
    shown[0] = os.path.basename(shown[0]) or shown[0]
    if len(shown) > 3 and shown[2] == "-o":
        shown[3] = Path(shown[3]).name
    return shown
