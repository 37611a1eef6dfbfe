"""What the report renderers (markdown, text) say about a report, from its typed document: build
states and cells, the headline, the order of budgets, the changed rows of a table. Pure."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from sizebot.documents.diff import SizeDelta
from sizebot.documents.report import BudgetResult, Build, BuildDiff, Dependency, Report
from sizebot.render.common import estimated_legend, marked
from sizebot.units import format_delta, format_percent, format_size

BUDGET_ORDER = {"fail": 0, "warn": 1, "overridden": 2, "pass": 3, "skipped": 4}
VERDICT_ORDER = {"neutral": 0, "pass": 1, "warn": 2, "fail": 3}
ATTENTION = ("fail", "warn", "overridden")  # budget statuses a reader must see


def content_changed(diff: BuildDiff) -> bool:
    """Whether the binary changed inside, whatever its file size: segment alignment (4 KiB on amd64,
    64 KiB on arm64) absorbs small changes, so a release whose code, packages and module versions
    changed can keep its size to the byte. Such a build is "changed", its detail shown."""
    rows = (*diff.sections, *diff.packages, *diff.modules, *diff.functions, *diff.unattributed)
    return bool(diff.delta or any(r.delta for r in rows) or diff.module_changes or diff.embeds
                or diff.added_packages or diff.removed_packages or diff.old_go_version != diff.new_go_version)


def build_state(build: Build) -> str:
    """"changed", "unchanged", "new" (no base), "removed" (no head), "failed" (a side failed).
    "unchanged" is the same binary in content, not only in size (content_changed)."""
    base, head = build.base, build.head
    if head.status == "failed" or (base.status == "failed" and build.head_size is None):
        return "failed"
    if build.head_size is None:
        return "failed" if head.status != "missing" else "removed"
    if build.base_size is None:
        return "failed" if base.status == "failed" else "new"
    if build.delta == 0 and (build.diff is None or not content_changed(build.diff)):
        return "unchanged"
    return "changed"


def size_cell(value: int | None, *, missing: str = "—") -> str:
    return missing if value is None else format_size(value)


def exact_bytes(delta: int) -> str:
    """A signed byte count, exact (the column a reader, or a test, adds up)."""
    return f"{delta:+,}"


def delta_cell(build: Build) -> str:
    d = build.delta
    return "—" if d is None else format_delta(d)


def percent_cell(build: Build) -> str:
    d, base = build.delta, build.base_size
    if d is None or base is None:
        return {"new": "new", "removed": "removed"}.get(build_state(build), "—")
    return format_percent(d, base)


def primary_build(builds: Sequence[Build], budgets: Sequence[BudgetResult]) -> Build | None:
    """The build the headline names: the biggest |delta| among the builds a failed budget judged,
    else among those a warned one judged, else among all (first on ties)."""
    candidates = [b for b in builds if b.delta is not None]
    for status in ("fail", "warn"):
        subjects = {r.subject for r in budgets if r.status == status}
        judged = [b for b in candidates if b.label in subjects]
        if judged:
            candidates = judged
            break
    best, best_abs = None, -1
    for b in candidates:
        d = abs(b.delta or 0)
        if d > best_abs:
            best, best_abs = b, d
    return best


def sorted_budgets(budgets: Iterable[BudgetResult]) -> list[BudgetResult]:
    return sorted(budgets, key=lambda r: BUDGET_ORDER.get(r.status, 5))


def merged_budgets(budgets: Iterable[BudgetResult]) -> list[BudgetResult]:
    """Rows that say the same of several builds (rule, status, message, override) once, their
    subjects joined, in first-seen order."""
    out: list[BudgetResult] = []
    index: dict[tuple[str, str, str, str | None], int] = {}
    for r in budgets:
        key = (r.rule, r.status, r.message, r.override_reason)
        if key in index:
            i = index[key]
            out[i] = replace(out[i], subject=f"{out[i].subject}, {r.subject}")
        else:
            index[key] = len(out)
            out.append(r)
    return out


def budget_counts(budgets: Iterable[BudgetResult]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in budgets:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def headline_parts(report: Report, name: Callable[[str], str] = str) -> list[str]:
    """The pieces after the verdict: the biggest change, the build counts, the budget counts.
    ``name`` escapes the untrusted part (the build label): escape_md for markdown."""
    builds = report.builds
    parts: list[str] = []
    top = primary_build(builds, report.budgets)
    if report.base.sha and report.base.sha == report.head.sha:
        parts.append("base and head are the same commit")
    elif top is not None and top.delta:
        parts.append(f"{name(top.label)} {delta_cell(top)} ({percent_cell(top)})")
    elif builds:
        parts.append("no size change" if all(build_state(b) == "unchanged" for b in builds) else "no comparable build")
    else:
        parts.append("nothing measured")
    if len(builds) > 1:
        states = [build_state(b) for b in builds]
        bits = [plural(len(builds), "build")]
        for state in ("changed", "new", "removed", "failed"):
            if states.count(state):
                bits.append(f"{states.count(state)} {state}")
        parts.append(", ".join(bits))
    counts = budget_counts(report.budgets)
    budget_bits: list[str] = []
    for status, word in (("fail", "failed"), ("warn", "warned"), ("overridden", "overridden")):
        if counts.get(status):
            budget_bits.append(f"{plural(counts[status], 'budget') if not budget_bits else counts[status]} {word}")
    if budget_bits:
        parts.append(", ".join(budget_bits))
    elif counts.get("pass"):
        parts.append(f"{plural(counts['pass'], 'budget')} passed")
    return parts


def changes(rows: Iterable[SizeDelta], top: int | None) -> tuple[list[SizeDelta], int, int]:
    """Rows with a non-zero delta, largest |delta| first (stable), cut to ``top``.
    Returns (rows, number changed, sum of all deltas)."""
    changed = [r for r in rows if r.delta]
    changed.sort(key=lambda r: -abs(r.delta))
    total = sum(r.delta for r in changed)
    return (changed if top is None else changed[:top]), len(changed), total


def dependency_line(dep: Dependency, change: str, name: Callable[[str], str] = str) -> tuple[str, str]:
    """One dependency in words, as (its change, the rest): ("+412 KB", "package x ← net/http ← main ·
    +691 KB with what only it brings in"); an upgrade ("+12.0 KB", "upgrade chroma → chroma/v2 (300 KB
    → 312 KB)"); a removed one with its base bytes as a shrinkage. A module reached through one of its
    packages says "through" (never "module ← its own package", which reads like a cycle). ``name``
    escapes the untrusted names (code_md for markdown)."""
    est = bool(dep.estimated)  # a figure holding estimated bytes is marked, as in the tables
    if dep.kind == "upgrade":
        return (marked(format_delta(dep.net), est), f"upgrade {name(dep.replaces)} → {name(dep.name)} "
                f"({format_size(dep.replaced_size)} → {marked(format_size(dep.size), est)})")
    sign = -1 if change == "removed" else 1
    chain = list(dep.chain)
    if dep.kind == "module" and chain and chain[0] != dep.name:
        where = f"{name(dep.name)} through {' ← '.join(name(p) for p in chain)}"
    else:
        where = " ← ".join(name(part) for part in dependency_line_parts(dep))
    rest = f"{'removed ' if change == 'removed' else ''}{dep.kind} {where}"
    if dep.total_size is not None and dep.total_size != dep.size:
        verb = "brought" if change == "removed" else "brings"
        total = marked(format_delta(sign * dep.total_size), bool(dep.total_estimated))
        rest += f" · {total} with what only it {verb} in"
    return marked(format_delta(sign * dep.size), est), rest


def dependencies_legend(listed: Iterable[tuple[Dependency, str]]) -> str:
    """The legend of the estimated figures among the dependency lines (``(dependency, change)``
    pairs shown): their own estimated bytes, the base's for removed ones, the head's for the rest."""
    listed = list(listed)
    old = new = 0
    for dep, change in listed:
        if change == "removed":
            old += dep.estimated
        else:
            new += dep.estimated
    if not (old or new):  # only totals are marked (they overlap): the largest says how much
        new = max((dep.total_estimated for dep, _ in listed), default=0)
    return estimated_legend(old, new)


def dependency_title(items: Sequence[dict[str, str]], more: int) -> str:
    """"4 new, 1 upgraded, 1 removed" (the cut ones counted as "more")."""
    counts = {"new": 0, "upgraded": 0, "removed": 0}
    for item in items:
        counts["upgraded" if item["kind"] == "upgrade" else item["change"]] += 1
    words = [f"{n} {word}" for word, n in counts.items() if n]
    if more:
        words.append(f"{more} more")
    return ", ".join(words)


def dependency_line_parts(dep: Dependency) -> list[str]:
    """The import chain, the new thing first: [name, importer, ..., main package]."""
    chain = list(dep.chain)
    if not chain or chain[0] != dep.name:
        chain = [dep.name, *chain]
    return chain


def short_sha(sha: str) -> str:
    return sha[:7]


def _ordered(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def go_versions(report: Report) -> tuple[list[str], list[str]]:
    """The Go versions the base and the head binaries were built with (build order, no repeats)."""
    base = _ordered(b.base.binary.go_version for b in report.builds if b.base.binary is not None)
    head = _ordered(b.head.binary.go_version for b in report.builds if b.head.binary is not None)
    return base, head


def go_line(report: Report) -> str:
    """"Go go1.26.8", or "Go go1.24.11 (base) → go1.26.8 (head)" when the sides differ; "" when unknown."""
    base, head = go_versions(report)
    if not base and not head:
        return ""
    if base == head or not base or not head:
        return f"Go {', '.join(head or base)}"
    return f"Go {', '.join(base)} (base) → {', '.join(head)} (head)"


def go_change_note(report: Report) -> str | None:
    """When the Go version changed and no dependency did: what the toolchain changed (the standard
    library's bytes), said once, for the primary build."""
    base, head = go_versions(report)
    if not base or not head or base == head:
        return None
    build = primary_build([b for b in report.builds if b.diff is not None], report.budgets)
    if build is None or build.diff is None:
        return None
    d = build.diff
    if d.module_changes or d.added_modules or d.removed_modules:
        return None
    std = sum(r.delta for r in d.modules if r.name == "std")
    return (f"The Go version changed ({', '.join(base)} → {', '.join(head)}) and no dependency did: in "
            f"{build.label}, the standard library's {format_delta(std)} of {format_delta(d.delta)} is the "
            "toolchain's change, not this pull request's code.")
