"""``--format html``: the treemap pages of analyze, diff and report.

The size tree is checked exactly against the JSON documents; the pages are opened in headless
Chromium (tests/support/browser.py) built from real Go programs: no console errors, top-level
areas proportional to the document's sizes, zoom by click, search, hostile names inert.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from sizebot.cli import main
from sizebot.cli.report import render_doc
from sizebot.documents.report import Report
from sizebot.render.treemap import (
    MAX_CODE_FUNCTIONS,
    MAX_META_FUNCTIONS,
    OTHER_FUNCTIONS,
    OTHER_PACKAGES,
    analysis_tree,
    analyze_page,
    diff_page,
    diff_tree,
    iter_nodes,
    json_for_script,
    kept_functions,
    report_page_data,
)
from tests.support import goprograms
from tests.support.browser import Browser

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'

SHAPES = """package shapes

//go:noinline
func ComputeTreemapNeedle(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		switch i % 4 {
		case 0:
			s += i * 3
		case 1:
			s ^= i << 2
		case 2:
			s -= i / 3
		default:
			s += n - i
		}
	}
	return s
}
"""
OLD = {
    "go.mod": "module example.com/tm\n\ngo 1.21\n",
    "shapes/shapes.go": SHAPES,
    "legacy/legacy.go": 'package legacy\n\nimport "strings"\n\n//go:noinline\nfunc Old(n int) string '
                        '{ return strings.Repeat("legacy", n) }\n',
    "main.go": 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/tm/legacy"\n\t"example.com/tm/shapes"\n)\n\n'
               'func main() { fmt.Println(shapes.ComputeTreemapNeedle(7), legacy.Old(2)) }\n',
}
NEW = {
    "go.mod": "module example.com/tm\n\ngo 1.21\n",
    "shapes/shapes.go": SHAPES,
    "codec/codec.go": 'package codec\n\nimport "encoding/json"\n\n//go:noinline\nfunc Encode(v any) string '
                      '{ b, _ := json.Marshal(v); return string(b) }\n',
    "main.go": 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/tm/codec"\n\t"example.com/tm/shapes"\n)\n\n'
               'func main() { fmt.Println(shapes.ComputeTreemapNeedle(7), codec.Encode(map[string]int{"a": 1})) }\n',
}


def analyze_json(binary: Path, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / f"{binary.parent.name}.json"
    assert main(["analyze", str(binary), "--format", "json", "--top", "all", "-o", str(out)]) == 0
    return dict(json.loads(out.read_text()))


def page_data(page: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="sizebot-data">(.*?)</script>', page, re.DOTALL)
    assert m
    return dict(json.loads(m.group(1)))


def group_of(section: str) -> str | None:
    """Where the page puts an unattributed section row (ELF names)."""
    if section.startswith("("):
        return None
    if section == ".text":
        return "machine code"
    if section == ".gopclntab" or section.startswith(("pclntab: ", "go:func.")):  # named tables of the pclntab
        return "function metadata (pclntab, funcdata)"
    if section.startswith(".debug_"):
        return "DWARF debug info"
    return "data"


def expected_top_level(doc: dict[str, Any]) -> dict[str, int]:
    """The page's top level, from the analyze document alone."""
    top = {
        "machine code": sum(p["code"] for p in doc["packages"]),
        "function metadata (pclntab, funcdata)": sum(p["meta"] for p in doc["packages"]),
        "data": sum(p["size"] - p["code"] - p["meta"] - p.get("debug", 0) for p in doc["packages"]),
        "DWARF debug info": sum(p.get("debug", 0) for p in doc["packages"]),
    }
    for u in doc["unattributed"]:
        group = group_of(u["section"])
        top[group or u["section"]] = top.get(group or u["section"], 0) + u["size"]
    return {k: v for k, v in top.items() if v}


# ---- the size tree, exactly ------------------------------------------------------------------

