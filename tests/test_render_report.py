"""The report rendered from its JSON document: markdown (GitHub comment), terminal text, HTML
preview and mermaid charts, against exact expected text reviewed by hand."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from sizebot.documents.report import (
    BudgetResult,
    Build,
    BuildSide,
    Commit,
    ConfigUsed,
    ImageRule,
    Repo,
    Report,
    ReportImage,
)
from sizebot.documents.verdict import Verdict
from sizebot.errors import DocumentError
from sizebot.render.html_preview import gfm_to_html, render_html_preview, sanitize_html
from sizebot.render.mermaid import bar_chart, mermaid_label, pie_chart
from sizebot.render.report_markdown import (
    LEVELS,
    headline_parts,
    render_report_markdown,
)
from sizebot.render.report_text import render_report_text, report_renderables
from tests.support.html import Html, assert_well_formed

DATA = Path(__file__).parent / "data"
EXPECTED = DATA / "expected"


def sample() -> dict:
    return json.loads((DATA / "report-render-sample.json").read_text())


def test_markdown_of_the_sample_is_the_reviewed_text():
    assert render_report_markdown(Report.from_json(sample())) == (EXPECTED / "report-render-sample.md").read_text()


def test_text_of_the_sample_is_the_reviewed_text():
    expected = (EXPECTED / "report-render-sample.txt").read_text()
    assert render_report_text(Report.from_json(sample()), width=100) == expected


def test_markdown_structure_as_github_parses_it():
    md = render_report_markdown(Report.from_json(sample()))
    assert md.splitlines()[0] == ("❌ **sizebot: fail** — app linux/amd64 release +1.20 MB (+18.29%) · 7 builds, "
                                  "4 changed, 1 new · 1 budget failed, 1 warned, 1 overridden")
    html = gfm_to_html(md)
    page = assert_well_formed(html)
    assert page.tags.count("details") == 11
    assert page.tags.count("h4") == 3
    # Budgets (attention), budgets (passed), builds, unchanged, packages, modules, versions, sections,
    # functions, waterfall, image x3: rows including the header.
    # Package, module and section tables end with their unattributed row; functions show code and meta.
    assert page.tables == [[4] * 4, [4] * 4, [7] * 6, [4] * 3, [6] * 12, [6] * 7, [3] * 4, [6] * 10, [8] * 7,
                           [4] * 4, [4] * 8, [5] * 4, [4] * 4]
    assert html.count('<pre lang="mermaid">') == 2
    assert "<summary>📦 Packages: 10 changed (+691 KB) + unattributed (+505 KB) = +1.20 MB</summary>" in html
    assert "<summary>2 unchanged</summary>" in html
    # The new dependencies with their chains, the new thing first.
    assert ("<li><strong>+412 KB</strong> package <code>golang.org/x/net/http2</code> ← <code>net/http</code> ← "
            "<code>example.com/app/server</code> · +691 KB with what only it brings in</li>") in html
    assert ("<li><strong>-96.0 KB</strong> removed package <code>example.com/app/internal/legacy</code> ← "
            "<code>example.com/app/server</code></li>") in html


def test_budgets_failed_and_warned_first_overridden_with_reason():
    md = render_report_markdown(Report.from_json(sample()))
    budgets = md.split("#### Budgets\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [line.split(" | ")[0] for line in budgets[2:]] == ["| ❌ fail", "| ⚠️ warn", "| 🔓 overridden"]
    assert budgets[4].endswith("head grew 15.86% \\(limit 1%\\)<br>overridden: vendoring the HTTP/2 client, "
                               "see @\u200bplatform-team |")


def test_multiple_builds_with_diffs_get_labelled_tables():
    doc = sample()
    other = copy.deepcopy(doc["builds"][0])
    other["platform"] = "linux/arm64"
    doc["builds"][2] = other
    html = gfm_to_html(render_report_markdown(Report.from_json(doc)))
    page = assert_well_formed(html)
    assert "<summary>📦 Packages</summary>" in html
    # The same table in two builds is shown once, with both builds named.
    assert html.count("<strong>app linux/amd64 release, app linux/arm64 release</strong>: 10 changed (+691 KB) + "
                      "unattributed (+505 KB) = +1.20 MB") == 1
    assert html.count("<table>") == 13  # module versions too: one table for both builds
    assert "<summary>🆕 Dependencies: 4 new, 1 removed</summary>" in html  # each once, though both builds had them
    assert page.tags.count("details") == 11


def _build(target: str, base_size: int | None, head_size: int | None, base: str = "ok", head: str = "ok") -> Build:
    return Build(target=target, package=f"./cmd/{target}", platform="linux/amd64", strategy="release",
                 base=BuildSide(base, None if base == "ok" else "exit status 1"),
                 head=BuildSide(head, None if head == "ok" else "exit status 1"),
                 base_size=base_size, head_size=head_size)


def _budget(status: str) -> BudgetResult:
    return BudgetResult("max_size 1 MB", "warn" if status == "warn" else "fail", status, "a linux/amd64 release",
                        1, 2, "bytes", "")


def minimal(**fields: Any) -> Report:
    """The smallest valid report: nothing measured, no commit names."""
    return replace(Report(verdict=Verdict.NEUTRAL, repo=Repo("", ""), base=Commit("", "0" * 40, ""),
                          head=Commit("", "1" * 40, ""),
                          config=ConfigUsed(None, True)), **fields)


@pytest.mark.parametrize(
    ("builds", "budgets", "expected"),
    [
        ([], [], ["nothing measured"]),
        ([_build("a", 10, 10)] * 2, ["pass"], ["no size change", "2 builds", "1 budget passed"]),
        ([_build("a", None, 2000, base="missing")], ["warn", "warn"], ["no comparable build", "2 budgets warned"]),
        ([_build("a", 2000, None, head="failed"), _build("b", 1000, 900)], ["fail", "overridden"],
         ["b linux/amd64 release -100 B (-10.00%)", "2 builds, 1 changed, 1 failed",
          "1 budget failed, 1 overridden"]),
    ],
)
def test_headline(builds, budgets, expected):
    assert headline_parts(minimal(builds=tuple(builds), budgets=tuple(_budget(b) for b in budgets))) == expected


def test_headline_names_the_build_a_failed_budget_judged():
    doc = sample()
    assert headline_parts(Report.from_json(doc))[0] == "app linux/amd64 release +1.20 MB (+18.29%)"
    doc["budgets"] = [r for r in doc["budgets"] if r["status"] != "fail"]
    assert headline_parts(Report.from_json(doc))[0] == "app linux/arm64 release +1.13 MB (+18.51%)"  # the warned one
    doc["budgets"] = []
    # the biggest change
    assert headline_parts(Report.from_json(doc))[0] == "app linux/amd64 default +1.51 MB (+15.86%)"


def test_failed_head_build_is_shown_and_parses():
    doc = sample()
    b = doc["builds"][1]
    b["head"] = {"status": "failed", "error": "go build: exit status 1", "binary": None}
    b["head_size"] = b["delta"] = None
    md = render_report_markdown(Report.from_json(doc))
    assert "| app | linux/amd64 | default | 9.51 MB | ❌ build failed | — | — |" in md
    assert_well_formed(gfm_to_html(md))


def test_every_level_renders_well_formed_and_shrinks():
    doc = sample()
    from sizebot.render.report_markdown import _render_level

    sizes = []
    for i, level in enumerate(LEVELS):
        md = _render_level(Report.from_json(doc), level, i > 0, None)
        assert_well_formed(gfm_to_html(md))
        assert md.startswith("❌ **sizebot: fail** — ")
        sizes.append(len(md))
    # Level 1 adds the "shortened" line to a sample whose tables are already short.
    assert sizes[1:] == sorted(sizes[1:], reverse=True) and sizes[-1] < sizes[0] // 5
    assert md.endswith("✂️ Shortened to fit GitHub's size limit: the full report is in the job summary of this run.\n")


def test_max_chars_and_details_url():
    doc = sample()
    full = render_report_markdown(Report.from_json(doc))
    assert render_report_markdown(Report.from_json(doc), max_chars=len(full)) == full
    short = render_report_markdown(Report.from_json(doc), max_chars=3000, details_url="https://github.com/acme/app/actions/runs/7")
    assert len(short) <= 3000
    assert short.endswith("✂️ Shortened to fit GitHub's size limit: "
                          "[the full report](https://github.com/acme/app/actions/runs/7) is in the job summary of this run.\n")
    with pytest.raises(ValueError):
        render_report_markdown(Report.from_json(doc), details_url="javascript:alert(1)")
    with pytest.raises(ValueError):
        render_report_markdown(Report.from_json(doc), details_url="https://x.example/a) [b](c")


def test_renderables_print_with_colours_on_a_terminal():
    console = Console(width=100, force_terminal=True, color_system="standard", record=True)
    for r in report_renderables(Report.from_json(sample())):
        console.print(r)
    ansi = console.export_text(styles=True, clear=False)
    assert "\x1b[1;31msizebot: fail\x1b[0m" in ansi
    assert console.export_text().startswith("sizebot: fail — app linux/amd64 release +1.20 MB")


def test_text_is_one_line_per_row_with_hostile_names():
    doc = sample()
    doc["builds"][0]["target"] = "evil\nsizebot: pass [bold]x[/bold]"
    text = render_report_text(Report.from_json(doc), width=120)
    assert "evil sizebot: pass [bold]x[/bold]" in text.replace("\n", "\x00").split("\x00Budgets")[0].replace("\x00", "\n")


# ---- mermaid ------------------------------------------------------------------------------------

def test_mermaid_labels():
    assert mermaid_label("golang.org/x/net/http2") == "golang.org/x/net/http2"
    assert mermaid_label('a"b\nc:d%%{init}%%`') == "a?b?c?d???init????"
    assert mermaid_label("") == "?"
    assert mermaid_label("x" * 60, max_len=10) == "…xxxxxxxxx"


def test_pie_chart_exact():
    assert pie_chart("Where app grew", [("a/b", 3.0), ("c", 0), ("a/b", 1.5), ('d"', 2)]) == (
        "```mermaid\n"
        "pie title Where app grew\n"
        '    "a/b" : 3\n'
        '    "a/b (2)" : 1.5\n'
        '    "d?" : 2\n'
        "```\n"
    )
    assert pie_chart("t", [("a", -1)]) == ""


def test_bar_chart_exact():
    assert bar_chart("sizes: MB", [("default", 11.02), ("release", 7.7412), ("upx", -0.5)], "MB") == (
        "```mermaid\n"
        "xychart-beta\n"
        '    title "sizes? MB"\n'
        '    x-axis ["default", "release", "upx"]\n'
        '    y-axis "MB"\n'
        "    bar [11.02, 7.74, -0.5]\n"
        "```\n"
    )
    assert bar_chart("t", [], "MB") == ""
    with pytest.raises(ValueError):
        bar_chart("t", [("a", float("nan"))], "MB")


# ---- HTML preview -------------------------------------------------------------------------------

def test_html_preview_page():
    md = render_report_markdown(Report.from_json(sample()))
    page = render_html_preview(md, "acme/app <#12>")
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                           "<title>acme/app &lt;#12&gt;</title>\n")
    assert "<script" not in page and "http" not in page.split("<body>")[0].replace("http-equiv", "")
    parsed = Html(page)
    assert parsed.details_depth == 0
    assert parsed.tags.count("details") == 11
    assert '<pre lang="mermaid"><code>xychart-beta\n    title &quot;app linux/amd64 release +1.20 MB by package (KB)&quot;' in page
    assert render_html_preview(md, "t", expand=True).count("<details open>") == 11


def test_html_sanitizer_keeps_github_tags_only():
    assert sanitize_html('<p onclick="x()">a</p><script>alert(1)</script><a href="javascript:x">y</a>'
                         '<a href="https://ok.example/" title="t">z</a><!-- c --><details open><summary>s</summary>'
                         '</details>') == (
        '<p>a</p>&lt;script&gt;alert(1)&lt;/script&gt;<a>y</a><a href="https://ok.example/">z</a>'
        '<details open><summary>s</summary></details>')


@pytest.mark.parametrize("report", [
    minimal(),
    minimal(builds=(_build("a", None, None, base="missing", head="missing"),), budgets=(_budget("pass"),),
            image=ReportImage(rules=(ImageRule("lowestEfficiency", "SKIP", None, None, "rule disabled"),),
                              error="save failed: <x>")),
], ids=["nothing-measured", "sparse"])
def test_sparse_documents_render(report):
    md = render_report_markdown(report)
    page = assert_well_formed(gfm_to_html(md))
    assert "<script" not in md and page.tags[:2] == ["p", "strong"]
    assert render_report_text(report).startswith("sizebot: ")
    assert Report.from_json(report.to_json()) == report


@pytest.mark.parametrize("doc, message", [
    ({}, "report: missing schema, verdict, repo, base, head, config, builds, waterfalls, image, budgets, overrides, "
         "notes"),
    ({**minimal().to_json(), "verdict": "green"}, "report.verdict: expected one of neutral, pass, warn, fail, error, "
                                                  "got 'green'"),
    ({**minimal().to_json(), "base": {"ref": "main", "sha": None, "subject": None}},
     "report.base.sha: expected a string, got null"),
    ({**minimal().to_json(), "builds": [{"target": "a"}]},
     "report.builds[0]: missing package, platform, strategy, base, head, diff, base_size, head_size, delta, "
     "new_dependencies, removed_dependencies"),
    ({**minimal().to_json(), "budgets": [{"status": "pass"}]},
     "report.budgets[0]: missing rule, level, subject, actual, limit, unit, message, override_reason"),
])
def test_sparse_or_mistyped_documents_are_refused(doc, message):
    with pytest.raises(DocumentError) as err:
        Report.from_json(doc)
    assert str(err.value) == message


def test_sparse_document_exact():
    assert render_report_markdown(minimal()) == (
        "⚪ **sizebot: neutral** — nothing measured\n\n"
        "<sub>head <code>?</code> 1111111 compared with base <code>?</code> 0000000</sub>\n\n"
        "#### Binaries\n\n"
        "No build was measured.\n"
    )


def test_go_version_change_said_when_no_dependency_changed():
    doc = sample()
    assert "· Go go1.26.8</sub>" in render_report_markdown(Report.from_json(doc))
    for b in doc["builds"]:
        if b["head"]["binary"] is not None:
            b["head"]["binary"]["go_version"] = "go1.27.3"
        if b["diff"] is not None:
            b["diff"]["module_changes"], b["diff"]["added_modules"], b["diff"]["removed_modules"] = [], [], []
    md = render_report_markdown(Report.from_json(doc))
    assert "· Go go1.26.8 \\(base\\) → go1.27.3 \\(head\\)</sub>" in md
    assert ("⚙️ The Go version changed \\(go1.26.8 → go1.27.3\\) and no dependency did: in app linux/amd64 release, "
            "the standard library's \\+68.0 KB of \\+1.20 MB is the toolchain's change, not this pull request's code.") in md
    text = render_report_text(Report.from_json(doc))
    assert "· Go go1.26.8 (base) → go1.27.3 (head)\nThe Go version changed (go1.26.8 → go1.27.3)" in text


def test_function_rows_show_code_and_meta_of_the_head():
    md = render_report_markdown(Report.from_json(sample()))
    table = md.split("<summary>🔧 Functions", 1)[1].split("</details>", 1)[0]
    assert "| function | base | head | change | bytes | % | head code | head meta |" in table
    assert ("| <code>net/http.\\(\\*Transport\\).dialConn</code> | 9.80 KB | 12.9 KB | +3.10 KB | +3,100 | +31.63% | "
            "8.60 KB | 4.30 KB |") in table
    for f in Report.from_json(sample()).builds[0].diff.functions:  # type: ignore[union-attr]
        assert f.new_code + f.new_meta == f.new_size


def test_identical_budget_rows_once_with_their_builds():
    doc = sample()
    row = {"rule": "budget[0]", "level": "fail", "status": "skipped", "subject": "app linux/arm64 default",
           "actual": None, "limit": None, "unit": "bytes", "message": "the head did not build", "override_reason": None}
    doc["budgets"] = [row, {**row, "subject": "app linux/arm64 release"}]
    md = render_report_markdown(Report.from_json(doc))
    assert md.count("the head did not build") == 1
    assert "| ⏭️ skipped | budget\\[0\\] | app linux/arm64 default, app linux/arm64 release | the head did not build |" in md


ESTIMATED_PACKAGES_MD = """\
| <code>golang.org/x/text/unicode/norm</code> | — | 118 KB† | +118 KB† | +118,000 | new |
| <code>golang.org/x/net/http2/hpack</code> | — | 96.4 KB | +96.4 KB | +96,400 | new |
| <code>example.com/app/internal/legacy</code> | 96.0 KB | — | -96.0 KB | -96,000 | -100.00% |
| <code>golang.org/x/net/idna</code> | — | 64.3 KB | +64.3 KB | +64,300 | new |
| <code>net/http</code> | 640 KB† | 702 KB† | +62.0 KB† | +62,000 | +9.69% |
| <code>example.com/app/server</code> | 210 KB | 236 KB | +26.5 KB | +26,500 | +12.62% |
| <code>github.com/acme/log</code> | 88.0 KB | 91.2 KB | +3.20 KB | +3,200 | +3.64% |
| <code>crypto/tls</code> | 380 KB | 383 KB | +3.00 KB | +3,000 | +0.79% |
| <code>example.com/app/plugins/evil\\|&lt;b&gt;x&lt;/b&gt;</code> | — | 1.20 KB | +1.20 KB | +1,200 | new |
| unattributed | | | +505 KB | +505,400 | |

