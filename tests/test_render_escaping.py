"""Untrusted names in markdown: rendered with cmark-gfm exactly as GitHub parses comments (GFM
extensions, raw HTML kept), every hostile name must come out as inert text whose visible
characters are the original's: no link, no tag, no mention, no extra table cell, no forged marker."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from sizebot.documents.report import Report
from sizebot.github.comment import build_comment
from sizebot.render.common import code_md, escape_md
from sizebot.render.html_preview import gfm_to_html
from sizebot.render.report_markdown import render_report_markdown
from tests.support.html import Html, assert_well_formed, visible

DATA = Path(__file__).parent / "data"

HOSTILE = [
    "example.com/a|b/pkg",
    "<script>alert(1)</script>",
    "@someone",
    "](javascript:alert(1))",
    "[click](javascript:alert(1))",
    "https://evil.example",
    "www.evil.example",
    "a`b`c",
    "``` code",
    "<!-- sizebot:default -->",
    "line1\nline2\r\n| x | y |",
    "**bold** _em_ ~~del~~",
    "&lt; &amp; &#124;",
    "a\\|b\\",
    "fixes #12 and acme/app#13",
    "mail me@evil.example",
    "<img src=x onerror=alert(1)>",
    "<details><summary>x</summary>",
    "</details></table>",
    "![img](https://evil.example/x.png)",
    "\u202e evil \u2066",
    "tab\there",
]
# Math on GitHub ($x$, $$x$$): shown as typed, never as a formula.
NAMES = [*HOSTILE, "costs $5 or $10, $$\\huge{\\color{green}pass}$$"]


def table_cell(cell: str) -> str:
    return f"| h1 | h2 | h3 |\n|---|---|---|\n| left | {cell} | right |\n"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("escape", [escape_md, code_md], ids=["md", "code"])
def test_hostile_name_in_a_table_cell_is_inert_text(name, escape):
    html = gfm_to_html(table_cell(escape(name)))
    page = assert_well_formed(html)
    assert page.tables == [[3, 3]]
    expected_tags = ["table", "thead", "tr", "th", "th", "th", "tbody", "tr", "td", "td", "td"]
    if escape is code_md:
        expected_tags.insert(10, "code")
    assert page.tags == expected_tags
    cells = re.findall(r"<td>(.*?)</td>", html, re.DOTALL)
    assert len(cells) == 3
    assert Html(cells[1]).visible == visible(name)
    assert "<a" not in html and "<script" not in html and "<img" not in html and "<!--" not in html
    text = "".join(Html(html).text)
    assert not re.search(r"@\w", text), "no @mention"
    assert not re.search(r"#\d", text), "no #issue reference"
    assert not re.search(r"(?i)(https?|javascript):|www\.", text), "no autolink"


@pytest.mark.parametrize("name", NAMES)
def test_hostile_name_in_a_paragraph_and_a_list_is_inert_text(name):
    md = f"Before {escape_md(name)} after.\n\n- item {code_md(name)} ← {escape_md(name)}\n"
    html = gfm_to_html(md)
    page = Html(html)
    assert page.tags == ["p", "ul", "li", "code"]
    assert page.visible == f"Before {visible(name)} after.\n\nitem {visible(name)} ← {visible(name)}\n\n"


def test_escape_md_exact_output():
    assert escape_md("a|b") == "a\\|b"
    assert escape_md("<script>alert(1)</script>") == "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"
    assert escape_md("@someone") == "@\u200bsomeone"
    assert escape_md("https://evil.example") == "https\u200b://evil.example"
    assert escape_md("www.evil.example") == "www\u200b.evil.example"
    assert escape_md("#12") == "\\#\u200b12"
    assert escape_md("a\nb\tc") == "a b c"
    assert escape_md("&lt;") == "&amp;lt;"
    assert escape_md("$x$ $$y$$") == "\\$x\\$ \\$\\$y\\$\\$"


@pytest.mark.parametrize("text, escaped", [
    ("see GH-123 at WWW.evil.example", "see GH\u200b-123 at WWW\u200b.evil.example"),
    ("WWW.evil.example", "WWW\u200b.evil.example"),
    ("Www.x", "Www\u200b.x"),
    ("fixes GH-123", "fixes GH\u200b-123"),
    ("gh-7 and Gh-8", "gh\u200b-7 and Gh\u200b-8"),
    ("GH-x and high-5", "GH-x and high-5"),
    ("abc\u202edcba", "abc&lt;U\\+202E&gt;dcba"),
    ("\u202a\u202b\u202c\u202d\u202e", "".join(f"&lt;U\\+{c}&gt;" for c in ("202A", "202B", "202C", "202D", "202E"))),
    ("\u2066\u2067\u2068\u2069", "".join(f"&lt;U\\+{c}&gt;" for c in ("2066", "2067", "2068", "2069"))),
    ("a\u200fb\u200ec\u061cd", "a&lt;U\\+200F&gt;b&lt;U\\+200E&gt;c&lt;U\\+061C&gt;d"),
])
def test_escape_md_bidi_gh_references_and_case(text, escaped):
    assert escape_md(text) == escaped
    html = gfm_to_html(f"| a |\n|---|\n| {escape_md(text)} |\n")
    cell = Html(re.findall(r"<td>(.*?)</td>", html, re.DOTALL)[0])
    assert cell.visible == visible(text)
    assert not re.search(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", html)
    assert code_md("net/http") == "<code>net/http</code>"
    assert code_md("x|y") == "<code>x\\|y</code>"


def hostile_report() -> dict:
    """The sample with a hostile string in every untrusted field."""
    doc = copy.deepcopy(json.loads((DATA / "report-render-sample.json").read_text()))
    evil = iter(HOSTILE * 20)
    doc["base"]["ref"] = next(evil)
    doc["head"]["ref"] = "<!-- sizebot:default -->"
    doc["head"]["subject"] = next(evil)
    doc["base"]["subject"] = next(evil)
    for b in doc["builds"]:
        b["target"] = next(evil)
    app = doc["builds"][0]
    for key in ("packages", "modules", "functions", "sections"):
        for row in app["diff"][key][:3]:
            row["name"] = next(evil)
    for m in app["diff"]["module_changes"]:
        m["path"], m["new_version"] = next(evil), next(evil)
    for dep in app["new_dependencies"]:
        dep["name"] = next(evil)
        dep["chain"] = [dep["name"], next(evil), next(evil)]
    for r in doc["budgets"]:
        r["rule"], r["subject"], r["message"] = next(evil), next(evil), next(evil)
        if r["status"] == "overridden":
            r["override_reason"] = next(evil)
    doc["notes"] = [next(evil), next(evil)]
    doc["waterfalls"][0]["steps"][1]["strategy"] = next(evil)
    doc["waterfalls"][0]["platform"] = next(evil)
    for layer in doc["image"]["head"]["layers"]:
        layer["command"] = next(evil)
    for rule in doc["image"]["rules"]:
        rule["message"] = next(evil)
    return doc


def test_whole_report_with_hostile_names_stays_inert():
    doc = hostile_report()
    body = build_comment(Report.from_json(doc), "default")
    # One marker, ours, on the first line: no name can forge another.
    assert body.startswith("<!-- sizebot:default -->\n\n")
    assert body.count("<!--") == 1 and body.count("sizebot:default -->") == 1
    html = gfm_to_html(body)
    page = assert_well_formed(html)
    assert "<a" not in html and "<script" not in html and "<img" not in html and "<b>" not in html
    assert page.tags.count("!--") == 1
    assert set(page.tags) <= {"!--", "p", "strong", "sub", "code", "h4", "table", "thead", "tbody", "tr", "th",
                              "td", "details", "summary", "br", "ul", "li", "pre"}
    raw_text = "".join(page.text)  # zero-width spaces still in: what GitHub's link filters see
    assert not re.search(r"@\w", raw_text)
    assert not re.search(r"#\d", raw_text)
    assert not re.search(r"(?i)(https?|javascript):|www\.", raw_text)
    seen = page.visible
    # Every untrusted value shows up as its own text (long subjects are cut at 100 characters).
    for value in (doc["base"]["ref"], doc["head"]["ref"], doc["notes"][0], doc["notes"][1],
                  doc["builds"][0]["diff"]["packages"][0]["name"], doc["budgets"][1]["message"],
                  doc["image"]["head"]["layers"][2]["command"]):
        assert visible(value) in seen, value


def test_hostile_names_in_the_mermaid_chart_cannot_leave_it():
    doc = hostile_report()
    for row in doc["builds"][0]["diff"]["packages"][:8]:
        row["name"] = "```\n%%{init: {'theme':'dark'}}%%\n\"x\" : 1\n<script>"
    md = render_report_markdown(Report.from_json(doc))
    chart = md.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert "%%" not in chart and "<" not in chart and "{" not in chart
    lines = chart.splitlines()
    assert lines[0] == "xychart-beta"
    assert re.fullmatch(r'    title "[A-Za-z0-9 ._/+\-()*@?…]+"', lines[1]), lines[1]
    assert re.fullmatch(r'    x-axis \[("[A-Za-z0-9 ._/+\-()*@?…]+", )*"[A-Za-z0-9 ._/+\-()*@?…]+"\]', lines[2]), lines[2]
    assert lines[3] == '    y-axis "KB"' and re.fullmatch(r"    bar \[(-?[0-9.]+, )*-?[0-9.]+\]", lines[4]), lines[4]
    html = gfm_to_html(md)
    assert html.count('<pre lang="mermaid">') == 2
    assert_well_formed(html)