def small_doc(**extra: Any) -> dict[str, Any]:
    return {
        "schema": "sizebot/analyze@1", "path": "app", "file_size": 10_000,
        "packages": [
            {"name": "runtime", "module": "std", "size": 6000, "code": 3000, "meta": 1000, "data": 1500, "debug": 500},
            {"name": "example.com/app/web", "module": "example.com/app", "size": 2500, "code": 1500, "meta": 400,
             "data": 600, "embeds": [{"name": "static/index.html", "size": 450}]},
        ],
        "modules": [{"path": "std", "version": "", "size": 6000}, {"path": "example.com/app", "version": "v1.2.0",
                                                                   "size": 2500}],
        "sections": [{"name": n, "file_size": z} for n, z in ((".text", 4500), (".rodata", 1500), (".bss", 0),
                                                              (".data", 1300), (".gopclntab", 1400))],
        "unattributed": [{"section": ".rodata", "size": 700}, {"section": "(headers)", "size": 300},
                         {"section": ".debug_info", "size": 500}],
        "functions": [{"name": "runtime.mallocgc", "package": "runtime", "code": 2000, "meta": 300},
                      {"name": "runtime.gcStart", "package": "runtime", "code": 600, "meta": 200},
                      {"name": "example.com/app/web.Serve", "package": "example.com/app/web", "code": 1200,
                       "meta": 100}],
        **extra,
    }


def test_every_level_adds_up_to_the_file() -> None:
    tree = analysis_tree(small_doc())
    assert tree["v"] == 10_000 and sum(c["v"] for c in tree["c"]) == 10_000
    for _, node in iter_nodes(tree):
        if "c" in node:
            assert sum(c["v"] for c in node["c"]) == node["v"], node["n"]
    top = {c["n"]: c["v"] for c in tree["c"]}
    assert top == {"machine code": 4500, "function metadata (pclntab, funcdata)": 1400, "data": 2800,
                   "DWARF debug info": 1000, "(headers)": 300}
    nodes = {path: node for path, node in iter_nodes(tree)}
    code_runtime = nodes[("app", "machine code", "std", "runtime")]
    assert [(c["n"], c["v"]) for c in code_runtime["c"]] == [("mallocgc", 2000), ("gcStart", 600),
                                                              (OTHER_FUNCTIONS, 400)]
    web_data = nodes[("app", "data", "example.com/app", "example.com/app/web")]
    assert [(c["n"], c["k"], c["v"]) for c in web_data["c"]] == [("static/index.html", "embed", 450),
                                                                 ("(other data)", "other", 150)]
    assert nodes[("app", "data", "example.com/app")]["d"] == "v1.2.0"
    assert nodes[("app", "machine code")]["d"] == "sections: .text"
    assert nodes[("app", "data")]["d"] == "sections: .rodata .data"
    assert nodes[("app", "DWARF debug info", ".debug_info (unattributed)")]["v"] == 500
    assert nodes[("app", "data", ".rodata (unattributed)")]["v"] == 700


def test_cut_documents_keep_the_total() -> None:
    doc = small_doc()
    doc["packages"] = doc["packages"][:1]  # a report keeps the largest packages only
    tree = analysis_tree(doc)
    assert sum(c["v"] for c in tree["c"]) == 10_000
    cut = {c["n"]: c for c in tree["c"]}[OTHER_PACKAGES]
    assert cut["v"] == 2500 and [(c["n"], c["v"], c["d"]) for c in cut["c"]] == [("example.com/app", 2500, "v1.2.0")]
    doc["modules"] = []  # no module list: one node
    assert {c["n"]: c for c in analysis_tree(doc)["c"]}[OTHER_PACKAGES] == {"n": OTHER_PACKAGES, "k": "other",
                                                                             "v": 2500}


def test_small_functions_fold_into_other_per_package() -> None:
    assert kept_functions([{("p", "a"): 5, ("p", "b"): 9, ("q", "c"): 7}], 2) == {("p", "b"), ("q", "c")}
    # Both sides of a diff fold the same functions: by the larger of their sizes.
    assert kept_functions([{("p", "a"): 1, ("p", "b"): 5}, {("p", "a"): 9, ("p", "b"): 4}], 1) == {("p", "a")}


