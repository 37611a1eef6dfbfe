"""The report document (``sizebot/report@1``): base and head built per target x platform x strategy,
compared, and judged against the budgets (sizebot/schemas/report.schema.json).

compare produces it, budgets produce its ``BudgetResult`` rows, render only reads it, and the
comment stage reads a downloaded one back with ``Report.from_json``: strict about every type,
the first bad value named by its place (``builds[1].diff.packages[0].delta: ...``) in a
``DocumentError``.

Size of the document: every embedded analysis keeps its sections, modules and unattributed rows
but only the ``top`` largest packages and functions; every build's diff keeps its sections and all
*changed* packages, modules and unattributed rows (so their deltas add up), and the ``top``
changed functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sizebot.documents.analyze import BinaryReport
from sizebot.documents.diff import (
    DIFF_REQUIRED,
    FUNCTION_TOTALS,
    BinaryDiff,
    EmbedDelta,
    FunctionDelta,
    ModuleChange,
    SizeDelta,
    check_header,
    embed_delta_from_json,
    embeds_to_json,
    function_totals_from_json,
    function_totals_to_json,
    go_versions_from_json,
    rows_from_json,
    rows_to_json,
)
from sizebot.documents.diff import SCHEMA as DIFF_SCHEMA
from sizebot.documents.fields import Fields, integer, number, one_of, size, string, strings
from sizebot.documents.image import ImageReport
from sizebot.documents.image_diff import ImageDiff
from sizebot.documents.verdict import VERDICTS, Verdict
from sizebot.errors import DocumentError

SCHEMA = "sizebot/report@1"
BUDGET_STATUSES = ("pass", "warn", "fail", "overridden", "skipped")
BUDGET_UNITS = ("bytes", "percent", "modules")
SIDE_STATUSES = ("ok", "failed", "missing")
OK, FAILED, MISSING = SIDE_STATUSES
_PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9]+")
_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


# ---- commits, repository, config --------------------------------------------------------------------

@dataclass(frozen=True)
class Commit:
    ref: str  # as the user named it ("main", "HEAD"); what the report shows
    sha: str
    subject: str
    message: str = ""  # the full message: trailers (overrides) come from the head's; not in the document

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "sha": self.sha, "subject": self.subject}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> Commit:
        f = Fields(obj, where, ("ref", "sha", "subject"))
        sha = f.text("sha")
        if not _SHA.fullmatch(sha):
            raise DocumentError(f"{f.at('sha')}: expected a hexadecimal commit id")
        return cls(f.text("ref"), sha, f.text("subject"))


@dataclass(frozen=True)
class Repo:
    path: str
    name: str  # owner/name from the origin remote, else the directory's name

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "name": self.name}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> Repo:
        f = Fields(obj, where, ("path", "name"))
        return cls(f.text("path"), f.text("name"))


@dataclass(frozen=True)
class ConfigUsed:
    path: str | None  # the sizebot.toml used; None when none was found
    defaulted: bool  # no file: discovered targets and the default strategies

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "defaulted": self.defaulted}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> ConfigUsed:
        f = Fields(obj, where, ("path", "defaulted"))
        return cls(f.nullable("path", string), f.flag("defaulted"))


# ---- one build ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BuildSide:
    """One commit's build: "ok" (built and analysed), "failed" (build, post-step or analysis), "missing"
    (the target's package does not exist at this commit)."""

    status: str
    error: str | None = None  # one line for "failed" and "missing"
    binary: BinaryReport | None = None  # the analysis when "ok" (packages and functions cut to the top N)

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "error": self.error,
                "binary": self.binary.to_json() if self.binary is not None else None}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> BuildSide:
        f = Fields(obj, where, ("status", "error", "binary"))
        return cls(f.get("status", lambda v, w: one_of(v, w, SIDE_STATUSES)), f.nullable("error", string),
                   f.nullable("binary", BinaryReport.from_json))


