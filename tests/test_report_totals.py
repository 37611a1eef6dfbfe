"""Totals that add up in every format: a real repository (two commits of a small Go program that
gains a dependency), built at test time; the rendered tables are parsed back and their exact byte
columns summed against the binaries' deltas."""

from __future__ import annotations

import json
import os
import re

import pytest

from sizebot.cli import main
from sizebot.cli.report import render_doc
from sizebot.documents.report import Report
from sizebot.render.comment import github_length
from tests.support.git import commit_all, git
from tests.support.goprograms import GREET_MODULE, PRINT_HELLO, requiring_greet, write_tree

GO_MOD = "module example.com/totals\n\ngo 1.21\n"
GO_MOD_GREET = requiring_greet(GO_MOD, "v1.0.0")
APP_HEAD = '''package main

import (
	"encoding/json"
	"fmt"
	"os"

	"example.com/greet"
)

func main() {
	b, _ := json.Marshal(map[string]any{"greeting": greet.Hello("totals", len(os.Args))})
	fmt.Println(string(b))
}
'''
CONFIG = """
[[target]]
name = "app"
package = "./cmd/app"
platforms = ["linux/amd64"]
env = { CGO_ENABLED = "0" }

[strategy.release]
flags = ["-trimpath", "-ldflags=-s -w"]
"""


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, object]:
    """One `sizebot report` run (default and release strategies), written as text, JSON and markdown."""
    root = tmp_path_factory.mktemp("totals")
    repo = root / "repo"
    write_tree(repo, {"go.mod": GO_MOD, "cmd/app/main.go": PRINT_HELLO})
    git(repo, "init", "-q", "-b", "main")
    base = commit_all(repo, "Print hello")
    write_tree(repo, {"go.mod": GO_MOD_GREET, "cmd/app/main.go": APP_HEAD, **GREET_MODULE})
    head = commit_all(repo, "Greet in JSON")
    config = write_tree(root, {"sizebot.toml": CONFIG}) / "sizebot.toml"
    out = root / "out"
    out.mkdir()
    os.environ.setdefault("GOTOOLCHAIN", "local")
    status = main(["report", "--repo", str(repo), "--base", base, "--head", head, "--config", str(config), "-q",
                   "--format", "text", "-o", str(out / "report.txt"), "--json", str(out / "report.json"),
                   "--markdown", str(out / "report.md")])
    assert status == 0
    doc = json.loads((out / "report.json").read_text())
    return {"doc": doc, "text": (out / "report.txt").read_text(), "markdown": (out / "report.md").read_text()}


def _bytes(cell: str) -> int:
    return int(cell.strip().replace(",", ""))


def _deltas(doc: dict) -> dict[str, int]:
    return {f"{b['target']} {b['platform']} {b['strategy']}": b["delta"] for b in doc["builds"]}


def test_json_rows_add_up(outputs):
    doc = outputs["doc"]
    assert len(doc["builds"]) == 2 and all(b["delta"] > 0 for b in doc["builds"])
    for b in doc["builds"]:
        diff = b["diff"]
        assert diff["delta"] == b["delta"]
        assert sum(r["delta"] for r in diff["packages"]) + sum(r["delta"] for r in diff["unattributed"]) == b["delta"]


def _markdown_tables(markdown: str, title: str) -> list[tuple[list[str], list[list[str]]]]:
    """The tables of one collapsible category: (the builds they apply to, their rows as cells)."""
    section = markdown.split(f"<summary>{title}", 1)[1].split("</details>", 1)[0]
    out: list[tuple[list[str], list[list[str]]]] = []
    labels: list[str] = []
    for block in section.split("\n\n"):
        heading = re.fullmatch(r"\*\*(.+)\*\*: .*", block.strip())
        if heading:
            labels = heading.group(1).split(", ")
        elif block.lstrip().startswith("|"):
            rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in block.strip().splitlines()]
            out.append((labels, rows[2:]))  # past the header and the alignment row
    return out


@pytest.mark.parametrize("title", ["📦 Packages", "🗂️ Sections", "🧩 Modules"])
def test_markdown_tables_end_with_unattributed_and_add_up(outputs, title):
    deltas = _deltas(outputs["doc"])
    tables = _markdown_tables(outputs["markdown"], title)
    covered = []
    for labels, rows in tables:
        assert rows[-1][0] == "unattributed"
        total = sum(_bytes(row[4]) for row in rows)  # the exact "bytes" column, "… more" row included
        for label in labels:
            assert total == deltas[label], (title, label)
        covered += labels
    assert sorted(covered) == sorted(deltas)  # every build's table is there, once