† data partly estimated: 2.00 KB (base), 120 KB (head) found through the references of code and data to it, \
without symbols (each object runs to the next referenced address)

</details>
"""

ESTIMATED_PACKAGES_TEXT = """\
golang.org/x/text/unicode/norm                —   118 KB†    +118 KB†   +118,000        new
golang.org/x/net/http2/hpack                  —   96.4 KB    +96.4 KB    +96,400        new
example.com/app/internal/legacy         96.0 KB         —    -96.0 KB    -96,000   -100.00%
golang.org/x/net/idna                         —   64.3 KB    +64.3 KB    +64,300        new
net/http                                640 KB†   702 KB†   +62.0 KB†    +62,000     +9.69%
example.com/app/server                   210 KB    236 KB    +26.5 KB    +26,500    +12.62%
github.com/acme/log                     88.0 KB   91.2 KB    +3.20 KB     +3,200     +3.64%
crypto/tls                               380 KB    383 KB    +3.00 KB     +3,000     +0.79%
example.com/app/plugins/evil|<b>x</b>         —   1.20 KB    +1.20 KB     +1,200        new
unattributed                                                  +505 KB   +505,400
† data partly estimated: 2.00 KB (base), 120 KB (head) found through the references of code and data
to it, without symbols (each object runs to the next referenced address)
"""


def _sample_with_estimated_data() -> Report:
    """A stripped build's packages: one new package's data all estimated, net/http's in part at both sides."""
    doc = sample()
    rows = {r["name"]: r for r in doc["builds"][0]["diff"]["packages"]}
    rows["golang.org/x/text/unicode/norm"]["new_estimated"] = 118_000
    rows["net/http"].update(old_estimated=2_000, new_estimated=2_500)
    return Report.from_json(doc)