@dataclass(frozen=True)
class BuildDiff:
    """A build's diff without its two analyses (those are the sides' binaries): the diff document's
    rows, with only the changed packages, modules and unattributed rows (all of them)."""

    old_size: int
    new_size: int
    old_go_version: str
    new_go_version: str
    sections: tuple[SizeDelta, ...]
    packages: tuple[SizeDelta, ...]
    modules: tuple[SizeDelta, ...]
    functions: tuple[FunctionDelta, ...]
    unattributed: tuple[SizeDelta, ...]
    module_changes: tuple[ModuleChange, ...] = ()
    added_packages: tuple[str, ...] = ()
    removed_packages: tuple[str, ...] = ()
    added_modules: tuple[str, ...] = ()
    removed_modules: tuple[str, ...] = ()
    embeds: tuple[EmbedDelta, ...] = ()  # embeds added, removed or changed
    functions_changed: int | None = None  # every changed function (``functions`` is the top N) ...
    functions_delta: int | None = None  # ... and the sum of their deltas

    @property
    def delta(self) -> int:
        return self.new_size - self.old_size

    @classmethod
    def of(cls, diff: BinaryDiff, *, top: int | None) -> BuildDiff:
        """The report's form of a diff: unchanged packages, modules and unattributed rows left out
        (the changed ones are all kept, so their deltas add up), functions cut to ``top``."""
        def changed(rows: tuple[SizeDelta, ...]) -> tuple[SizeDelta, ...]:
            return tuple(r for r in rows if r.delta != 0)

        return cls(old_size=diff.old.file_size, new_size=diff.new.file_size, old_go_version=diff.old.go_version,
                   new_go_version=diff.new.go_version, sections=diff.sections, packages=changed(diff.packages),
                   modules=changed(diff.modules),
                   functions=diff.functions if top is None else diff.functions[:top],
                   unattributed=changed(diff.unattributed), module_changes=diff.module_changes,
                   added_packages=diff.added_packages, removed_packages=diff.removed_packages,
                   added_modules=diff.added_modules, removed_modules=diff.removed_modules, embeds=diff.embeds,
                   functions_changed=diff.functions_changed, functions_delta=diff.functions_delta)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": DIFF_SCHEMA,
            "old_size": self.old_size,
            "new_size": self.new_size,
            "delta": self.delta,
            "go_version": {"old": self.old_go_version, "new": self.new_go_version},
            **rows_to_json(self.sections, self.packages, self.modules, self.functions, self.unattributed,
                           self.module_changes),
            "added_packages": list(self.added_packages),
            "removed_packages": list(self.removed_packages),
            "added_modules": list(self.added_modules),
            "removed_modules": list(self.removed_modules),
            **function_totals_to_json(self.functions_changed, self.functions_delta),
            **({"embeds": embeds_to_json(self.embeds)} if self.embeds else {}),
        }

    @classmethod
    def from_json(cls, obj: Any, where: str) -> BuildDiff:
        f = Fields(obj, where, DIFF_REQUIRED, ("embeds", *FUNCTION_TOTALS))
        check_header(f)
        old_go, new_go = go_versions_from_json(f)
        rows = rows_from_json(f)
        changed, delta = function_totals_from_json(f, rows["functions"])
        return cls(old_size=f.size("old_size"), new_size=f.size("new_size"), old_go_version=old_go,
                   new_go_version=new_go, **rows, embeds=f.seq("embeds", embed_delta_from_json, optional=True),
                   functions_changed=changed, functions_delta=delta)


DEPENDENCY_KINDS = ("module", "package", "upgrade")


