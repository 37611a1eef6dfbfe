"""The report document (``sizebot.documents.report.Report``) as a GitHub comment in markdown.

The templates (templates/report*.md.j2) render from a view built here from the typed document;
the view helpers shared with the terminal renderer are in report_view.py. A downloaded measurement
file renders the same way once read back with ``Report.from_json``.

Size limits: ``render_report_markdown(report, max_chars=N)`` renders at decreasing levels of detail
(see ``LEVELS``) until the text fits, and says where the rest is. Every level is a complete
template render, so a cut never lands inside a tag or a table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sizebot.documents.diff import EmbedDelta, FunctionDelta, SizeDelta
from sizebot.documents.image import ImageReport
from sizebot.documents.image_diff import FileChange
from sizebot.documents.report import Build, BuildDiff, Commit, Report, ReportImage, Waterfall
from sizebot.documents.verdict import Verdict
from sizebot.render import renderer
from sizebot.render.common import code_md, embed_label, escape_md, estimated_legend, marked, render_template
from sizebot.render.mermaid import bar_chart
from sizebot.render.report_view import (
    ATTENTION,
    budget_counts,
    build_state,
    changes,
    delta_cell,
    dependencies_legend,
    dependency_line,
    dependency_title,
    exact_bytes,
    go_change_note,
    go_line,
    headline_parts,
    merged_budgets,
    percent_cell,
    plural,
    primary_build,
    short_sha,
    size_cell,
    sorted_budgets,
)
from sizebot.render.trend import trend_markdown
from sizebot.units import format_delta, format_percent, format_size

VERDICT_EMOJI: dict[str, str] = {Verdict.ERROR: "🛑", Verdict.FAIL: "❌", Verdict.WARN: "⚠️", Verdict.PASS: "✅",
                                 Verdict.NEUTRAL: "⚪"}
BUDGET_EMOJI = {"fail": "❌", "warn": "⚠️", "overridden": "🔓", "pass": "✅", "skipped": "⏭️"}
RULE_EMOJI = {"PASS": "✅", "FAIL": "❌", "SKIP": "⏭️"}
REST_IN_SUMMARY = "the full report is in the job summary of this run"
_URL = re.compile(r"https?://[^\s<>\"'`()\[\]]+")


@dataclass(frozen=True)
class Detail:
    """How much of the report to show; LEVELS go from everything to the headline alone."""

    top: int | None = 20  # rows per package/module table (None: all)
    top_functions: int | None = 10
    sections: bool = True
    functions: bool = True
    chart: bool = True
    image: bool = True
    details: bool = True  # the collapsible per-category sections at all
    detail_builds: int | None = None  # builds that get per-category tables (None: all with a diff)
    dependencies: int | None = None  # new-dependency lines per build
    build_rows: int | None = None  # changed rows in the build table (None: all)
    unchanged_rows: bool = True  # list unchanged builds inside their <details>
    budget_rows: int | None = None  # non-passing budget rows
    passed_budget_rows: bool = True
    notes: int | None = None
    note_chars: int = 1000


_SHORT: dict[str, Any] = {"budget_rows": 50, "passed_budget_rows": False, "notes": 20, "note_chars": 300,
                          "build_rows": 100}
LEVELS: tuple[Detail, ...] = (
    Detail(),
    Detail(top=10),
    Detail(top=5, top_functions=5, dependencies=10, **_SHORT),
    Detail(top=5, sections=False, functions=False, chart=False, dependencies=10, detail_builds=3, **_SHORT),
    Detail(top=5, sections=False, functions=False, chart=False, image=False, dependencies=5, detail_builds=1,
           **_SHORT),
    Detail(details=False, image=False, chart=False, **_SHORT),
    Detail(details=False, image=False, chart=False, build_rows=30, unchanged_rows=False, budget_rows=20,
           passed_budget_rows=False, notes=10, note_chars=300),
    Detail(details=False, image=False, chart=False, build_rows=10, unchanged_rows=False, budget_rows=10,
           passed_budget_rows=False, notes=5, note_chars=200),
    Detail(details=False, image=False, chart=False, build_rows=0, unchanged_rows=False, budget_rows=0,
           passed_budget_rows=False, notes=0),
)
# The job summary is where the comment sends readers for the rest: longer tables first.
SUMMARY_LEVELS: tuple[Detail, ...] = (Detail(top=100, top_functions=50), *LEVELS)


# ---- markdown -----------------------------------------------------------------------------------

def _row_sizes(r: SizeDelta, zero_is_absent: bool) -> dict[str, str]:
    old, new = r.old_size, r.new_size
    absent = "—" if zero_is_absent else "0 B"
    return {
        "old": absent if zero_is_absent and old == 0 else marked(format_size(old), bool(r.old_estimated)),
        "new": absent if zero_is_absent and new == 0 else marked(format_size(new), bool(r.new_estimated)),
        "delta": marked(format_delta(r.delta), r.estimated),
        "bytes": exact_bytes(r.delta),
        "percent": format_percent(r.delta, old) if old or not zero_is_absent else "new",
    }


def _function_sizes(r: SizeDelta) -> dict[str, str]:
    if not isinstance(r, FunctionDelta):
        return {}
    return {"code": format_size(r.new_code) if r.new_size else "—",
            "meta": format_size(r.new_meta) if r.new_size else "—"}


def _category(rows: tuple[SizeDelta, ...], top: int | None, zero_is_absent: bool = True, *,
              delta: int | None = None, in_all: tuple[int | None, int | None] | None = None) -> dict[str, Any]:
    """A table of changed rows, largest first, cut to ``top``: the rows cut are one "… more" row
    with their sum, and with the binary's ``delta`` a last "unattributed" row holds what no row
    explains, so that the rows add up to the binary's change exactly. ``in_all``: for rows that are
    themselves the top N of a longer list (functions), how many changed in all and their sum, so
    that the count and the "… more" row speak of every change, not of the N kept."""
    shown, n, total = changes(rows, top)
    summary = f"{n} changed, {format_delta(total)} in all"
    if in_all is not None:
        count, count_delta = in_all
        if count is None or count_delta is None:  # a document from before the totals were kept
            summary = f"the {n} largest changes, {format_delta(total)}"
        elif count >= n:
            n, total = count, count_delta
            summary = f"{n} changed, {format_delta(total)} in all"
    more = total - sum(r.delta for r in shown)
    changed = changes(rows, None)[0]  # shown first, then the rows cut
    view: dict[str, Any] = {
        "rows": [{"name": r.name, **_row_sizes(r, zero_is_absent), **_function_sizes(r)} for r in shown],
        "changed": n, "total": total, "more": n - len(shown),
        "more_delta": marked(format_delta(more), any(r.estimated for r in changed[len(shown):])),
        "more_bytes": exact_bytes(more), "unattributed": None,
        "summary": summary,
        "estimated": estimated_legend(sum(r.old_estimated for r in changed), sum(r.new_estimated for r in changed)),
    }
    if delta is not None:
        rest = delta - total
        view["unattributed"] = {"delta": format_delta(rest), "bytes": exact_bytes(rest)}
        view["summary"] = (f"{n} changed ({format_delta(total)}) + unattributed ({format_delta(rest)}) = "
                           f"{format_delta(delta)}")
    return view


def _build_view(b: Build) -> dict[str, Any]:
    state = build_state(b)
    base = "❌ build failed" if b.base.status == "failed" else size_cell(b.base_size)
    head = "❌ build failed" if b.head.status == "failed" else size_cell(b.head_size)
    return {"b": b, "target": b.target, "platform": b.platform, "strategy": b.strategy, "label": b.label,
            "state": state, "base": base, "head": head, "delta": "new" if state == "new" else delta_cell(b),
            "percent": percent_cell(b)}


def _side(commit: Commit) -> dict[str, str]:
    return {"ref": commit.ref or "?", "sha": commit.sha, "subject": commit.subject}


def _change_chart(build: Build, diff: BuildDiff) -> str:
    """Where the binary grew and where it shrank, in one signed bar chart (no pie: it cannot show
    shrinkage): the largest changes by package, the other packages and the unattributed bytes as
    one bar each, so that the bars add up to the binary's change."""
    rows, n, total = changes(diff.packages, None)
    if n < 2:
        return ""
    shown = rows[:8]
    bars = [(r.name, r.delta / 1000) for r in shown]
    rest = total - sum(r.delta for r in shown)
    if n > len(shown):
        bars.append((f"{n - len(shown)} other packages", rest / 1000))
    unattributed = diff.delta - total
    if unattributed:
        bars.append(("unattributed", unattributed / 1000))
    return bar_chart(f"{build.label} {format_delta(diff.delta)} by package (KB)", bars, "KB")


