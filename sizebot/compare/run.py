"""``run_report_doc``: check out base and head, build everything, measure, judge, and return the report
document. The I/O half of the comparison (report.py is the pure half).

Order of work: one detached worktree at a fixed path (builds/workpath.py; the user's checkout is never
touched) holds the head, then the base, then the head again, so both sides are built at the same path:
a build without -trimpath embeds it, and the same commit must give the same binary at base and head
and in every run. At the head: what to build (its sizebot.toml, or ``config``, else the defaults with
main packages discovered by ``go list``). At the base: its sizebot.toml's budgets and override policy,
which judge the pull request unless that file says ``budgets_from = "head"`` (a pull request cannot
loosen its own budget), and every build they judge, built at both sides as the base defines it (a pull
request cannot escape them by changing what is built: ``_with_budgeted``); then every base build, its
main packages listed by ``go list`` while the builds of the head's run (they come first whatever the
base has; a main package only the base has is built once listed). Then every head build, finding
Go's build cache warm. Within a side, ``go build``
jobs run in parallel up to the number of CPUs; custom build commands run one at a time (they write
inside the checkout, where two could collide). Each binary is analysed (or its analysis read back from
the cache, in a reader thread) while the next builds run, and each diff is worked out as soon as both
its sides are analysed. A base that does not build, or lacks a target, is a note: that build compares
against nothing.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from sizebot.binary.diff import diff_reports
from sizebot.budgets.changes import judging_changes
from sizebot.budgets.checks import judges, unknown_target, unmatched_package
from sizebot.budgets.overrides import find_overrides
from sizebot.builds.committed import REGULAR_MODES, committed_files
from sizebot.builds.discover import ImportGraph, chains_in, discover_targets, import_graph
from sizebot.builds.git import run_git as _git
from sizebot.builds.gobuild import BuildOutcome, build_binary, go_environ, host_platform, package_present
from sizebot.builds.toolchain import installed_version, selected_version, selected_version_of, toolchain_environ
from sizebot.builds.workpath import EarlyCheckout, SharedCheckout, build_path, shared_checkout
from sizebot.builds.worktree import checkouts, resolve_commit, resolve_commits
from sizebot.compare.analysis_cache import (
    analyze_and_keep,
    analyze_cached,
    build_id,
    cache_key,
    kept_analysis,
    kept_entry,
    predict,
    predicted_key,
)
from sizebot.compare.baseline import BaselineUse, Graph, base_image, reuse_baseline, trend
from sizebot.compare.model import FAILED, MISSING, OK, Commit, Comparison, Side
from sizebot.compare.report import DEFAULT_TOP, assemble, measurements
from sizebot.compare.toolchain import toolchain_notes
from sizebot.config import Config, ImageConfig, Job, Strategy, Target, default_config, find_config, load_config
from sizebot.config.loading import CONFIG_NAMES, parse_config
from sizebot.documents.analyze import BinaryReport
from sizebot.documents.baseline import Baseline
from sizebot.documents.diff import BinaryDiff
from sizebot.documents.report import Report
from sizebot.errors import ConfigError, GitError, SizebotError
from sizebot.units import format_size

Progress = Callable[[str], None]
READ_AHEAD_WAIT = 1.0  # seconds the read-ahead waits at most for the first builds to start
BASE_CANDIDATES = ("origin/HEAD", "main", "master")
GO_FILES = ("go.mod", "go.work")  # what the go command reads to choose its toolchain
DIVE_CI = ".dive-ci"  # the image rules dive reads (compare/image.py)


def run_report_doc(*, repo: Path, base: str, head: str, config: str | None = None, labels: tuple[str, ...] = (),
                   work_dir: Path | None = None, go: str = "go", env: Mapping[str, str] | None = None,
                   docker_host: str | None = None, progress: Progress | None = None,
                   top: int | None = DEFAULT_TOP, base_label: str | None = None,
                   go_version: str | None = None, baseline: Baseline | Callable[[], Baseline] | None = None,
                   baseline_problem: str | None = None, analysis_cache: Path | None = None,
                   begun: EarlyCheckout | None = None, keep_checkout: bool = False) -> Report:
    """The report document (``sizebot/report@1``) of ``head`` compared with ``base`` in ``repo``.

    ``config``: a sizebot.toml to use instead of the head's and the base's (its budgets judge).
    ``labels``: the pull request's labels (a budget override may be one). ``progress`` receives one
    line per step (from worker threads, serialized). ``base_label``: how the report names the base
    (e.g. "main" for its merge-base). ``work_dir``: where the checkout, binaries and image work go
    (default: the checkout at a fixed path under the temporary directory, the rest in a temporary one).
    ``analysis_cache``: a directory where analyses are kept by the binary's content (None: none kept).
    Raises SizebotError for what the user must fix (unknown ref, bad config, a budget or target that
    names nothing); a build that fails is in the report, not raised. ``go_version``: the Go release that
    builds both sides instead of the one each go.mod asks for (builds/toolchain.py). ``baseline``: the
    base measured before (``sizebot measure``), used instead of building it when it was measured at the
    base with the same fingerprint, else a note says why not (or what reads it: read while the head is
    checked out, its errors raised before anything is built); ``baseline_problem``: why a baseline file
    could not be read (a note; the base is built). ``begun``: ``base`` and ``head`` resolved, and the head
    checked out at the fixed path, begun by the caller (taken over here; the caller closes it); when it
    also gives the head's main packages kept from an earlier run, the head is listed again beside its
    builds, and the report starts over, listing first, when the two differ. ``keep_checkout``: the
    checkout at the default path (no ``work_dir``) is left for the next run of this user, which checks out
    only the files that differ (the command line's choice; the action's runner starts clean each time)."""
    given = dict(locals())
    try:
        return _report_doc(**given)
    except _StaleListing as stale:
        assert begun is not None
        begun.relisted(tuple((t.name, t.package) for t in stale.found) if stale.found is not None else None)
        if progress is not None:
            progress("the main packages kept for the head are not those go list finds: starting again")
        return _report_doc(**{**given, "begun": None})


class _StaleListing(Exception):
    """The head's main packages kept from an earlier run differ from what go list finds now (None: it
    cannot list them)."""

    def __init__(self, found: tuple[Target, ...] | None):
        super().__init__("stale listing of the head's main packages")
        self.found = found


def _report_doc(*, repo: Path, base: str, head: str, config: str | None, labels: tuple[str, ...],
                work_dir: Path | None, go: str, env: Mapping[str, str] | None, docker_host: str | None,
                progress: Progress | None, top: int | None, base_label: str | None, go_version: str | None,
                baseline: Baseline | Callable[[], Baseline] | None, baseline_problem: str | None,
                analysis_cache: Path | None, begun: EarlyCheckout | None, keep_checkout: bool) -> Report:
    repo = Path(repo).resolve()
    env = toolchain_environ(env, go_version)
    say = _serialized(progress)
    (base_sha, base_subject, base_message), (head_sha, head_subject, head_message) = \
        begun.commits() if begun is not None else resolve_commits(repo, (base, head))
    named = load_config(config) if config is not None else None  # a bad file fails before any checkout
    base_commit = Commit(base_label or base, base_sha, base_subject, base_message)
    head_commit = Commit(head, head_sha, head_subject, head_message)
    notes: list[str] = []
    if base_sha == head_sha:
        notes.append(f"base and head are the same commit ({head_sha[:12]}): nothing changed between them, "
                     "so every size is measured twice (name an earlier base with --base REF)")
    with ExitStack() as stack:
        # the installed Go and the host's platform do not depend on the checkout: asked beside it
        early = ThreadPoolExecutor(max_workers=4)
        stack.callback(early.shutdown)
        # (asked already by the early checkout, when it asked with the same go and environment)
        ahead = begun is not None and begun.listing is not None and (begun.listing.go, begun.listing.env) == (go, env)
        host_platform_f = begun.host_platform if ahead and begun is not None else early.submit(host_platform, go, env)
        installed_f = begun.installed if ahead and begun is not None else early.submit(installed_version, go, env)
        repo_f = early.submit(repo_info, repo)  # what the report names the repository, asked meanwhile
        # and, with a baseline, the baseline and what the base's Go is decided by
        baseline_f = early.submit(baseline) if callable(baseline) else None
        said, held = say, list[str]()  # progress held back until the baseline is read: a bad one is all that is said
        if baseline_f is not None:
            say = held.append
        base_files_f = early.submit(_base_files, repo, base_sha, go, env) if baseline is not None else None
        src = build_path(repo, work_dir)
        keep_binaries = work_dir is not None  # the caller's directory keeps them; a temporary one does not
        keep_checkout = keep_checkout and work_dir is None  # only the default path's checkout is kept
        taken = begun is not None and begun.path == src and begun.keep == keep_checkout
        if work_dir is None:
            if taken and begun is not None and begun.temporary is not None:
                work_dir = begun.temporary  # where its builds started early write (removed by its close())
            else:
                work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sizebot-report-")))
        work_dir = Path(work_dir)
        listed = tuple(Target(name=name, package=package, platforms=()) for name, package in begun.head_listing) \
            if taken and begun is not None and begun.head_listing is not None and named is None and baseline is None \
            else None
        recheck = listed if listed is not None and begun is not None and begun.listed_before else None
        if listed is None or recheck is None:
            say(f"checking out head {head_sha[:12]} at {src}")
        if taken and begun is not None:
            checkout = stack.enter_context(begun.taken())
            for line in begun.said:
                say(line)
        else:
            checkout = stack.enter_context(shared_checkout(repo, head_sha, src, waiting=say, keep=keep_checkout))
        # the base's builds started early (builds/workpath.py), taken when the plan begins with them
        takes_builds = taken and listed is not None and recheck is not None and ahead and begun is not None and \
            Path(begun.work_dir or begun.temporary or "") == work_dir
        if begun is not None and not takes_builds:
            begun.builds_ended()  # before anything changes the checkout they build
        if begun is not None and taken and begun.head_error is not None:
            say("finding main packages (go list)")
            raise begun.head_error
        if listed is not None:  # the head has no sizebot.toml: its main packages are all it says
            say("finding main packages (go list)" if recheck is None else
                f"main packages of head {head_sha[:12]}: as listed before (listed again beside the builds)")
            head_side = _Read(default_config(), False, None, listed, None, frozenset())
        else:
            checkout.switch(head_sha)  # the early checkout holds the base only with the head listed
            head_side = _read_side(checkout, named, None, go, env, say)
        if baseline_f is not None:
            baseline = baseline_f.result()
            for line in held:
                said(line)
            say = said
        plan, use = None, None
        listing: _BaseListing | None = None  # the base's main packages, listed beside its first builds
        if isinstance(baseline, Baseline) and baseline.sha == base_sha and base_files_f is not None:
            plan, use = _plan_from_baseline(base_files_f, baseline, named, head_side, checkout.path, base_sha,
                                            head_sha, notes, host_platform_f, env)
        if plan is not None:
            say(f"base {base_sha[:12]}: read from the baseline and its sizebot.toml, not checked out")
        else:
            say(f"checking out base {base_sha[:12]}")
            checkout.switch(base_sha)
            if isinstance(baseline, Baseline):
                base_side = _read_side(checkout, named, head_side.config, go, env, say)
                plan = _plan(named, base_side, head_side, base_sha, head_sha, notes, host_platform_f)
                use = reuse_baseline(baseline, base_sha, plan.jobs, checkout.path,
                                     selected_version(checkout.path, go, env), env)
            else:
                plan, listing = _plan_beside_builds(checkout, named, head_side, base_sha, head_sha, notes,
                                                    host_platform_f, go, env, say)
        for asked in (host_platform_f, installed_f):
            asked.exception()  # both done before the analysis workers are forked
        early.shutdown()
        cfg, jobs, judged = head_side.config, plan.jobs, plan.judged
        notes[:] = plan.notes
        reused = use.sides if use is not None else None
        more_notes = [use.note] if use is not None and use.note else []
        if reused is not None:
            say(f"base {base_sha[:12]}: measured by the baseline, not built")
        more_notes.extend([baseline_problem] if baseline_problem else [])
        notes.extend(more_notes)
        diffs: dict[int, Future[BinaryDiff | None]] = {}
        begun_builds = begun.builds_started(jobs) if takes_builds and begun is not None and reused is None else None
        if begun is not None and begun_builds is None:
            begun.builds_ended()
        base_sides, head_sides, graphs, base_graphs = _measure(
            jobs, checkout, head_sha, work_dir / "out", go, env, say, reused, analysis_cache,
            use.graphs if use is not None and reused is not None else None, top=top, diffs=diffs,
            base_listing=listing, keep_binaries=keep_binaries, recheck=recheck, begun_builds=begun_builds)
        if listing is not None and listing.plan is not None:  # the full plan, once the base was listed
            plan = listing.plan
            jobs, judged = plan.jobs, plan.judged
            notes[:] = plan.notes + more_notes
        comparisons = _compare(jobs, base_sides, head_sides, top, diffs)
        error = unmatched_package(replace(cfg, path=plan.budgets_file or cfg.path), judged.budgets,
                                  measurements(comparisons))
        if error is not None:
            raise error
        comparisons = _with_chains(comparisons, graphs, base_graphs, notes)
        notes.extend(toolchain_notes(comparisons, installed_f.result(), go_version))
        image_doc, image_measurement = None, None
        if judged.image is not None:
            from sizebot.compare.image import measure_images  # docker: only when an image is configured

            image_top = top if top is not None else DEFAULT_TOP
            measured_image, image_note = base_image(baseline, base_sha, judged.image, image_top) \
                if isinstance(baseline, Baseline) else (None, None)
            notes.extend([image_note] if image_note else [])
            if measured_image is not None:
                say("building and measuring the image at head (the base's: measured by the baseline)")
                (head_co,) = stack.enter_context(checkouts(repo, (head_sha,), work_dir / "worktrees"))
                base_path = None
            else:
                say("building and measuring the image at base and head")
                base_co, head_co = stack.enter_context(checkouts(repo, (base_sha, head_sha), work_dir / "worktrees"))
                base_path = base_co.path
            # the base's image is judged by the base's rules: its .dive-ci, not one the head adds or edits
            rules_dir = _base_rules_dir(repo, base_sha, work_dir / "base-rules") if plan.image_from_base else None
            section = measure_images(base_path, head_co.path, judged.image, work_dir / "image", docker_host=docker_host,
                                     rules_dir=rules_dir,
                                     top=image_top, measured_base=measured_image)
            image_doc, image_measurement = section.doc, section.measurement
        overrides = find_overrides(list(labels), head_message, judged.override)
        say("judging against the budgets")
        report = assemble(repo=repo_f.result(), base=base_commit, head=head_commit, config=judged,
                          comparisons=comparisons, overrides=overrides, image=image_doc,
                          image_measurement=image_measurement, notes=notes, top=top)
        if use is not None and use.history:
            report = replace(report, trend=trend(use.history, comparisons[0] if comparisons else None, head_sha))
        return report


# ---- configuration and targets ------------------------------------------------------------------

@dataclass(frozen=True)
class _Read:
    """What one commit says before anything is built."""

    config: Config  # its sizebot.toml (``named`` when given; the defaults when it has none)
    has_file: bool  # False: no sizebot.toml at this commit (or a named one, which is the same at both)
    invalid: str | None  # the base's sizebot.toml did not validate: why (the head's must)
    discovered: tuple[Target, ...] | None  # main packages found by go list (None: not asked, or it failed)
    discovery_error: str | None
    present: frozenset[str]  # names of the configured targets whose package exists here


def _read_side(checkout: SharedCheckout, named: Config | None, head_config: Config | None, go: str,
               env: Mapping[str, str] | None, say: Progress) -> _Read:
    """The config, discovered main packages and present packages of the commit checked out now.
    ``head_config`` is None when this is the head (whose config must be valid), else the head's."""
    path = checkout.path
    cfg, has_file, invalid = _side_config(path, named, head_config)
    wanted = head_config if head_config is not None else cfg  # the head's config decides what to build
    discovered, discovery_error = None, None
    if not wanted.targets or (head_config is not None and _lists_budgeted(cfg, has_file, invalid, named)):
        say("finding main packages (go list)")
        if head_config is None:
            discovered = discover_targets(path, go=go, env=env)
        else:
            discovered, discovery_error = _base_targets(path, go, env)
    present = frozenset(t.name for t in wanted.targets if package_present(path, t.package))
    return _Read(cfg, has_file, invalid, discovered, discovery_error, present)