def test_diff_tree_old_and_new_with_removed_and_added() -> None:
    old = small_doc()
    new = small_doc(file_size=10_300)
    new["packages"] = [dict(new["packages"][0], size=6300, code=3300),
                       {"name": "example.com/app/api", "module": "example.com/app", "size": 2500, "code": 1500,
                        "meta": 400, "data": 600}]
    new["functions"] = [{"name": "runtime.mallocgc", "package": "runtime", "code": 2300, "meta": 300}]
    tree = diff_tree(old, new)
    assert (tree["o"], tree["v"]) == (10_000, 10_300)
    nodes = {path: node for path, node in iter_nodes(tree)}
    code = ("app", "machine code")
    assert (nodes[code]["o"], nodes[code]["v"]) == (4500, 4800)
    removed = nodes[(*code, "example.com/app", "example.com/app/web")]
    added = nodes[(*code, "example.com/app", "example.com/app/api")]
    assert (removed["o"], removed["v"], added["o"], added["v"]) == (1500, 0, 0, 1500)
    assert (nodes[(*code, "std", "runtime", "mallocgc")]["o"], nodes[(*code, "std", "runtime", "mallocgc")]["v"]) == (
        2000, 2300)
    assert (nodes[(*code, "std", "runtime", "gcStart")]["o"], nodes[(*code, "std", "runtime", "gcStart")]["v"]) == (
        600, 0)


def test_data_cannot_leave_its_script_element() -> None:
    text = json_for_script({"n": HOSTILE + "\u2028&"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"n": HOSTILE + "\u2028&"}
    assert json.loads(json_for_script({"coverage": float("nan"), "x": [float("inf")]})) == {"coverage": None,
                                                                                           "x": [None]}
    page = analyze_page(small_doc(path=HOSTILE))
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert "<title>sizebot: &lt;/script&gt;" in page


def test_report_page_has_one_tree_per_build_that_adds_up() -> None:
    doc = json.loads((ROOT / "tests" / "data" / "report-render-sample.json").read_text())
    data = report_page_data(doc)
    assert data["summary"]["verdict"] == doc["verdict"]
    assert len(data["summary"]["budgets"]) == len(doc["budgets"])
    assert len(data["maps"]) == len(doc["builds"])
    for build, m in zip(doc["builds"], data["maps"], strict=True):
        head = (build["head"] or {}).get("binary")
        if head is None:
            continue
        assert m["tree"]["v"] == head["file_size"]
        assert sum(c["v"] for c in m["tree"]["c"]) == head["file_size"]
        if build["diff"] is not None:
            assert m["tree"]["o"] == build["base"]["binary"]["file_size"]
            # A package cut from one side's document is not shown as added or removed: the diff knows it.
            for path, node in iter_nodes(m["tree"]):
                if node["k"] == "package" and (node["o"] == 0) != (node["v"] == 0):
                    changed = {p["name"]: p for p in build["diff"]["packages"]}
                    assert node["n"] in changed, path
                    assert (changed[node["n"]]["old_size"] == 0) == (node["o"] == 0)


# ---- in the browser --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("html")
    old, new = goprograms.build(OLD), goprograms.build(NEW)
    out: dict[str, Any] = {"tmp": tmp, "old": old, "new": new}
    for name, binary in (("old", old), ("new", new)):
        d = tmp / name
        d.mkdir()
        out[f"{name}_json"] = analyze_json(binary, d)
    assert main(["analyze", str(new), "--format", "html", "-o", str(tmp / "analyze.html")]) == 0
    assert main(["diff", str(old), str(new), "--format", "html", "-o", str(tmp / "diff.html")]) == 0
    return out


@pytest.fixture(scope="module")
def browser() -> Any:
    with Browser() as b:
        yield b


RECTS = """[...document.querySelectorAll(%r)].map(e => { const r = e.getBoundingClientRect();
  return {name: e.dataset.name, x: r.x, y: r.y, w: r.width, h: r.height, cls: e.className,
          bg: getComputedStyle(e).backgroundColor}; })"""


def rects(browser: Browser, selector: str = ".r.d1") -> list[dict[str, Any]]:
    return list(browser.evaluate(RECTS % selector))


def crumbs(browser: Browser) -> list[str]:
    return list(browser.evaluate("[...document.querySelectorAll('.crumb')].map(b => b.textContent)"))


def test_analyze_page_areas_are_the_documents_sizes(programs: dict[str, Any], browser: Browser) -> None:
    doc = programs["new_json"]
    browser.open(programs["tmp"] / "analyze.html")
    assert browser.console_errors == []
    assert browser.requests == [(programs["tmp"] / "analyze.html").as_uri()]  # one file, no network
    top = rects(browser)
    expected = expected_top_level(doc)
    assert sorted(r["name"] for r in top) == sorted(expected)
    map_area = browser.evaluate("(() => { const m = document.querySelector('.map');"
                                " return m.clientWidth * m.clientHeight; })()")
    assert sum(r["w"] * r["h"] for r in top) == pytest.approx(map_area, rel=1e-3)
    for r in top:
        assert r["w"] * r["h"] / map_area == pytest.approx(expected[r["name"]] / doc["file_size"], abs=2e-4), r


def test_clicking_a_module_zooms_into_its_packages(programs: dict[str, Any], browser: Browser) -> None:
    doc = programs["new_json"]
    browser.open(programs["tmp"] / "analyze.html")
    code = next(r for r in rects(browser) if r["name"] == "machine code")
    std = next(r for r in rects(browser, ".r.d2.k-module") if r["name"] == "std"
               and code["x"] <= r["x"] < code["x"] + code["w"] and code["y"] <= r["y"] < code["y"] + code["h"])
    browser.click(std["x"] + 3, std["y"] + 3)
    assert crumbs(browser)[-2].startswith("machine code · ") and crumbs(browser)[-1].startswith("std · ")
    packages = {p["name"] for p in doc["packages"] if p["module"] == "std" and p["code"] > 0}
    assert {r["name"] for r in rects(browser)} == packages
    # And out again with Escape.
    browser.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Escape", "code": "Escape",
                                            "windowsVirtualKeyCode": 27})
    assert crumbs(browser)[-1].startswith("machine code · ")
    assert browser.console_errors == []


