"""The report (sizebot/report@1 document, a dict) as a GitHub comment in markdown.

Rendered from the JSON document, not from dataclasses, so that downloaded measurement files
(the fork-safe flow) and merged matrix jobs render without re-measuring. The view helpers here
(ordering, top changes, headline) are shared with the terminal renderer (report_text.py).

Size limits: ``render_report_markdown(doc, max_chars=N)`` renders at decreasing levels of detail
(see ``LEVELS``) until the text fits, and says where the rest is. Every level is a complete
template render, so a cut never lands inside a tag or a table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sizebot.compare.model import Report
from sizebot.documents.verdict import Verdict
from sizebot.render import renderer
from sizebot.render.common import escape_md, render_template
from sizebot.render.mermaid import bar_chart, pie_chart
from sizebot.units import format_delta, format_percent, format_size

VERDICT_EMOJI: dict[str, str] = {Verdict.ERROR: "🛑", Verdict.FAIL: "❌", Verdict.WARN: "⚠️", Verdict.PASS: "✅",
                                 Verdict.NEUTRAL: "⚪"}
BUDGET_EMOJI = {"fail": "❌", "warn": "⚠️", "overridden": "🔓", "pass": "✅", "skipped": "⏭️"}
RULE_EMOJI = {"PASS": "✅", "FAIL": "❌", "SKIP": "⏭️"}
_BUDGET_ORDER = {"fail": 0, "warn": 1, "overridden": 2, "pass": 3, "skipped": 4}
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


# ---- view helpers shared with the text renderer ------------------------------------------------

def build_label(build: dict[str, Any]) -> str:
    return f"{build.get('target', '?')} {build.get('platform', '?')} {build.get('strategy', '?')}"


def build_delta(build: dict[str, Any]) -> int | None:
    if build.get("delta") is not None:
        return int(build["delta"])
    if build.get("base_size") is not None and build.get("head_size") is not None:
        return int(build["head_size"]) - int(build["base_size"])
    return None


def build_state(build: dict[str, Any]) -> str:
    """"changed", "unchanged", "new" (no base), "removed" (no head), "failed" (a side failed)."""
    base, head = build.get("base") or {}, build.get("head") or {}
    if head.get("status") == "failed" or (base.get("status") == "failed" and build.get("head_size") is None):
        return "failed"
    if build.get("head_size") is None:
        return "failed" if head.get("status") != "missing" else "removed"
    if build.get("base_size") is None:
        return "failed" if base.get("status") == "failed" else "new"
    return "unchanged" if build_delta(build) == 0 else "changed"


def size_cell(value: int | None, *, missing: str = "—") -> str:
    return missing if value is None else format_size(value)


def delta_cell(build: dict[str, Any]) -> str:
    d = build_delta(build)
    return "—" if d is None else format_delta(d)


def percent_cell(build: dict[str, Any]) -> str:
    d, base = build_delta(build), build.get("base_size")
    if d is None or base is None:
        return {"new": "new", "removed": "removed"}.get(build_state(build), "—")
    return format_percent(d, base)


def primary_build(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The build the headline names: the biggest |delta| among the builds a failed budget judged,
    else among those a warned one judged, else among all (first on ties)."""
    candidates = [b for b in doc.get("builds") or [] if build_delta(b) is not None]
    for status in ("fail", "warn"):
        subjects = {r.get("subject") for r in doc.get("budgets") or [] if r.get("status") == status}
        judged = [b for b in candidates if build_label(b) in subjects]
        if judged:
            candidates = judged
            break
    best, best_abs = None, -1
    for b in candidates:
        d = abs(build_delta(b) or 0)
        if d > best_abs:
            best, best_abs = b, d
    return best