def _side_config(path: Path, named: Config | None, head_config: Config | None) -> tuple[Config, bool, str | None]:
    """(config, has_file, invalid) of the commit checked out at ``path`` (see ``_Read``)."""
    if named is not None:
        return named, False, None
    found = find_config(path)
    if found is None:
        return default_config(), False, None
    if head_config is None:
        return load_config(found, repo_root=path), True, None
    try:
        return load_config(found, repo_root=path), True, None
    except ConfigError as exc:  # the base's file: a pull request that fixes it must be judged
        return default_config(), True, str(exc)


def _base_targets(path: Path, go: str, env: Mapping[str, str] | None) -> tuple[tuple[Target, ...] | None, str | None]:
    """(the base's main packages, why they could not be listed): a base that cannot say is a note."""
    try:
        return discover_targets(path, go=go, env=env), None
    except SizebotError as exc:
        return None, str(exc)


def _plan_beside_builds(checkout: SharedCheckout, named: Config | None, head: _Read, base_sha: str, head_sha: str,
                        notes: Sequence[str], host_platform_f: Future[str], go: str, env: Mapping[str, str] | None,
                        say: Progress) -> tuple[_Plan, _BaseListing | None]:
    """The plan of the base checked out now; when its main packages must be listed, the plan of the
    builds that can start before they are, and the listing that gives the full plan. Those are the builds
    of the head's main packages: the first jobs of the full plan whatever the base has (its own come
    after them). None start early when that plan fails (the full one says why, or not), or when a
    custom build command could write in the checkout that go list reads."""
    path = checkout.path
    cfg, has_file, invalid = _side_config(path, named, head.config)
    present = frozenset(t.name for t in head.config.targets if package_present(path, t.package))
    base = _Read(cfg, has_file, invalid, None, None, present)
    if head.config.targets:
        if _lists_budgeted(cfg, has_file, invalid, named):  # the base's budgeted main packages, listed now
            say("finding main packages (go list)")
            discovered, error = _base_targets(path, go, env)
            base = replace(base, discovered=discovered, discovery_error=error)
        return _plan(named, base, head, base_sha, head_sha, notes, host_platform_f), None
    notes = list(notes)

    def complete(discovered: tuple[Target, ...] | None, error: str | None) -> _Plan:
        return _plan(named, replace(base, discovered=discovered, discovery_error=error), head, base_sha, head_sha,
                     notes, host_platform_f)
    listing = _BaseListing(path, go, env, say, complete)
    try:
        first = _plan(named, base, head, base_sha, head_sha, notes, host_platform_f)
    except SizebotError:
        first = None
    if first is None or any(strategy.command is not None for _t, _p, strategy in first.jobs):
        return _Plan([], head.config, list(notes)), listing
    return first, listing


