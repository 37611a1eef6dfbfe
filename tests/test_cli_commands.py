"""``sizebot --help`` lists every command without importing the commands' modules (PyGithub, jsonschema,
zstandard ... load only for the command that runs), with each command's own one-line help."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sizebot.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]


def test_the_listed_help_is_each_commands_own():
    for name, text in COMMANDS.items():
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(f"sizebot.cli.{name}").register(sub)
        [action] = sub._choices_actions
        assert (action.dest, action.help) == (name, text)


def test_help_imports_no_command():
    code = ("import sys, runpy\nsys.argv = ['sizebot', '--help']\ntry:\n    runpy.run_module('sizebot', run_name='__main__')\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in sys.modules if m.startswith(('sizebot.cli.', 'github', "
            "'jsonschema', 'zstandard', 'jinja2', 'elftools', 'rich', 'requests'))), file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    shown = " ".join(proc.stdout.split())  # help lines are wrapped
    for name, text in COMMANDS.items():
        assert f"{name} {text}" in shown
    assert proc.stderr.strip() == "[]"


def test_an_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["nosuch"])
    assert exit_.value.code == 2
    assert "invalid choice: 'nosuch'" in capsys.readouterr().err