def test_search_finds_a_function(programs: dict[str, Any], browser: Browser) -> None:
    browser.open(programs["tmp"] / "analyze.html")
    browser.evaluate("document.querySelector('.search input').focus()")
    browser.insert_text("treemapneedle")
    browser.settle()
    found = browser.evaluate("[...document.querySelectorAll('.result .name')].map(e => e.textContent)")
    assert found[0] == "example.com/tm/shapes.ComputeTreemapNeedle"
    button = browser.evaluate("(() => { const r = document.querySelector('.result').getBoundingClientRect();"
                              " return [r.x + 5, r.y + 5]; })()")
    browser.click(*button)
    hit = rects(browser, ".r.hit")
    assert [r["name"] for r in hit] == ["ComputeTreemapNeedle"]
    assert crumbs(browser)[-1].startswith("example.com/tm/shapes · ")
    needle = next(f for f in programs["new_json"]["functions"] if f["name"].endswith("ComputeTreemapNeedle"))
    browser.hover(hit[0]["x"] + hit[0]["w"] / 2, hit[0]["y"] + hit[0]["h"] / 2)
    tip = browser.evaluate("document.getElementById('tip').textContent")
    kind = "code" if crumbs(browser)[1].startswith("machine code") else "meta"
    assert tip.startswith(crumbs(browser)[1].split(" · ")[0]) and f"{needle[kind]:,} B ({needle[kind]} B)" in tip
    assert browser.console_errors == []