class _BaseListing:
    """The base's main packages, listed by go list beside the base's first builds, and the plan they
    complete. Started once the analysis workers are forked: a worker forked while a pipe to go list is
    open would hold it open, and go list's output would never end."""

    def __init__(self, path: Path, go: str, env: Mapping[str, str] | None, say: Progress,
                 complete: Callable[[tuple[Target, ...] | None, str | None], _Plan]):
        self.path, self.go, self.env, self.say, self.complete = path, go, env, say, complete
        self.listed: Future[tuple[tuple[Target, ...] | None, str | None]] | None = None
        self.plan: _Plan | None = None

    def start(self, lister: ThreadPoolExecutor) -> None:
        self.say("finding main packages (go list)")
        self.listed = lister.submit(_base_targets, self.path, self.go, self.env)

    def jobs(self) -> list[Job]:
        """The full plan's jobs, once the main packages are listed (the plan kept in ``plan``)."""
        if self.listed is None:
            raise RuntimeError("the base's main packages were never listed")
        self.plan = self.complete(*self.listed.result())
        return self.plan.jobs


@dataclass(frozen=True)
class _BaseFiles:
    """What a base not checked out is read from: its sizebot.toml from git, and the Go the go command
    selects with its go.mod and go.work (None: these files cannot say; the base is checked out)."""

    files: dict[str, tuple[str, str]]  # path -> (mode, text)
    go_version: str | None