def _waterfall_view(w: Waterfall, chart: bool) -> dict[str, Any]:
    steps = w.steps
    first = steps[0].size if steps else 0
    rows = []
    for s in steps:
        rows.append({"strategy": s.strategy, "size": format_size(s.size),
                     "saving": format_size(s.saving) if s.saving else "—",
                     "of_first": f"{100.0 * s.size / first:.1f}%" if first else "—"})
    bars = ""
    if chart and len(steps) >= 2:
        bars = bar_chart(f"{w.target} {w.platform} size per strategy (MB)",
                         [(s.strategy, s.size / 1e6) for s in steps], "MB")
    return {"target": w.target, "platform": w.platform, "rows": rows, "chart": bars}


def _safe_fmt(fmt: Callable[[Any], str], value: Any) -> str:
    try:
        return fmt(value)
    except (TypeError, ValueError):
        return str(value)


def _ratio(v: float) -> str:
    return f"{100 * v:.2f}%" if math.isfinite(v) else "n/a"


_IMAGE_ROWS: tuple[tuple[str, Callable[[ImageReport], Any], Callable[[Any], str], bool], ...] = (
    ("image size", lambda r: r.size, format_size, True),
    # docker save (how a report saves each side) stores plain layer tars: no compression to speak of
    ("layer tars as saved", lambda r: r.compressed_size, format_size, True),
    ("efficiency (dive)", lambda r: r.efficiency, _ratio, False),
    ("wasted bytes (dive)", lambda r: r.wasted_bytes, format_size, True),
    ("user wasted percent (dive)", lambda r: r.user_wasted_percent, _ratio, False),
    ("wasted, corrected", lambda r: r.corrected_wasted_bytes, format_size, True),
    ("layers", lambda r: len(r.layers), str, False),
)


