"""BinaryReport and BinaryDiff as plain text for a terminal (rich tables, no colour, fixed width)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from sizebot.documents.analyze import BinaryReport
from sizebot.documents.diff import BinaryDiff, SizeDelta
from sizebot.render import renderer
from sizebot.render.common import (
    ESTIMATED_MARK,
    embed_label,
    estimated_legend,
    estimated_note,
    marked,
    plain_text,
    rich_to_text,
)
from sizebot.units import format_delta, format_percent, format_size


def one_line(text: str, width: int = 90) -> Text:
    """Untrusted text (package, function, path) as plain rich Text: never markup, one line, cut."""
    s = plain_text(text)
    return Text(s if len(s) <= width else s[: width - 1] + "\u2026")


def _text(parts: list[Any], width: int) -> str:
    # rich pads table titles to the table's width: drop trailing blanks so the text is stable to diff
    return "\n".join(line.rstrip() for line in rich_to_text(*parts, width=width).split("\n"))


def share(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.2f}%" if whole else "-"


def _table(title: str, columns: Sequence[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for name, justify in columns:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    return table


def _cut(rows: Sequence[Any], top: int | None) -> tuple[Sequence[Any], int]:
    if top is None or len(rows) <= top:
        return rows, 0
    return rows[:top], len(rows) - top


def _head(report: BinaryReport) -> Text:
    text = Text()
    text.append("Binary: ")
    text.append_text(one_line(report.path, 200))
    facts = [f"{report.format} {report.goos or '?'}/{report.goarch or '?'}", report.go_version or "not Go",
             f"{format_size(report.file_size)} ({report.file_size} bytes)",
             f"coverage {100.0 * report.coverage:.2f}%"]
    if report.stripped:
        facts.append("stripped")
    if report.packed:
        facts.append(f"packed ({report.packed})")
    text.append("\n" + ", ".join(facts))
    for note in report.notes:
        text.append("\nnote: ")
        text.append_text(one_line(note, 200))
    return text


@renderer(BinaryReport, "text")
def render_report_text(report: BinaryReport, *, top: int | None = 20, width: int = 100, **_: Any) -> str:
    whole = report.file_size
    parts: list[Any] = [_head(report)]

    sections = _table("Sections", (("section", "left"), ("file size", "right"), ("memory", "right"), ("flags", "left")))
    for s in report.sections:
        sections.add_row(one_line(s.name), format_size(s.file_size), format_size(s.mem_size), one_line(s.flags))
    parts.append(sections)

    if report.modules:
        modules = _table("Modules", (("module", "left"), ("version", "left"), ("size", "right"), ("share", "right")))
        rows, more = _cut(report.modules, top)
        for m in rows:
            version = m.version + (f" => {m.replace}" if m.replace else "")
            modules.add_row(one_line(m.path, 60), one_line(version, 40), format_size(m.size), share(m.size, whole))
        if more:
            modules.add_row(Text(f"... {more} more"), "", "", "")
        parts.append(modules)

    if report.packages:
        packages = _table("Packages", (("package", "left"), ("size", "right"), ("code", "right"), ("meta", "right"),
                                       ("data", "right"), ("share", "right")))
        rows, more = _cut(report.packages, top)
        for p in rows:
            data = format_size(p.data) + (ESTIMATED_MARK if p.data_estimated else "")
            packages.add_row(one_line(p.name, 60), format_size(p.size), format_size(p.code), format_size(p.meta),
                             data, share(p.size, whole))
        estimated = sum(p.data_estimated for p in report.packages)
        if estimated:
            packages.caption = f"{ESTIMATED_MARK} {estimated_note(format_size(estimated))}"
            packages.caption_justify = "left"
        if more:
            rest = sum(p.size for p in report.packages[len(rows):])
            packages.add_row(Text(f"... {more} more"), format_size(rest), "", "", "", share(rest, whole))
        parts.append(packages)

    if report.embeds:
        embeds = _table("Embedded files", (("package", "left"), ("file or variable", "left"), ("size", "right")))
        for e in report.embeds:
            embeds.add_row(one_line(e.package or "(unknown)", 50), one_line(embed_label(e.name, e.kind), 60),
                           format_size(e.size))
        parts.append(embeds)

    unattributed = _table("Unattributed", (("section", "left"), ("size", "right"), ("share", "right")))
    for u in report.unattributed:
        unattributed.add_row(one_line(u.section), format_size(u.size), share(u.size, whole))
    total = sum(u.size for u in report.unattributed)
    unattributed.add_row(Text("total"), format_size(total), share(total, whole))
    parts.append(unattributed)

    if report.functions and top != 0:
        functions = _table("Largest functions", (("function", "left"), ("code", "right"), ("meta", "right")))
        rows, more = _cut(report.functions, top)
        for f in rows:
            functions.add_row(one_line(f.name, 70), format_size(f.code), format_size(f.meta))
        if more:
            functions.add_row(Text(f"... {more} more"), "", "")
        parts.append(functions)
    return _text(parts, width)


def _delta_table(title: str, label: str, rows: Sequence[SizeDelta], top: int | None, *,
                 in_all: tuple[int | None, int | None] = (None, None)) -> Table | None:
    """``in_all``: how many rows changed and their sum when ``rows`` is itself the top N (functions)."""
    changed = [d for d in rows if d.delta]
    if not changed:
        return None
    table = _table(title, ((label, "left"), ("old", "right"), ("new", "right"), ("delta", "right"),
                           ("change", "right")))
    shown, more = _cut(changed, top)
    for d in shown:
        table.add_row(one_line(d.name, 70), marked(format_size(d.old_size), bool(d.old_estimated)),
                      marked(format_size(d.new_size), bool(d.new_estimated)),
                      marked(format_delta(d.delta), d.estimated), format_percent(d.delta, d.old_size))
    rest = sum(d.delta for d in changed[len(shown):])
    count, count_delta = in_all
    if count is not None and count_delta is not None and count >= len(changed):
        more, rest = count - len(shown), count_delta - sum(d.delta for d in shown)
    if more:
        table.add_row(Text(f"... {more} more"), "", "",
                      marked(format_delta(rest), any(d.estimated for d in changed[len(shown):])), "")
    legend = estimated_legend(sum(d.old_estimated for d in changed), sum(d.new_estimated for d in changed),
                              ("old", "new"))
    if legend:
        table.caption = legend
        table.caption_justify = "left"
    return table


@renderer(BinaryDiff, "text")
def render_diff_text(diff: BinaryDiff, *, top: int | None = 20, width: int = 100, **_: Any) -> str:
    old, new = diff.old, diff.new
    head = Text()
    head.append("Diff: ")
    head.append_text(one_line(old.path, 120))
    head.append(" -> ")
    head.append_text(one_line(new.path, 120))
    head.append(f"\nsize: {format_size(old.file_size)} -> {format_size(new.file_size)}: "
                f"{format_delta(diff.delta)} ({diff.delta:+d} bytes, {format_percent(diff.delta, old.file_size)})")
    if old.go_version != new.go_version:
        head.append(f"\nGo: {old.go_version or 'not Go'} -> {new.go_version or 'not Go'}")
    else:
        head.append(f"\nGo: {new.go_version or 'not Go'}")
    parts: list[Any] = [head]
    tables = [
        _delta_table("Modules", "module", diff.modules, top),
        _delta_table("Packages", "package", diff.packages, top),
        _delta_table("Sections (file bytes)", "section", diff.sections, None),
        _delta_table("Unattributed", "section", diff.unattributed, None),
        _delta_table("Functions", "function", diff.functions, top,
                     in_all=(diff.functions_changed, diff.functions_delta)) if top != 0 else None,
    ]
    parts.extend(t for t in tables if t is not None)
    if diff.embeds:
        embeds = _table("Embedded files", (("package", "left"), ("file or variable", "left"), ("change", "left"),
                                           ("old", "right"), ("new", "right"), ("delta", "right")))
        for e in diff.embeds:
            embeds.add_row(one_line(e.package or "(unknown)", 50), one_line(embed_label(e.name, e.kind), 60), e.status,
                           format_size(e.old_size), format_size(e.new_size), format_delta(e.delta))
        parts.append(embeds)
    if diff.module_changes:
        changes = _table("Module versions", (("module", "left"), ("old", "left"), ("new", "left")))
        for c in diff.module_changes:
            changes.add_row(one_line(c.path, 60), one_line(c.old_version or "(none)", 40),
                            one_line(c.new_version or "(none)", 40))
        parts.append(changes)
    for label, names in (("Added modules", diff.added_modules), ("Removed modules", diff.removed_modules),
                         ("Added packages", diff.added_packages), ("Removed packages", diff.removed_packages)):
        if names:
            listing = Text(f"{label} ({len(names)}):")
            shown, more = _cut(names, top)
            for name in shown:
                listing.append("\n  ")
                listing.append_text(one_line(name))
            if more:
                listing.append(f"\n  ... {more} more")
            parts.append(listing)
    if (all(t is None for t in tables) and not diff.module_changes and old.go_version == new.go_version
            and not (diff.added_modules or diff.removed_modules or diff.added_packages or diff.removed_packages)):
        parts.append(Text("No change."))
    return _text(parts, width)
