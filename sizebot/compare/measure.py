"""``measure_commit``: build and measure one commit (of the default branch, typically) with the builds a
report would make there, and return its baseline document (documents/baseline.py): each build's
analysis, each target's import graph per platform, the ``[image]``'s analysis, and the history carried
forward from the previous baseline.

The builds run exactly as a report's base builds do: the same fixed checkout path, the same jobs (the
commit's sizebot.toml, or ``config``, else the defaults with main packages found by ``go list``), the
same Go (go.mod's, or ``go_version``) and the same analysis, so that a report whose base is this commit
and whose fingerprint is the same gives the same document whether it builds the base or reads this.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from sizebot.builds.git import checked_sha, run_git
from sizebot.builds.gobuild import host_platform
from sizebot.builds.toolchain import selected_version, toolchain_environ
from sizebot.builds.workpath import build_path, shared_checkout
from sizebot.builds.worktree import resolve_commit
from sizebot.compare.baseline import DEFAULT_HISTORY, baseline_builds, carried_history, fingerprint, graph_record
from sizebot.compare.report import DEFAULT_TOP
from sizebot.compare.run import (
    Progress,
    _Analyses,
    _build_side,
    _read_side,
    _serialized,
    _strategies,
    graph_or_error,
    list_graphs,
    repo_info,
)
from sizebot.config import load_config
from sizebot.documents.baseline import Baseline, BaselineImage, HistoryEntry
from sizebot.errors import GitError


def measure_commit(*, repo: Path, ref: str = "HEAD", config: str | None = None, work_dir: Path | None = None,
                   go: str = "go", env: Mapping[str, str] | None = None, progress: Progress | None = None,
                   go_version: str | None = None, previous: Baseline | None = None,
                   history: int = DEFAULT_HISTORY, docker_host: str | None = None,
                   keep_checkout: bool = False) -> Baseline:
    """The baseline of ``ref`` in ``repo``; ``previous``: the last baseline, whose history is carried on;
    ``keep_checkout``: the checkout at the default path (no ``work_dir``) is left for the next run."""
    repo = Path(repo).resolve()
    env = toolchain_environ(env, go_version)
    say = _serialized(progress)
    sha, subject, _message = resolve_commit(repo, ref)
    date = _commit_date(repo, sha)
    named = load_config(config) if config is not None else None
    with ExitStack() as stack:
        src = build_path(repo, work_dir)
        keep = keep_checkout and work_dir is None  # only the default path's checkout is kept
        if work_dir is None:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sizebot-measure-")))
        say(f"checking out {sha[:12]} at {src}")
        checkout = stack.enter_context(shared_checkout(repo, sha, src, waiting=say, keep=keep))
        read = _read_side(checkout, named, None, go, env, say)
        cfg = read.config
        targets = cfg.targets or read.discovered or ()
        host = host_platform(go, env) if any(not t.platforms for t in targets) else ""
        jobs = [(t, platform, s) for t in targets for platform in (t.platforms or (host,))
                for s in _strategies(cfg, t)]
        built_with = selected_version(checkout.path, go, env)
        with _Analyses(len(jobs), say) as analyses, ThreadPoolExecutor(max_workers=1) as lister:
            listed = list_graphs(jobs, checkout.path, go, env, lister)
            pending = _build_side("commit", checkout.path, jobs, Path(work_dir) / "out" / "base", go, env, say,
                                  analyses)
            sides = [analyses.result(a) for a in pending]
            graphs = tuple(graph_record(target, platform, graph_or_error(f))
                           for (target, platform), f in listed.items())
        image: BaselineImage | None = None
        if cfg.image is not None:
            from sizebot.compare.image import measure_base_image  # docker: only when an image is configured

            say("building and measuring the image")
            image = measure_base_image(checkout.path, cfg.image, Path(work_dir) / "image", docker_host=docker_host,
                                       top=DEFAULT_TOP)
            if image is None:
                say("no Docker engine answers: the baseline has no image (a report builds the base's)")
    builds = baseline_builds(jobs, sides)
    entry = HistoryEntry(sha=sha, date=date, subject=subject, sizes=tuple((b.spec.label, b.size) for b in builds))
    return Baseline(repo=repo_info(repo)["name"], sha=sha, date=date, subject=subject,
                    fingerprint=fingerprint(jobs, built_with, env, str(src)), builds=builds,
                    history=carried_history(previous, entry, history), graphs=graphs, image=image,
                    discovered=tuple((t.name, t.package) for t in read.discovered)
                    if read.discovered is not None else None)


def _commit_date(repo: Path, sha: str) -> str:
    proc = run_git(repo, "show", "-s", "--format=%cI", "--end-of-options", checked_sha(sha))
    if proc.returncode != 0 or not proc.stdout.strip():
        raise GitError(f"{repo}: cannot read the date of {sha}")
    return proc.stdout.strip()