def test_diff_page_colours_growth_and_keeps_removed_items(programs: dict[str, Any], browser: Browser) -> None:
    old = programs["old_json"]
    browser.open(programs["tmp"] / "diff.html")
    assert browser.console_errors == []
    legacy_old = next(p for p in old["packages"] if p["name"] == "example.com/tm/legacy")
    for name, cls in (("example.com/tm/legacy", "removed"), ("example.com/tm/codec", "added")):
        browser.evaluate("(() => { const i = document.querySelector('.search input'); i.value = ''; i.focus(); })()")
        browser.insert_text(name)
        browser.settle()
        browser.evaluate("document.querySelector('.result').click()")
        hit = rects(browser, ".r.hit")
        assert len(hit) == 1 and hit[0]["name"] == name and cls in hit[0]["cls"].split()
        red, green = (int(x) for x in re.findall(r"\d+", hit[0]["bg"])[:2])
        assert (green > red) if cls == "removed" else (red > green)
    # Removed packages are drawn at their old size: the tooltip has the exact figures.
    browser.evaluate("(() => { const i = document.querySelector('.search input'); i.value = ''; i.focus(); })()")
    browser.insert_text("example.com/tm/legacy")
    browser.settle()
    browser.evaluate("document.querySelector('.result').click()")
    hit = rects(browser, ".r.hit")[0]
    browser.hover(hit["x"] + hit["w"] / 2, hit["y"] + hit["h"] / 2)
    tip = browser.evaluate("document.getElementById('tip').textContent")
    kind = {"machine code": "code", "data": "data"}.get(tip.split(" › ")[0], "meta")
    assert f"old {legacy_old[kind]:,} B  →  new 0 B" in tip and "removed" in tip
    # The whole picture: the top level's rectangles share the area as new bytes plus removed ones.
    browser.evaluate("document.querySelector('.crumb').click()")
    assert len(rects(browser)) >= 4
    assert browser.console_errors == []


def test_hostile_names_stay_text(tmp_path: Path, browser: Browser) -> None:
    doc = small_doc(path=HOSTILE)
    doc["packages"][1]["name"] = HOSTILE
    doc["packages"][1]["module"] = HOSTILE
    doc["functions"][2] = {"name": HOSTILE + ".Serve", "package": HOSTILE, "code": 1200, "meta": 100}
    doc["unattributed"][0]["section"] = "<img src=x onerror=window.__pwned=3>"
    for name, page in (("analyze", analyze_page(doc)), ("diff", diff_page({"old": small_doc(), "new": doc,
                                                                              "delta": 0}))):
        path = tmp_path / f"{name}.html"
        path.write_text(page, encoding="utf-8")
        browser.open(path)
        assert browser.console_errors == []
        assert browser.evaluate("window.__pwned === undefined")
        assert browser.requests == [path.as_uri()]  # nothing fetched: no image, no script, no favicon
        assert browser.evaluate("document.scripts.length") == 2
        assert browser.evaluate("document.images.length") == 0
        assert HOSTILE in browser.evaluate("document.querySelector('h1').textContent")
        browser.evaluate("document.querySelector('.search input').focus()")
        browser.insert_text("Serve")
        browser.settle()
        browser.evaluate("document.querySelector('.result').click()")
        assert browser.evaluate("document.querySelector('.crumb:last-child').textContent").startswith(HOSTILE)
        assert browser.evaluate("window.__pwned === undefined")


def test_report_page_verdicts_on_top_and_a_treemap_per_build(tmp_path: Path, browser: Browser) -> None:
    doc = json.loads((ROOT / "tests" / "data" / "report-render-sample.json").read_text())
    path = tmp_path / "report.html"
    path.write_text(render_doc(Report.from_json(doc), "html"), encoding="utf-8")
    browser.open(path)
    assert browser.console_errors == []
    assert browser.evaluate("document.querySelector('.verdict strong').textContent") == f"sizebot: {doc['verdict']}"
    rows = browser.evaluate("[...document.querySelectorAll('.budgets tr')].slice(1).map(r => r.cells[0].textContent)")
    assert rows == [b["status"] for b in doc["budgets"]]
    # The verdict comes before the first treemap.
    assert browser.evaluate("document.querySelector('.verdict').getBoundingClientRect().bottom"
                            " <= document.querySelector('.treemap').getBoundingClientRect().top")
    with_binary = [b for b in doc["builds"] if (b["head"] or {}).get("binary") or (b["base"] or {}).get("binary")]
    assert browser.evaluate("document.querySelectorAll('.treemap').length") == len(with_binary)
    titles = browser.evaluate("[...document.querySelectorAll('section.build h2')].map(e => e.textContent)")
    assert titles == [f"{b['target']} {b['platform']} {b['strategy']}" for b in doc["builds"]]
    assert "<script>alert(1)</script>" in browser.evaluate("document.body.textContent")
    assert browser.evaluate("document.scripts.length") == 2