@dataclass(frozen=True)
class Dependency:
    """A module or package one side links in and the other does not (new: the head's; removed: the
    base's), with the import chain that pulls it in; or a module's move to another major version."""

    kind: str  # "module", "package", or "upgrade" (a module replacing itself at another major version)
    name: str  # module path or package import path
    module: str  # the module it belongs to ("std" for the standard library)
    size: int  # its own bytes in that side's binary
    chain: tuple[str, ...]  # the package, its importer, ..., the main package
    # the bytes of every package reachable from the main package only through it (itself included):
    # what leaves the binary with it; None without the import graph, and for upgrades
    total_size: int | None = None
    replaces: str = ""  # upgrade: the module path it replaces (chroma for chroma/v2)
    replaced_size: int = 0  # upgrade: that module's bytes in the base binary
    # of size and of total_size, the bytes of data whose extent is estimated (analyze's data_estimated)
    estimated: int = 0
    total_estimated: int = 0

    @property
    def net(self) -> int:
        """An upgrade's net change (its bytes minus the replaced module's)."""
        return self.size - self.replaced_size

    def to_json(self) -> dict[str, Any]:
        doc = {"kind": self.kind, "name": self.name, "module": self.module, "size": self.size,
               "chain": list(self.chain), "total_size": self.total_size, "replaces": self.replaces,
               "replaced_size": self.replaced_size}
        if self.estimated:
            doc["estimated"] = self.estimated
        if self.total_estimated:
            doc["total_estimated"] = self.total_estimated
        return doc

    @classmethod
    def from_json(cls, obj: Any, where: str) -> Dependency:
        f = Fields(obj, where, ("kind", "name", "module", "size", "chain", "total_size", "replaces",
                                "replaced_size"), ("estimated", "total_estimated"))
        chain = f.get("chain", strings)
        if not chain:
            raise DocumentError(f"{f.at('chain')}: expected at least one package")
        dep = cls(f.get("kind", lambda v, w: one_of(v, w, DEPENDENCY_KINDS)), f.text("name"),
                  f.text("module"), f.size("size"), chain, f.nullable("total_size", size), f.text("replaces"),
                  f.size("replaced_size"), f.size("estimated", 0), f.size("total_estimated", 0))
        if dep.estimated > dep.size or dep.total_estimated > (dep.total_size or 0):
            raise DocumentError(f"{where}: estimated bytes more than the size they are part of")
        return dep


@dataclass(frozen=True)
class Build:
    """One target x platform x strategy at base and head."""

    target: str
    package: str
    platform: str  # "goos/goarch"
    strategy: str
    base: BuildSide
    head: BuildSide
    diff: BuildDiff | None = None  # when both sides are "ok"
    base_size: int | None = None  # bytes of the base binary; None when missing or failed
    head_size: int | None = None
    new_dependencies: tuple[Dependency, ...] = ()  # upgrades, then largest first, top N
    removed_dependencies: tuple[Dependency, ...] = ()  # largest first, top N

    @property
    def label(self) -> str:
        return f"{self.target} {self.platform} {self.strategy}"

    @property
    def delta(self) -> int | None:
        if self.base_size is None or self.head_size is None:
            return None
        return self.head_size - self.base_size

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "package": self.package,
            "platform": self.platform,
            "strategy": self.strategy,
            "base": self.base.to_json(),
            "head": self.head.to_json(),
            "diff": self.diff.to_json() if self.diff is not None else None,
            "base_size": self.base_size,
            "head_size": self.head_size,
            "delta": self.delta,
            "new_dependencies": [d.to_json() for d in self.new_dependencies],
            "removed_dependencies": [d.to_json() for d in self.removed_dependencies],
        }

    @classmethod
    def from_json(cls, obj: Any, where: str) -> Build:
        f = Fields(obj, where, ("target", "package", "platform", "strategy", "base", "head", "diff", "base_size",
                                "head_size", "delta", "new_dependencies", "removed_dependencies"))
        platform = f.text("platform")
        if not _PLATFORM.fullmatch(platform):
            raise DocumentError(f"{f.at('platform')}: expected goos/goarch")
        build = cls(target=f.text("target"), package=f.text("package"), platform=platform,
                    strategy=f.text("strategy"), base=f.get("base", BuildSide.from_json),
                    head=f.get("head", BuildSide.from_json), diff=f.nullable("diff", BuildDiff.from_json),
                    base_size=f.nullable("base_size", size), head_size=f.nullable("head_size", size),
                    new_dependencies=f.seq("new_dependencies", Dependency.from_json),
                    removed_dependencies=f.seq("removed_dependencies", Dependency.from_json))
        if f.raw("delta") != build.delta or isinstance(f.raw("delta"), bool):
            raise DocumentError(f"{f.at('delta')}: is not head_size - base_size")
        return build


# ---- across builds -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WaterfallStep:
    strategy: str
    size: int  # the head binary under this strategy
    saving: int  # the previous step's size minus this one (0 for the first; negative when it grows)

    def to_json(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "size": self.size, "saving": self.saving}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> WaterfallStep:
        f = Fields(obj, where, ("strategy", "size", "saving"))
        return cls(f.text("strategy"), f.size("size"), f.count("saving"))


@dataclass(frozen=True)
class Waterfall:
    """Per target x platform, the head's size under each strategy, in the config's order."""

    target: str
    platform: str
    steps: tuple[WaterfallStep, ...]

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "platform": self.platform, "steps": [s.to_json() for s in self.steps]}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> Waterfall:
        f = Fields(obj, where, ("target", "platform", "steps"))
        steps = f.seq("steps", WaterfallStep.from_json)
        if not steps:
            raise DocumentError(f"{f.at('steps')}: expected at least one step")
        return cls(f.text("target"), f.text("platform"), steps)


