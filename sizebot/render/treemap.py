"""The treemap page's data: a size tree built from the JSON form of the documents (analyze@1,
diff@1, report@1), never from their classes, so the page is a pure function of a document.

The tree: file -> kind of bytes (machine code, function metadata, data, DWARF: each held by its
own sections) -> modules -> packages -> functions (code or metadata) or embedded files, with the
unattributed rows of each section beside the modules, so every level adds up to the file size.

A node is ``{"n": name, "k": kind, "v": bytes[, "o": old bytes][, "d": detail][, "c": children]}``
(short keys: a large program's page carries tens of thousands of them). Only the largest
functions are kept; the rest of each package's functions is one "other functions" node, so a
program such as gopls (60,000 functions) stays a page of a few MB.
"""

from __future__ import annotations

import heapq
import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

from sizebot.render.common import embed_label, name_bidi

Node = dict[str, Any]

# Functions kept per kind of bytes (the largest ones, by their larger size in a diff).
MAX_CODE_FUNCTIONS = 8000
MAX_META_FUNCTIONS = 2000

CODE, META, DATA, DEBUG = "code", "meta", "data", "debug"
GROUP_NAMES = {
    CODE: "machine code",
    META: "function metadata (pclntab, funcdata)",
    DATA: "data",
    DEBUG: "DWARF debug info",
}
_CODE_SECTIONS = {".text", "__text", ".plt", ".init", ".fini", ".plt.got", ".plt.sec"}
_META_SECTIONS = {".gopclntab", "__gopclntab", ".go.func", "go:func.*"}
NO_MODULE = "(no module)"
OTHER_FUNCTIONS = "(other functions)"
OTHER_DATA = "(other data)"
OTHER_PACKAGES = "(packages not in the document)"


def _section_kind(section: str) -> str | None:
    """Which kind of bytes an unattributed section row belongs with; None: a top-level row."""
    s = section.lower()
    if s.startswith("(") and s.endswith(")"):  # "(headers)", "(padding)"
        return None
    if s in _CODE_SECTIONS:
        return CODE
    if s in _META_SECTIONS or "pclntab" in s or s.startswith("go:func"):
        return META
    if s.startswith((".debug", ".zdebug", "__debug", "__zdebug", "__dwarf")):
        return DEBUG
    return DATA


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _package_parts(p: Mapping[str, Any]) -> dict[str, int]:
    """A package's bytes per kind; what its size has beyond the named parts counts as data."""
    parts = {CODE: _int(p.get("code")), META: _int(p.get("meta")), DATA: _int(p.get("data")),
             DEBUG: _int(p.get("debug"))}
    rest = _int(p.get("size")) - sum(parts.values())
    if rest > 0:
        parts[DATA] += rest
    return parts