def huge_doc(packages: int = 700, functions: int = 60_000, modules: int = 30) -> dict[str, Any]:
    """A gopls-sized analysis: 700 packages in 30 modules, 60,000 functions of long-tailed sizes."""
    rng = random.Random(15)
    pkgs = [{"name": f"example.com/mod{i % modules:02d}/pkg{i:03d}", "module": f"example.com/mod{i % modules:02d}",
             "code": 0, "meta": 0, "data": rng.randrange(1000, 200_000)} for i in range(packages)]
    funcs = []
    for i in range(functions):
        p = pkgs[int(packages * rng.random() ** 2)]
        code = int(40 + 20_000 * rng.random() ** 6)
        meta = code // 5 + 24
        p["code"] += code
        p["meta"] += meta
        funcs.append({"name": f"{p['name']}.(*Type{i % 97}).Method{i}", "package": p["name"], "code": code,
                      "meta": meta})
    for p in pkgs:
        p["size"] = p["code"] + p["meta"] + p["data"]
    unattributed = [{"section": ".rodata", "size": 1_234_567}, {"section": "(headers)", "size": 4096}]
    size = sum(p["size"] for p in pkgs) + sum(u["size"] for u in unattributed)
    return {"schema": "sizebot/analyze@1", "path": "gopls", "file_size": size, "packages": pkgs,
            "modules": [{"path": f"example.com/mod{i:02d}", "version": "v1.0.0", "size": 0} for i in range(modules)],
            "unattributed": unattributed, "functions": sorted(funcs, key=lambda f: -(f["code"] + f["meta"]))}


def test_a_gopls_sized_program_stays_a_small_usable_page(tmp_path: Path, browser: Browser) -> None:
    doc = huge_doc()
    page = analyze_page(doc)
    assert len(page.encode()) < 3_000_000
    tree = page_data(page)["maps"][0]["tree"]
    assert sum(c["v"] for c in tree["c"]) == doc["file_size"]
    shown = [n for _, n in iter_nodes(tree) if n["k"] == "function"]
    assert len(shown) == MAX_CODE_FUNCTIONS + MAX_META_FUNCTIONS
    smallest_shown = min(n["v"] for _, n in iter_nodes(tree) if n["k"] == "function")
    # Folded: what is left of each package's functions, one node per package and kind.
    others = [n for _, n in iter_nodes(tree) if n["n"] == OTHER_FUNCTIONS]
    assert others and all(n["k"] == "other" for n in others)
    path = tmp_path / "huge.html"
    path.write_text(page, encoding="utf-8")
    browser.open(path)
    assert browser.console_errors == []
    code = next(r for r in rects(browser) if r["name"] == "machine code")
    browser.click(code["x"] + 3, code["y"] + 3)
    module = max(rects(browser, ".r.d1"), key=lambda r: r["w"] * r["h"])
    browser.click(module["x"] + 3, module["y"] + 3)
    package = max(rects(browser, ".r.d1"), key=lambda r: r["w"] * r["h"])
    browser.click(package["x"] + 3, package["y"] + 3)
    assert crumbs(browser)[-1].startswith(package["name"] + " · ")
    names = {r["name"] for r in rects(browser)}
    assert OTHER_FUNCTIONS in names and all(n.startswith("(*Type") or n == OTHER_FUNCTIONS for n in names)
    needle = next(f for f in doc["functions"] if f["code"] >= smallest_shown * 3)
    browser.evaluate("document.querySelector('.search input').focus()")
    browser.insert_text(needle["name"][len(needle["package"]) + 1:])
    browser.settle()
    assert needle["name"] in browser.evaluate("[...document.querySelectorAll('.result .name')].map(e => e.textContent)")
    assert browser.console_errors == []


