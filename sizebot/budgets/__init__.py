"""Budget rules of sizebot.toml -> one ``BudgetResult`` per rule, check and build; the verdict (pure).

Semantics (docs/configuration.md repeats them):
* ``max_size`` and per-package/per-module caps judge the head alone, so they apply even
  when there is no base to compare with; ``max_increase`` and ``new_modules`` need a base
  and are ``skipped`` without one. Nothing is judged for a head that did not build.
* Exceeding means strictly greater: a binary exactly at its limit passes. A percentage
  increase is ``100 * (head - base) / base``; it is compared exactly, and reported rounded
  to 4 decimals.
* An exceeded check has its rule's ``level`` as status (``fail`` or ``warn``); ``new_modules``
  is itself the level ("warn"/"fail"; "allow" checks nothing).
* A rule whose scope (targets, platforms, strategies) names no build of the report gives one
  ``skipped`` row saying it judged nothing: never silence, which would pass every pull request.
* A build in a rule's scope whose package the head no longer has (deleted, renamed) has the
  rule's level as status ("the head no longer builds ..."): a pull request cannot escape a budget by
  removing what it judges; the override is the way to accept that on purpose.
* Overrides (a PR label or a commit trailer) turn every ``fail`` into ``overridden`` with the
  reason; warnings stay warnings. Verdict: a build that fails at base and head alike (the config
  cannot work) -> error; a head that does not build, or any fail -> fail (no override passes a head
  that does not build); any warn/overridden -> warn; nothing compared -> neutral; else pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sizebot.budgets.overrides import Override
from sizebot.config import BudgetRule, ImageBudgetRule
from sizebot.documents.analyze import UNKNOWN
from sizebot.documents.report import BudgetResult
from sizebot.documents.verdict import Verdict
from sizebot.units import format_size

if TYPE_CHECKING:
    from sizebot.documents.analyze import BinaryReport
    from sizebot.documents.diff import BinaryDiff
    from sizebot.documents.image import ImageReport

STATUSES = ("pass", "warn", "fail", "overridden", "skipped")


@dataclass(frozen=True)
class BuildMeasurement:
    """One target x platform x strategy, as the builds helper measured it."""

    target: str
    platform: str  # "goos/goarch"
    strategy: str
    base_size: int | None  # None: no base build to compare with (missing or failed)
    head_size: int | None  # None: the head did not build
    head_packages: Mapping[str, int] = field(default_factory=dict)  # package path -> bytes (PackageSize.size)
    head_modules: Mapping[str, int] = field(default_factory=dict)  # module path -> bytes (ModuleSize.size)
    new_modules: tuple[str, ...] = ()  # modules in head and not in base (BinaryDiff.added_modules)
    base_packages: Mapping[str, int] = field(default_factory=dict)  # to tell a typo from a removed package
    head_missing: bool = False  # the head has no such package: it no longer builds what the base built

    @property
    def subject(self) -> str:
        return f"{self.target} {self.platform} {self.strategy}"

    @classmethod
    def from_reports(cls, target: str, platform: str, strategy: str, base: BinaryReport | None,
                     head: BinaryReport | None, diff: BinaryDiff | None = None, *,
                     head_missing: bool = False) -> BuildMeasurement:
        """From the binary analyses of base and head (either may be None: missing or failed build)."""
        if base is not None and head is not None:
            added = diff.added_modules if diff is not None else tuple(
                m.path for m in head.modules if m.path not in {b.path for b in base.modules})
        else:
            added = ()
        added = tuple(m for m in added if m != UNKNOWN)  # not a module: bytes the analyser could not place
        return cls(
            target=target, platform=platform, strategy=strategy,
            base_size=base.file_size if base is not None else None,
            head_size=head.file_size if head is not None else None,
            head_packages={p.name: p.size for p in head.packages} if head is not None else {},
            head_modules={m.path: m.size for m in head.modules} if head is not None else {},
            new_modules=added,
            base_packages={p.name: p.size for p in base.packages} if base is not None else {},
            head_missing=head_missing,
        )


# What each ``measure`` of an image budget judges, as its rows name it. The report saves each side
# with docker save, which stores plain layer tars: "compressed" (the key keeps its name) is their
# bytes, files plus tar headers, the image table's "layer tars as saved" row
IMAGE_SUBJECTS = {"compressed": "image (layer tars as saved)", "uncompressed": "image (uncompressed)"}


@dataclass(frozen=True)
class ImageMeasurement:
    """The configured image at base and head: dive's size (uncompressed) and the stored layer tars' size."""

    base_size: int | None
    head_size: int | None
    base_compressed_size: int | None
    head_compressed_size: int | None
    head_problem: str | None = None  # the head lost or broke its image (not the engine's fault): budgets fail

    @classmethod
    def from_reports(cls, base: ImageReport | None, head: ImageReport | None) -> ImageMeasurement:
        """Uncompressed = dive's image size (``ImageReport.size``); compressed = the layer tars as saved."""
        return cls(base_size=base.size if base else None, head_size=head.size if head else None,
                   base_compressed_size=base.compressed_size if base else None,
                   head_compressed_size=head.compressed_size if head else None)

    def sizes(self, measure: str) -> tuple[int | None, int | None]:
        if measure == "uncompressed":
            return self.base_size, self.head_size
        return self.base_compressed_size, self.head_compressed_size


