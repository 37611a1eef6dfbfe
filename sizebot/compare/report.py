"""What was measured -> the report document (``sizebot.documents.report.Report``; pure: no I/O, no clock).

Inputs are the comparisons (one per target x platform x strategy, each with its two sides,
their BinaryReports and the BinaryDiff), the budget results, the overrides, the image section
and notes; the output is the typed document the renderers read (its JSON: ``Report.to_json``,
sizebot/schemas/report.schema.json, docs/json-schema.md).

Size of the document: every embedded analysis keeps its sections, modules and unattributed rows,
but only the ``top`` largest packages and functions; every diff keeps its sections and all
*changed* packages, modules and unattributed rows (unchanged ones carry nothing a reader needs,
and the changed ones must all be there for the totals), and the ``top`` changed functions.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace

from sizebot.budgets import BuildMeasurement, ImageMeasurement, evaluate, verdict
from sizebot.builds.discover import ImportGraph, chains_in
from sizebot.compare.model import Comparison, Side
from sizebot.config import Config
from sizebot.documents.analyze import UNKNOWN, BinaryReport
from sizebot.documents.diff import BinaryDiff
from sizebot.documents.report import (
    FAILED,
    MISSING,
    OK,
    BudgetResult,
    Build,
    BuildDiff,
    BuildSide,
    Commit,
    ConfigUsed,
    Dependency,
    Override,
    Repo,
    Report,
    ReportImage,
    Waterfall,
    WaterfallStep,
)
from sizebot.documents.verdict import Verdict

DEFAULT_TOP = 20
TOTALS_WORK = 20_000_000  # packages and imports visited for the totals of one side (gopls: ~15,000 per total)


# ---- one build --------------------------------------------------------------------------------

def build_side(side: Side, *, top: int | None = DEFAULT_TOP) -> BuildSide:
    """The side as the document has it: its analysis named by the binary's file name, packages and
    functions cut to ``top``."""
    binary = None
    if side.status == OK and side.report is not None:
        binary = side.report
        if side.name:
            binary = replace(binary, path=side.name)
        if top is not None:
            binary = replace(binary, packages=binary.packages[:top], functions=binary.functions[:top])
    return BuildSide(status=side.status, error=side.error, binary=binary)


def _main_module(report: BinaryReport) -> str:
    info = report.build_info
    if info is not None and info.main is not None:
        return info.main.path
    return next((p.module for p in report.packages if p.name == "main"), "")


_MAJOR = re.compile(r"(/v[0-9]+|\.v[0-9]+)$")


def _unversioned(module: str) -> str:
    """The module path without its major-version suffix (chroma/v2 -> chroma, yaml.v3 -> yaml)."""
    return _MAJOR.sub("", module)


def upgrades(diff: BinaryDiff) -> tuple[tuple[str, str], ...]:
    """(removed, added) module pairs that are one module at another major version (chroma -> chroma/v2);
    not the main module's own (its rename is no dependency)."""
    removed = {_unversioned(m): m for m in diff.removed_modules if m != _main_module(diff.old)}
    pairs = []
    for module in diff.added_modules:
        if module == _main_module(diff.new):
            continue
        old = removed.pop(_unversioned(module), None)
        if old is not None:
            pairs.append((old, module))
    return tuple(pairs)