def sorted_budgets(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(doc.get("budgets") or [], key=lambda r: _BUDGET_ORDER.get(r.get("status"), 5))


def budget_counts(doc: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in doc.get("budgets") or []:
        counts[r.get("status", "?")] = counts.get(r.get("status", "?"), 0) + 1
    return counts


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def headline_parts(doc: dict[str, Any], name: Callable[[str], str] = str) -> list[str]:
    """The pieces after the verdict: the biggest change, the build counts, the budget counts.
    ``name`` escapes the untrusted part (the build label): escape_md for markdown."""
    builds = doc.get("builds") or []
    parts: list[str] = []
    top = primary_build(doc)
    if (doc.get("base") or {}).get("sha") and (doc.get("base") or {}).get("sha") == (doc.get("head") or {}).get("sha"):
        parts.append("base and head are the same commit")
    elif top is not None and build_delta(top):
        parts.append(f"{name(build_label(top))} {delta_cell(top)} ({percent_cell(top)})")
    elif builds:
        parts.append("no size change" if all(build_state(b) == "unchanged" for b in builds) else "no comparable build")
    else:
        parts.append("nothing measured")
    if len(builds) > 1:
        states = [build_state(b) for b in builds]
        bits = [_plural(len(builds), "build")]
        for state in ("changed", "new", "removed", "failed"):
            if states.count(state):
                bits.append(f"{states.count(state)} {state}")
        parts.append(", ".join(bits))
    counts = budget_counts(doc)
    budget_bits = []
    for status, word in (("fail", "failed"), ("warn", "warned"), ("overridden", "overridden")):
        if counts.get(status):
            budget_bits.append(f"{_plural(counts[status], 'budget') if not budget_bits else counts[status]} {word}")
    if budget_bits:
        parts.append(", ".join(budget_bits))
    elif counts.get("pass"):
        parts.append(f"{_plural(counts['pass'], 'budget')} passed")
    return parts


def changes(rows: Iterable[dict[str, Any]] | None, top: int | None) -> tuple[list[dict[str, Any]], int, int]:
    """Rows with a non-zero delta, largest |delta| first (stable), cut to ``top``.
    Returns (rows, number changed, sum of all deltas)."""
    changed = []
    for r in rows or []:
        d = r.get("delta")
        if d is None:
            d = int(r.get("new_size", 0)) - int(r.get("old_size", 0))
        if d:
            changed.append({**r, "delta": d})
    changed.sort(key=lambda r: -abs(r["delta"]))
    total = sum(r["delta"] for r in changed)
    return (changed if top is None else changed[:top]), len(changed), total


def dependency_line_parts(dep: dict[str, Any]) -> list[str]:
    """The import chain, the new thing first: [name, importer, ..., main package]."""
    chain = list(dep.get("chain") or [])
    if not chain or chain[0] != dep.get("name"):
        chain = [dep.get("name", "?"), *chain]
    return [str(x) for x in chain]


# ---- markdown -----------------------------------------------------------------------------------

def _row_sizes(r: dict[str, Any], zero_is_absent: bool) -> dict[str, str]:
    old, new = int(r.get("old_size", 0)), int(r.get("new_size", 0))
    absent = "—" if zero_is_absent else "0 B"
    return {
        "old": absent if zero_is_absent and old == 0 else format_size(old),
        "new": absent if zero_is_absent and new == 0 else format_size(new),
        "delta": format_delta(r["delta"]),
        "percent": format_percent(r["delta"], old) if old or not zero_is_absent else "new",
    }


def _category(build: dict[str, Any], key: str, top: int | None, zero_is_absent: bool = True) -> dict[str, Any]:
    rows, n, total = changes((build.get("diff") or {}).get(key), top)
    return {"rows": [{"name": r.get("name", "?"), **_row_sizes(r, zero_is_absent)} for r in rows], "changed": n,
            "total": total}


def _build_view(b: dict[str, Any]) -> dict[str, Any]:
    state = build_state(b)
    base = "❌ build failed" if (b.get("base") or {}).get("status") == "failed" else size_cell(b.get("base_size"))
    head = "❌ build failed" if (b.get("head") or {}).get("status") == "failed" else size_cell(b.get("head_size"))
    return {"b": b, "target": b.get("target", "?"), "platform": b.get("platform", "?"),
            "strategy": b.get("strategy", "?"), "label": build_label(b), "state": state, "base": base, "head": head,
            "delta": "new" if state == "new" else delta_cell(b), "percent": percent_cell(b)}


def _side(side: dict[str, Any] | None) -> dict[str, str]:
    side = side or {}
    return {"ref": str(side.get("ref") or "?"), "sha": str(side.get("sha") or ""), "subject": str(side.get("subject") or "")}


def _budget(r: dict[str, Any]) -> dict[str, Any]:
    return {"status": str(r.get("status", "?")), "rule": r.get("rule") or "", "subject": r.get("subject") or "",
            "message": r.get("message") or "", "override_reason": r.get("override_reason")}


def _growth_chart(build: dict[str, Any]) -> str:
    rows, _, _ = changes((build.get("diff") or {}).get("packages"), None)
    growth = [r for r in rows if r["delta"] > 0]
    if len(growth) < 2:
        return ""
    slices = [(f"{r['name']} {format_delta(r['delta'])}", r["delta"]) for r in growth[:7]]
    rest = sum(r["delta"] for r in growth[7:])
    if rest:
        slices.append((f"{len(growth) - 7} other packages {format_delta(rest)}", rest))
    return pie_chart(f"Where {build_label(build)} grew (+{format_size(sum(r['delta'] for r in growth))})", slices)


def _waterfall_view(w: dict[str, Any], chart: bool) -> dict[str, Any]:
    steps = list(w.get("steps") or [])
    first = steps[0]["size"] if steps else 0
    rows = []
    for s in steps:
        rows.append({"strategy": s.get("strategy", "?"), "size": format_size(s.get("size", 0)),
                     "saving": format_size(s.get("saving", 0)) if s.get("saving") else "—",
                     "of_first": f"{100.0 * s.get('size', 0) / first:.1f}%" if first else "—"})
    bars = ""
    if chart and len(steps) >= 2:
        bars = bar_chart(f"{w.get('target', '?')} {w.get('platform', '?')} size per strategy (MB)",
                         [(s.get("strategy", "?"), s.get("size", 0) / 1e6) for s in steps], "MB")
    return {"target": w.get("target", "?"), "platform": w.get("platform", "?"), "rows": rows, "chart": bars}


def _safe_fmt(fmt: Callable[[Any], str], value: Any) -> str:
    try:
        return fmt(value)
    except (TypeError, ValueError):
        return str(value)


def _image_view(image: dict[str, Any] | None) -> dict[str, Any] | None:
    if not image:
        return None
    base, head = image.get("base") or {}, image.get("head") or {}

    def pair(key: str, fmt: Callable[[Any], str]) -> dict[str, str]:
        b, h = base.get(key), head.get(key)
        d = ""
        if isinstance(b, (int, float)) and isinstance(h, (int, float)) and fmt is format_size:
            d = format_delta(h - b)
        return {"base": fmt(b) if b is not None else "—", "head": fmt(h) if h is not None else "—", "delta": d}

    def ratio(v: Any) -> str:
        return "n/a" if not isinstance(v, (int, float)) else f"{100 * v:.2f}%"

    rows = [
        ("image size", pair("size", format_size)),
        ("compressed size (as stored)", pair("compressed_size", format_size)),
        ("efficiency (dive)", pair("efficiency", ratio)),
        ("wasted bytes (dive)", pair("wasted_bytes", format_size)),
        ("user wasted percent (dive)", pair("user_wasted_percent", ratio)),
        ("wasted, corrected", pair("corrected_wasted_bytes", format_size)),
        ("layers", pair("layers", lambda v: str(len(v)))),
    ]
    diff = image.get("diff") or {}
    diff_files = []
    files = diff.get("files")
    if isinstance(files, dict):  # sizebot/image-diff@1: the top rows of each change kind
        diff = {"files": [f for kind in ("added", "removed", "grown", "shrunk")
                          for f in ((files.get(kind) or {}).get("top") or [])]}
    for key in ("files", "changed_files", "file_changes"):
        if isinstance(diff.get(key), list):
            for f in diff[key]:
                if isinstance(f, dict) and "path" in f:
                    old, new = int(f.get("old_size", 0) or 0), int(f.get("new_size", 0) or 0)
                    d = int(f.get("delta", new - old) or 0)
                    diff_files.append({"path": f["path"], "delta": d, "old": old, "new": new})
            break
    diff_files.sort(key=lambda f: -abs(f["delta"]))
    rules = []
    for r in image.get("rules") or []:
        # dive's rule values: byte counts for *Bytes rules, ratios (0.95) for the others.
        fmt: Callable[[Any], str] = format_size if "bytes" in str(r.get("name", "")).lower() else str
        rules.append({"name": r.get("name", "?"), "status": r.get("status", "?"), "message": r.get("message") or "",
                      "value": None if r.get("value") is None else _safe_fmt(fmt, r["value"]),
                      "threshold": None if r.get("threshold") is None else _safe_fmt(fmt, r["threshold"])})
    return {"base": base, "head": head, "rows": rows if base or head else [], "rules": rules,
            "layers": [{"index": layer.get("index", i), "size": int(layer.get("size") or 0),
                        "compressed_size": int(layer.get("compressed_size") or 0),
                        "command": layer.get("command") or "(missing)"}
                       for i, layer in enumerate(head.get("layers") or [])],
            "error": image.get("error"),
            "files": [{**f, "old": format_size(f["old"]), "new": format_size(f["new"]),
                       "delta": format_delta(f["delta"])} for f in diff_files[:20]],
            "rule_emoji": RULE_EMOJI}


def _context(doc: dict[str, Any], level: Detail, trimmed: bool, details_url: str | None,
             rest_text: str) -> dict[str, Any]:
    builds = doc.get("builds") or []
    views = [_build_view(b) for b in builds]
    shown = [v for v in views if v["state"] != "unchanged"]
    unchanged = [v for v in views if v["state"] == "unchanged"]
    hidden_builds = 0
    if level.build_rows is not None and len(shown) > level.build_rows:
        # Keep the biggest changes (failed/new first: they need attention), in report order.
        order = sorted(range(len(shown)), key=lambda i: (shown[i]["state"] == "changed",
                                                        -abs(build_delta(shown[i]["b"]) or 0)))
        keep = set(order[: level.build_rows])
        hidden_builds = len(shown) - len(keep)
        shown = [v for i, v in enumerate(shown) if i in keep]

    budgets = [_budget(r) for r in sorted_budgets(doc)]
    attention = [r for r in budgets if r.get("status") in ("fail", "warn", "overridden")]
    passed = [r for r in budgets if r.get("status") not in ("fail", "warn", "overridden")]
    hidden_budgets = 0
    if level.budget_rows is not None and len(attention) > level.budget_rows:
        hidden_budgets = len(attention) - level.budget_rows
        attention = attention[: level.budget_rows]

    with_diff = [b for b in builds if b.get("diff") and build_delta(b)]
    with_diff.sort(key=lambda b: -abs(build_delta(b) or 0))
    if level.detail_builds is not None:
        with_diff = with_diff[: level.detail_builds]
    with_diff = [b for b in builds if any(b is d for d in with_diff)]  # back to report order
    details = []
    for b in with_diff:
        details.append({
            "label": build_label(b),
            "packages": _category(b, "packages", level.top),
            "modules": _category(b, "modules", level.top),
            "sections": _category(b, "sections", None, zero_is_absent=False),
            "functions": _category(b, "functions", level.top_functions),
            "module_changes": [{"path": m.get("path", "?"), "old_version": m.get("old_version") or "",
                                "new_version": m.get("new_version") or ""}
                               for m in (b.get("diff") or {}).get("module_changes") or []],
        })
    deps = []
    for b in builds:
        items = sorted(b.get("new_dependencies") or [], key=lambda d: -int(d.get("size") or 0))
        if items:
            cut = items if level.dependencies is None else items[: level.dependencies]
            deps.append({"label": build_label(b), "more": len(items) - len(cut),
                         "items": [{"kind": d.get("kind", "package"), "size": format_delta(int(d.get("size") or 0)),
                                    "chain": dependency_line_parts(d)} for d in cut]})
    charted = primary_build({"builds": [b for b in builds if b.get("diff")]})
    chart = _growth_chart(charted) if level.chart and level.details and charted is not None else ""
    notes = [str(n) for n in doc.get("notes") or []]
    hidden_notes = 0
    if level.notes is not None and len(notes) > level.notes:
        hidden_notes = len(notes) - level.notes
        notes = notes[: level.notes]
    notes = [n if len(n) <= level.note_chars else n[: level.note_chars - 1] + "…" for n in notes]
    verdict = str(doc.get("verdict", "neutral"))
    return {
        "doc": doc, "level": level, "verdict": verdict, "emoji": VERDICT_EMOJI.get(verdict, "❔"),
        "headline": " · ".join(headline_parts(doc, escape_md)), "base": _side(doc.get("base")),
        "head": _side(doc.get("head")),
        "builds": shown, "unchanged": unchanged, "hidden_builds": hidden_builds, "multi": len(with_diff) > 1,
        "attention": attention, "passed": passed, "hidden_budgets": hidden_budgets, "budget_emoji": BUDGET_EMOJI,
        "details": details, "deps": deps, "chart": chart,
        "dep_count": sum(len(d["items"]) for d in deps), "dep_more": sum(d["more"] for d in deps),
        "waterfalls": [_waterfall_view(w, level.chart) for w in doc.get("waterfalls") or [] if w.get("steps")]
        if level.details else [],
        "image": _image_view(doc.get("image")) if level.image else None,
        "notes": notes, "hidden_notes": hidden_notes, "overrides": doc.get("overrides") or [],
        "trimmed": trimmed, "details_url": details_url, "rest_text": rest_text,
        "short_sha": lambda sha: str(sha or "")[:7],
    }


def _render_level(doc: dict[str, Any], level: Detail, trimmed: bool, details_url: str | None,
                  rest_text: str = REST_IN_SUMMARY) -> str:
    text = render_template("report.md.j2", **_context(doc, level, trimmed, details_url, rest_text))
    # Templates leave blank-line runs where optional parts are absent: one blank line is enough.
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip("\n") + "\n"


def render_report_markdown_measured(doc: dict[str, Any], *, limit: int | None, measure: Callable[[str], int],
                                    details_url: str | None = None, reserve: int = 0,
                                    rest_text: str = REST_IN_SUMMARY,
                                    levels: tuple[Detail, ...] = LEVELS) -> str:
    """Render at the first of ``levels`` whose text measures at most ``limit - reserve``.
    ``details_url`` (an http(s) URL: ValueError otherwise) or ``rest_text`` says where the rest is."""
    if details_url is not None and not _URL.fullmatch(details_url):
        raise ValueError(f"details_url must be an http(s) URL without spaces or quotes, got {details_url!r}")
    if limit is None:
        return _render_level(doc, levels[0], False, details_url, rest_text)
    budget = limit - reserve
    text = ""
    for i, level in enumerate(levels):
        text = _render_level(doc, level, i > 0, details_url, rest_text)
        if measure(text) <= budget:
            return text
    # The headline alone does not fit: only absurd inputs (megabyte refs) get here.
    raise ValueError(f"the report does not fit in {limit} characters even as a headline ({measure(text)})")


def render_report_markdown(doc: dict[str, Any], *, max_chars: int | None = None,
                           details_url: str | None = None) -> str:
    """The report as GitHub markdown. With ``max_chars``, drop detail progressively until it fits
    (characters as Python counts them) and say where the rest is (``details_url`` or the job summary)."""
    return render_report_markdown_measured(doc, limit=max_chars, measure=len, details_url=details_url)


@renderer(Report, "markdown")
def render_report(report: Report, **options: Any) -> str:
    return render_report_markdown(report.doc, **options)
