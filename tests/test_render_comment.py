"""Comment assembly: the marker, GitHub's size limits (comment and job summary), merging the
reports of a matrix of jobs."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from sizebot.documents.report import Report
from sizebot.github.comment import build_comment, comment_marker, is_sizebot_comment
from sizebot.github.merge import ReportMergeError, merge_reports
from sizebot.render.comment import COMMENT_LIMIT, SUMMARY_LIMIT, build_job_summary, github_length
from sizebot.render.html_preview import gfm_to_html
from tests.support.html import assert_well_formed

DATA = Path(__file__).parent / "data"


def sample() -> dict:
    return json.loads((DATA / "report-render-sample.json").read_text())


def huge_report(builds: int = 12, packages: int = 3000) -> dict:
    """Thousands of changed packages, functions and budgets in every build, with a 🐳 emoji in each name
    (two UTF-16 units, four UTF-8 bytes) to make GitHub's counting matter."""
    doc = sample()
    template = doc["builds"][0]
    doc["builds"] = []
    for i in range(builds):
        b = copy.deepcopy(template)
        b["platform"] = f"linux/arch{i}"
        # Each build its own figures: tables that differ between builds are not merged.
        rows = [{"name": f"example.com/gen/🐳/pkg{j:05d}", "old_size": 1000 * j, "new_size": 1000 * j + j + 1 + i,
                 "delta": j + 1 + i} for j in range(packages)]
        b["diff"]["packages"] = rows
        b["diff"]["functions"] = [{**r, "name": r["name"] + ".Func", "package": r["name"],
                                   "old_code": r["old_size"] // 2, "new_code": r["new_size"] // 2} for r in rows]
        b["diff"]["functions_changed"], b["diff"]["functions_delta"] = len(rows), sum(r["delta"] for r in rows)
        b["diff"]["modules"] = [{**r, "name": r["name"].replace("/pkg", "/mod")} for r in rows[: packages // 3]]
        b["new_dependencies"] = [{"kind": "package", "name": r["name"], "module": "example.com/gen", "size": r["delta"],
                                  "chain": [r["name"], "net/http", "example.com/app/server"], "total_size": None,
                                  "replaces": "", "replaced_size": 0} for r in rows[:500]]
        b["base_size"], b["head_size"], b["delta"] = 6_000_000, 6_000_000 + 1000 * (i + 1), 1000 * (i + 1)
        doc["builds"].append(b)
    doc["budgets"] = doc["budgets"] * 300
    doc["notes"] = [f"note {i}: " + "x" * 500 for i in range(100)]
    return doc


def test_marker_and_key_validation():
    assert comment_marker("default") == "<!-- sizebot:default -->"
    assert comment_marker("app.linux_amd64-1") == "<!-- sizebot:app.linux_amd64-1 -->"
    for bad in ("", "a b", "x-->", "<!--", "a\nb", "ü", "k" * 101, None):
        with pytest.raises(ValueError):
            comment_marker(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        build_comment(Report.from_json(sample()), "bad key")


def test_comment_starts_with_the_marker():
    body = build_comment(Report.from_json(sample()), "default")
    assert body.startswith("<!-- sizebot:default -->\n\n❌ **sizebot: fail** — ")
    assert is_sizebot_comment(body, "default")
    assert not is_sizebot_comment(body, "other")
    assert not is_sizebot_comment("hello <!-- sizebot:default -->", "default")
    assert "Shortened" not in body


def test_github_length_counts_utf16_units():
    assert github_length("abc") == 3
    assert github_length("🐳") == 2
    assert github_length("é") == 1


def test_huge_report_fits_in_a_comment_and_still_parses():
    doc = huge_report()
    url = "https://github.com/acme/app/actions/runs/42"
    body = build_comment(Report.from_json(doc), "default", summary_url=url)
    assert github_length(body) <= COMMENT_LIMIT - 512
    assert body.startswith("<!-- sizebot:default -->\n\n❌ **sizebot: fail** — app linux/arch11 release +12.0 KB")
    assert body.endswith(f"✂️ Shortened to fit GitHub's size limit: [the full report]({url}) is in the job summary "
                         "of this run.\n")
    page = assert_well_formed(gfm_to_html(body))
    assert page.tags.count("table") >= 3
    # The biggest changes survive: the largest package of the largest build is the first row.
    assert "| <code>example.com/gen/🐳/pkg02999</code> |" in body


def test_comment_limit_is_respected_at_every_size():
    doc = huge_report(builds=3, packages=400)
    for limit in (2000, 5000, 20000, 65536):
        body = build_comment(Report.from_json(doc), "k", limit=limit)
        assert github_length(body) <= limit
        assert_well_formed(gfm_to_html(body))
        assert body.endswith("the full report is in the job summary of this run.\n")


def test_job_summary_under_one_mebibyte():
    doc = huge_report(builds=40, packages=3000)
    text = build_job_summary(Report.from_json(doc))
    assert len(text.encode("utf-8")) <= SUMMARY_LIMIT - 8192
    assert text.endswith("the JSON report of this run (sizebot report --format json) has every figure.\n")
    assert_well_formed(gfm_to_html(text))
    small = build_job_summary(Report.from_json(sample()))
    assert "Shortened" not in small and small.startswith("❌ **sizebot: fail**")


def test_job_summary_has_longer_tables_than_the_comment():
    doc = huge_report(builds=1, packages=300)
    doc["budgets"], doc["notes"] = sample()["budgets"], []
    doc["builds"][0]["new_dependencies"] = doc["builds"][0]["new_dependencies"][:3]
    summary = build_job_summary(Report.from_json(doc))
    assert "Shortened" not in summary
    assert "| … 200 more | | | +20.1 KB | +20,100 | |" in summary  # packages: top 100 of 300
    assert "| … 250 more | | | +31.4 KB | +31,375 | | | |" in summary  # functions: top 50
    comment = build_comment(Report.from_json(doc), "default")
    assert "Shortened" not in comment
    assert "| … 280 more | | | +39.3 KB | +39,340 | |" in comment  # packages: top 20 of 300
    assert "| … 290 more | | | +42.2 KB | +42,195 | | | |" in comment  # functions: top 10


def merged_json(*docs: dict) -> dict:
    return merge_reports([Report.from_json(d) for d in docs]).to_json()


def test_merge_reports():
    a, b = sample(), sample()
    a["builds"], b["builds"] = a["builds"][:2], b["builds"][2:]
    a["budgets"], b["budgets"] = a["budgets"][:1], b["budgets"][1:]
    a["verdict"], b["verdict"] = "pass", "warn"
    b["notes"] = [*b["notes"], "only in b"]
    b["image"] = None
    merged = merged_json(a, b)
    assert merged["verdict"] == "warn"
    assert merged["builds"] == sample()["builds"]
    assert merged["budgets"] == sample()["budgets"]
    assert merged["notes"] == [*sample()["notes"], "only in b"]
    assert merged["overrides"] == sample()["overrides"]
    assert merged["waterfalls"] == sample()["waterfalls"] * 2
    assert merged["image"] == sample()["image"]
    assert merged_json(sample())["verdict"] == "fail"
    assert merged_json(sample(), sample())["notes"] == [*sample()["notes"],
                                                        "2 jobs measured an image: showing the first job's"]
    c = sample()
    c["verdict"] = "neutral"
    assert merged_json(c, a)["verdict"] == "pass"


def test_merge_reports_refuses_different_commits():
    a, b = sample(), sample()
    b["head"]["sha"] = "f" * 40
    with pytest.raises(ReportMergeError, match="head"):
        merged_json(a, b)
    with pytest.raises(ReportMergeError):
        merge_reports([])