def _listed(report: BinaryReport, modules: Sequence[str], packages: Sequence[str],
            chains: Mapping[str, Sequence[str]], graph: ImportGraph | None,
            upgraded: Collection[str]) -> list[Dependency]:
    """The dependencies one side has that the other lacks (see new_dependencies), each with its own
    bytes and, with the side's import graph, the bytes of every package only it brings in."""
    package_module = {p.name: p.module for p in report.packages}
    package_size = {p.name: p.size for p in report.packages}
    module_size = {m.path: m.size for m in report.modules}
    package_estimated = {p.name: p.data_estimated for p in report.packages if p.data_estimated}
    module_estimated: dict[str, int] = {}
    for p in report.packages:
        if p.data_estimated:
            module_estimated[p.module] = module_estimated.get(p.module, 0) + p.data_estimated
    main_module = _main_module(report)

    def module_of(path: str) -> str:
        if path in package_module:
            return package_module[path]
        if main_module and (path == main_module or path.startswith(main_module + "/")):
            return main_module  # the main package: "main" in the binary, its import path in chains
        return ""

    # each total walks the whole graph: a budget keeps a forged graph (a baseline's) with many removed
    # packages from making the report quadratic; past it, totals are unknown (None), never wrong
    walk = len(graph.parent) + sum(len(i) for i in graph.imports.values()) if graph is not None else 0
    spent = [0]

    def total(removed: Iterable[str]) -> tuple[int | None, int]:
        """(the bytes only ``removed`` brings in, of them estimated)"""
        if graph is None or spent[0] + walk > TOTALS_WORK:
            return None, 0
        spent[0] += walk
        only = graph.only_through(set(removed))
        return sum(package_size.get(p, 0) for p in only), sum(package_estimated.get(p, 0) for p in only)

    changed = set(packages)
    out: list[Dependency] = []
    for module in modules:
        if module == main_module:
            continue  # the module's own rename: not a dependency
        mine = [p for p, m in package_module.items() if m == module]
        reached = sorted((len(chains[p]), p) for p in mine if p in chains)
        chain = tuple(chains[reached[0][1]]) if reached else (module,)
        total_size, total_estimated = total(p for p in graph.parent if module_of(p) == module) \
            if graph is not None else (None, 0)
        out.append(Dependency("module", module, module, module_size.get(module, 0), chain, total_size=total_size,
                              estimated=min(module_estimated.get(module, 0), module_size.get(module, 0)),
                              total_estimated=total_estimated))
    for package in packages:
        chain = tuple(chains.get(package) or (package,))
        if package in modules or module_of(package) in upgraded:
            continue  # the module's own line (or its upgrade's) says it
        if chains:
            if len(chain) < 2:
                continue  # no import reaches it: nothing to say why it is there
            importer = module_of(chain[1])
            if importer != main_module and (chain[1] in changed or module_of(package) == importer == "std"):
                continue
        total_size, total_estimated = total([package])
        out.append(Dependency("package", package, package_module.get(package, ""), package_size.get(package, 0),
                              chain, total_size=total_size, estimated=package_estimated.get(package, 0),
                              total_estimated=total_estimated))
    return out


def new_dependencies(diff: BinaryDiff, chains: Mapping[str, Sequence[str]], *,
                     top: int | None = DEFAULT_TOP, graph: ImportGraph | None = None) -> tuple[Dependency, ...]:
    """What the head links in that the base did not, largest first (``top`` of them), each with the
    import chain that pulls it in: [package, importer, ..., main package], and with the head's import
    ``graph`` its total cost: the bytes of every package reachable from the main package only through it.

    Every new module is listed (its chain: that of its package nearest to the main package), but one
    that replaces a module at another major version is an upgrade (see module_upgrades) and the main
    module's own rename is none. New packages are listed where new code is entered from outside:
    imported by the project's own code (the main module), or a package of another module imported by
    a package the base already had (golang.org/x/net/http2 under net/http). Not listed: packages pulled
    in by new packages of other modules (crypto/tls under a new net/http: net/http is the news), and
    standard-library packages imported by the standard library (os now linking internal/filepathlite).
    Without any chain (go list failed), every new package is listed with the chain [itself]."""
    upgraded = {new for _, new in upgrades(diff)}
    # UNKNOWN (bytes the analyser could not place, e.g. after a Go upgrade) is no dependency
    modules = [m for m in diff.added_modules if m not in upgraded and m != UNKNOWN]
    packages = [p for p in diff.added_packages if p != UNKNOWN]
    out = _listed(diff.new, modules, packages, chains, graph, upgraded)
    out.sort(key=lambda d: (-d.size, d.kind != "module", d.name))
    return tuple(out if top is None else out[:top])


def removed_dependencies(diff: BinaryDiff, graph: ImportGraph | None, *,
                         top: int | None = DEFAULT_TOP) -> tuple[Dependency, ...]:
    """What the base linked in that the head does not, as new_dependencies lists the head's, from the
    base's import ``graph`` (chains and total cost); sizes are the base's bytes."""
    upgraded = {old for old, _ in upgrades(diff)}
    modules = [m for m in diff.removed_modules if m not in upgraded and m != UNKNOWN]
    packages = [p for p in diff.removed_packages if p != UNKNOWN]
    chains = chains_in(graph, packages) if graph is not None else {}
    out = _listed(diff.old, modules, packages, chains, graph, upgraded)
    out.sort(key=lambda d: (-d.size, d.kind != "module", d.name))
    return tuple(out if top is None else out[:top])