def evaluate(rules: Sequence[BudgetRule], builds: Iterable[BuildMeasurement], *,
             image_rules: Sequence[ImageBudgetRule] = (), image: ImageMeasurement | None = None,
             overrides: Sequence[Override] = ()) -> tuple[BudgetResult, ...]:
    """Every rule against every build in its scope (rule order, then build order), then the image rules."""
    builds = tuple(builds)
    results: list[BudgetResult] = []
    for rule in rules:
        judged = [build for build in builds if _in_scope(rule, build)]
        for build in judged:
            results.extend(_judge_build(rule, build))
        if builds and not judged:  # never silent: a scope that names no build judges nothing, forever
            results.append(BudgetResult(f"budget[{rule.index}]", rule.level, "skipped", _scope(rule), None, None,
                                        "bytes", "no build of this report is in its scope: it judged nothing",
                                        source=_source(rule)))
    if image is not None:
        for image_rule in image_rules:
            results.extend(_judge_image(image_rule, image))
    return apply_overrides(tuple(results), overrides)


def apply_overrides(results: tuple[BudgetResult, ...], overrides: Sequence[Override]) -> tuple[BudgetResult, ...]:
    """fail -> overridden (with the reasons, "; "-joined) when any override is present."""
    if not overrides:
        return results
    reason = "; ".join(o.reason for o in overrides)
    return tuple(replace(r, status="overridden", override_reason=reason) if r.status == "fail" else r
                 for r in results)


def verdict(results: Iterable[BudgetResult], compared: bool, *, head_failed: bool = False,
            failed_alike: bool = False) -> Verdict:
    """The worst of the results (an override warns); neutral when nothing was compared or exceeded.
    ``failed_alike`` (a build failed at base and head: the config cannot work) is an error;
    ``head_failed`` (a head build failed) fails, whatever the budgets and overrides say."""
    if failed_alike:
        return Verdict.ERROR
    statuses = {r.status for r in results}
    if head_failed or "fail" in statuses:
        return Verdict.FAIL
    if statuses & {"warn", "overridden"}:
        return Verdict.WARN
    return Verdict.PASS if compared else Verdict.NEUTRAL


# ------------------------------------------------------------------------------------------

def _scope(rule: BudgetRule) -> str:
    """"targets app; platforms linux/arm64; strategies release": what a rule judges."""
    parts = [f"{key} {', '.join(values)}" for key, values in
             (("targets", rule.targets), ("platforms", rule.platforms), ("strategies", rule.strategies)) if values]
    return "; ".join(parts) or "every build"


def _in_scope(rule: BudgetRule, build: BuildMeasurement) -> bool:
    return ((not rule.targets or build.target in rule.targets)
            and (not rule.platforms or build.platform in rule.platforms)
            and (not rule.strategies or build.strategy in rule.strategies))


def _source(rule: BudgetRule | ImageBudgetRule) -> str:
    return f"image.budget[{rule.index}]" if isinstance(rule, ImageBudgetRule) else f"budget[{rule.index}]"


def _status(exceeded: bool, level: str) -> str:
    return level if exceeded else "pass"


def _limit_text(n: int | float) -> str:
    """A limit as people write it: "25 MB", not "25.0 MB" (the JSON keeps the exact bytes)."""
    number, unit = format_size(n).split(" ")
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return f"{number} {unit}"


def _percent_text(value: float) -> str:
    return f"{value:g}%"


def _max_increase_rule(limit: tuple[str, float]) -> str:
    kind, value = limit
    return f"max_increase {_percent_text(value) if kind == 'percent' else _limit_text(value)}"


def _max_size(rule, subject: str, head: int) -> BudgetResult:
    limit = rule.max_size
    return BudgetResult(f"max_size {_limit_text(limit)}", rule.level, _status(head > limit, rule.level), subject,
                        head, limit, "bytes", f"head is {format_size(head)} (limit {_limit_text(limit)})",
                        source=_source(rule))