def _image_view(image: ReportImage | None) -> dict[str, Any] | None:
    if image is None:
        return None
    base, head = image.base, image.head
    rows = []
    if base is not None or head is not None:
        for name, figure, fmt, signed in _IMAGE_ROWS:
            b = figure(base) if base is not None else None
            h = figure(head) if head is not None else None
            rows.append((name, {"base": fmt(b) if b is not None else "—", "head": fmt(h) if h is not None else "—",
                                "delta": format_delta(h - b) if signed and b is not None and h is not None else ""}))
    diff_files: list[FileChange] = []
    changed_files, changed_bytes = 0, 0
    if image.diff is not None:  # the top rows of each change kind, and how many changed in all
        for kind in (image.diff.added, image.diff.removed, image.diff.grown, image.diff.shrunk):
            diff_files += kind.top
            changed_files, changed_bytes = changed_files + kind.count, changed_bytes + kind.bytes
    diff_files.sort(key=lambda f: -abs(f.delta))
    shown_files = diff_files[:20]
    more_files = max(0, changed_files - len(shown_files))
    rules = []
    for r in image.rules:
        # dive's rule values: byte counts for *Bytes rules, ratios (0.95) for the others.
        value_fmt: Callable[[Any], str] = format_size if "bytes" in r.name.lower() else str
        rules.append({"name": r.name, "status": r.status, "message": r.message,
                      "value": None if r.value is None else _safe_fmt(value_fmt, r.value),
                      "threshold": None if r.threshold is None else _safe_fmt(value_fmt, r.threshold)})
    return {"base": base, "head": head, "rows": rows, "rules": rules,
            "layers": [{"index": layer.index, "size": layer.size, "compressed_size": layer.compressed_size,
                        "command": layer.command or "(missing)"}
                       for layer in (head.layers if head is not None else ())],
            "error": image.error,
            "files": [{"path": f.path, "old": format_size(f.old_size), "new": format_size(f.new_size),
                       "delta": format_delta(f.delta)} for f in shown_files],
            # the files changed beyond the rows (the diff keeps the top N of each kind): one "… more" row
            "more_files": more_files,
            "more_files_delta": format_delta(changed_bytes - sum(f.delta for f in shown_files)),
            "rule_emoji": RULE_EMOJI}