def module_upgrades(diff: BinaryDiff, chains: Mapping[str, Sequence[str]]) -> tuple[Dependency, ...]:
    """A module replaced by itself at another major version (chroma -> chroma/v2): one row, its size
    at the head beside the replaced module's at the base (their difference is the net change)."""
    old_sizes = {m.path: m.size for m in diff.old.modules}
    new_sizes = {m.path: m.size for m in diff.new.modules}
    package_module = {p.name: p.module for p in diff.new.packages}
    new_estimated = {r.name: r.new_estimated for r in diff.modules if r.new_estimated}
    out = []
    for old, new in upgrades(diff):
        reached = sorted((len(chain), p) for p, chain in chains.items() if package_module.get(p) == new)
        chain = tuple(chains[reached[0][1]]) if reached else (new,)
        out.append(Dependency("upgrade", new, new, new_sizes.get(new, 0), chain, replaces=old,
                              replaced_size=old_sizes.get(old, 0),
                              estimated=min(new_estimated.get(new, 0), new_sizes.get(new, 0))))
    return tuple(out)


def build(c: Comparison, *, top: int | None = DEFAULT_TOP) -> Build:
    diff = c.diff
    return Build(
        target=c.target, package=c.package, platform=c.platform, strategy=c.strategy,
        base=build_side(c.base, top=top), head=build_side(c.head, top=top),
        diff=BuildDiff.of(diff, top=top) if diff is not None else None,
        base_size=c.base.size, head_size=c.head.size,
        new_dependencies=(module_upgrades(diff, dict(c.chains))
                          + new_dependencies(diff, dict(c.chains), top=top, graph=c.head_graph))
        if diff is not None else (),
        removed_dependencies=removed_dependencies(diff, c.base_graph, top=top) if diff is not None else (),
    )


# ---- across builds ------------------------------------------------------------------------------

def _ordered(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)


def waterfalls(comparisons: Sequence[Comparison], strategies: Sequence[str]) -> tuple[Waterfall, ...]:
    """Per target x platform (report order), the head's size under each strategy in ``strategies``
    order, and what each step saves against the step before (negative when it grows). Only where
    at least two strategies built."""
    order = {name: i for i, name in enumerate(strategies)}
    out = []
    for target in _ordered(c.target for c in comparisons):
        for platform in _ordered(c.platform for c in comparisons if c.target == target):
            built = [c for c in comparisons
                     if c.target == target and c.platform == platform and c.head.size is not None]
            built.sort(key=lambda c: order.get(c.strategy, len(order)))
            if len(built) < 2:
                continue
            steps: list[WaterfallStep] = []
            previous = None
            for c in built:
                size = c.head.size
                assert size is not None
                steps.append(WaterfallStep(c.strategy, size, 0 if previous is None else previous - size))
                previous = size
            out.append(Waterfall(target, platform, tuple(steps)))
    return tuple(out)


def measurements(comparisons: Iterable[Comparison]) -> tuple[BuildMeasurement, ...]:
    """What the budgets judge, one per comparison (a side that is not "ok" counts as absent)."""
    return tuple(BuildMeasurement.from_reports(
        c.target, c.platform, c.strategy,
        c.base.report if c.base.status == OK else None,
        c.head.report if c.head.status == OK else None,
        c.diff, head_missing=c.head.status == MISSING) for c in comparisons)


def compared(comparisons: Iterable[Comparison], image: ImageMeasurement | None = None) -> bool:
    """Whether anything had both a base and a head (else the verdict is at best "neutral")."""
    if any(c.delta is not None for c in comparisons):
        return True
    return image is not None and image.head_size is not None and image.base_size is not None


def judge(config: Config, comparisons: Sequence[Comparison], *, image: ImageMeasurement | None = None,
          overrides: Sequence[Override] = ()) -> tuple[tuple[BudgetResult, ...], Verdict]:
    """The budget results (rule order, then build order, then image rules) and the verdict: a head
    that does not build never passes, and a build that fails at base and head alike is an error."""
    results = evaluate(config.budgets, measurements(comparisons),
                       image_rules=config.image.budgets if config.image is not None else (),
                       image=image, overrides=overrides)
    return results, verdict(results, compared(comparisons, image),
                            head_failed=any(c.head.status == FAILED for c in comparisons),
                            failed_alike=any(failed_alike(c) for c in comparisons))


def failed_alike(c: Comparison) -> bool:
    """Both sides failed: nothing in the pull request broke it, so the configuration cannot work."""
    return c.base.status == FAILED and c.head.status == FAILED


