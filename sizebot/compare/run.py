"""``run_report_doc``: check out base and head, build everything, measure, judge, and return the report
document. The I/O half of the comparison (report.py is the pure half).

Order of work: both commits are checked out in their own worktrees (the user's checkout is never
touched); the configuration is read from the head (or ``config``), else the defaults with targets
discovered by ``go list`` in each checkout. Every base build runs before any head build, so the
head builds find Go's build cache warm (base and head share the caller's GOCACHE and GOMODCACHE).
Within a side, ``go build`` jobs run in parallel up to the number of CPUs; custom build commands
run one at a time (they write inside the checkout, where two could collide).
A base that does not build, or lacks a target, is a note: that build compares against nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

from sizebot.binary.attribute import analyze_binary
from sizebot.binary.diff import diff_reports
from sizebot.config import Config, Strategy, Target, default_config, find_config, load_config
from sizebot.builds.discover import discover_targets, import_chains
from sizebot.builds.gobuild import BuildOutcome, build_binary, go_environ, host_platform
from sizebot.budgets.overrides import find_overrides
from sizebot.builds.worktree import Checkout, checkouts, resolve_commit
from sizebot.compare.model import FAILED, MISSING, OK, Commit, Comparison, Side
from sizebot.compare.report import DEFAULT_TOP, assemble
from sizebot.errors import GitError, SizebotError
from sizebot.units import format_size

Progress = Callable[[str], None]
BASE_CANDIDATES = ("origin/HEAD", "main", "master")


def run_report_doc(*, repo: Path, base: str, head: str, config: str | None = None, labels: tuple[str, ...] = (),
                   work_dir: Path | None = None, go: str = "go", env: Mapping[str, str] | None = None,
                   docker_host: str | None = None, progress: Progress | None = None,
                   top: int | None = DEFAULT_TOP, base_label: str | None = None) -> dict[str, Any]:
    """The report document (``sizebot/report@1``) of ``head`` compared with ``base`` in ``repo``.

    ``config``: a sizebot.toml to use instead of the head's. ``labels``: the pull request's labels
    (a budget override may be one). ``progress`` receives one line per step (from worker threads,
    serialized). ``base_label``: how the report names the base (e.g. "main" for its merge-base).
    Raises SizebotError for what the user must fix (unknown ref, bad config); a build that fails is
    in the report, not raised."""
    repo = Path(repo).resolve()
    say = _serialized(progress)
    base_sha, base_subject, base_message = resolve_commit(repo, base)
    head_sha, head_subject, head_message = resolve_commit(repo, head)
    named = load_config(config) if config is not None else None  # a bad file fails before any checkout
    base_commit = Commit(base_label or base, base_sha, base_subject, base_message)
    head_commit = Commit(head, head_sha, head_subject, head_message)
    with ExitStack() as stack:
        if work_dir is None:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sizebot-report-")))
        work_dir = Path(work_dir)
        say(f"checking out base {base_sha[:12]} and head {head_sha[:12]}")
        base_co, head_co = stack.enter_context(checkouts(repo, (base_sha, head_sha), work_dir / "worktrees"))
        cfg = named if named is not None else _config(head_co)
        notes: list[str] = []
        targets = _targets(cfg, base_co, head_co, go, env, notes, say)
        host = host_platform(go, env) if any(not t.platforms for t in targets) else ""
        jobs = [(t, platform, s) for t in targets for platform in (t.platforms or (host,))
                for s in _strategies(cfg, t)]
        if cfg.defaulted:
            notes.insert(0, f"no sizebot.toml at the head: built every main package for {host or 'the host'} "
                            f"with the default strategies ({', '.join(s.name for s in cfg.strategies)}); no budgets")
        base_sides, head_sides = _measure(jobs, base_co, head_co, work_dir / "out", go, env, say)
        comparisons = _compare(jobs, base_sides, head_sides, top)
        comparisons = _with_chains(comparisons, targets, head_co.path, go, env, notes, say)
        image_doc, image_measurement = None, None
        if cfg.image is not None:
            from sizebot.compare.image import measure_images  # docker: only when an image is configured

            say("building and measuring the image at base and head")
            section = measure_images(base_co.path, head_co.path, cfg.image, work_dir / "image",
                                     docker_host=docker_host, top=top if top is not None else DEFAULT_TOP)
            image_doc, image_measurement = section.doc, section.measurement
        overrides = find_overrides(list(labels), head_message, cfg.override)
        say("judging against the budgets")
        return assemble(repo=repo_info(repo), base=base_commit, head=head_commit, config=cfg,
                        comparisons=comparisons, overrides=overrides, image=image_doc,
                        image_measurement=image_measurement, notes=notes, top=top)


# ---- configuration and targets ------------------------------------------------------------------

def _config(head: Checkout) -> Config:
    found = find_config(head.path)
    if found is None:
        return default_config()
    return load_config(found, repo_root=head.path)


def _targets(cfg: Config, base: Checkout, head: Checkout, go: str, env: Mapping[str, str] | None,
             notes: list[str], say: Progress) -> tuple[Target, ...]:
    if cfg.targets:
        return cfg.targets
    say("finding main packages (go list)")
    found: dict[str, Target] = {t.package: t for t in discover_targets(head.path, go=go, env=env)}
    try:
        base_targets = discover_targets(base.path, go=go, env=env)
    except SizebotError as exc:
        notes.append(f"the base's main packages could not be listed ({exc}): comparing against nothing")
        base_targets = ()
    names = {t.name for t in found.values()}
    for t in base_targets:  # main packages the head removed: shown as removed
        if t.package not in found and t.name not in names:
            found[t.package] = t
            names.add(t.name)
    if not found:
        notes.append("no main package in the head: nothing to build")
    return tuple(found.values())


def _strategies(cfg: Config, target: Target) -> tuple[Strategy, ...]:
    if not target.strategies:
        return cfg.strategies
    return tuple(s for s in cfg.strategies if s.name in target.strategies)


# ---- builds and analysis ------------------------------------------------------------------------

Job = tuple[Target, str, Strategy]


def _measure(jobs: Sequence[Job], base: Checkout, head: Checkout, out_dir: Path, go: str,
             env: Mapping[str, str] | None, say: Progress) -> tuple[list[Side], list[Side]]:
    """Every base build, then every head build (so the head finds Go's build cache warm). Each binary
    is analysed as soon as it is built, on one analysis thread beside the builds: the base's analysis
    overlaps the head's builds instead of delaying them (go build waits in a subprocess, without the GIL)."""
    with ThreadPoolExecutor(max_workers=1) as analyses:
        base_sides = _build_side("base", base, jobs, out_dir / "base", go, env, say, analyses)
        head_sides = _build_side("head", head, jobs, out_dir / "head", go, env, say, analyses)
        return [f.result() for f in base_sides], [f.result() for f in head_sides]


def _build_side(side: str, checkout: Checkout, jobs: Sequence[Job], out_dir: Path, go: str,
                env: Mapping[str, str] | None, say: Progress, analyses: ThreadPoolExecutor) -> list[Future[Side]]:
    """Build every job in one checkout (go builds in parallel, custom commands in turn); returns when
    all are built, with each binary's analysis queued on ``analyses``."""
    results: list[Future[Side] | None] = [None] * len(jobs)
    lock = threading.Lock()  # custom build commands write in the checkout: one at a time

    def one(i: int) -> None:
        target, platform, strategy = jobs[i]
        label = f"{side} {target.name} {platform} {strategy.name}"
        say(f"building {label}")
        if strategy.command is not None:
            with lock:
                outcome = build_binary(checkout.path, target, platform, strategy, out_dir / str(i), go=go, env=env)
        else:
            outcome = build_binary(checkout.path, target, platform, strategy, out_dir / str(i), go=go, env=env)
        results[i] = analyses.submit(_analyse_and_say, outcome, label, say)

    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(one, i) for i in range(len(jobs))]:
            future.result()  # re-raises setup errors (no go, bad platform) in the caller
    return [r for r in results if r is not None]