def _base_files(repo: Path, sha: str, go: str, env: Mapping[str, str] | None) -> _BaseFiles | None:
    files = committed_files(repo, sha, (*CONFIG_NAMES, *GO_FILES))
    if any(mode not in REGULAR_MODES or "\ufffd" in text for mode, text in files.values()):
        return None  # a link, or not UTF-8: as _read_side reads it, from the checkout
    go_files = {name: text for name, (_mode, text) in files.items() if name in GO_FILES}
    try:
        return _BaseFiles(files, selected_version_of(go_files, go, env))
    except SizebotError:
        return _BaseFiles(files, None)  # said again, or not at all, by the base checked out


def _read_unchecked_base(files: dict[str, tuple[str, str]], baseline: Baseline, named: Config | None,
                         head_config: Config) -> _Read | None:
    """``_read_side`` of the base that ``baseline`` measured, without checking it out: its sizebot.toml
    from ``files``, its main packages and which targets it has from the baseline. None when the
    baseline cannot say (its config named its targets, the head's names none)."""
    invalid = None
    if named is not None:
        cfg, has_file = named, False
    else:
        found = next((name for name in CONFIG_NAMES if name in files), None)
        has_file = found is not None
        try:
            cfg = parse_config(files[found][1], found) if found is not None else default_config()
        except ConfigError as exc:  # as _read_side: the base's file may be invalid
            cfg, invalid = default_config(), str(exc)
    discovered = None
    if not head_config.targets or _lists_budgeted(cfg, has_file, invalid, named):
        if baseline.discovered is None:
            return None
        discovered = tuple(Target(name=name, package=package, platforms=()) for name, package in baseline.discovered)
    measured = {b.spec.target for b in baseline.builds if b.status != MISSING}
    present = frozenset(t.name for t in head_config.targets if t.name in measured)
    return _Read(cfg, has_file, invalid, discovered, None, present)


@dataclass(frozen=True)
class _Plan:
    """What is built and what judges it, once both sides are read."""

    jobs: list[Job]
    judged: Config  # the head's config with the judging budgets and override policy
    notes: list[str]  # the report's notes so far
    image_from_base: bool = False  # the image is the base's [image]: its .dive-ci is the base's too
    budgets_file: str | None = None  # the file of the judging budgets as errors name it (the base's says so)


def _plan(named: Config | None, base: _Read, head: _Read, base_sha: str, head_sha: str, notes: Sequence[str],
          host_platform_f: Future[str]) -> _Plan:
    notes = list(notes)
    cfg = head.config
    targets = _targets(cfg, base, head, base_sha, head_sha, notes)
    judging = _judging_config(named, base, head, notes)
    base_judges = named is None and judging is base.config and base.has_file
    host = host_platform_f.result() if any(not t.platforms for t in targets) else ""
    jobs = [(t, platform, s) for t in targets for platform in (t.platforms or (host,)) for s in _strategies(cfg, t)]
    strategies = cfg.strategies
    if base_judges and judging.budgets:
        base_targets = base.config.targets or base.discovered or ()
        base_host = host_platform_f.result() if any(not t.platforms for t in base_targets) else ""
        budgeted = [(t, platform, s) for t in base_targets for platform in (t.platforms or (base_host,))
                    for s in _strategies(base.config, t)
                    if any(judges(rule, t.name, platform, s.name) for rule in judging.budgets)]
        jobs = _with_budgeted(jobs, budgeted, notes)
        names = {s.name for s in strategies}
        strategies += tuple(s for s in base.config.strategies if s.name not in names)  # the waterfall's order
    built_names = list(dict.fromkeys(t.name for t, _p, _s in jobs)) if jobs else [t.name for t in targets]
    known = [t.name for t in base.config.targets] if judging is base.config else []
    # the base's file is not the one a reader has open: errors name it as the base's
    budgets_file = replace(judging, path=f"base {judging.path} (at {base_sha[:12]})") if base_judges else judging
    error = unknown_target(budgets_file, judging.budgets, built_names, known)
    if error is not None:
        raise error
    if cfg.defaulted:
        notes.insert(0, f"no sizebot.toml at the head: built every main package for {host or 'the host'} "
                        f"with the default strategies ({', '.join(s.name for s in cfg.strategies)})"
                        + ("; no budgets" if not judging.budgets else ""))
    judged = replace(cfg, strategies=strategies, budgets=judging.budgets, override=judging.override,
                     image=_judged_image(cfg, judging, base_judges, notes))
    return _Plan(jobs, judged, notes, image_from_base=base_judges and judging.image is not None,
                 budgets_file=budgets_file.path)


def _base_rules_dir(repo: Path, base_sha: str, where: Path) -> Path:
    """A directory holding the base commit's .dive-ci (none when the base has no such regular file)."""
    where.mkdir(parents=True, exist_ok=True)
    found = committed_files(repo, base_sha, (DIVE_CI,)).get(DIVE_CI)
    if found is not None and found[0] in REGULAR_MODES:
        (where / DIVE_CI).write_text(found[1], encoding="utf-8")
    return where


def _lists_budgeted(cfg: Config, has_file: bool, invalid: str | None, named: Config | None) -> bool:
    """Whether the base's own budgets judge main packages only ``go list`` at the base can name (its
    sizebot.toml has budgets and no ``[[target]]``): they are built whatever the head's file says."""
    return (named is None and has_file and invalid is None and cfg.budgets_from != "head" and bool(cfg.budgets)
            and not cfg.targets)