@dataclass(frozen=True)
class ImageRule:
    """One of dive's CI rules judged on the head image."""

    name: str  # dive's key, e.g. "lowestEfficiency"
    status: str  # PASS, FAIL or SKIP
    value: float | int | None  # the image's figure (None when skipped or not finite)
    threshold: float | int | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "value": self.value, "threshold": self.threshold,
                "message": self.message}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> ImageRule:
        f = Fields(obj, where, ("name", "status", "value", "threshold", "message"))
        return cls(f.text("name"), f.get("status", lambda v, w: one_of(v, w, ("PASS", "FAIL", "SKIP"))),
                   f.nullable("value", number), f.nullable("threshold", number), f.text("message"))


@dataclass(frozen=True)
class ReportImage:
    """The [image] of sizebot.toml built at base and head."""

    base: ImageReport | None = None
    head: ImageReport | None = None
    diff: ImageDiff | None = None
    rules: tuple[ImageRule, ...] = ()  # dive's CI rules on the head
    error: str | None = None  # why a side is missing or failed (one line)

    def to_json(self) -> dict[str, Any]:
        return {"base": self.base.to_json() if self.base is not None else None,
                "head": self.head.to_json() if self.head is not None else None,
                "diff": self.diff.to_json() if self.diff is not None else None,
                "rules": [r.to_json() for r in self.rules], "error": self.error}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> ReportImage:
        f = Fields(obj, where, ("base", "head", "diff", "rules", "error"))
        return cls(f.nullable("base", ImageReport.from_json), f.nullable("head", ImageReport.from_json),
                   f.nullable("diff", ImageDiff.from_json), f.seq("rules", ImageRule.from_json),
                   f.nullable("error", string))


@dataclass(frozen=True)
class BudgetResult:
    """One budget rule judged on one build (or the image); budgets/ produces them."""

    rule: str  # "max_increase 1%", "package golang.org/x/net/http2 max_size 500 KB", "new_modules warn"
    level: str  # "fail" | "warn"
    status: str  # one of BUDGET_STATUSES
    subject: str  # "app linux/amd64 release", "image (layer tars as saved)"
    actual: float | int | None  # bytes, percent or a count of modules; None when skipped
    limit: float | int | None
    unit: str  # "bytes" | "percent" | "modules"
    message: str
    override_reason: str | None = None
    source: str = ""  # the rule's table: "budget[0]", "image.budget[1]" (not in the document)

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "level": self.level, "status": self.status, "subject": self.subject,
                "actual": self.actual, "limit": self.limit, "unit": self.unit, "message": self.message,
                "override_reason": self.override_reason}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> BudgetResult:
        f = Fields(obj, where, ("rule", "level", "status", "subject", "actual", "limit", "unit", "message",
                                "override_reason"))
        return cls(rule=f.text("rule"), level=f.get("level", lambda v, w: one_of(v, w, ("fail", "warn"))),
                   status=f.get("status", lambda v, w: one_of(v, w, BUDGET_STATUSES)), subject=f.text("subject"),
                   actual=f.nullable("actual", number), limit=f.nullable("limit", number),
                   unit=f.get("unit", lambda v, w: one_of(v, w, BUDGET_UNITS)), message=f.text("message"),
                   override_reason=f.nullable("override_reason", string))


@dataclass(frozen=True)
class Override:
    """A budget override granted on the pull request."""

    source: str  # "label" or "trailer"
    reason: str  # the trailer's value; for a label, a short description of it

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "reason": self.reason}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> Override:
        f = Fields(obj, where, ("source", "reason"))
        return cls(f.get("source", lambda v, w: one_of(v, w, ("label", "trailer"))), f.text("reason"))


# ---- the document -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrendPoint:
    sha: str
    date: str
    subject: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"sha": self.sha, "date": self.date, "subject": self.subject, "size": self.size}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> TrendPoint:
        f = Fields(obj, where, ("sha", "date", "subject", "size"))
        sha = f.text("sha")
        if not _SHA.fullmatch(sha):
            raise DocumentError(f"{f.at('sha')}: expected a hexadecimal commit id")
        return cls(sha, f.text("date"), f.text("subject"), f.size("size"))