def test_estimated_data_is_marked_in_the_comment_and_the_text():
    report = _sample_with_estimated_data()
    md = render_report_markdown(report)
    table = md.split("| <code>golang.org/x/net/http2</code> | — | 412 KB | +412 KB | +412,000 | new |\n", 1)[1]
    assert table.split("\n<details><summary>🧩 Modules", 1)[0] == ESTIMATED_PACKAGES_MD
    assert md.count("†") == 6  # five figures and the legend: nothing else is marked
    text = render_report_text(report, width=100)
    rows = text.split("golang.org/x/net/http2                        —    412 KB     +412 KB   +412,000        new\n")[1]
    assert rows.split("\nSections of", 1)[0] == ESTIMATED_PACKAGES_TEXT
    assert {r["name"]: r for r in report.to_json()["builds"][0]["diff"]["packages"]}["golang.org/x/text/unicode/norm"] == {
        "name": "golang.org/x/text/unicode/norm", "old_size": 0, "new_size": 118_000, "delta": 118_000,
        "new_estimated": 118_000}
    assert "†" not in render_report_markdown(Report.from_json(sample())) + render_report_text(Report.from_json(sample()))


ESTIMATED_DEPENDENCIES_MD = """\
- **+573 KB** module <code>golang.org/x/net</code> ← <code>net/http</code> ← <code>example.com/app/server</code> \
· +691 KB† with what only it brings in
- **+412 KB** package <code>golang.org/x/net/http2</code> ← <code>net/http</code> ← <code>example.com/app/server</code> \
· +691 KB† with what only it brings in
- **+118 KB†** module <code>golang.org/x/text</code> through <code>golang.org/x/text/unicode/norm</code> ← \
<code>golang.org/x/net/idna</code> ← <code>golang.org/x/net/http2</code> ← <code>net/http</code> ← \
<code>example.com/app/server</code>
- **+1.20 KB** package <code>example.com/app/plugins/evil\\|&lt;b&gt;x&lt;/b&gt;</code> ← <code>example.com/app/server</code>
- **-96.0 KB†** removed package <code>example.com/app/internal/legacy</code> ← <code>example.com/app/server</code>

† data partly estimated: 4.00 KB (base), 118 KB (head) found through the references of code and data to it, \
without symbols (each object runs to the next referenced address)

</details>
"""