def _with_budgeted(jobs: Sequence[Job], budgeted: Sequence[Job], notes: list[str]) -> list[Job]:
    """The head's jobs with every build the base's budgets judge built from the base's definition: one
    the head redefines (another package, flags, post-steps, command) takes the base's, one the head no
    longer builds (a strategy or platform dropped, the target removed from its file) is added after the
    head's. A head whose jobs agree with the base's is left as it is (the same report)."""
    wanted = {(t.name, p, s.name): (t, p, s) for t, p, s in budgeted}
    out: list[Job] = []
    redefined: list[str] = []
    for t, p, s in jobs:
        base_job = wanted.pop((t.name, p, s.name), None)
        if base_job is None:
            out.append((t, p, s))
            continue
        changed = _redefinition(base_job, (t, p, s))
        if changed:
            redefined.append(f"{t.name} {p} {s.name} ({', '.join(changed)})")
        out.append(base_job)
    dropped = [f"{t.name} {p} {s.name}" for t, p, s in wanted.values()]
    out.extend(wanted.values())
    for what, labels in (("redefines", redefined), ("no longer builds", dropped)):
        if labels:
            shown = "; ".join(labels[:6]) + (f"; and {len(labels) - 6} more" if len(labels) > 6 else "")
            notes.append(f"the head {what} {shown}: built at base and head as the base's sizebot.toml defines it, "
                         "since the base's budgets judge it (the head's definition applies once merged)")
    return out


def _redefinition(base: Job, head: Job) -> list[str]:
    """What the head's definition of a build changes from the base's: the keys, by name."""
    (bt, _bp, bs), (ht, _hp, hs) = base, head
    changed = [key for key, b, h in (("package", bt.package, ht.package), ("tags", bt.tags, ht.tags),
                                     ("env", bt.env, ht.env)) if b != h]
    changed += [f"strategy.{bs.name}.{key}" for key, b, h in (
        ("flags", bs.flags, hs.flags), ("env", bs.env, hs.env), ("post", bs.post, hs.post),
        ("command", bs.command, hs.command), ("output", bs.output, hs.output)) if b != h]
    return changed


def _judged_image(cfg: Config, judging: Config, base_judges: bool, notes: list[str]) -> ImageConfig | None:
    """The image built and judged: the base's ``[image]`` (Dockerfile, context, target, build args,
    platform, rules) when the base's budgets judge and it has one, so that a head cannot move the image
    its budgets judge; else the head's, with the judging budgets."""
    if base_judges and judging.image is not None:
        if cfg.image != judging.image and (cfg.image is None or replace(cfg.image, budgets=()) !=
                                           replace(judging.image, budgets=())):
            notes.append("the head changes [image]: the image is built at base and head as the base's "
                         "sizebot.toml defines it, since the base's budgets judge it (the head's applies once merged)")
        return judging.image
    if cfg.image is None:
        return None
    return replace(cfg.image, budgets=judging.image.budgets if judging.image else ())


def _plan_from_baseline(base_files_f: Future[_BaseFiles | None], baseline: Baseline, named: Config | None,
                        head: _Read, path: Path, base_sha: str, head_sha: str, notes: Sequence[str],
                        host_platform_f: Future[str],
                        env: Mapping[str, str] | None) -> tuple[_Plan, BaselineUse] | tuple[None, None]:
    """The plan with the base read from ``baseline`` and its files (``_read_unchecked_base``), when the
    baseline then stands in for the base (the same fingerprint: the same builds, so the same main
    packages and targets); else (None, None), and the base is checked out and read as when it is built."""
    try:
        found = base_files_f.result()
        if found is None or found.go_version is None:
            return None, None
        base = _read_unchecked_base(found.files, baseline, named, head.config)
        if base is None:
            return None, None
        plan = _plan(named, base, head, base_sha, head_sha, notes, host_platform_f)
    except SizebotError:
        return None, None  # said again, or not at all, by the base checked out
    use = reuse_baseline(baseline, base_sha, plan.jobs, path, found.go_version, env)
    return (plan, use) if use.sides is not None else (None, None)


def _targets(cfg: Config, base: _Read, head: _Read, base_sha: str, head_sha: str,
             notes: list[str]) -> tuple[Target, ...]:
    """The head's targets (the base's removed main packages too, when discovered); a configured target
    whose package exists at neither commit is a ConfigError."""
    if cfg.targets:
        for i, t in enumerate(cfg.targets):
            if t.name not in base.present and t.name not in head.present:
                raise ConfigError(f"{t.package} exists at neither the base ({base_sha[:12]}) nor the head "
                                  f"({head_sha[:12]})", path=cfg.path, line=t.line, key=f"target[{i}].package")
        return cfg.targets
    found: dict[str, Target] = {t.package: t for t in head.discovered or ()}
    if base.discovery_error is not None:
        notes.append(f"the base's main packages could not be listed ({base.discovery_error}): "
                     "comparing against nothing")
    names = {t.name for t in found.values()}
    for t in base.discovered or ():  # main packages the head removed: shown as removed
        if t.package not in found and t.name not in names:
            found[t.package] = t
            names.add(t.name)
    if not found:
        notes.append("no main package in the head: nothing to build")
    return tuple(found.values())


def _judging_config(named: Config | None, base: _Read, head: _Read, notes: list[str]) -> Config:
    """Whose budgets and override policy judge: the base's by default (its ``budgets_from`` decides),
    the head's when the base has no valid sizebot.toml; a head that changes them is said in a note."""
    if named is not None:
        return named
    if base.invalid is not None:
        notes.append(f"the base's sizebot.toml is invalid ({base.invalid}): the head's budgets were applied")
        return head.config
    if not base.has_file:
        if head.config.budgets or (head.config.image is not None and head.config.image.budgets):
            notes.append("the base has no sizebot.toml: the head's budgets were applied")
        return head.config
    changes = judging_changes(base.config, head.config)
    use_head = base.config.budgets_from == "head"
    if changes:
        shown = "; ".join(changes[:6]) + (f"; and {len(changes) - 6} more" if len(changes) > 6 else "")
        applied = ("the head's budgets were applied (budgets_from = \"head\" at the base)" if use_head else
                   "the base's budgets were applied (they judge once merged; budgets_from = \"head\" in the "
                   "base's sizebot.toml applies a head's own)")
        notes.append(f"the head changes the budgets ({shown}): {applied}")
    return head.config if use_head else base.config


def _strategies(cfg: Config, target: Target) -> tuple[Strategy, ...]:
    if not target.strategies:
        return cfg.strategies
    return tuple(s for s in cfg.strategies if s.name in target.strategies)


# ---- builds and analysis ------------------------------------------------------------------------

Graphs = dict[tuple[str, str], "Future[ImportGraph]"]  # (target, platform) -> a side's import graph
ReadAhead = Future[BinaryReport | None]  # an analysis kept from an earlier run, read while a build runs