def _embeds(doc: Mapping[str, Any], p: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Embedded files of a package: in the package object, or in a top-level ``embeds`` list."""
    rows: list[Any] = list(p.get("embeds") or [])
    rows += [e for e in doc.get("embeds") or [] if isinstance(e, Mapping) and e.get("package") == p.get("name")]
    out = []
    for e in rows:
        if isinstance(e, Mapping):
            name = e.get("name") or e.get("path") or e.get("file") or "?"
            out.append((embed_label(str(name), str(e.get("kind") or "file")), _int(e.get("size"))))
    return out


def _short_function_name(name: str, package: str) -> str:
    return name[len(package) + 1:] if package and name.startswith(package + ".") else name


def function_sizes(doc: Mapping[str, Any], kind: str) -> dict[tuple[str, str], int]:
    """(package, function) -> bytes of that kind (code or meta)."""
    out: dict[tuple[str, str], int] = {}
    for f in doc.get("functions") or []:
        size = _int(f.get(kind))
        if size:
            key = (str(f.get("package") or ""), str(f.get("name") or "?"))
            out[key] = out.get(key, 0) + size
    return out


def kept_functions(sides: Sequence[Mapping[tuple[str, str], int]], limit: int) -> set[tuple[str, str]]:
    """The ``limit`` largest functions, by their largest size on any side (both sides of a diff fold
    the same functions, so a function is never "added" only because it was folded on one side)."""
    largest: dict[tuple[str, str], int] = {}
    for sizes in sides:
        for key, size in sizes.items():
            if size > largest.get(key, 0):
                largest[key] = size
    return set(heapq.nlargest(limit, largest, key=lambda k: (largest[k], k)))


def analysis_tree(doc: Mapping[str, Any], *, keep: Mapping[str, set[tuple[str, str]]] | None = None) -> Node:
    """The size tree of one analyze@1 document. ``keep``: the functions to show per kind (default:
    the largest); the others of each package are one "other functions" node."""
    file_size = _int(doc.get("file_size"))
    if keep is None:
        keep = {CODE: kept_functions([function_sizes(doc, CODE)], MAX_CODE_FUNCTIONS),
                META: kept_functions([function_sizes(doc, META)], MAX_META_FUNCTIONS)}
    functions = {kind: function_sizes(doc, kind) for kind in (CODE, META)}
    by_package: dict[str, dict[str, list[tuple[str, int]]]] = {CODE: {}, META: {}}
    for kind in (CODE, META):
        for (package, name), size in functions[kind].items():
            if (package, name) in keep.get(kind, set()):
                by_package[kind].setdefault(package, []).append((name, size))

    versions = {str(m.get("path")): str(m.get("version") or "") for m in doc.get("modules") or []}
    groups: dict[str, dict[str, list[Node]]] = {kind: {} for kind in GROUP_NAMES}  # kind -> module -> packages
    known = 0
    for p in doc.get("packages") or []:
        name, module = str(p.get("name") or "?"), str(p.get("module") or "") or NO_MODULE
        parts = _package_parts(p)
        known += sum(parts.values())  # its size, or more when a part (debug) is reported beside it
        for kind, size in parts.items():
            if not size:
                continue
            node: Node = {"n": name, "k": "package", "v": size}
            children: list[Node] = []
            if kind in (CODE, META):
                children = [{"n": _short_function_name(fn, name), "k": "function", "v": fs}
                            for fn, fs in by_package[kind].get(name, [])]
                rest = size - sum(c["v"] for c in children)
                if children and rest > 0:
                    children.append({"n": OTHER_FUNCTIONS, "k": "other", "v": rest})
            elif kind == DATA:
                embeds = [(e, s) for e, s in _embeds(doc, p) if s]
                children = [{"n": e, "k": "embed", "v": s} for e, s in embeds]
                rest = size - sum(s for _, s in embeds)
                if children and rest > 0:
                    children.append({"n": OTHER_DATA, "k": "other", "v": rest})
            if children:
                node["c"] = children
            groups[kind].setdefault(module, []).append(node)

    top: list[Node] = []
    unattributed: dict[str | None, list[Node]] = {}
    for u in doc.get("unattributed") or []:
        size = _int(u.get("size"))
        if size:
            section = str(u.get("section") or "?")
            unattributed.setdefault(_section_kind(section), []).append(
                {"n": section if section.startswith("(") or ":" in section else f"{section} (unattributed)",
                 "k": "unattributed",
                 "v": size})
            known += size
    held_in: dict[str | None, list[str]] = {}
    for sec in doc.get("sections") or []:
        if _int(sec.get("file_size")):
            name = str(sec.get("name") or "?")
            held_in.setdefault(_section_kind(name), []).append(name)
    for kind, title in GROUP_NAMES.items():
        children = [
            {"n": module, "k": "module", "v": sum(p["v"] for p in packages), "c": packages,
             **({"d": versions[module]} if versions.get(module) else {})}
            for module, packages in groups[kind].items()
        ] + unattributed.get(kind, [])
        if children:
            group: Node = {"n": title, "k": "group", "v": sum(c["v"] for c in children), "c": children}
            if held_in.get(kind):
                names = held_in[kind]
                more = f" and {len(names) - 12} more" if len(names) > 12 else ""
                group["d"] = "sections: " + " ".join(names[:12]) + more
            top.append(group)
    top += unattributed.get(None, [])
    if file_size > known:  # packages cut from the document (a report keeps the largest only)
        top.append(_cut_packages(doc, file_size - known))
    return {"n": str(doc.get("path") or "binary"), "k": "file", "v": file_size, "c": _sorted(top)}


def _cut_packages(doc: Mapping[str, Any], size: int) -> Node:
    """The bytes of the packages a document left out, per module (the module list is complete)."""
    listed: dict[str, int] = {}
    for p in doc.get("packages") or []:
        module = str(p.get("module") or "") or NO_MODULE
        listed[module] = listed.get(module, 0) + _int(p.get("size"))
    children: list[Node] = []
    for m in doc.get("modules") or []:
        module = str(m.get("path") or "") or NO_MODULE
        rest = _int(m.get("size")) - listed.get(module, 0)
        if rest > 0:
            version = {"d": str(m["version"])} if m.get("version") else {}
            children.append({"n": module, "k": "module", "v": rest, **version})
    accounted = sum(c["v"] for c in children)
    if not children or accounted > size:  # modules that do not add up: one node, the total is what is known
        return {"n": OTHER_PACKAGES, "k": "other", "v": size}
    if size > accounted:
        children.append({"n": "(rest)", "k": "other", "v": size - accounted})
    return {"n": OTHER_PACKAGES, "k": "group", "v": size, "c": children}


def _sorted(nodes: list[Node]) -> list[Node]:
    for node in nodes:
        if "c" in node:
            node["c"] = _sorted(node["c"])
    return sorted(nodes, key=lambda n: (-max(n["v"], n.get("o", 0)), n["n"]))


def merge_trees(old: Node | None, new: Node | None) -> Node:
    """One tree of both sides: ``v`` the new bytes, ``o`` the old ones (0 for what is added or removed)."""
    base = new if new is not None else old
    assert base is not None
    node: Node = {"n": base["n"], "k": base["k"], "v": new["v"] if new else 0, "o": old["v"] if old else 0}
    if base.get("d"):
        node["d"] = base["d"]
    old_children = {(c["k"], c["n"]): c for c in (old or {}).get("c", [])}
    new_children = {(c["k"], c["n"]): c for c in (new or {}).get("c", [])}
    if old_children or new_children:
        keys = list(new_children) + [k for k in old_children if k not in new_children]
        node["c"] = [merge_trees(old_children.get(k), new_children.get(k)) for k in keys]
    return node


def complete_packages(old: Mapping[str, Any], new: Mapping[str, Any], diff: Mapping[str, Any] | None) -> tuple[
        dict[str, Any], dict[str, Any]]:
    """Two analyses cut to their largest packages (as a report embeds them), each completed with
    the packages only the other lists: their size on this side comes from the diff (every changed
    package is there), else it did not change. The split into code/meta/data follows the other side."""
    changed = {str(r.get("name")): r for r in (diff or {}).get("packages") or []}

    def fill(side: Mapping[str, Any], other: Mapping[str, Any], size_key: str) -> dict[str, Any]:
        names = {p.get("name") for p in side.get("packages") or []}
        packages = list(side.get("packages") or [])
        for p in other.get("packages") or []:
            if p.get("name") in names:
                continue
            row = changed.get(str(p.get("name")))
            size = _int(row.get(size_key)) if row else _int(p.get("size"))
            if not size:
                continue
            total = _int(p.get("size")) or 1
            parts = {k: _int(p.get(k)) * size // total for k in (CODE, META, DEBUG)}
            packages.append({"name": p.get("name"), "module": p.get("module"), "size": size, **parts,
                             "data": size - sum(parts.values())})
        return {**side, "packages": packages}

    return fill(old, new, "old_size"), fill(new, old, "new_size")


def diff_tree(old: Mapping[str, Any], new: Mapping[str, Any], *, functions_complete: bool = True) -> Node:
    """The merged tree of two analyze@1 documents. When their function lists are cut (a report's),
    only functions listed on both sides are shown, so none looks added or removed by the cut."""
    keep: dict[str, set[tuple[str, str]]] = {}
    for kind, limit in ((CODE, MAX_CODE_FUNCTIONS), (META, MAX_META_FUNCTIONS)):
        sides = [function_sizes(old, kind), function_sizes(new, kind)]
        if not functions_complete:
            common = set(sides[0]) & set(sides[1])
            sides = [{k: v for k, v in s.items() if k in common} for s in sides]
        keep[kind] = kept_functions(sides, limit)
    return _sorted([merge_trees(analysis_tree(old, keep=keep), analysis_tree(new, keep=keep))])[0]


def analyze_summary(doc: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("path", "file_size", "format", "goos", "goarch", "go_version", "coverage", "stripped", "packed")
    return {k: doc.get(k) for k in keys} | {"notes": list(doc.get("notes") or [])}


def analyze_page_data(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {"kind": "analyze", "summary": analyze_summary(doc), "maps": [{"title": "", "tree": analysis_tree(doc)}]}


def diff_page_data(doc: Mapping[str, Any]) -> dict[str, Any]:
    old, new = doc.get("old") or {}, doc.get("new") or {}
    summary = {"old": analyze_summary(old), "new": analyze_summary(new), "delta": doc.get("delta"),
               "added_modules": list(doc.get("added_modules") or []),
               "removed_modules": list(doc.get("removed_modules") or [])}
    return {"kind": "diff", "summary": summary, "maps": [{"title": "", "tree": diff_tree(old, new)}]}


def _build_title(b: Mapping[str, Any]) -> str:
    return " ".join(str(b.get(k) or "") for k in ("target", "platform", "strategy")).strip()


def report_page_data(doc: Mapping[str, Any]) -> dict[str, Any]:
    maps = []
    for b in doc.get("builds") or []:
        base, head = b.get("base") or {}, b.get("head") or {}
        old, new = base.get("binary"), head.get("binary")
        entry: dict[str, Any] = {"title": _build_title(b), "base_status": base.get("status"),
                                 "head_status": head.get("status"), "base_size": b.get("base_size"),
                                 "head_size": b.get("head_size"), "delta": b.get("delta"),
                                 "errors": [e for e in (base.get("error"), head.get("error")) if e]}
        if old and new:
            old_full, new_full = complete_packages(old, new, b.get("diff"))
            entry["tree"] = diff_tree(old_full, new_full, functions_complete=False)
        elif new or old:
            entry["tree"] = analysis_tree(new or old or {})
        maps.append(entry)
    summary = {
        "verdict": doc.get("verdict"),
        "repo": (doc.get("repo") or {}).get("name"),
        "base": {k: (doc.get("base") or {}).get(k) for k in ("ref", "sha", "subject")},
        "head": {k: (doc.get("head") or {}).get(k) for k in ("ref", "sha", "subject")},
        "budgets": [
            {k: r.get(k) for k in ("rule", "level", "status", "subject", "message", "override_reason")}
            for r in doc.get("budgets") or []
        ],
        "notes": [str(n) for n in doc.get("notes") or []],
    }
    return {"kind": "report", "summary": summary, "maps": maps}


def count_nodes(node: Node) -> int:
    return 1 + sum(count_nodes(c) for c in node.get("c", ()))


def iter_nodes(node: Node, path: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], Node]]:
    here = (*path, node["n"])
    yield here, node
    for c in node.get("c", ()):
        yield from iter_nodes(c, here)


# ---- the page ------------------------------------------------------------------------------------

# No network at all: inline script and style only, images only as data: URLs (the empty favicon).
_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
# In a <script> element only "</script" or "<!--" could end it early; with every "<", ">" and "&"
# escaped (and the two JavaScript line terminators), the JSON text cannot leave its element.
_SCRIPT_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                                 "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _finite(value: Any) -> Any:
    """NaN and infinities are not JSON: they would stop the page's JSON.parse. They become null.
    Bidirectional controls in names are shown by name (<U+202E>), as in the comment, not obeyed."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return name_bidi(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def json_for_script(payload: Any) -> str:
    text = json.dumps(_finite(payload), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_SCRIPT_ESCAPES)


def _asset(name: str) -> str:
    return (resources.files("sizebot.render") / "assets" / name).read_text(encoding="utf-8")


def treemap_page(data: Mapping[str, Any], title: str) -> str:
    """One self-contained HTML file: the data as a JSON script block, the treemap script and style inline."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<link rel=\"icon\" href=\"data:,\">\n"
        f"<title>{html.escape(title)}</title>\n<style>\n{_asset('treemap.css')}</style>\n</head>\n<body>\n"
        "<header id=\"summary\"></header>\n<main id=\"maps\"></main>\n<div id=\"tip\" hidden></div>\n"
        f"<script type=\"application/json\" id=\"sizebot-data\">{json_for_script(data)}</script>\n"
        f"<script>\n{_asset('treemap.js')}</script>\n</body>\n</html>\n"
    )


def analyze_page(doc: Mapping[str, Any]) -> str:
    return treemap_page(analyze_page_data(doc), f"sizebot: {doc.get('path') or 'binary'}")


def diff_page(doc: Mapping[str, Any]) -> str:
    old, new = doc.get("old") or {}, doc.get("new") or {}
    return treemap_page(diff_page_data(doc), f"sizebot: {old.get('path') or 'old'} -> {new.get('path') or 'new'}")


def report_page(doc: Mapping[str, Any]) -> str:
    head = (doc.get("head") or {}).get("ref") or "head"
    base = (doc.get("base") or {}).get("ref") or "base"
    return treemap_page(report_page_data(doc), f"sizebot report: {head} compared with {base}")
