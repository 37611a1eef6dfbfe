"""The README's first command in a fresh clone, as a new user runs it: nothing installed, nothing beside it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.paths import ROOT

# what the demo writes: the comment, the JSON report, the comment as GitHub shows it, the treemap page
DEMO_FILES = ["sizebot-report.html", "sizebot-report.json", "sizebot-report.md", "sizebot-treemap.html"]


@pytest.mark.slow
def test_scripts_demo_in_a_fresh_clone_with_a_fresh_virtualenv(tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    clone = alone / "sizebot"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True,
                   capture_output=True, timeout=120)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}", VIRTUAL_ENV=str(venv))
    proc = subprocess.run(["./scripts/demo", "--quiet"], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "installing sizebot and its dependencies" in proc.stderr  # the check found what was missing
    assert proc.stdout.startswith("sizebot: fail — app ")  # the verdict shown, and still exit 0
    out = clone / "sizebot-demo-out"
    assert sorted(p.name for p in out.iterdir()) == DEMO_FILES
    assert all((out / name).stat().st_size > 0 for name in DEMO_FILES)
    assert sorted(p.name for p in alone.iterdir()) == ["sizebot"]  # nothing written beside the clone
    # installed now: a second run installs nothing
    again = subprocess.run(["./scripts/demo", "--quiet", "--exit-code"], cwd=clone, env=env, capture_output=True,
                           text=True, timeout=900)
    assert again.returncode == 1 and "installing" not in again.stderr, again.stderr[-3000:]

    # The README's install for one's own repository: the package itself (a wheel, not the checkout),
    # run from elsewhere: templates, schemas and the sample come from the installed package.
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "--no-deps", "--force-reinstall", str(clone)], check=True, capture_output=True, env=env,
                   timeout=600)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    installed = subprocess.run([str(venv / "bin" / "sizebot"), "demo", "--quiet", "--out", "out"], cwd=elsewhere,
                               env=env, capture_output=True, text=True, timeout=900)
    assert installed.returncode == 0, installed.stderr[-3000:]
    assert sorted(p.name for p in (elsewhere / "out").iterdir()) == DEMO_FILES