def _analyse_and_say(outcome: BuildOutcome, label: str, say: Progress) -> Side:
    side = _analyse(outcome)
    say(f"{label}: {format_size(side.size) if side.size is not None else side.status}")
    return side


def _analyse(outcome: BuildOutcome) -> Side:
    if outcome.status == MISSING:
        return Side(MISSING, error=outcome.error)
    if outcome.status != OK or outcome.binary is None:
        return Side(FAILED, error=outcome.error or "the build failed")
    name = outcome.binary.name
    try:
        report = analyze_binary(outcome.binary, functions=True)
    except Exception as exc:  # noqa: BLE001 - one binary we cannot read must not sink the whole report
        message = " ".join(str(exc).split()) or type(exc).__name__
        if not isinstance(exc, SizebotError):
            message = f"{type(exc).__name__}: {message}"
        return Side(FAILED, error=f"cannot analyse {name}: {message}"[:600], name=name)
    return Side(OK, report=report, name=name)


def _compare(jobs: Sequence[Job], base: Sequence[Side], head: Sequence[Side], top: int | None) -> list[Comparison]:
    out = []
    for (target, platform, strategy), b, h in zip(jobs, base, head):
        diff = None
        if b.status == OK and h.status == OK and b.report is not None and h.report is not None:
            diff = diff_reports(b.report, h.report, top=top)
        out.append(Comparison(target=target.name, package=target.package, platform=platform,
                              strategy=strategy.name, base=b, head=h, diff=diff))
    return out