def _max_increase(rule, subject: str, base: int | None, head: int) -> BudgetResult:
    kind, value = rule.max_increase
    name = _max_increase_rule(rule.max_increase)
    unit = "percent" if kind == "percent" else "bytes"
    if base is None:
        return BudgetResult(name, rule.level, "skipped", subject, None, value, unit,
                            "no base build to compare with", source=_source(rule))
    delta = head - base
    verb = "grew" if delta > 0 else "shrank" if delta < 0 else "kept its size"  # its contents may still differ
    if kind == "bytes":
        limit = int(value)
        amount = f" {format_size(abs(delta))}" if delta else ""
        return BudgetResult(name, rule.level, _status(delta > limit, rule.level), subject, delta, limit, unit,
                            f"head {verb}{amount} (limit {_limit_text(limit)})", source=_source(rule))
    if base == 0:
        return BudgetResult(name, rule.level, "skipped", subject, None, value, unit,
                            "the base is 0 bytes: no percentage", source=_source(rule))
    exceeded = 100 * delta > value * base  # exact: no float rounding at the boundary
    percent = round(100.0 * delta / base, 4)
    amount = f" {abs(percent):.2f}%" if delta else ""
    return BudgetResult(name, rule.level, _status(exceeded, rule.level), subject, percent, value, unit,
                        f"head {verb}{amount} (limit {_percent_text(value)})", source=_source(rule))


def _package_size(packages: Mapping[str, int], pattern: str) -> int | None:
    """Bytes of one package, or of a "path/..." tree (Go's pattern: the path and everything below)."""
    if pattern.endswith("/..."):
        root = pattern[:-4]
        found = [size for name, size in packages.items() if name == root or name.startswith(root + "/")]
        return sum(found) if found else None
    return packages.get(pattern)


def _cap(rule: BudgetRule, subject: str, kind: str, name: str, cap: int, actual: int | None) -> BudgetResult:
    label = f"{kind} {name} max_size {_limit_text(cap)}"
    if actual is None:
        return BudgetResult(label, rule.level, "pass", subject, 0, cap, "bytes",
                            f"{name} is not in the head binary (limit {_limit_text(cap)})", source=_source(rule))
    return BudgetResult(label, rule.level, _status(actual > cap, rule.level), subject, actual, cap, "bytes",
                        f"{name} is {format_size(actual)} (limit {_limit_text(cap)})", source=_source(rule))


def _new_modules(rule: BudgetRule, build: BuildMeasurement) -> BudgetResult:
    name = f"new_modules {rule.new_modules}"
    level = rule.new_modules
    if build.base_size is None:
        return BudgetResult(name, level, "skipped", build.subject, None, 0, "modules",
                            "no base build to compare with", source=_source(rule))
    new = build.new_modules
    if not new:
        return BudgetResult(name, level, "pass", build.subject, 0, 0, "modules", "no new modules",
                            source=_source(rule))
    shown = ", ".join(new[:5]) + (f" and {len(new) - 5} more" if len(new) > 5 else "")
    noun = "module" if len(new) == 1 else "modules"
    return BudgetResult(name, level, level, build.subject, len(new), 0, "modules",
                        f"{len(new)} new {noun}: {shown}", source=_source(rule))


def _judge_build(rule: BudgetRule, build: BuildMeasurement) -> list[BudgetResult]:
    subject = build.subject
    if build.head_missing:  # a build its budget cannot judge any more never passes it (an override may)
        return [BudgetResult(f"budget[{rule.index}]", rule.level, rule.level, subject, None, None, "bytes",
                             f"the head no longer builds {build.target} ({build.platform}, {build.strategy}): "
                             "its package is not at the head", source=_source(rule))]
    if build.head_size is None:
        return [BudgetResult(f"budget[{rule.index}]", rule.level, "skipped", subject, None, None, "bytes",
                             "the head did not build", source=_source(rule))]
    out: list[BudgetResult] = []
    if rule.max_size is not None:
        out.append(_max_size(rule, subject, build.head_size))
    if rule.max_increase is not None:
        out.append(_max_increase(rule, subject, build.base_size, build.head_size))
    for name, cap in rule.packages:
        out.append(_cap(rule, subject, "package", name, cap, _package_size(build.head_packages, name)))
    for name, cap in rule.modules:
        out.append(_cap(rule, subject, "module", name, cap, build.head_modules.get(name)))
    if rule.new_modules != "allow":
        out.append(_new_modules(rule, build))
    return out


def _judge_image(rule: ImageBudgetRule, image: ImageMeasurement) -> list[BudgetResult]:
    subject = IMAGE_SUBJECTS[rule.measure]
    base, head = image.sizes(rule.measure)
    if head is None:
        if image.head_problem is not None:  # like a budgeted build the head no longer has: never a pass
            return [BudgetResult(f"image.budget[{rule.index}]", rule.level, rule.level, subject, None, None,
                                 "bytes", image.head_problem, source=_source(rule))]
        return [BudgetResult(f"image.budget[{rule.index}]", rule.level, "skipped", subject, None, None, "bytes",
                             "the head image did not build", source=_source(rule))]
    out: list[BudgetResult] = []
    if rule.max_size is not None:
        out.append(_max_size(rule, subject, head))
    if rule.max_increase is not None:
        out.append(_max_increase(rule, subject, base, head))
    return out
