"""The report document (``sizebot.documents.report.Report``) for a terminal, with rich.

``report_renderables(report)`` gives the rich objects (the CLI prints them with colours on a TTY);
``render_report_text(report, width)`` renders the same objects to plain text (no colour codes).
Untrusted names are wrapped in rich ``Text`` objects, never parsed as rich markup.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sizebot.documents.report import Dependency, Report
from sizebot.documents.verdict import Verdict
from sizebot.render import renderer
from sizebot.render.common import embed_label, estimated_legend, marked, plain_text, rich_to_text
from sizebot.render.report_view import (
    build_state,
    changes,
    delta_cell,
    dependencies_legend,
    dependency_line,
    exact_bytes,
    go_change_note,
    go_line,
    headline_parts,
    merged_budgets,
    percent_cell,
    primary_build,
    size_cell,
    sorted_budgets,
)
from sizebot.units import format_delta, format_percent, format_size

_VERDICT_STYLE: dict[str, str] = {Verdict.ERROR: "bold red", Verdict.FAIL: "bold red", Verdict.WARN: "bold yellow",
                  Verdict.PASS: "bold green", Verdict.NEUTRAL: "bold"}
_STATUS_STYLE = {"fail": "red", "warn": "yellow", "overridden": "magenta", "pass": "green", "skipped": "dim"}


def _plain(text: Any) -> Text:
    # One line, no control characters (a newline in a package name must not fake a table row).
    return Text(plain_text(text))


def _delta_style(delta: int | None) -> str:
    if not delta:
        return ""
    return "red" if delta > 0 else "green"


def _table(*columns: tuple[str, str]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    return table


def _titled(title: Any, body: RenderableType) -> Group:
    # A title line of its own: rich's table titles wrap to the table's width.
    heading = _plain(title)
    heading.stylize("bold")
    return Group(heading, body)


def _grid(*justify: str) -> Table:
    grid = Table.grid(padding=(0, 1))
    for j in justify:
        grid.add_column(justify=j, overflow="fold")  # type: ignore[arg-type]
    return grid


def _headline(report: Report) -> Text:
    verdict = report.verdict
    text = Text()
    text.append(f"sizebot: {verdict}".replace("\n", " "), style=_VERDICT_STYLE.get(verdict, "bold"))
    text.append(" — ")
    text.append_text(_plain(" · ".join(headline_parts(report))))
    base, head = report.base, report.head
    text.append("\n")
    go = go_line(report)
    text.append_text(_plain(f"head {head.ref} {head.sha[:7]} vs base {base.ref} {base.sha[:7]}"
                            + (f" · {go}" if go else "")))
    note = go_change_note(report)
    if note:
        text.append("\n")
        text.append_text(_plain(note))
    return text


def _builds_table(report: Report) -> Group:
    table = _table(("target", "left"), ("platform", "left"), ("strategy", "left"),
                   ("base", "right"), ("head", "right"), ("change", "right"), ("%", "right"))
    for b in report.builds:
        state = build_state(b)
        base = "failed" if b.base.status == "failed" else size_cell(b.base_size)
        head = "failed" if b.head.status == "failed" else size_cell(b.head_size)
        delta = "new" if state == "new" else delta_cell(b)
        style = _delta_style(b.delta)
        table.add_row(_plain(b.target), _plain(b.platform), _plain(b.strategy),
                      base, head, Text(delta, style=style), Text(percent_cell(b), style=style))
    return _titled("Binaries", table)


def _budgets_table(report: Report) -> Group | None:
    budgets = merged_budgets(sorted_budgets(report.budgets))
    if not budgets:
        return None
    table = _table(("status", "left"), ("budget", "left"), ("applies to", "left"), ("result", "left"))
    for r in budgets:
        result = _plain(r.message)
        if r.status == "overridden":
            result.append_text(_plain(f" (overridden: {r.override_reason or 'no reason given'})"))
        table.add_row(Text(r.status, style=_STATUS_STYLE.get(r.status, "")), _plain(r.rule),
                      _plain(r.subject), result)
    return _titled("Budgets", table)


def _changes_table(report: Report, kind: str, top: int | None) -> Group | None:
    """The primary build's changed packages (or sections), largest first: the rows cut are one
    "… more" row, and a last "unattributed" row holds what no row explains, so that the rows add
    up to the binary's change exactly (the bytes column)."""
    build = primary_build([b for b in report.builds if b.diff is not None], report.budgets)
    if build is None or build.diff is None:
        return None
    diff = build.diff
    rows, n, total = changes(diff.packages if kind == "package" else diff.sections, top)
    if not n:
        return None
    rest = diff.delta - total
    more = total - sum(r.delta for r in rows)
    title = (f"{kind.capitalize()}s of {build.label}: {n} changed ({format_delta(total)}) + unattributed "
             f"({format_delta(rest)}) = {format_delta(diff.delta)}")
    table = _table((kind, "left"), ("base", "right"), ("head", "right"), ("change", "right"), ("bytes", "right"),
                   ("%", "right"))
    for r in rows:
        old, new = r.old_size, r.new_size
        style = _delta_style(r.delta)
        table.add_row(_plain(r.name), marked(format_size(old), bool(r.old_estimated)) if old else "—",
                      marked(format_size(new), bool(r.new_estimated)) if new else "—",
                      Text(marked(format_delta(r.delta), r.estimated), style=style),
                      Text(exact_bytes(r.delta), style=style), Text(format_percent(r.delta, old), style=style))
    changed = changes(diff.packages if kind == "package" else diff.sections, None)[0]
    if n > len(rows):
        table.add_row(f"… {n - len(rows)} more", "", "",
                      Text(marked(format_delta(more), any(r.estimated for r in changed[len(rows):])),
                           style=_delta_style(more)),
                      Text(exact_bytes(more), style=_delta_style(more)), "")
    table.add_row("unattributed", "", "", Text(format_delta(rest), style=_delta_style(rest)),
                  Text(exact_bytes(rest), style=_delta_style(rest)), "")
    legend = estimated_legend(sum(r.old_estimated for r in changed), sum(r.new_estimated for r in changed))
    if legend:
        return _titled(title, Group(table, _plain(legend)))
    return _titled(title, table)