def _with_chains(comparisons: list[Comparison], targets: Sequence[Target], head: Path, go: str,
                 env: Mapping[str, str] | None, notes: list[str], say: Progress) -> list[Comparison]:
    """Import chains at the head for every package a build added, one `go list` per target x platform."""
    by_name = {t.name: t for t in targets}
    wanted: dict[tuple[str, str], set[str]] = {}
    for c in comparisons:
        if c.diff is not None and c.diff.added_packages:
            wanted.setdefault((c.target, c.platform), set()).update(c.diff.added_packages)
    chains: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {}
    for (name, platform), packages in wanted.items():
        target = by_name[name]
        say(f"import chains of {name} {platform} ({len(packages)} new packages)")
        try:
            chains[(name, platform)] = dict(import_chains(head, target.package, platform, sorted(packages),
                                                          tags=target.tags, go=go, env=go_environ(env, target.env)))
        except SizebotError as exc:
            notes.append(f"{name} {platform}: import chains unavailable ({exc})")
    out = []
    for c in comparisons:
        found = chains.get((c.target, c.platform))
        if found and c.diff is not None:
            added = set(c.diff.added_packages)
            c = replace(c, chains=tuple(sorted((p, tuple(chain)) for p, chain in found.items() if p in added)))
        out.append(c)
    return out


def _serialized(progress: Progress | None) -> Progress:
    if progress is None:
        return lambda _message: None
    lock = threading.Lock()

    def say(message: str) -> None:
        with lock:
            progress(message)
    return say


# ---- git: the repository's name and the default base -------------------------------------------

_REMOTE = re.compile(r"(?:github\.com|gitlab\.com|bitbucket\.org)[:/]+([^/\s]+/[^/\s]+?)(?:\.git)?/?$")


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k == "GIT_CONFIG_NOSYSTEM"}
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, errors="replace",
                              env=env, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise GitError("git: not installed (sizebot needs git on PATH)") from None


def repo_info(repo: Path) -> dict[str, str]:
    """{"path", "name"}: name is owner/name from the origin remote when it is a forge URL, else the directory's name."""
    proc = _git(repo, "remote", "get-url", "origin")
    m = _REMOTE.search(proc.stdout.strip()) if proc.returncode == 0 else None
    return {"path": str(repo), "name": m.group(1) if m else repo.name}


def default_base(repo: Path, head: str = "HEAD") -> tuple[str, str]:
    """(sha, name) of the merge-base of ``head`` with the first of origin/HEAD, main, master that exists."""
    repo = Path(repo)
    resolve_commit(repo, head)  # a clear error for a bad head or a non-repository first
    for candidate in BASE_CANDIDATES:
        if _git(repo, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}").returncode != 0:
            continue
        proc = _git(repo, "merge-base", head, candidate)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip(), candidate
        raise GitError(f"{repo}: {head} and {candidate} have no common ancestor: name the base with --base REF")
    raise GitError(f"{repo}: none of {', '.join(BASE_CANDIDATES)} exists: name the base commit with --base REF")
