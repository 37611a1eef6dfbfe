"""Escapes out of the build's worktree: a custom strategy's output that names a file outside the
checkout (by `..`, an absolute path, or a symlink) is refused when the config is checked where it
can be seen, and by the build (real paths) where it cannot; nothing outside is deleted or read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sizebot.builds.gobuild import build_binary
from sizebot.cli import main
from sizebot.config import Strategy, Target, parse_config
from sizebot.errors import ConfigError
from tests.support.git import git
from tests.support.goprograms import write_tree

APP = 'package main\n\nfunc main() { println("app") }\n'
TARGET = Target("app", "./cmd/app", ())


@pytest.mark.parametrize("output", ["../../../victim", "dist/../../victim", "/etc/passwd", "~/victim",
                                    "..\\victim"])
def test_config_refuses_outputs_outside_the_repository(output):
    text = f'[strategy.dist]\ncommand = "make"\noutput = "{output.replace(chr(92), chr(92) * 2)}"\n'
    with pytest.raises(ConfigError) as err:
        parse_config(text, "sizebot.toml")
    assert str(err.value) == (f"sizebot.toml:3: strategy.dist.output: must be a path inside the repository "
                              f"(relative, no '..'), got {output!r}")


@pytest.fixture
def layout(tmp_path) -> tuple[Path, Path, Path]:
    """(checkout, out dir, victim): the victim is a file beside the checkout that must survive."""
    checkout = tmp_path / "work" / "src"
    write_tree(checkout, {"go.mod": "module example.com/app\n\ngo 1.21\n", "cmd/app/main.go": APP})
    victim = tmp_path / "victim"
    victim.write_text("the user's file\n")
    return checkout, tmp_path / "out", victim


def _strategy_outside(victim: Path, checkout: Path) -> list[tuple[Strategy, str]]:
    rel = os.path.relpath(victim, checkout)
    return [
        (Strategy("up", command="true {output}", output=rel), f"output {rel!r} is outside the checkout"),
        (Strategy("abs", command="true {output}", output=str(victim)), f"output {str(victim)!r} is outside"),
    ]


def test_build_refuses_dotdot_and_absolute_outputs(layout, go_env):
    """The config check is lexical; a Strategy made without it (a library caller) is still refused."""
    checkout, out, victim = layout
    for strategy, message in _strategy_outside(victim, checkout):
        result = build_binary(checkout, TARGET, "linux/amd64", strategy, out, env=go_env)
        assert result.status == "failed" and message in result.error
        assert victim.read_text() == "the user's file\n"
        assert not list(out.rglob("app*"))


def test_build_refuses_a_symlinked_output(layout, go_env):
    """`dist` a symlink to the victim's directory: lexically inside, really outside. Before the
    build (nothing deleted there) and after it (a build that makes the output a symlink out: the
    file outside is neither copied nor measured)."""
    checkout, out, victim = layout
    (checkout / "dist").symlink_to(victim.parent, target_is_directory=True)
    before = build_binary(checkout, TARGET, "linux/amd64",
                          Strategy("dist", command="true", output=f"dist/{victim.name}"), out, env=go_env)
    assert before.status == "failed" and "is outside the checkout" in before.error
    assert victim.read_text() == "the user's file\n"
    (checkout / "dist").unlink()
    after = build_binary(checkout, TARGET, "linux/amd64",
                         Strategy("ln", command=f"mkdir -p bin && ln -sf {victim} {{output}}", output="bin/app"),
                         out, env=go_env)
    assert after.status == "failed" and "resolves outside the checkout" in after.error
    assert victim.read_text() == "the user's file\n" and not list(out.rglob("app*"))


def test_report_with_an_escaping_output_is_one_line(tmp_path, capsys):
    """End to end: the head's sizebot.toml names ../../victim; exit 2, one line, the victim intact,
    no worktree left in the user's repository."""
    repo = tmp_path / "repo"
    write_tree(repo, {"go.mod": "module example.com/app\n\ngo 1.21\n", "cmd/app/main.go": APP,
                      "sizebot.toml": '[strategy.dist]\ncommand = "go build -o {output} ./cmd/app"\n'
                                      'output = "../../victim"\n'})
    victim = tmp_path / "victim"
    victim.write_text("the user's file\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    assert main(["report", "--repo", str(repo), "--base", "HEAD", "--head", "HEAD", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "strategy.dist.output: must be a path inside the repository" in err
    assert victim.read_text() == "the user's file\n"
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


@pytest.mark.parametrize("option", ["--output", "--json", "--markdown"])
def test_report_output_that_cannot_be_written_is_refused_before_building(tmp_path, capsys, option):
    """A report takes minutes to build: an output in a missing directory (or that is a directory) is one
    line and exit 2 before anything is checked out or built, not after."""
    repo = tmp_path / "repo"
    write_tree(repo, {"go.mod": "module example.com/app\n\ngo 1.21\n", "cmd/app/main.go": APP})
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    work = tmp_path / "work"
    missing = tmp_path / "no-such-dir" / "report.out"
    assert main(["report", "--repo", str(repo), "--base", "HEAD", "--head", "HEAD", "--work-dir", str(work),
                 option, str(missing), "-q"]) == 2
    assert capsys.readouterr().err == (f"sizebot: error: {missing}: {option}: cannot write there: "
                                       f"{missing.parent} is not a directory\n")
    assert not work.exists() and not missing.parent.exists()
    assert main(["report", "--repo", str(repo), "--base", "HEAD", "--head", "HEAD", "--work-dir", str(work),
                 option, str(tmp_path), "-q"]) == 2
    assert capsys.readouterr().err == f"sizebot: error: {tmp_path}: {option}: cannot write there: it is a directory\n"
    assert not work.exists()
    if option == "--output":  # sizebot measure builds too
        assert main(["measure", "--repo", str(repo), "--work-dir", str(work), "-o", str(missing), "-q"]) == 2
        assert capsys.readouterr().err == (f"sizebot: error: {missing}: --output: cannot write there: "
                                           f"{missing.parent} is not a directory\n")
        assert not work.exists()


# ---- git: one runner, SHAs from events checked, refs after -- / --end-of-options ----

def test_forged_sha_never_reaches_git_as_an_option(tmp_path):
    from sizebot.cli import action
    from sizebot.errors import GitError

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    pwned = tmp_path / "pwned"
    for forged in (f"--upload-pack=touch {pwned}", "-h", "a" * 39, "A" * 40, "main"):
        with pytest.raises(GitError, match="is not a full hexadecimal commit SHA"):
            action._ensure_commit(repo, forged)
    assert not pwned.exists()


def test_git_location_variables_do_not_redirect_git(tmp_path, monkeypatch):
    """GIT_DIR/GIT_WORK_TREE left in the environment (a hook, a CI step) must not make sizebot read
    another repository than the one it names."""
    from sizebot.builds.worktree import resolve_commit

    repo, other = tmp_path / "repo", tmp_path / "other"
    for r, subject in ((repo, "in repo"), (other, "in other")):
        r.mkdir()
        git(r, "init", "-q", "-b", "main")
        git(r, "commit", "-q", "--allow-empty", "-m", subject)
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    assert resolve_commit(repo, "HEAD")[1] == "in repo"


def test_one_git_runner():
    """Every git process of sizebot starts in sizebot/builds/git.py (one environment, one set of options)."""
    root = Path(__file__).resolve().parents[1] / "sizebot"
    spawning = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                      if '"git"' in p.read_text(encoding="utf-8") or "'git'" in p.read_text(encoding="utf-8"))
    assert spawning == ["builds/git.py"]
