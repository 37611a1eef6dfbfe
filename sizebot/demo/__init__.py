"""The demo's sample Go repository: a small program (commit 1, branch ``main``) and a change that adds
an HTTP server with JSON, a new local package and a new module through a local ``replace``
(commit 2, branch ``feature/http-api``). ``sample/1`` and ``sample/2`` are the two trees, whole.

Its sizebot.toml builds ``./cmd/app`` for the host with two strategies and sets budgets the change
breaks: a fail budget on the increase (the check fails) and a warn budget on new modules.
Commits have fixed authors and dates, so the same Go toolchain gives the same report.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from sizebot.builds.git import last_line, run_git
from sizebot.errors import GitError

BASE_BRANCH = "main"
HEAD_BRANCH = "feature/http-api"
COMMITS = (
    ("1", "Greet from the command line", "2026-01-05T10:00:00+00:00"),
    ("2", "Serve greetings and quotes as JSON over HTTP", "2026-01-06T10:00:00+00:00"),
)


def sample_files(commit: str) -> dict[str, bytes]:
    """The tree of commit "1" or "2": repository-relative path -> content."""
    root = resources.files(__name__) / "sample" / commit
    out: dict[str, bytes] = {}

    def walk(node, prefix: str) -> None:  # Traversable: works from a wheel as from a checkout
        for child in node.iterdir():
            rel = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, rel + "/")
            elif child.name != "__pycache__":
                out[rel] = child.read_bytes()

    walk(root, "")
    return dict(sorted(out.items()))


def _git(repo: Path, *args: str, date: str | None = None) -> None:
    # A fixed identity and no system config, signing or templates: the demo runs the same everywhere.
    env = {"GIT_AUTHOR_NAME": "sizebot demo", "GIT_AUTHOR_EMAIL": "demo@sizebot.invalid",
           "GIT_COMMITTER_NAME": "sizebot demo", "GIT_COMMITTER_EMAIL": "demo@sizebot.invalid",
           "GIT_CONFIG_NOSYSTEM": "1"}
    if date:
        env.update({"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    proc = run_git(repo, *args, config=("commit.gpgsign=false", "init.templateDir="), env=env)
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args)} failed in {repo}: {last_line(proc.stderr) or proc.returncode}")


def _replace_tree(repo: Path, files: dict[str, bytes]) -> None:
    for entry in repo.iterdir():
        if entry.name == ".git":
            continue
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    for rel, data in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def materialize(repo: Path) -> Path:
    """Create the sample repository at ``repo`` (a new or empty directory); returns its path."""
    repo = Path(repo)
    repo.mkdir(parents=True, exist_ok=True)
    if any(repo.iterdir()):
        raise GitError(f"{repo}: not empty; the demo makes its repository in a new directory")
    _git(repo, "init", "-q", "-b", BASE_BRANCH)
    for i, (commit, subject, date) in enumerate(COMMITS):
        if i == 1:
            _git(repo, "checkout", "-q", "-b", HEAD_BRANCH)
        _replace_tree(repo, sample_files(commit))
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", subject, date=date)
    return repo