def _grouped(details: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The builds' tables of one category, a table shared by several builds once with their labels."""
    groups: list[dict[str, Any]] = []
    for d in details:
        if not d[key]["changed"]:
            continue
        for g in groups:
            if g["cat"] == d[key]:
                g["labels"].append(d["label"])
                break
        else:
            groups.append({"labels": [d["label"]], "cat": d[key]})
    return groups


def _dependencies(builds: tuple[Build, ...], limit: int | None) -> tuple[list[dict[str, Any]], int]:
    """Every new, upgraded and removed dependency once across builds, with the builds it reached
    (all of them unsaid); new ones first, largest first; cut to ``limit``. Returns (items, how many
    were cut)."""
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    for b in builds:
        for change, deps in (("new", b.new_dependencies), ("removed", b.removed_dependencies)):
            for d in deps:
                entry = seen.setdefault((change, d.kind, d.name), {"change": change, "dep": d, "labels": [],
                                                                   "figures": set()})
                entry["labels"].append(b.label)
                entry["figures"].add(dependency_line(d, change))
    reached = {label for e in seen.values() for label in e["labels"]}
    order = {"upgrade": 0, "new": 1, "removed": 2}
    entries = sorted(seen.values(), key=lambda e: (order["upgrade" if e["dep"].kind == "upgrade" else e["change"]],
                                                    -abs(e["dep"].size), e["dep"].name))
    cut = entries if limit is None else entries[:limit]
    items = []
    for e in cut:
        size, rest = dependency_line(e["dep"], e["change"], code_md)
        line = f"**{size}** {rest}"
        if len(reached) > 1 and set(e["labels"]) != reached:
            line += f" (in {escape_md(', '.join(e['labels']))})"
        if len(e["figures"]) > 1:  # the builds differ (DWARF, -s -w, platforms): say whose figures these are
            line += f" (the figures of {escape_md(e['labels'][0])})"
        items.append({"line": line, "change": e["change"], "kind": e["dep"].kind, "dep": e["dep"]})
    return items, len(entries) - len(cut)


def _embed_rows(embeds: Sequence[EmbedDelta], top: int | None) -> dict[str, Any]:
    """The embeds that changed, largest change first (``top`` of them), and the rest's count and delta."""
    ordered = sorted(embeds, key=lambda e: (-abs(e.delta), e.package, e.name))
    shown = ordered if top is None else ordered[:top]
    rest = ordered[len(shown):]
    rows = [{"package": e.package, "name": embed_label(e.name, e.kind), "status": e.status,
             "old": format_size(e.old_size), "new": format_size(e.new_size), "delta": format_delta(e.delta)}
            for e in shown]
    return {"rows": rows, "more": len(rest), "more_delta": format_delta(sum(e.delta for e in rest))}


def _context(report: Report, level: Detail, trimmed: bool, details_url: str | None,
             rest_text: str) -> dict[str, Any]:
    builds = report.builds
    views = [_build_view(b) for b in builds]
    shown = [v for v in views if v["state"] != "unchanged"]
    unchanged = [v for v in views if v["state"] == "unchanged"]
    hidden_builds = 0
    if level.build_rows is not None and len(shown) > level.build_rows:
        # Keep the biggest changes (failed/new first: they need attention), in report order.
        order = sorted(range(len(shown)), key=lambda i: (shown[i]["state"] == "changed",
                                                        -abs(shown[i]["b"].delta or 0)))
        keep = set(order[: level.build_rows])
        hidden_builds = len(shown) - len(keep)
        shown = [v for i, v in enumerate(shown) if i in keep]

    budgets = merged_budgets(sorted_budgets(report.budgets))
    attention = [r for r in budgets if r.status in ATTENTION]
    passed = [r for r in budgets if r.status not in ATTENTION]
    # Counted as the headline counts them (one per build judged), not by the rows that merge builds.
    quiet = budget_counts(r for r in report.budgets if r.status not in ATTENTION)
    bits = [(n, word) for n, word in ((quiet.get("pass", 0), "passed"), (quiet.get("skipped", 0), "skipped")) if n]
    passed_summary = ", ".join(f"{plural(n, 'budget') if i == 0 else n} {word}" for i, (n, word) in enumerate(bits))
    hidden_budgets = 0
    if level.budget_rows is not None and len(attention) > level.budget_rows:
        hidden_budgets = len(attention) - level.budget_rows
        attention = attention[: level.budget_rows]

    with_diff = [b for b in builds if b.diff is not None and build_state(b) == "changed"]
    with_diff.sort(key=lambda b: -abs(b.delta or 0))
    if level.detail_builds is not None:
        with_diff = with_diff[: level.detail_builds]
    with_diff = [b for b in builds if any(b is d for d in with_diff)]  # back to report order
    details: list[dict[str, Any]] = []
    for b in with_diff:
        assert b.diff is not None
        details.append({
            "label": b.label,
            "packages": _category(b.diff.packages, level.top, delta=b.diff.delta),
            "modules": _category(b.diff.modules, level.top, delta=b.diff.delta),
            "sections": _category(b.diff.sections, None, zero_is_absent=False, delta=b.diff.delta),
            "functions": _category(b.diff.functions, level.top_functions,
                                   in_all=(b.diff.functions_changed, b.diff.functions_delta)),
            "module_changes": b.diff.module_changes,
            "embeds": _embed_rows(b.diff.embeds, level.top),
        })
    categories = {key: _grouped(details, key) for key in ("packages", "modules", "sections", "functions")}
    version_groups: list[dict[str, Any]] = []
    for d in details:  # the same version changes in several builds: one table, their builds named
        if d["module_changes"]:
            same = [g for g in version_groups if g["changes"] == d["module_changes"]]
            if same:
                same[0]["labels"].append(d["label"])
            else:
                version_groups.append({"labels": [d["label"]], "changes": d["module_changes"]})
    embed_groups: list[dict[str, Any]] = []
    for d in details:  # likewise the embedded files that changed
        if d["embeds"]["rows"]:
            same = [g for g in embed_groups if g["embeds"] == d["embeds"]]
            if same:
                same[0]["labels"].append(d["label"])
            else:
                embed_groups.append({"labels": [d["label"]], "embeds": d["embeds"]})
    deps, dep_more = _dependencies(builds, level.dependencies)
    charted = primary_build([b for b in builds if b.diff is not None], report.budgets)
    chart = ""
    if level.chart and level.details and charted is not None and charted.diff is not None:
        chart = _change_chart(charted, charted.diff)
    notes = list(report.notes)
    hidden_notes = 0
    if level.notes is not None and len(notes) > level.notes:
        hidden_notes = len(notes) - level.notes
        notes = notes[: level.notes]
    notes = [n if len(n) <= level.note_chars else n[: level.note_chars - 1] + "…" for n in notes]
    verdict = report.verdict
    return {
        "level": level, "verdict": verdict, "emoji": VERDICT_EMOJI.get(verdict, "❔"),
        "headline": " · ".join(headline_parts(report, escape_md)), "base": _side(report.base),
        "head": _side(report.head), "go": go_line(report), "go_note": go_change_note(report),
        "builds": shown, "unchanged": unchanged, "hidden_builds": hidden_builds, "multi": len(with_diff) > 1,
        "attention": attention, "passed": passed, "passed_summary": passed_summary, "hidden_budgets": hidden_budgets,
        "budget_emoji": BUDGET_EMOJI,
        "details": details, "categories": categories, "version_groups": version_groups,
        "embed_groups": embed_groups, "deps": deps, "chart": chart,
        "dep_legend": dependencies_legend((item["dep"], item["change"]) for item in deps),
        "dep_count": len(deps), "dep_more": dep_more, "dep_title": dependency_title(deps, dep_more),
        "waterfalls": [_waterfall_view(w, level.chart) for w in report.waterfalls if w.steps]
        if level.details else [],
        "image": _image_view(report.image) if level.image else None,
        "notes": notes, "hidden_notes": hidden_notes, "overrides": report.overrides,
        "trend": trend_markdown(report.trend) if level.chart else "",
        "trimmed": trimmed, "details_url": details_url, "rest_text": rest_text,
        "short_sha": short_sha,
    }


def _render_level(report: Report, level: Detail, trimmed: bool, details_url: str | None,
                  rest_text: str = REST_IN_SUMMARY) -> str:
    text = render_template("report.md.j2", **_context(report, level, trimmed, details_url, rest_text))
    # Templates leave blank-line runs where optional parts are absent: one blank line is enough.
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip("\n") + "\n"


def render_report_markdown_measured(report: Report, *, limit: int | None, measure: Callable[[str], int],
                                    details_url: str | None = None, reserve: int = 0,
                                    rest_text: str = REST_IN_SUMMARY,
                                    levels: tuple[Detail, ...] = LEVELS) -> str:
    """Render at the first of ``levels`` whose text measures at most ``limit - reserve``.
    ``details_url`` (an http(s) URL: ValueError otherwise) or ``rest_text`` says where the rest is."""
    if details_url is not None and not _URL.fullmatch(details_url):
        raise ValueError(f"details_url must be an http(s) URL without spaces or quotes, got {details_url!r}")
    if limit is None:
        return _render_level(report, levels[0], False, details_url, rest_text)
    budget = limit - reserve
    text = ""
    for i, level in enumerate(levels):
        text = _render_level(report, level, i > 0, details_url, rest_text)
        if measure(text) <= budget:
            return text
    # The headline alone does not fit: only absurd inputs (megabyte refs) get here.
    raise ValueError(f"the report does not fit in {limit} characters even as a headline ({measure(text)})")


def render_report_markdown(report: Report, *, max_chars: int | None = None,
                           details_url: str | None = None) -> str:
    """The report as GitHub markdown. With ``max_chars``, drop detail progressively until it fits
    (characters as Python counts them) and say where the rest is (``details_url`` or the job summary)."""
    return render_report_markdown_measured(report, limit=max_chars, measure=len, details_url=details_url)


@renderer(Report, "markdown")
def render_report(report: Report, **options: Any) -> str:
    return render_report_markdown(report, **options)