def list_graphs(jobs: Sequence[Job], path: Path, go: str, env: Mapping[str, str] | None,
                lister: ThreadPoolExecutor, graphs: Graphs | None = None) -> Graphs:
    """Each target's import graph on each platform at ``path``, listed by ``lister`` (targets whose
    package is there), added to ``graphs`` (those it has are not listed again)."""
    graphs = {} if graphs is None else graphs
    for target, platform, _strategy in jobs:
        if (target.name, platform) not in graphs and package_present(path, target.package):
            graphs[(target.name, platform)] = lister.submit(
                import_graph, path, target.package, platform, tags=target.tags, go=go, env=go_environ(env, target.env))
    return graphs


def graph_or_error(listed: Future[ImportGraph]) -> Graph:
    """A listed graph, or why go list could not list it."""
    try:
        return listed.result()
    except SizebotError as exc:
        return str(exc)


def _given(graphs: Mapping[tuple[str, str], Graph]) -> Graphs:
    """Graphs measured before (a baseline's) as the futures ``_with_chains`` reads."""
    out: Graphs = {}
    for key, graph in graphs.items():
        done: Future[ImportGraph] = Future()
        if isinstance(graph, str):
            done.set_exception(SizebotError(graph))
        else:
            done.set_result(graph)
        out[key] = done
    return out


def _measure(jobs: Sequence[Job], checkout: SharedCheckout, head_sha: str, out_dir: Path, go: str,
             env: Mapping[str, str] | None, say: Progress,
             measured_base: list[Side] | None = None,
             analysis_cache: Path | None = None,
             measured_graphs: Mapping[tuple[str, str], Graph] | None = None,
             *, top: int | None = DEFAULT_TOP, diffs: dict[int, Future[BinaryDiff | None]] | None = None,
             base_listing: _BaseListing | None = None, keep_binaries: bool = True,
             recheck: tuple[Target, ...] | None = None,
             begun_builds: Mapping[int, Future[BuildOutcome]] | None = None,
             ) -> tuple[list[Side], list[Side], Graphs, Graphs]:
    """Every base build (the base is checked out), then every head build in the same directory (so the
    head finds Go's build cache warm, and a path embedded without -trimpath is the same at both). Each
    binary is analysed as soon as it is built, in worker processes beside the builds: the base's
    analyses overlap the head's builds, and the head's overlap each other and the last builds. The
    import graphs of each side (`go list -deps`: the chains of new packages, what each dependency alone
    brings in) are listed during its builds. ``measured_base``: the base's sides from a baseline, and
    ``measured_graphs`` its import graphs; the base is then neither built nor listed. ``diffs``: filled
    with each build's diff (by job), worked out as soon as both its sides are analysed, while the later
    builds run (the diff of the build that ends last is the only one left for after it). ``base_listing``:
    the base's main packages, listed while its ``jobs`` build; the others of the full plan's jobs
    (``jobs`` first) are built at the base too. ``keep_binaries`` False: each binary is deleted once analysed (nothing
    reads it again), so that little is left to delete when the report is done. ``recheck``: the head's
    main packages the plan took from an earlier run, listed again at the head beside its builds
    (_StaleListing when go list finds others). ``begun_builds``: base builds of ``jobs`` (by index) started
    before, taken instead of building them."""
    differ = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sizebot-diff")
    with ExitStack() as stack:
        # not waited for: _compare waits for the diffs (a diff still queued runs: its analyses are done);
        # on an error, those queued are cancelled, and one under way ends with its analysis
        stack.push(lambda exc_type, _exc, _tb: differ.shutdown(wait=False, cancel_futures=exc_type is not None))
        analyses = stack.enter_context(_Analyses(len(jobs) if base_listing is None else os.cpu_count() or 1, say,
                                                 analysis_cache, keep_binaries=keep_binaries))
        lister = stack.enter_context(ThreadPoolExecutor(max_workers=1))
        if base_listing is not None:
            base_listing.start(lister)  # the workers are forked: no open pipe to go goes with them
        base_sha = checkout.sha

        def build_of(sha: str, side: str) -> Callable[[int], str]:
            return lambda i: build_id(sha, side, str(checkout.path), repr(jobs[i]))
        # what each build gave last time, read while the builds run: kept if its binary has that key; and
        # the diff of the two, worked out meanwhile: taken if both sides are those read
        ahead: dict[int, tuple[ReadAhead, ReadAhead, Future[BinaryDiff | None]]] = {}
        for i in range(len(jobs)):
            base_read = analyses.expect(build_of(base_sha, "base")(i)) if measured_base is None else None
            head_read = analyses.expect(build_of(head_sha, "head")(i))
            if base_read is not None and head_read is not None and diffs is not None:
                ahead[i] = (base_read, head_read, differ.submit(_diff_ahead, base_read, head_read, top))
        base_graphs = _given(measured_graphs) if measured_graphs is not None else \
            list_graphs(jobs, checkout.path, go, env, lister)
        jobs = list(jobs)

        def more() -> Sequence[Job]:
            assert base_listing is not None
            full = base_listing.jobs()
            if full[:len(jobs)] != jobs:
                raise RuntimeError("the builds started early are not the first jobs of the plan")
            list_graphs(full[len(jobs):], checkout.path, go, env, lister, base_graphs)
            jobs[:] = full
            return full

        base_sides = [] if measured_base is not None else \
            _build_side("base", checkout.path, jobs, out_dir / "base", go, env, say, analyses,
                        more=more if base_listing is not None else None, build_of=build_of(base_sha, "base"),
                        begun=begun_builds)
        for graph in base_graphs.values():
            graph.exception()  # listed before the checkout changes
        say(f"checking out head {head_sha[:12]}")
        checkout.switch(head_sha)
        relisted = lister.submit(discover_targets, checkout.path, go=go, env=env) if recheck is not None else None
        graphs = list_graphs(jobs, checkout.path, go, env, lister)

        def diff_soon(i: int, head: tuple[BuildOutcome, str, Future[Side]]) -> None:
            def diff() -> BinaryDiff | None:  # an analysis that failed here is done again by _compare
                base = measured_base[i] if measured_base is not None else base_sides[i][2].result()
                new = head[2].result()
                early = ahead.get(i)
                if early is not None and base.report is not None and new.report is not None and \
                        analyses.taken.get(build_of(base_sha, "base")(i)) is early[0] and \
                        analyses.taken.get(build_of(head_sha, "head")(i)) is early[1] and \
                        early[2].done() and not early[2].cancelled() and early[2].exception() is None:
                    worked_out = early[2].result()  # of these very analyses, but for their paths
                    if worked_out is not None:
                        return replace(worked_out, old=base.report, new=new.report)
                return _diff(base, new, top)
            if diffs is not None:
                diffs[i] = differ.submit(diff)

        head_sides = _build_side("head", checkout.path, jobs, out_dir / "head", go, env, say, analyses,
                                 then=diff_soon, build_of=build_of(head_sha, "head"))
        for graph in graphs.values():
            graph.exception()  # listed before the checkout is removed
        if relisted is not None:
            try:
                found = relisted.result()
            except SizebotError as exc:
                raise _StaleListing(None) from exc
            if found != recheck:
                raise _StaleListing(found)
        checkout.remove_soon()  # every build done, every graph listed: removed while the last analyses are read
        base = measured_base if measured_base is not None else [analyses.result(a) for a in base_sides]
        return base, [analyses.result(a) for a in head_sides], graphs, base_graphs