ESTIMATED_DEPENDENCIES_TEXT = """\
Dependencies
  +573 KB module golang.org/x/net ← net/http ← example.com/app/server · +691 KB† with what only it
          brings in
  +412 KB package golang.org/x/net/http2 ← net/http ← example.com/app/server · +691 KB† with what
          only it brings in
 +118 KB† module golang.org/x/text through golang.org/x/text/unicode/norm ← golang.org/x/net/idna ←
          golang.org/x/net/http2 ← net/http ← example.com/app/server
 +1.20 KB package example.com/app/plugins/evil|<b>x</b> ← example.com/app/server
-96.0 KB† removed package example.com/app/internal/legacy ← example.com/app/server
† data partly estimated: 4.00 KB (base), 118 KB (head) found through the references of code and data
to it, without symbols (each object runs to the next referenced address)
"""


def test_estimated_data_is_marked_in_the_dependency_lines():
    """x/text's bytes all estimated, 4 KB of the removed legacy package's, and 118 KB of what x/net and
    http2 bring in: each figure marked, one legend (the totals overlap the sizes: not added again)."""
    doc = sample()
    build = doc["builds"][0]
    deps = {d["name"]: d for d in build["new_dependencies"]}
    deps["golang.org/x/text"].update(estimated=118_000, total_estimated=118_000)
    for name in ("golang.org/x/net", "golang.org/x/net/http2"):
        deps[name]["total_estimated"] = 118_000
    build["removed_dependencies"][0]["estimated"] = 4_000
    report = Report.from_json(doc)
    assert Report.from_json(report.to_json()) == report
    md = render_report_markdown(report)
    section = md.split("<details open><summary>🆕 Dependencies: 4 new, 1 removed</summary>\n\n", 1)[1]
    assert section[: section.index("</details>") + len("</details>\n")] == ESTIMATED_DEPENDENCIES_MD
    text = render_report_text(report, width=100)
    section = text[text.index("Dependencies\n"):]
    assert section[: section.index("\nStrategy waterfall")] == ESTIMATED_DEPENDENCIES_TEXT
    build["removed_dependencies"][0]["estimated"] = 96_001
    with pytest.raises(DocumentError, match=r"estimated bytes more than the size"):
        Report.from_json(doc)


def test_an_image_budget_row_names_the_figure_it_judges():
    # measure "compressed" judges the layer tars docker save stored, which are not compressed: the row
    # says what the image table says
    from sizebot.budgets import ImageMeasurement, evaluate
    from sizebot.config.model import ImageBudgetRule
    image = ImageMeasurement(base_size=8_500, head_size=10_100, base_compressed_size=20_480,
                             head_compressed_size=24_576)
    rules = [ImageBudgetRule(index=0, level="fail", max_increase=("bytes", 3_000)),
             ImageBudgetRule(index=1, level="warn", max_size=10_000, measure="uncompressed")]
    md = render_report_markdown(minimal(budgets=evaluate([], [], image_rules=rules, image=image), verdict=Verdict.FAIL))
    assert "| ❌ fail | max\\_increase 3 KB | image \\(layer tars as saved\\) | head grew 4.10 KB \\(limit 3 KB\\) |" in md
    assert "| ⚠️ warn | max\\_size 10 KB | image \\(uncompressed\\) | head is 10.1 KB \\(limit 10 KB\\) |" in md
    assert "compressed" not in md.replace("uncompressed", "")
