"""The report (sizebot/report@1 document) for a terminal, with rich.

``report_renderables(doc)`` gives the rich objects (the CLI prints them with colours on a TTY);
``render_report_text(doc, width)`` renders the same objects to plain text (no colour codes).
Untrusted names are wrapped in rich ``Text`` objects, never parsed as rich markup.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sizebot.compare.model import Report
from sizebot.documents.verdict import Verdict
from sizebot.render import renderer
from sizebot.render.common import rich_to_text
from sizebot.render.report_markdown import (
    build_label,
    build_state,
    changes,
    delta_cell,
    dependency_line_parts,
    headline_parts,
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
    return Text("".join(" " if ord(c) < 32 or 0x7F <= ord(c) <= 0x9F else c for c in str(text)))


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


def _headline(doc: dict[str, Any]) -> Text:
    verdict = str(doc.get("verdict", "neutral"))
    text = Text()
    text.append(f"sizebot: {verdict}".replace("\n", " "), style=_VERDICT_STYLE.get(verdict, "bold"))
    text.append(" — ")
    text.append_text(_plain(" · ".join(headline_parts(doc))))
    base, head = doc.get("base") or {}, doc.get("head") or {}
    text.append("\n")
    text.append_text(_plain(f"head {head.get('ref', '?')} {str(head.get('sha') or '')[:7]} vs "
                            f"base {base.get('ref', '?')} {str(base.get('sha') or '')[:7]}"))
    return text


def _builds_table(doc: dict[str, Any]) -> Group:
    table = _table(("target", "left"), ("platform", "left"), ("strategy", "left"),
                   ("base", "right"), ("head", "right"), ("change", "right"), ("%", "right"))
    for b in doc.get("builds") or []:
        state = build_state(b)
        base = "failed" if (b.get("base") or {}).get("status") == "failed" else size_cell(b.get("base_size"))
        head = "failed" if (b.get("head") or {}).get("status") == "failed" else size_cell(b.get("head_size"))
        delta = "new" if state == "new" else delta_cell(b)
        style = _delta_style(b.get("delta"))
        table.add_row(_plain(b.get("target", "?")), _plain(b.get("platform", "?")), _plain(b.get("strategy", "?")),
                      base, head, Text(delta, style=style), Text(percent_cell(b), style=style))
    return _titled("Binaries", table)


def _budgets_table(doc: dict[str, Any]) -> Group | None:
    budgets = sorted_budgets(doc)
    if not budgets:
        return None
    table = _table(("status", "left"), ("budget", "left"), ("applies to", "left"), ("result", "left"))
    for r in budgets:
        status = str(r.get("status", "?"))
        result = _plain(r.get("message", ""))
        if status == "overridden":
            result.append_text(_plain(f" (overridden: {r.get('override_reason') or 'no reason given'})"))
        table.add_row(Text(status, style=_STATUS_STYLE.get(status, "")), _plain(r.get("rule", "")),
                      _plain(r.get("subject", "")), result)
    return _titled("Budgets", table)


def _packages_table(doc: dict[str, Any], top: int) -> Group | None:
    with_diff = [b for b in doc.get("builds") or [] if b.get("diff")]
    build = primary_build({"builds": with_diff})
    if build is None:
        return None
    rows, n, total = changes(build["diff"].get("packages"), top)
    if not rows:
        return None
    more = f", top {len(rows)}" if n > len(rows) else ""
    title = f"Packages of {build_label(build)}: {n} changed, {format_delta(total)} in all{more}"
    table = _table(("package", "left"), ("base", "right"), ("head", "right"), ("change", "right"), ("%", "right"))
    for r in rows:
        old, new = int(r.get("old_size", 0)), int(r.get("new_size", 0))
        style = _delta_style(r["delta"])
        table.add_row(_plain(r.get("name", "?")), format_size(old) if old else "—", format_size(new) if new else "—",
                      Text(format_delta(r["delta"]), style=style),
                      Text(format_percent(r["delta"], old), style=style))
    return _titled(title, table)


def _dependencies(doc: dict[str, Any]) -> list[Group]:
    out = []
    for b in doc.get("builds") or []:
        deps = sorted(b.get("new_dependencies") or [], key=lambda d: -int(d.get("size") or 0))
        if not deps:
            continue
        grid = _grid("right", "left", "left")
        for d in deps:
            grid.add_row(Text(format_delta(int(d.get("size") or 0)), style="red"), _plain(d.get("kind", "package")),
                         _plain(" ← ".join(dependency_line_parts(d))))
        out.append(_titled(f"New dependencies of {build_label(b)}", grid))
    return out


def _waterfalls(doc: dict[str, Any]) -> list[Group]:
    out = []
    for w in doc.get("waterfalls") or []:
        table = _table(("strategy", "left"), ("size", "right"), ("saves", "right"))
        for s in w.get("steps") or []:
            saving = int(s.get("saving") or 0)
            table.add_row(_plain(s.get("strategy", "?")), format_size(int(s.get("size") or 0)),
                          Text(format_size(saving) if saving else "—", style="green" if saving else ""))
        out.append(_titled(f"Strategy waterfall of {w.get('target', '?')} {w.get('platform', '?')}", table))
    return out


def report_renderables(doc: dict[str, Any], *, top: int = 10) -> list[RenderableType]:
    """Rich objects, in reading order: verdict, builds, budgets, top package changes, new
    dependencies with their import chains, strategy waterfalls, notes."""
    parts: list[RenderableType] = [_headline(doc), _builds_table(doc)]
    for part in (_budgets_table(doc), _packages_table(doc, top)):
        if part is not None:
            parts.append(part)
    parts += _dependencies(doc)
    parts += _waterfalls(doc)
    notes = [str(n) for n in doc.get("notes") or []]
    if notes:
        grid = _grid("left", "left")
        for n in notes:
            grid.add_row("-", _plain(n))
        parts.append(_titled("Notes", grid))
    return parts


def render_report_text(doc: dict[str, Any], width: int = 100) -> str:
    """The report as plain text ``width`` columns wide (deterministic: no colour, no terminal probing)."""
    renderables = report_renderables(doc)
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
    return render_report_text(report.doc, width)