class _Analyses:
    """Binary analyses in worker processes (pure Python holds the GIL: threads would take turns).

    The workers are forked when the pool opens, before the build threads start. Where fork is not
    available, or a worker dies, the analysis runs in the calling thread instead. With a cache, each
    binary is first looked up there by a reader thread (hashing it, reading a kept analysis back), so
    a build's thread is free as soon as its binary is written: the last build of the base hands over
    to the head's builds without waiting for its analysis to be read. What a build gave last time is read
    by that thread before the build ends (``expect``), and taken when the binary has its key."""

    def __init__(self, jobs: int, say: Progress, cache: Path | None = None, *, keep_binaries: bool = True):
        self.say = say
        self.cache = cache
        self.keep_binaries = keep_binaries
        self.expected: dict[str, tuple[str, Future[BinaryReport | None]]] = {}  # build id -> (key, kept entry)
        # set once the first builds run: reading ahead (JSON parsing, which holds the GIL) waits for it, so
        # as not to hold up the threads that start them
        self.building = threading.Event()
        self.taken: dict[str, Future[BinaryReport | None]] = {}  # build id -> the entry read ahead, taken
        self.pool: ProcessPoolExecutor | None = None
        self.reader: ThreadPoolExecutor | None = None
        workers = max(1, min(2 * jobs, os.cpu_count() or 1))
        if "fork" in multiprocessing.get_all_start_methods():
            self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_worker_signals)
            self.pool.submit(int)  # forks every worker now, while this is the only thread that builds
        if cache is not None:
            self.reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sizebot-cache-read")

    def __enter__(self) -> _Analyses:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if self.reader is not None:
            self.reader.shutdown(wait=True)  # every lookup asked for ends (handed on, at worst, to a pool shut down)
        if self.pool is not None:
            if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
                # interrupted (SIGINT/SIGTERM): end the workers now rather than wait for an analysis
                for worker in list((getattr(self.pool, "_processes", None) or {}).values()):
                    worker.kill()
            self.pool.shutdown(wait=True, cancel_futures=True)

    def expect(self, build: str) -> Future[BinaryReport | None] | None:
        """Read, in the reader thread, the analysis the build ``build`` (a ``build_id``) gave last time
        (None: nothing predicted)."""
        if self.reader is None or self.cache is None:
            return None
        if build not in self.expected:
            key = predicted_key(self.cache, build)
            if key is None:
                return None
            self.expected[build] = (key, self.reader.submit(self._read_ahead, self.cache, key))
        return self.expected[build][1]

    def _read_ahead(self, cache: Path, key: str) -> BinaryReport | None:
        self.building.wait(READ_AHEAD_WAIT)
        return kept_entry(cache, key)

    def submit(self, outcome: BuildOutcome, label: str, build: str | None = None,
               ) -> tuple[BuildOutcome, str, Future[Side]]:
        """The analysis of one build's binary: read back when the cache keeps it (no worker, no copy of
        the analysis between processes), else in a worker, which keeps it. ``build``: the build's id,
        under which what it gave is kept for the next run."""
        if self.reader is not None and self.cache is not None and outcome.status == OK and outcome.binary is not None:
            side: Future[Side] = Future()
            side.add_done_callback(lambda f: self._said(label, f, outcome.binary))
            self.reader.submit(self._look_up, outcome, outcome.binary, self.cache, side, build)
            return outcome, label, side
        return self._analysed(outcome, label)

    def _look_up(self, outcome: BuildOutcome, binary: Path, cache: Path, side: Future[Side],
                 build: str | None = None) -> None:
        """In the reader thread: ``side`` gets the kept analysis, else the worker's."""
        try:
            try:
                key: str | None = cache_key(binary)
            except OSError:
                key = None  # the worker says what is wrong with the binary
            expected = self.expected.pop(build, None) if build is not None else None
            kept = None
            if key is not None and expected is not None and expected[0] == key and expected[1].done():
                read = expected[1].result()  # read before, by this thread: the analysis kept under this key
                kept = replace(read, path=str(binary)) if read is not None else None
                if build is not None and read is not None:
                    self.taken[build] = expected[1]
            if kept is None and key is not None:
                kept = kept_analysis(binary, cache, key)
            if build is not None and key is not None and (expected is None or expected[0] != key):
                predict(cache, build, key)
            if kept is not None:
                side.set_result(Side(OK, report=kept, name=binary.name))
                return
            if self.pool is None:
                side.set_result(_analyse(outcome, self.cache, key))
                return
            self.pool.submit(_analyse, outcome, self.cache, key).add_done_callback(lambda f: _handed_on(f, side))
        except BaseException as exc:  # noqa: BLE001 - whatever failed is the analysis's result (re-raised by result())
            side.set_exception(exc)

    def _analysed(self, outcome: BuildOutcome, label: str) -> tuple[BuildOutcome, str, Future[Side]]:
        if self.pool is None or outcome.status != OK:
            done: Future[Side] = Future()
            done.set_result(_analyse(outcome, self.cache))
            self._said(label, done, outcome.binary)
            return outcome, label, done
        future = self.pool.submit(_analyse, outcome, self.cache)
        future.add_done_callback(lambda f: self._said(label, f, outcome.binary))
        return outcome, label, future

    def _said(self, label: str, future: Future[Side], binary: Path | None = None) -> None:
        if not future.cancelled() and future.exception() is None:
            side = future.result()
            self.say(f"{label}: {format_size(side.size) if side.size is not None else side.status}")
            if binary is not None and not self.keep_binaries and side.status == OK:
                try:
                    binary.unlink(missing_ok=True)  # analysed: read again only when its analysis failed
                except OSError:
                    pass  # removed with its directory

    def result(self, analysis: tuple[BuildOutcome, str, Future[Side]]) -> Side:
        outcome, _label, future = analysis
        try:
            return future.result()
        except BrokenProcessPool:  # a worker was killed (out of memory?): analyse here
            return _analyse(outcome, self.cache)


def _handed_on(analysed: Future[Side], side: Future[Side]) -> None:
    """A worker's analysis as the result of the lookup that handed it on."""
    if analysed.cancelled():
        side.cancel()
        return
    exc = analysed.exception()
    if exc is not None:
        side.set_exception(exc)
    else:
        side.set_result(analysed.result())


