"""Start and stop a private Docker engine for the test session.

Uses the machine's dockerd (Debian's docker.io, installed by .ci/run). A missing engine
is a failure, never a skip: in CI it is always there.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path


class DockerEngine:
    def __init__(self, root: Path):
        self.root = root
        self.sock = root / "docker.sock"
        self.host = f"unix://{self.sock}"
        self.proc: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["DOCKER_HOST"] = self.host
        env["DOCKER_BUILDKIT"] = "0"
        return env

    def docker(self, *args: str, check: bool = True, input: bytes | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", *args], env=self.env, check=check, capture_output=True, input=input, timeout=timeout)

    def start(self) -> DockerEngine:
        dockerd = shutil.which("dockerd")
        if dockerd is None:
            raise RuntimeError("dockerd not found: install Debian's docker.io (.ci/run does)")
        log = open(self.root / "dockerd.log", "wb")
        self.proc = subprocess.Popen(
            [dockerd, "--storage-driver=vfs", "--iptables=false", "--ip6tables=false", "--bridge=none",
             f"--host={self.host}", f"--data-root={self.root}/root", f"--exec-root={self.root}/exec",
             f"--pidfile={self.root}/docker.pid"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited: {(self.root / 'dockerd.log').read_text()[-2000:]}")
            if self.sock.exists() and self.docker("info", check=False, timeout=30).returncode == 0:
                return self
            time.sleep(0.5)
        raise RuntimeError(f"dockerd did not answer in 60 s: {(self.root / 'dockerd.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # vfs layers can hold many files; rm -rf is faster and copes with read-only dirs.
        subprocess.run(["rm", "-rf", str(self.root)], check=False)

    def busybox_image(self, tag: str = "sizebot-test/busybox:latest") -> str:
        """A base image with a shell, made from Debian's busybox-static (no registry needed)."""
        if self.docker("image", "inspect", tag, check=False).returncode == 0:
            return tag
        busybox = shutil.which("busybox") or "/bin/busybox"
        with tempfile.TemporaryDirectory() as d:
            rootfs = Path(d) / "rootfs"
            (rootfs / "bin").mkdir(parents=True)
            for sub in ("tmp", "etc", "root", "var"):
                (rootfs / sub).mkdir()
            shutil.copy2(busybox, rootfs / "bin" / "busybox")
            for applet in ("sh", "ls", "cp", "mv", "rm", "mkdir", "chmod", "echo", "cat", "touch", "dd", "head", "ln", "true"):
                (rootfs / "bin" / applet).symlink_to("busybox")
            tar = subprocess.run(["tar", "-C", str(rootfs), "-c", "."], check=True, capture_output=True).stdout
        self.docker("import", "-", tag, input=tar)
        return tag


def start_engine() -> DockerEngine:
    root = Path(tempfile.mkdtemp(prefix="sizebot-dockerd-"))
    return DockerEngine(root).start()
