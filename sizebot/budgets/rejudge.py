"""A report's budget rows and verdict worked out again from its figures (pure).

The comment stage posts what a pull request's own job measured: that job ran the PR's code, so the
file's rows and verdict are its claims. They are replaced by what its figures give against budgets
read from the trusted side (``rejudge``): a file cannot say ``pass`` beside a figure over its budget.
The figures themselves stay the file's (see docs/action.md for what that leaves forgeable).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sizebot.budgets import BuildMeasurement, ImageMeasurement, apply_overrides, evaluate, verdict
from sizebot.budgets.checks import judges
from sizebot.config import Config
from sizebot.documents.analyze import UNKNOWN
from sizebot.documents.report import FAILED, MISSING, OK, BudgetResult, Build, Override, Report, ReportImage

HEAD_IMAGE = "head image:"  # how compare/image.py begins an error that is the head's own doing


def rejudge(report: Report, config: Config, overrides: Sequence[Override]) -> Report:
    """``report`` with its budget rows, overrides and verdict recomputed from its builds' and image's
    figures against ``config``'s budgets, ``overrides`` applied."""
    builds = tuple(_measured(b, report.budgets) for b in report.builds)
    image = measured_image(report.image)
    results = evaluate(config.budgets, builds, image_rules=config.image.budgets if config.image is not None else (),
                       image=image, overrides=overrides)
    results += apply_overrides(_unmeasured(config, builds), overrides)
    compared = any(b.base_size is not None and b.head_size is not None for b in builds) or (
        image is not None and image.base_size is not None and image.head_size is not None)
    judged = verdict(results, compared, head_failed=any(b.head.status == FAILED for b in report.builds),
                     failed_alike=any(b.base.status == FAILED and b.head.status == FAILED for b in report.builds))
    return replace(report, budgets=results, overrides=tuple(overrides), verdict=judged)


def _unmeasured(config: Config, builds: Sequence[BuildMeasurement]) -> tuple[BudgetResult, ...]:
    """A row at the rule's level for each build the budgets judge that the files do not have: the
    builds of ``config``'s ``[[target]]``s on their named platforms (discovered main packages and the
    host's platform are known only to the measuring job) in a rule's scope. A file cannot pass a budget
    by leaving out what it judges."""
    have = {(b.target, b.platform, b.strategy) for b in builds}
    out = []
    for rule in config.budgets:
        for target in config.targets:
            strategies = [s.name for s in config.strategies if not target.strategies or s.name in target.strategies]
            for platform in target.platforms:
                for strategy in strategies:
                    if judges(rule, target.name, platform, strategy) and (target.name, platform, strategy) not in have:
                        out.append(BudgetResult(f"budget[{rule.index}]", rule.level, rule.level,
                                                f"{target.name} {platform} {strategy}", None, None, "bytes",
                                                "not in the measurement: a build the base's budgets judge",
                                                source=f"budget[{rule.index}]"))
    return tuple(out)


def disagreement(claimed: Report, recomputed: Report) -> str | None:
    """How the file's own rows or verdict differ from the recomputed ones (overrides aside: a label
    may have been applied or removed since), or None."""
    def plain(rows: Sequence[BudgetResult]) -> list[tuple[object, ...]]:
        return [(r.rule, r.subject, "fail" if r.status == "overridden" else r.status, r.actual, r.limit)
                for r in rows]

    mine, theirs = plain(recomputed.budgets), plain(claimed.budgets)
    if mine != theirs:
        first = next((i for i, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b),
                     min(len(mine), len(theirs)))
        shown = theirs[first] if first < len(theirs) else None
        wanted = mine[first] if first < len(mine) else None
        return (f"budget row {first} is {_row(shown)}, its figures and the base's budgets give {_row(wanted)}")
    if claimed.verdict != recomputed.verdict and not claimed.overrides and not recomputed.overrides:
        return f"verdict {claimed.verdict} is not the one its rows give ({recomputed.verdict})"
    return None


def _row(row: tuple[object, ...] | None) -> str:
    if row is None:
        return "none"
    rule, subject, status, _actual, _limit = row
    return f"{status} ({rule}, {subject})"


def _measured(build: Build, rows: Sequence[BudgetResult]) -> BuildMeasurement:
    """What the budgets judge of one build of the document: its sizes, the head's modules (all kept),
    its packages (the head's largest and every changed one; a cap on another takes the figure of the
    file's own row for it, as every figure is the file's), the modules it added."""
    base_ok, head_ok = build.base.status == OK, build.head.status == OK
    head = build.head.binary if head_ok else None
    packages: dict[str, int] = {p.name: p.size for p in head.packages} if head is not None else {}
    subject = f"{build.target} {build.platform} {build.strategy}"
    if build.diff is not None:
        removed = set(build.diff.removed_packages)
        packages.update({d.name: d.new_size for d in build.diff.packages if d.name not in removed})
    for row in rows if head is not None else ():
        if row.subject == subject and row.rule.startswith("package ") and isinstance(row.actual, int):
            name = row.rule.split(" ")[1]
            root = name[:-4] if name.endswith("/...") else name
            if not any(p == root or p.startswith(root + "/") for p in packages):
                packages[root] = row.actual
    return BuildMeasurement(
        target=build.target, platform=build.platform, strategy=build.strategy,
        base_size=build.base_size if base_ok else None,
        head_size=build.head_size if head_ok else None,
        head_packages=packages,
        head_modules={m.path: m.size for m in head.modules} if head is not None else {},
        new_modules=tuple(m for m in build.diff.added_modules if m != UNKNOWN) if build.diff is not None else (),
        head_missing=build.head.status == MISSING)


def measured_image(image: ReportImage | None) -> ImageMeasurement | None:
    """The image budgets' figures, as compare/image.py gives them: none when a side failed (or no
    engine answered), the head's own error when the head lost or broke its image."""
    if image is None:
        return None
    if image.head is None:
        if image.error is not None and image.error.startswith(HEAD_IMAGE):
            return ImageMeasurement(None, None, None, None, head_problem=image.error)
        return None
    if image.base is None and image.error is not None and not image.error.startswith("the base commit has no "):
        return None  # the base's build failed: no measurement
    return ImageMeasurement.from_reports(image.base, image.head)
