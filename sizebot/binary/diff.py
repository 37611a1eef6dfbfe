"""BinaryReport x BinaryReport -> BinaryDiff: what changed between two builds, and where (pure).

Every package and every unattributed row of either report gets a delta, so the package deltas
plus the unattributed deltas add up to the file size delta exactly (each report's buckets sum to
its file size). Rows with the same key are summed first, which keeps that true whatever the reports hold.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sizebot.documents.analyze import UNKNOWN, BinaryReport, BuildInfo, Module
from sizebot.documents.diff import BinaryDiff, EmbedDelta, FunctionDelta, ModuleChange, SizeDelta


def diff_reports(old: BinaryReport, new: BinaryReport, *, top: int | None = 20) -> BinaryDiff:
    """Deltas per section (file bytes), package, module, unattributed section, and the ``top``
    changed functions (code + meta; None: all of them), largest |delta| first, ties by name, with the
    count and the sum of the deltas of every changed function (what the cut list cannot tell)."""
    if top is not None and top < 0:
        raise ValueError("top must be 0 or more (or None for all)")
    old_pkgs = _totals((p.name, p.size) for p in old.packages)
    new_pkgs = _totals((p.name, p.size) for p in new.packages)
    old_mods = _totals((m.path, m.size) for m in old.modules)
    new_mods = _totals((m.path, m.size) for m in new.modules)
    estimated = (_totals((p.name, p.data_estimated) for p in old.packages),
                 _totals((p.name, p.data_estimated) for p in new.packages))
    module_estimated = (_module_estimated(old), _module_estimated(new))
    functions = _function_deltas(old, new)
    return BinaryDiff(
        old=old,
        new=new,
        sections=_deltas(_totals((s.name, s.file_size) for s in old.sections),
                         _totals((s.name, s.file_size) for s in new.sections)),
        packages=_deltas(old_pkgs, new_pkgs, estimated),
        modules=_deltas(old_mods, new_mods, module_estimated),
        functions=functions if top is None else functions[:top],
        unattributed=_deltas(_totals((u.section, u.size) for u in old.unattributed),
                             _totals((u.section, u.size) for u in new.unattributed)),
        module_changes=module_changes(old.build_info, new.build_info),
        added_packages=tuple(sorted(new_pkgs.keys() - old_pkgs.keys())),
        removed_packages=tuple(sorted(old_pkgs.keys() - new_pkgs.keys())),
        added_modules=tuple(sorted(new_mods.keys() - old_mods.keys())),
        removed_modules=tuple(sorted(old_mods.keys() - new_mods.keys())),
        embeds=embed_changes(old, new),
        functions_changed=len(functions),
        functions_delta=sum(f.delta for f in functions),
    )


def embed_changes(old: BinaryReport, new: BinaryReport) -> tuple[EmbedDelta, ...]:
    """Embeds added, removed or resized, by package then name; a file and a variable of the same
    name are two embeds. Variables named by their order ("#N", no symbol table) are matched by size
    first: one embed added before others shifts their numbers, and is still one embed added."""
    before = {(e.package, e.name, e.kind): e.size for e in old.embeds if _named_file(e.name, e.kind)}
    after = {(e.package, e.name, e.kind): e.size for e in new.embeds if _named_file(e.name, e.kind)}
    out = []
    for key in sorted(before.keys() | after.keys()):
        pkg, name, kind = key
        if key not in before:
            out.append(EmbedDelta(pkg, name, "added", 0, after[key], kind))
        elif key not in after:
            out.append(EmbedDelta(pkg, name, "removed", before[key], 0, kind))
        elif before[key] != after[key]:
            out.append(EmbedDelta(pkg, name, "changed", before[key], after[key], kind))
    out.extend(_positional_changes(old, new))
    return tuple(sorted(out, key=lambda e: (e.package, e.name, e.kind)))


def _named_file(name: str, kind: str) -> bool:
    """An embed matched by name: a variable named by its symbol, or a file of an embed.FS (not a
    directory's entry, which documents of older analyses list with size 0)."""
    return not _positional(name, kind) and not (kind == "file" and name.endswith("/"))


def _positional(name: str, kind: str) -> bool:
    return kind != "file" and name.startswith("#") and name[1:].isdigit()


def _positional_changes(old: BinaryReport, new: BinaryReport) -> list[EmbedDelta]:
    """Per package and kind: sizes found at both sides are the same embeds (unchanged); what is left
    pairs up in order as changed, the rest added or removed, each named as its side numbers it."""
    groups: dict[tuple[str, str], tuple[list[tuple[int, str, int]], list[tuple[int, str, int]]]] = {}
    for side, report in enumerate((old, new)):
        for e in report.embeds:
            if _positional(e.name, e.kind):
                groups.setdefault((e.package, e.kind), ([], []))[side].append((int(e.name[1:]), e.name, e.size))
    out = []
    for (pkg, kind), (olds, news) in groups.items():
        common = Counter(size for _, _, size in olds) & Counter(size for _, _, size in news)
        left_old, left_new = _unmatched(sorted(olds), common), _unmatched(sorted(news), common)
        for (_, _, old_size), (_, name, new_size) in zip(left_old, left_new, strict=False):
            out.append(EmbedDelta(pkg, name, "changed", old_size, new_size, kind))
        out.extend(EmbedDelta(pkg, name, "added", 0, size, kind) for _, name, size in left_new[len(left_old):])
        out.extend(EmbedDelta(pkg, name, "removed", size, 0, kind) for _, name, size in left_old[len(left_new):])
    return out


def _unmatched(items: list[tuple[int, str, int]], common: Counter[int]) -> list[tuple[int, str, int]]:
    """``items`` less, for each size, as many of that size as ``common`` counts (the first ones)."""
    left = Counter(common)
    out = []
    for item in items:
        if left[item[2]] > 0:
            left[item[2]] -= 1
        else:
            out.append(item)
    return out


def module_version(module: Module) -> str:
    """A dependency's version as ``go version -m`` shows it, its replacement included:
    ``v1.2.3``, ``v1.2.3 => ../greet``, ``v1.2.3 => example.com/fork v1.2.4``."""
    if module.replace is None:
        return module.version
    target = module.replace.path + (f" {module.replace.version}" if module.replace.version else "")
    return f"{module.version} => {target}"


def module_changes(old: BuildInfo | None, new: BuildInfo | None) -> tuple[ModuleChange, ...]:
    """Dependencies added (old_version ""), removed (new_version "") or at another version or
    replacement, sorted by path. The main module is left out: it is the code under comparison."""
    before = {m.path: module_version(m) for m in (old.deps if old else ())}
    after = {m.path: module_version(m) for m in (new.deps if new else ())}
    changes = []
    for path in sorted(before.keys() | after.keys()):
        a, b = before.get(path, ""), after.get(path, "")
        if a != b or (path in before) != (path in after):
            changes.append(ModuleChange(path=path, old_version=a, new_version=b))
    return tuple(changes)


def _totals(rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, size in rows:
        out[key] = out.get(key, 0) + size
    return out


def _order(d: SizeDelta) -> tuple[int, str]:
    return (-abs(d.delta), d.name)


def _module_estimated(report: BinaryReport) -> dict[str, int]:
    """Estimated data bytes per module row: its packages' (module "" is the (unknown) row, as the
    analyser groups them)."""
    return _totals((p.module or UNKNOWN, p.data_estimated) for p in report.packages if p.data_estimated)


def _deltas(old: dict[str, int], new: dict[str, int],
            estimated: tuple[dict[str, int], dict[str, int]] = ({}, {})) -> tuple[SizeDelta, ...]:
    """A row per name of either side; ``estimated``: the estimated bytes per name at each side (never
    more than the row's size, whatever a stored document's modules say)."""
    rows = [SizeDelta(name, old.get(name, 0), new.get(name, 0), min(estimated[0].get(name, 0), old.get(name, 0)),
                      min(estimated[1].get(name, 0), new.get(name, 0)))
            for name in old.keys() | new.keys()]
    return tuple(sorted(rows, key=_order))


def _function_deltas(old: BinaryReport, new: BinaryReport) -> tuple[FunctionDelta, ...]:
    def sizes(report: BinaryReport) -> dict[str, tuple[int, int, str]]:
        out: dict[str, tuple[int, int, str]] = {}
        for f in report.functions:
            size, code, _ = out.get(f.name, (0, 0, f.package))
            out[f.name] = (size + f.code + f.meta, code + f.code, f.package)
        return out

    before, after = sizes(old), sizes(new)
    rows = []
    for name in before.keys() | after.keys():
        a, code_a, pkg_a = before.get(name, (0, 0, ""))
        b, code_b, pkg_b = after.get(name, (0, 0, ""))
        if a != b:
            rows.append(FunctionDelta(name, a, b, package=pkg_b or pkg_a, old_code=code_a, new_code=code_b))
    rows.sort(key=_order)
    return tuple(rows)