@pytest.mark.parametrize("kind", ["Packages", "Sections"])
def test_text_tables_end_with_unattributed_and_add_up(outputs, kind):
    text = outputs["text"]
    title = re.search(rf"^{kind} of (.+): \d+ changed \(.+\) \+ unattributed \(.+\) = (.+)$", text, re.M)
    assert title is not None
    label = title.group(1)
    block = text[title.end():].split("\n\n", 1)[0].strip().splitlines()[2:]  # past the header and the rule
    legend = [i for i, line in enumerate(block) if line.startswith("\u2020")]  # the estimated data's legend
    block = block[:legend[0]] if legend else block
    assert block[-1].split()[0] == "unattributed"
    # The bytes column: the one exact signed count on each row ("… more" and unattributed included).
    total = sum(_bytes([c for c in line.split() if re.fullmatch(r"[+-][0-9,]+", c)][-1]) for line in block)
    assert total == _deltas(outputs["doc"])[label]


def test_change_chart_is_signed_bars_that_add_up(outputs):
    chart = outputs["markdown"].split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert chart.startswith("xychart-beta\n") and "pie" not in chart
    bars = [float(v) for v in re.search(r"bar \[(.*)\]", chart).group(1).split(", ")]
    label = re.search(r'title "(.+) [+-][0-9.]+ [KMG]?B by package \(KB\)"', chart).group(1)
    # Bars are KB rounded to 2 decimals: they add up to the binary's change within that rounding.
    assert abs(sum(bars) * 1000 - _deltas(outputs["doc"])[label]) <= 10 * len(bars)


def test_go_version_of_each_side_is_said(outputs):
    version = outputs["doc"]["builds"][0]["head"]["binary"]["go_version"]
    assert version.startswith("go1.")
    assert f" · Go {version}</sub>" in outputs["markdown"]
    assert f" · Go {version}\n" in outputs["text"]


def test_new_dependencies_once_and_open(outputs):
    markdown = outputs["markdown"]
    deps = markdown.split("<details open><summary>🆕 Dependencies: ", 1)[1].split("</details>", 1)[0]
    lines = [line for line in deps.splitlines() if line.startswith("- ")]
    names = [re.search(r"<code>(.+?)</code>", line).group(1) for line in lines]
    assert len(names) == len(set(names)) and "example.com/greet" in names
    assert all("(in " not in line for line in lines)  # both builds reached each of them: not repeated


def test_markdown_shortened_like_the_comment(outputs, tmp_path):
    report = Report.from_json(outputs["doc"])
    full = render_doc(report, "markdown", max_chars=0)
    assert render_doc(report, "markdown", max_chars=65536) == full  # small: the default limit changes nothing
    short = render_doc(report, "markdown", max_chars=2500)
    assert github_length(short) <= 2500 < github_length(full)
    assert short.endswith("every figure is in the JSON report (--format json).\n")
    assert main(["report", "--repo", str(tmp_path), "--max-chars", "100"]) == 2  # refused before any build


GREET_V2 = GREET_MODULE["greet/greet.go"].replace('b.WriteString("hello ")', 'b.WriteString("hi ")')


def test_major_version_move_is_one_upgrade_row(tmp_path):
    """example.com/greet -> example.com/greet/v2 (both local modules): one upgrade row with its net
    change, neither a removal nor an addition."""
    repo = tmp_path / "repo"
    app = APP_HEAD.replace('"example.com/greet"', 'greet "example.com/greet"')
    write_tree(repo, {"go.mod": GO_MOD_GREET, "cmd/app/main.go": app, **GREET_MODULE})
    git(repo, "init", "-q", "-b", "main")
    base = commit_all(repo, "Greet with v1")
    write_tree(repo, {
        "go.mod": GO_MOD + "\nrequire example.com/greet/v2 v2.0.0\n\nreplace example.com/greet/v2 => ./greet2\n",
        "cmd/app/main.go": app.replace('"example.com/greet"', '"example.com/greet/v2"'),
        "greet2/go.mod": "module example.com/greet/v2\n\ngo 1.21\n", "greet2/greet.go": GREET_V2})
    (repo / "greet" / "greet.go").unlink()
    (repo / "greet" / "go.mod").unlink()
    head = commit_all(repo, "Greet with v2")
    config = write_tree(tmp_path, {"sizebot.toml": CONFIG.split("[strategy.release]")[0]}) / "sizebot.toml"
    out = tmp_path / "report.json"
    assert main(["report", "--repo", str(repo), "--base", base, "--head", head, "--config", str(config), "-q",
                 "--format", "json", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    for b in doc["builds"]:
        [upgrade] = [d for d in b["new_dependencies"] if d["kind"] == "upgrade"]
        assert (upgrade["name"], upgrade["replaces"]) == ("example.com/greet/v2", "example.com/greet")
        assert upgrade["size"] > 0 and upgrade["replaced_size"] > 0
        assert [d["name"] for d in b["new_dependencies"]] == ["example.com/greet/v2"]
        assert b["removed_dependencies"] == []
    md = render_doc(Report.from_json(doc), "markdown")
    assert "upgrade <code>example.com/greet</code> → <code>example.com/greet/v2</code>" in md
