"""Baselines: the fingerprint of a set of builds, whether a baseline can stand in for the base (its
builds, import graphs and image), the history carried from one baseline to the next, and the trend the
report shows. Pure, but for ``image_analysis``, which reads the image analyser's sources."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from sizebot import __version__
from sizebot.builds.discover import ImportGraph, graph_of
from sizebot.compare.analysis_cache import analyser_fingerprint
from sizebot.compare.model import FAILED, MISSING, OK, Comparison, Side
from sizebot.config import ImageConfig, Job, Strategy, Target
from sizebot.documents.baseline import (
    Baseline,
    BaselineBuild,
    BaselineGraph,
    BaselineImage,
    BuildSpec,
    Fingerprint,
    HistoryEntry,
    ImageSpec,
)
from sizebot.documents.report import Trend, TrendPoint

DEFAULT_HISTORY = 30
# The environment that changes what go build writes (the caches, the proxy and GOPATH do not).
BUILD_ENV = ("GOFLAGS", "CGO_ENABLED", "CC", "CXX", "CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_LDFLAGS",
             "GOAMD64", "GOARM", "GOARM64", "GO386", "GOEXPERIMENT", "GOMIPS", "GOMIPS64", "GOPPC64", "GORISCV64",
             "GOWASM", "GOFIPS140", "GODEBUG")

def build_spec(target: Target, platform: str, strategy: Strategy) -> BuildSpec:
    env = dict(target.env)
    env.update(dict(strategy.env))
    return BuildSpec(target=target.name, package=target.package, platform=platform, strategy=strategy.name,
                     flags=tuple(strategy.flags), tags=tuple(target.tags), env=tuple(sorted(env.items())),
                     command=strategy.command, output=strategy.output, post=tuple(strategy.post))


def fingerprint(jobs: Sequence[Job], go_version: str, env: Mapping[str, str] | None, path: str) -> Fingerprint:
    source = os.environ if env is None else env
    # the analyser's own fingerprint beside the version: an analysis that changed must not be reused
    return Fingerprint(builds=tuple(build_spec(*job) for job in jobs), go_version=go_version,
                       env=tuple(sorted((k, source[k]) for k in BUILD_ENV if source.get(k))), path=path,
                       sizebot=f"{__version__}+{analyser_fingerprint()}")


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


Graph = ImportGraph | str  # an import graph, or why go list could not list it


def graph_record(target: str, platform: str, graph: Graph) -> BaselineGraph:
    if isinstance(graph, str):
        return BaselineGraph(target, platform, (), (), error=graph)
    return BaselineGraph(target, platform, graph.roots, tuple(graph.imports.items()))


def graph_from(record: BaselineGraph) -> Graph:
    return record.error if record.error is not None else graph_of(dict(record.imports), record.roots)


@cache
def image_analysis() -> str:
    """The image analyser's sources' digest (and Python's version): an image analysis that changed is not reused."""
    digest = hashlib.sha256(sys.version.encode())
    package = Path(__file__).resolve().parent.parent  # sizebot/
    sources = sorted((package / "image").glob("*.py"))
    sources.append(package / "documents" / "image.py")
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def image_spec(image: ImageConfig, top: int) -> ImageSpec:
    return ImageSpec(dockerfile=image.dockerfile, context=image.context, target=image.target,
                     build_args=tuple(sorted(image.build_args)), platform=image.platform, top=top,
                     analysis=image_analysis())


def base_image(baseline: Baseline, base_sha: str, image: ImageConfig,
               top: int) -> tuple[BaselineImage | None, str | None]:
    """The base's image from ``baseline``, or None and why it cannot stand in (None: it was not asked for)."""
    if baseline.sha != base_sha:
        return None, None  # the builds' note says it
    measured = baseline.image
    if measured is None:
        return None, f"the baseline of {baseline.sha[:12]} has no image measurement: the base image was built"
    wanted = image_spec(image, top)
    if measured.spec != wanted:
        why = ", ".join(wanted.differences(measured.spec))
        return None, (f"the baseline's image of {baseline.sha[:12]} was measured with other image settings ({why}): "
                      "the base image was built")
    return measured, None


@dataclass(frozen=True)
class BaselineUse:
    """What a report takes from a baseline: the base's sides (None: the base is built, ``note`` says
    why) with their import graphs by (target, platform), and the history of its trend (when the
    baseline measured the same builds)."""

    sides: list[Side] | None
    note: str | None
    history: tuple[HistoryEntry, ...]
    graphs: dict[tuple[str, str], Graph] = field(default_factory=dict)


def reuse_baseline(baseline: Baseline, base_sha: str, jobs: Sequence[Job], path: Path, base_go: str,
                   env: Mapping[str, str] | None) -> BaselineUse:
    """``base_sides`` for the base built at ``path`` (the fixed build path) with ``base_go`` (the Go the
    go command selects at the base)."""
    wanted = fingerprint(jobs, base_go, env, str(path))
    sides, note = base_sides(baseline, base_sha, wanted)
    same_builds = baseline.fingerprint.digest == wanted.digest
    graphs = {(g.target, g.platform): graph_from(g) for g in baseline.graphs} if sides is not None else {}
    return BaselineUse(sides, note, baseline.history if same_builds else (), graphs)


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


def trend(history: Sequence[HistoryEntry], headline: Comparison | None, head_sha: str) -> Trend | None:
    """The headline build's size over the history with the head as the last point, the largest step
    between two successive measured commits, and this change (head - base). None when the head did not
    build or the history never measured that build."""
    if headline is None or headline.head.size is None:
        return None
    label = headline.label
    points = tuple(TrendPoint(h.sha, h.date, h.subject, size) for h in history
                   if (size := h.size_of(label)) is not None)
    if not points:
        return None
    steps = [(b.sha, b.size - a.size) for a, b in zip(points, points[1:], strict=False)]
    largest = max(steps, key=lambda s: (abs(s[1]), s[1]), default=None)
    return Trend(build=label, points=points, head_sha=head_sha, head_size=headline.head.size, delta=headline.delta,
                 largest_step_sha=largest[0] if largest else None, largest_step=largest[1] if largest else None)