def comparison_notes(comparisons: Sequence[Comparison]) -> list[str]:
    """What a reader must know about builds that did not happen: one line each. A condition shared
    by every build of a target is said once for it ("tool: ..."), one shared by every strategy of a
    target x platform once for that ("app linux/arm64: ...")."""
    platforms_of: dict[str, list[str]] = {}
    strategies_of: dict[tuple[str, str], set[str]] = {}
    for c in comparisons:
        platforms_of.setdefault(c.target, [])
        if c.platform not in platforms_of[c.target]:
            platforms_of[c.target].append(c.platform)
        strategies_of.setdefault((c.target, c.platform), set()).add(c.strategy)
    count = {t: sum(len(strategies_of[(t, p)]) for p in ps) for t, ps in platforms_of.items()}
    groups: dict[tuple[str, str, str], list[Comparison]] = {}
    for c in comparisons:
        if failed_alike(c):
            groups.setdefault((c.target, "both", _side_problem(c, "head", c.head)), []).append(c)
            continue
        for side_name, side in (("base", c.base), ("head", c.head)):
            if side.status != OK:
                groups.setdefault((c.target, side_name, _side_problem(c, side_name, side)), []).append(c)
    notes = []
    for (target, side_name, problem), members in groups.items():
        if len(members) > 1 and len(members) == count[target] and len(platforms_of[target]) > 1:
            labels = [target]
        else:
            labels = []
            for platform in _ordered(c.platform for c in members):
                here = [c for c in members if c.platform == platform]
                if len(here) > 1 and {c.strategy for c in here} == strategies_of[(target, platform)]:
                    labels.append(f"{target} {platform}")
                else:
                    labels.extend(c.label for c in here)
        missing = (members[0].base if side_name == "base" else members[0].head).status == MISSING
        for label in labels:
            if side_name == "both":
                notes.append(f"{label}: fails to build at the base and the head alike ({problem}): "
                             "check the target and the strategy in sizebot.toml")
            elif side_name == "base":
                notes.append(f"{label}: the base does not build ({problem}): comparing against nothing")
            elif missing:
                notes.append(f"{label}: {problem}: nothing to measure")
            else:
                notes.append(f"{label}: the head does not build ({problem})")
    for c in comparisons:
        for side_name, side in (("base", c.base), ("head", c.head)):
            if side.report is not None:
                notes.extend(f"{c.label} ({side_name}): {n}" for n in side.report.notes)
    return _ordered(notes)


def _side_problem(c: Comparison, side_name: str, side: Side) -> str:
    if side.status == MISSING:
        return f"package {c.package} does not exist at the {side_name}"
    return side.error or ("failed" if side.status == FAILED else side.status)


# ---- the document -------------------------------------------------------------------------------

def report(*, repo: Mapping[str, str], base: Commit, head: Commit, config: Config,
           comparisons: Sequence[Comparison], budgets: Sequence[BudgetResult], verdict_: Verdict,
           overrides: Sequence[Override] = (), image: ReportImage | None = None,
           notes: Sequence[str] = (), top: int | None = DEFAULT_TOP) -> Report:
    """The report document. ``notes`` come first (run-level: config, discovery), then the builds' own."""
    return Report(
        verdict=verdict_,
        repo=Repo(path=str(repo["path"]), name=str(repo["name"])),
        base=base,
        head=head,
        config=ConfigUsed(path=config.path, defaulted=config.defaulted),
        builds=tuple(build(c, top=top) for c in comparisons),
        waterfalls=waterfalls(comparisons, [s.name for s in config.strategies]),
        image=image,
        budgets=tuple(budgets),
        overrides=tuple(overrides),
        notes=tuple(_ordered([*notes, *comparison_notes(comparisons)])),
    )


def assemble(*, repo: Mapping[str, str], base: Commit, head: Commit, config: Config,
             comparisons: Sequence[Comparison], overrides: Sequence[Override] = (),
             image: ReportImage | None = None, image_measurement: ImageMeasurement | None = None,
             notes: Sequence[str] = (), top: int | None = DEFAULT_TOP) -> Report:
    """Judge (budgets, verdict) and build the document in one call."""
    results, verdict_ = judge(config, comparisons, image=image_measurement, overrides=overrides)
    return report(repo=repo, base=base, head=head, config=config, comparisons=comparisons, budgets=results,
                  verdict_=verdict_, overrides=overrides, image=image, notes=notes, top=top)
