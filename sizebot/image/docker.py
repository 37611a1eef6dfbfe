"""The Docker engine side: build an image, save it to an archive, check the engine answers.

Thin wrappers over the ``docker`` CLI (the engine's own client knows contexts, TLS and sockets
better than we would). The caller passes ``docker_host``; nothing here reads the environment
beyond inheriting it for the child process.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from sizebot.errors import DockerError
from sizebot.processes import run_group

_TAIL_LINES = 15


def _env(docker_host: str | None, buildkit: bool | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if docker_host:
        env["DOCKER_HOST"] = docker_host
    if buildkit is not None:
        env["DOCKER_BUILDKIT"] = "1" if buildkit else "0"
    return env


def _docker() -> str:
    exe = shutil.which("docker")
    if exe is None:
        raise DockerError("the docker CLI is not on PATH (install docker, or pass an image archive instead)")
    return exe


def _tail(text: str, n: int = _TAIL_LINES) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(lines[-n:])


def _run(args: Sequence[str], docker_host: str | None, *, buildkit: bool | None = None,
         timeout: float = 3600, group: bool = False) -> subprocess.CompletedProcess[str]:
    """``docker ARGS``. ``group``: a long step (build, save) in its own process group, ended at once
    with the builds on SIGINT/SIGTERM (sizebot.processes); the short queries and the cleanup (rmi)
    run plainly, so that an interrupted run still removes its tag."""
    try:
        if group:
            return run_group([_docker(), *args], env=_env(docker_host, buildkit), timeout=timeout)
        return subprocess.run([_docker(), *args], env=_env(docker_host, buildkit), capture_output=True,
                              text=True, errors="replace", timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise DockerError(f"docker {args[0]} did not finish in {int(timeout)} s") from None


def _engine_error(proc: subprocess.CompletedProcess[str], docker_host: str | None) -> DockerError | None:
    """A clear line when the failure is "no engine there"."""
    err = proc.stderr or ""
    if re.search(r"Cannot connect to the Docker daemon|connect: no such file or directory|error during connect|"
                 r"connection refused|permission denied while trying to connect", err, re.IGNORECASE):
        where = docker_host or "the default socket (unix:///var/run/docker.sock)"
        return DockerError(f"no Docker engine answers at {where}: start dockerd, or set DOCKER_HOST "
                           "(e.g. unix:///run/user/1000/docker.sock or tcp://host:2375) to one that runs")
    return None


def docker_available(docker_host: str | None = None) -> bool:
    """True when the CLI is installed and an engine answers ``docker version``."""
    if shutil.which("docker") is None:
        return False
    try:
        proc = _run(["version", "--format", "{{.Server.Version}}"], docker_host, timeout=30)
    except DockerError:
        return False
    return proc.returncode == 0 and bool(proc.stdout.strip())


def _safe_name(ref: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", ref).strip("._") or "image"


def save_image(ref: str, dest_dir: str | Path, docker_host: str | None = None) -> Path:
    """``docker save -o DEST_DIR/<ref>.tar REF``; returns the archive path (legacy or OCI-index layout,
    whichever the engine writes: both are read by sizebot.image.sources)."""
    dest = Path(dest_dir) / f"{_safe_name(ref)}.tar"
    dest.parent.mkdir(parents=True, exist_ok=True)
    proc = _run(["save", "-o", str(dest), ref], docker_host, group=True)
    if proc.returncode != 0:
        raise _engine_error(proc, docker_host) or DockerError(f"docker save {ref} failed: {_tail(proc.stderr, 3)}")
    return dest


def build_image(context: str | Path, dockerfile: str | Path, tag: str, target: str | None = None,
                build_args: Mapping[str, str] | None = None, docker_host: str | None = None,
                network: str | None = None, buildkit: bool | None = None, platform: str | None = None) -> str:
    """``docker build`` and return the image ID ("sha256:..."). ``buildkit=None`` keeps the caller's
    DOCKER_BUILDKIT; the classic builder (False) needs no buildx plugin."""
    # --force-rm: the classic builder otherwise keeps the container of a failed step.
    args = ["build", "--force-rm", "-f", str(dockerfile), "-t", tag]
    if platform:
        args += ["--platform", platform]
    if target:
        args += ["--target", target]
    for key, value in (build_args or {}).items():
        args += ["--build-arg", f"{key}={value}"]
    if network:
        args += ["--network", network]
    args.append(str(context))
    proc = _run(args, docker_host, buildkit=buildkit, group=True)
    if proc.returncode != 0:
        raise _engine_error(proc, docker_host) or DockerError(
            f"docker build of {dockerfile} failed (exit {proc.returncode}): {_tail(proc.stdout + proc.stderr)}")
    inspect = _run(["image", "inspect", "--format", "{{.Id}}", tag], docker_host, timeout=60)
    if inspect.returncode != 0:
        raise DockerError(f"docker image inspect {tag} failed after a build: {_tail(inspect.stderr, 3)}")
    return inspect.stdout.strip()


def remove_image(ref: str, docker_host: str | None = None) -> None:
    """``docker rmi REF`` (its untagged parent layers go with it); an image already gone is fine."""
    proc = _run(["rmi", ref], docker_host, timeout=300)
    if proc.returncode != 0 and "No such image" not in proc.stderr:
        raise _engine_error(proc, docker_host) or DockerError(f"docker rmi {ref} failed: {_tail(proc.stderr, 3)}")