def _worker_signals() -> None:
    """A worker leaves Ctrl-C to the parent (which ends the workers as it unwinds) and dies on SIGTERM,
    instead of running the parent's handlers it was forked with."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _build_side(side: str, checkout: Path, jobs: Sequence[Job], out_dir: Path, go: str,
                env: Mapping[str, str] | None, say: Progress, analyses: _Analyses,
                then: Callable[[int, tuple[BuildOutcome, str, Future[Side]]], None] | None = None,
                more: Callable[[], Sequence[Job]] | None = None, build_of: Callable[[int], str] | None = None,
                begun: Mapping[int, Future[BuildOutcome]] | None = None,
                ) -> list[tuple[BuildOutcome, str, Future[Side]]]:
    """Build every job in one checkout (go builds in parallel, custom commands in turn); returns when
    all are built, with each binary's analysis submitted to ``analyses`` (and handed to ``then``).
    ``more``: called once ``jobs`` are started, the full list of jobs (``jobs`` first); what it raises
    is raised once the builds under way end. ``build_of``: the id of the build of job i (see _Analyses).
    ``begun``: builds of jobs (by index) started before, whose outcomes are taken."""
    jobs = list(jobs)
    results: list[tuple[BuildOutcome, str, Future[Side]] | None] = [None] * len(jobs)
    lock = threading.Lock()  # custom build commands write in the checkout: one at a time
    workers = max(1, min(len(jobs), os.cpu_count() or 1)) if more is None else os.cpu_count() or 1
    first = min(workers, sum(1 for _t, _p, s in jobs if s.command is None))  # go builds started at once
    running = [0]
    counted = threading.Lock()
    if begun:
        analyses.building.set()  # those builds run already

    def started() -> None:
        with counted:
            running[0] += 1
            if running[0] >= first:
                analyses.building.set()

    def one(i: int) -> None:
        target, platform, strategy = jobs[i]
        label = f"{side} {target.name} {platform} {strategy.name}"
        say(f"building {label}")
        if begun and i in begun:
            outcome = begun[i].result()
        elif strategy.command is not None:
            with lock:
                outcome = build_binary(checkout, target, platform, strategy, out_dir / str(i), go=go, env=env)
        else:
            outcome = build_binary(checkout, target, platform, strategy, out_dir / str(i), go=go, env=env,
                                   started=started)
        analysis = results[i] = analyses.submit(outcome, label, build_of(i) if build_of is not None else None)
        if then is not None:
            then(i, analysis)

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            submitted = [pool.submit(one, i) for i in range(len(jobs))]
            if more is not None:
                full = list(more())
                results.extend([None] * (len(full) - len(jobs)))
                jobs[len(jobs):] = full[len(jobs):]
                submitted += [pool.submit(one, i) for i in range(len(submitted), len(jobs))]
            for future in submitted:
                future.result()  # re-raises setup errors (no go, bad platform) in the caller
    finally:
        analyses.building.set()  # however few builds ran
    return [r for r in results if r is not None]


def _analyse(outcome: BuildOutcome, cache: Path | None = None, key: str | None = None) -> Side:
    if outcome.status == MISSING:
        return Side(MISSING, error=outcome.error)
    if outcome.status != OK or outcome.binary is None:
        return Side(FAILED, error=outcome.error or "the build failed")
    name = outcome.binary.name
    try:
        report = analyze_cached(outcome.binary, cache, functions=True) if key is None or cache is None \
            else analyze_and_keep(outcome.binary, cache, key)  # not kept: looked up before
    except Exception as exc:  # noqa: BLE001 - one binary we cannot read must not sink the whole report
        message = " ".join(str(exc).split()) or type(exc).__name__
        if not isinstance(exc, SizebotError):
            message = f"{type(exc).__name__}: {message}"
        return Side(FAILED, error=f"cannot analyse {name}: {message}"[:600], name=name)
    return Side(OK, report=report, name=name)


def _diff_ahead(base: Future[BinaryReport | None], head: Future[BinaryReport | None],
                top: int | None) -> BinaryDiff | None:
    """The diff of two analyses read ahead (None when either could not be read)."""
    old, new = base.result(), head.result()
    return diff_reports(old, new, top=top) if old is not None and new is not None else None


def _diff(base: Side, head: Side, top: int | None) -> BinaryDiff | None:
    if base.status == OK and head.status == OK and base.report is not None and head.report is not None:
        return diff_reports(base.report, head.report, top=top)
    return None


def _compare(jobs: Sequence[Job], base: Sequence[Side], head: Sequence[Side], top: int | None,
             diffs: Mapping[int, Future[BinaryDiff | None]] | None = None) -> list[Comparison]:
    """One Comparison per job; ``diffs``: the diffs of these sides worked out already, by job."""
    out = []
    for i, ((target, platform, strategy), b, h) in enumerate(zip(jobs, base, head, strict=True)):
        early = (diffs or {}).get(i)
        worked_out = early is not None and not early.cancelled() and early.exception() is None
        diff = early.result() if early is not None and worked_out else _diff(b, h, top)
        out.append(Comparison(target=target.name, package=target.package, platform=platform,
                              strategy=strategy.name, base=b, head=h, diff=diff))
    return out


def _with_chains(comparisons: list[Comparison], graphs: Graphs, base_graphs: Graphs,
                 notes: list[str]) -> list[Comparison]:
    """Import chains at the head for every package a build added, and both sides' import graphs (of
    its target x platform), when both sides built."""
    out = []
    said: set[tuple[str, str]] = set()
    for c in comparisons:
        if c.diff is not None:
            head, base = graphs.get((c.target, c.platform)), base_graphs.get((c.target, c.platform))
            try:
                head_graph = head.result() if head is not None else None
                base_graph = base.result() if base is not None else None
            except SizebotError as exc:
                if (c.target, c.platform) not in said:
                    notes.append(f"{c.target} {c.platform}: import chains unavailable ({exc})")
                    said.add((c.target, c.platform))
                head_graph = base_graph = None
            found = chains_in(head_graph, c.diff.added_packages) if head_graph is not None else {}
            added = set(c.diff.added_packages)
            c = replace(c, chains=tuple(sorted((p, tuple(chain)) for p, chain in found.items() if p in added)),
                        head_graph=head_graph, base_graph=base_graph)
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
        if _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options",
                f"{candidate}^{{commit}}").returncode != 0:
            continue
        proc = _git(repo, "merge-base", "--end-of-options", head, candidate)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip(), candidate
        raise GitError(f"{repo}: {head} and {candidate} have no common ancestor: name the base with --base REF")
    raise GitError(f"{repo}: none of {', '.join(BASE_CANDIDATES)} exists: name the base commit with --base REF")
