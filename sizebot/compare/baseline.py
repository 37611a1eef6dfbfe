"""Baselines: the fingerprint of a set of builds, whether a baseline can stand in for the base, the
history carried from one baseline to the next, and the trend the report shows. Pure, but for
``reuse_baseline``, which asks the go command which Go would build the base."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sizebot import __version__
from sizebot.compare.model import FAILED, MISSING, OK, Side
from sizebot.config import Strategy, Target
from sizebot.documents.baseline import Baseline, BaselineBuild, BuildSpec, Fingerprint, HistoryEntry

DEFAULT_HISTORY = 30
# The environment that changes what go build writes (the caches, the proxy and GOPATH do not).
BUILD_ENV = ("GOFLAGS", "CGO_ENABLED", "CC", "CXX", "CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_LDFLAGS",
             "GOAMD64", "GOARM", "GOARM64", "GO386", "GOEXPERIMENT", "GOMIPS", "GOMIPS64", "GOPPC64", "GORISCV64",
             "GOWASM", "GOFIPS140", "GODEBUG")

Job = tuple[Target, str, Strategy]


def build_spec(target: Target, platform: str, strategy: Strategy) -> BuildSpec:
    env = dict(target.env)
    env.update(dict(strategy.env))
    return BuildSpec(target=target.name, package=target.package, platform=platform, strategy=strategy.name,
                     flags=tuple(strategy.flags), tags=tuple(target.tags), env=tuple(sorted(env.items())),
                     command=strategy.command, output=strategy.output, post=tuple(strategy.post))


def fingerprint(jobs: Sequence[Job], go_version: str, env: Mapping[str, str] | None, path: str) -> Fingerprint:
    source = os.environ if env is None else env
    return Fingerprint(builds=tuple(build_spec(*job) for job in jobs), go_version=go_version,
                       env=tuple(sorted((k, source[k]) for k in BUILD_ENV if source.get(k))), path=path,
                       sizebot=__version__)


def side_of(build: BaselineBuild) -> Side:
    if build.status == OK and build.report is not None:
        return Side(OK, report=build.report, name=build.name)
    return Side(MISSING if build.status == MISSING else FAILED, error=build.error, name=build.name)


def base_sides(baseline: Baseline, base_sha: str, wanted: Fingerprint) -> tuple[list[Side] | None, str | None]:
    """The base's sides from ``baseline`` (in build order), or None and the reason it cannot stand in."""
    short = baseline.sha[:12]
    if baseline.sha != base_sha:
        return None, (f"the baseline was measured at {short}, not at the base {base_sha[:12]}: "
                      "the base was built")
    if baseline.fingerprint.digest != wanted.digest:
        why = "; ".join(wanted.differences(baseline.fingerprint))
        return None, f"the baseline of {short} was measured with {why}: the base was built"
    return [side_of(b) for b in baseline.builds], None


def reuse_baseline(baseline: Baseline, base_sha: str, jobs: Sequence[Job], checkout: Path, go: str,
                   env: Mapping[str, str] | None) -> tuple[list[Side] | None, str | None]:
    """``base_sides`` for the base checked out at ``checkout`` (the fixed build path), with the Go the go
    command selects there."""
    from sizebot.builds.toolchain import selected_version

    if baseline.sha != base_sha:  # said without asking go anything
        return base_sides(baseline, base_sha, baseline.fingerprint)
    wanted = fingerprint(jobs, selected_version(checkout, go, env), env, str(checkout))
    return base_sides(baseline, base_sha, wanted)


def baseline_builds(jobs: Sequence[Job], sides: Sequence[Side]) -> tuple[BaselineBuild, ...]:
    return tuple(BaselineBuild(spec=build_spec(*job), status=side.status, error=side.error, name=side.name,
                               report=side.report if side.status == OK else None)
                 for job, side in zip(jobs, sides, strict=True))


def carried_history(previous: Baseline | None, entry: HistoryEntry,
                    keep: int = DEFAULT_HISTORY) -> tuple[HistoryEntry, ...]:
    """The previous baseline's history with ``entry`` last, the last ``keep`` of them. A commit already
    there is measured again (its entry replaced). Entries from a baseline measured with another
    fingerprint are kept: the chart shows each build by its label, and a step there is a real step."""
    entries = [h for h in (previous.history if previous is not None else ()) if h.sha != entry.sha]
    entries.append(entry)
    return tuple(entries[-keep:]) if keep > 0 else ()


def trend(history: Sequence[HistoryEntry], label: str, base_sha: str, base_size: int | None,
          head_sha: str, head_size: int | None) -> dict[str, Any] | None:
    """The headline build's size over the history with the head as the last point, and the largest step
    between two successive measured commits, beside this change (head - base). None without two points."""
    points = [(h.sha, h.date, h.subject, s) for h in history if (s := h.size_of(label)) is not None]
    if head_size is None or not points:
        return None
    steps = [(b[0], b[3] - a[3]) for a, b in zip(points, points[1:], strict=False)]
    largest = max(steps, key=lambda s: (abs(s[1]), s[1]), default=None)
    return {
        "build": label,
        "points": [{"sha": sha, "date": date, "subject": subject, "size": s} for sha, date, subject, s in points],
        "head": {"sha": head_sha, "size": head_size},
        "delta": None if base_size is None else head_size - base_size,
        "base_sha": base_sha,
        "largest_step": None if largest is None else {"sha": largest[0], "delta": largest[1]},
    }