@dataclass(frozen=True)
class Trend:
    """The headline build's size over the default branch's measured commits (from the baseline's
    history, oldest first), the head as the last point, and the largest step between two successive
    measured commits beside this change."""

    build: str  # the build's label: target platform strategy
    points: tuple[TrendPoint, ...]
    head_sha: str
    head_size: int
    delta: int | None  # this change: head - base of the build (None when the base did not build)
    largest_step_sha: str | None  # the commit that made the largest step (by its size), None with one point
    largest_step: int | None

    def to_json(self) -> dict[str, Any]:
        return {"build": self.build, "points": [p.to_json() for p in self.points],
                "head": {"sha": self.head_sha, "size": self.head_size}, "delta": self.delta,
                "largest_step": None if self.largest_step_sha is None else
                {"sha": self.largest_step_sha, "delta": self.largest_step}}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> Trend:
        f = Fields(obj, where, ("build", "points", "head", "delta", "largest_step"))
        raw = f.raw("points")
        if isinstance(raw, list) and len(raw) > 1000:
            raise DocumentError(f"{f.at('points')}: {len(raw)} points, more than 1000")
        points = f.seq("points", TrendPoint.from_json)
        head = Fields(f.raw("head"), f.at("head"), ("sha", "size"))
        step = f.raw("largest_step")
        step_sha, step_delta = None, None
        if step is not None:
            g = Fields(step, f.at("largest_step"), ("sha", "delta"))
            step_sha, step_delta = g.text("sha"), g.count("delta")
        return cls(f.text("build"), points, head.text("sha"), head.size("size"),
                   f.nullable("delta", integer), step_sha, step_delta)


_REQUIRED = ("schema", "verdict", "repo", "base", "head", "config", "builds", "waterfalls", "image", "budgets",
             "overrides", "notes")


@dataclass(frozen=True)
class Report:
    verdict: Verdict
    repo: Repo
    base: Commit
    head: Commit
    config: ConfigUsed
    builds: tuple[Build, ...] = ()  # target, platform, strategy order
    waterfalls: tuple[Waterfall, ...] = ()
    image: ReportImage | None = None  # None when no [image] is configured
    budgets: tuple[BudgetResult, ...] = ()
    overrides: tuple[Override, ...] = ()
    notes: tuple[str, ...] = ()
    trend: Trend | None = None  # with a baseline whose history matches the builds (sizebot measure)

    def to_json(self) -> dict[str, Any]:
        trend = {"trend": self.trend.to_json()} if self.trend is not None else {}
        return {
            "schema": SCHEMA,
            "verdict": Verdict(self.verdict).value,
            "repo": self.repo.to_json(),
            "base": self.base.to_json(),
            "head": self.head.to_json(),
            "config": self.config.to_json(),
            "builds": [b.to_json() for b in self.builds],
            "waterfalls": [w.to_json() for w in self.waterfalls],
            "image": self.image.to_json() if self.image is not None else None,
            "budgets": [r.to_json() for r in self.budgets],
            "overrides": [o.to_json() for o in self.overrides],
            "notes": list(self.notes),
            **trend,
        }

    @classmethod
    def from_json(cls, obj: Any, where: str = "report") -> Report:
        """The record of a report document; every value's type is checked, unknown keys are refused
        (DocumentError, a SizebotError, naming the place of the first bad value)."""
        f = Fields(obj, where, _REQUIRED, ("trend",))
        if f.raw("schema") != SCHEMA:
            raise DocumentError(f"{f.at('schema')}: expected {SCHEMA!r}")
        return cls(verdict=Verdict(f.get("verdict", lambda v, w: one_of(v, w, VERDICTS))),
                   repo=f.get("repo", Repo.from_json), base=f.get("base", Commit.from_json),
                   head=f.get("head", Commit.from_json), config=f.get("config", ConfigUsed.from_json),
                   builds=f.seq("builds", Build.from_json), waterfalls=f.seq("waterfalls", Waterfall.from_json),
                   image=f.nullable("image", ReportImage.from_json),
                   budgets=f.seq("budgets", BudgetResult.from_json),
                   overrides=f.seq("overrides", Override.from_json), notes=f.get("notes", strings),
                   trend=f.nullable("trend", Trend.from_json))