def _embeds_table(report: Report, top: int | None) -> Group | None:
    """The primary build's embedded files (and string/[]byte variables) that changed, largest first."""
    build = primary_build([b for b in report.builds if b.diff is not None], report.budgets)
    if build is None or build.diff is None or not build.diff.embeds:
        return None
    ordered = sorted(build.diff.embeds, key=lambda e: (-abs(e.delta), e.package, e.name))
    shown = ordered if top is None else ordered[:top]
    table = _table(("package", "left"), ("file or variable", "left"), ("change", "left"), ("base", "right"),
                   ("head", "right"), ("bytes", "right"))
    for e in shown:
        table.add_row(_plain(e.package or "(unknown)"), _plain(embed_label(e.name, e.kind)), e.status,
                      format_size(e.old_size), format_size(e.new_size),
                      Text(format_delta(e.delta), style=_delta_style(e.delta)))
    if len(ordered) > len(shown):
        more = sum(e.delta for e in ordered[len(shown):])
        table.add_row(f"… {len(ordered) - len(shown)} more", "", "", "", "",
                      Text(format_delta(more), style=_delta_style(more)))
    return _titled(f"Embedded files of {build.label}", table)


def _dependencies(report: Report) -> list[Group]:
    """Every new, upgraded and removed dependency once across builds, with the builds it reached
    unless it reached all; the figures of the first build it reached, named when other builds differ."""
    seen: dict[tuple[str, str, str], tuple[Dependency, str, list[str]]] = {}
    figures: dict[tuple[str, str, str], set[tuple[str, str]]] = {}
    for b in report.builds:
        for change, deps in (("new", b.new_dependencies), ("removed", b.removed_dependencies)):
            for d in deps:
                _, _, labels = seen.setdefault((change, d.kind, d.name), (d, change, []))
                labels.append(b.label)
                figures.setdefault((change, d.kind, d.name), set()).add(dependency_line(d, change))
    if not seen:
        return []
    reached = {label for _, _, labels in seen.values() for label in labels}
    order = {"upgrade": 0, "new": 1, "removed": 2}
    grid = _grid("right", "left")
    for d, change, labels in sorted(seen.values(), key=lambda e: (order["upgrade" if e[0].kind == "upgrade"
                                                                        else e[1]], -abs(e[0].size), e[0].name)):
        size, rest = dependency_line(d, change)
        line = _plain(rest)
        if len(reached) > 1 and set(labels) != reached:
            line.append_text(_plain(f" (in {', '.join(labels)})"))
        if len(figures[(change, d.kind, d.name)]) > 1:
            line.append_text(_plain(f" (the figures of {labels[0]})"))
        grid.add_row(Text(size, style="green" if size.startswith("-") else "red"), line)
    legend = dependencies_legend((d, change) for d, change, _ in seen.values())
    return [_titled("Dependencies", Group(grid, _plain(legend)) if legend else grid)]


def _waterfalls(report: Report) -> list[Group]:
    out = []
    for w in report.waterfalls:
        table = _table(("strategy", "left"), ("size", "right"), ("saves", "right"))
        for s in w.steps:
            table.add_row(_plain(s.strategy), format_size(s.size),
                          Text(format_size(s.saving) if s.saving else "—", style="green" if s.saving else ""))
        out.append(_titled(f"Strategy waterfall of {w.target} {w.platform}", table))
    return out


def report_renderables(report: Report, *, top: int = 10) -> list[RenderableType]:
    """Rich objects, in reading order: verdict, builds, budgets, top package changes, new
    dependencies with their import chains, strategy waterfalls, notes."""
    parts: list[RenderableType] = [_headline(report), _builds_table(report)]
    for part in (_budgets_table(report), _changes_table(report, "package", top),
                 _changes_table(report, "section", None), _embeds_table(report, top)):
        if part is not None:
            parts.append(part)
    parts += _dependencies(report)
    parts += _waterfalls(report)
    if report.notes:
        grid = _grid("left", "left")
        for n in report.notes:
            grid.add_row("-", _plain(n))
        parts.append(_titled("Notes", grid))
    return parts


def render_report_text(report: Report, width: int = 100) -> str:
    """The report as plain text ``width`` columns wide (deterministic: no colour, no terminal probing)."""
    renderables = report_renderables(report)
    spaced: list[RenderableType] = []
    for i, r in enumerate(renderables):
        spaced.append(r)
        if i < len(renderables) - 1:
            spaced.append(Text(""))
    text = rich_to_text(Group(*spaced), width=width)
    # rich pads table cells to the column width: trailing blanks are noise in files and diffs.
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


__all__ = ["render_report_text", "report_renderables"]


@renderer(Report, "text")
def render_report(report: Report, *, width: int = 100, **_: Any) -> str:
    return render_report_text(report, width)