def test_render_of_a_saved_document_is_the_same_page(programs: dict[str, Any]) -> None:
    tmp = programs["tmp"]
    saved = {"analyze": tmp / "saved-analyze.json", "diff": tmp / "saved-diff.json"}
    assert main(["analyze", str(programs["new"]), "--format", "json", "--top", "all", "-o", str(saved["analyze"])]) == 0
    assert main(["diff", str(programs["old"]), str(programs["new"]), "--format", "json", "--top", "all",
                 "-o", str(saved["diff"])]) == 0
    for name, path in saved.items():
        out = tmp / f"rendered-{name}.html"
        assert main(["render", str(path), "--format", "html", "-o", str(out)]) == 0
        assert out.read_text() == (tmp / f"{name}.html").read_text()
    report = ROOT / "tests" / "data" / "report-render-sample.json"
    assert main(["render", str(report), "--format", "html", "-o", str(tmp / "report.html")]) == 0
    assert (tmp / "report.html").read_text() == render_doc(Report.from_json(json.loads(report.read_text())), "html")


def test_named_tables_sit_with_the_bytes_they_describe() -> None:
    doc = small_doc(file_size=10_100)
    doc["unattributed"] += [{"section": "pclntab: file table", "size": 60}, {"section": "go:func.* (padding)",
                                                                            "size": 40}]
    nodes = {path: node for path, node in iter_nodes(analysis_tree(doc))}
    meta = ("app", "function metadata (pclntab, funcdata)")
    assert nodes[(*meta, "pclntab: file table")]["v"] == 60 and nodes[(*meta, "go:func.* (padding)")]["v"] == 40
    assert nodes[meta]["v"] == 1500


EMBEDS = {
    "go.mod": "module example.com/em\n\ngo 1.21\n",
    "assets/assets.go": 'package assets\n\nimport "embed"\n\n//go:embed static\nvar Files embed.FS\n',
    "assets/static/a.txt": "A" * 3000,
    "assets/static/b.json": "{" + "B" * 5000 + "}",
    "main.go": 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/em/assets"\n)\n\nfunc main() {\n'
               '\tb, _ := assets.Files.ReadFile("static/a.txt")\n\tfmt.Println(len(b))\n}\n',
}


def test_embedded_files_and_dwarf_under_their_package(tmp_path: Path, browser: Browser) -> None:
    exe = goprograms.build(EMBEDS)
    doc = analyze_json(exe, tmp_path)
    tree = analysis_tree(doc)
    nodes = {path[1:]: node for path, node in iter_nodes(tree)}
    assets = nodes[("data", "example.com/em", "example.com/em/assets")]
    package = next(p for p in doc["packages"] if p["name"] == "example.com/em/assets")
    assert assets["v"] == package["data"]
    assert [(c["n"], c["k"], c["v"]) for c in assets["c"]] == [
        ("static/b.json", "embed", 5002), ("static/a.txt", "embed", 3000),
        ("(other data)", "other", package["data"] - 8002)]
    if package.get("debug"):  # DWARF per package: beside the unattributed debug rows
        assert nodes[("DWARF debug info", "example.com/em", "example.com/em/assets")]["v"] == package["debug"]
    page = tmp_path / "embeds.html"
    assert main(["analyze", str(exe), "--format", "html", "-o", str(page)]) == 0
    browser.open(page)
    browser.evaluate("document.querySelector('.search input').focus()")
    browser.insert_text("b.json")
    browser.settle()
    browser.evaluate("document.querySelector('.result').click()")
    hit = rects(browser, ".r.hit")
    assert [r["name"] for r in hit] == ["static/b.json"]
    browser.hover(hit[0]["x"] + hit[0]["w"] / 2, hit[0]["y"] + hit[0]["h"] / 2)
    assert "5,002 B (5.00 KB)" in browser.evaluate("document.getElementById('tip').textContent")
    assert browser.console_errors == []
