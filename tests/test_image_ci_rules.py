""".dive-ci rules read and evaluated as dive v0.13.1 does (its source: runtime/ci/rule.go, viper,
go-humanize ParseBytes). The engine tests compare exit statuses with the dive binary itself."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from sizebot.documents.image import ImageReport
from sizebot.errors import ConfigError
from sizebot.image.ci_rules import (
    FAIL,
    PASS,
    SKIP,
    DiveRules,
    any_failed,
    default_rules,
    evaluate_rules,
    format_results,
    load_dive_ci,
    parse_humanize_bytes,
    rules_from_mapping,
)


def report(efficiency: float = 0.95, wasted: int = 1000, uwp: float = 0.05) -> ImageReport:
    return ImageReport(source="x.tar", platform="linux/amd64", size=100_000, user_size=20_000, efficiency=efficiency,
                       wasted_bytes=wasted, user_wasted_percent=uwp, inefficiencies=(), layers=(), compressed_size=0,
                       corrected_wasted_bytes=0, duplicates=(), largest_files=())


@pytest.mark.parametrize(("text", "expected"), [
    ("20MB", 20 * 1000**2), ("20MiB", 20 * 1024**2), ("20M", 20 * 1000**2), ("20Mi", 20 * 1024**2),
    ("20 mb", 20 * 1000**2), ("1,000", 1000), ("1.5KB", 1500), ("110.006K", 110006), ("0.11 mb", 110000),
    ("7", 7), ("7b", 7), ("1GB", 10**9), ("1 GiB", 1024**3), ("2.9", 2),
])
def test_humanize_parse_bytes(text: str, expected: int):
    assert parse_humanize_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "-1", "MB", "20 XB", " 20MB", "1e6"])
def test_humanize_parse_bytes_refuses(text: str):
    with pytest.raises(ValueError):
        parse_humanize_bytes(text)


def test_defaults_are_dives():
    rules = default_rules()
    assert (rules.lowest_efficiency, rules.highest_wasted_bytes, rules.highest_user_wasted_percent) == (0.9, None, 0.1)
    results = evaluate_rules(report(), rules)
    # dive prints its rules sorted by name
    assert [(r.name, r.status) for r in results] == [
        ("highestUserWastedPercent", PASS), ("highestWastedBytes", SKIP), ("lowestEfficiency", PASS)]


def test_comparisons_are_strict_as_in_dive():
    at_edge = rules_from_mapping({"lowestEfficiency": 0.95, "highestWastedBytes": 1000,
                                  "highestUserWastedPercent": 0.05}, "t")
    assert {r.status for r in evaluate_rules(report(), at_edge)} == {PASS}
    over = rules_from_mapping({"lowestEfficiency": 0.951, "highestWastedBytes": 999,
                               "highestUserWastedPercent": 0.049}, "t")
    results = {r.name: r for r in evaluate_rules(report(), over)}
    assert {r.status for r in results.values()} == {FAIL}
    assert results["highestWastedBytes"].message == "too many bytes wasted (wasted-bytes=1000 > threshold=999)"
    assert results["lowestEfficiency"].message == "image efficiency is too low (efficiency=0.95 < threshold=0.951)"
    assert results["highestUserWastedPercent"].message == (
        "too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes=0.05 > threshold=0.049)")
    assert (results["highestWastedBytes"].value, results["highestWastedBytes"].threshold) == (1000, 999)
    assert any_failed(tuple(results.values()))


def test_nan_user_ratio_passes_and_inf_fails():
    rules = rules_from_mapping({"highestUserWastedPercent": 1}, "t")
    nan = {r.name: r.status for r in evaluate_rules(report(uwp=math.nan), rules)}
    inf = {r.name: r.status for r in evaluate_rules(report(uwp=math.inf), rules)}
    assert nan["highestUserWastedPercent"] == PASS
    assert inf["highestUserWastedPercent"] == FAIL


def test_only_exact_disabled_skips():
    rules = rules_from_mapping({"lowestEfficiency": "disabled", "highestUserWastedPercent": "disabled"}, "t")
    assert [r.status for r in evaluate_rules(report(efficiency=0.1, uwp=0.9), rules)] == [SKIP, SKIP, SKIP]
    for bad in ("", "off", "Disabled", "false", False, "yes", 1.5, -0.1, "0.5x", [1]):
        with pytest.raises(ConfigError, match=r"^\.dive-ci: lowestEfficiency: "):
            rules_from_mapping({"lowestEfficiency": bad}, ".dive-ci")


def test_typed_values_become_text_as_viper_does():
    rules = rules_from_mapping({"highestWastedBytes": 1e6, "lowestEfficiency": 1, "highestUserWastedPercent": 0}, "t")
    assert rules.highest_wasted_bytes == 1_000_000
    assert dict(rules.raw) == {"lowestEfficiency": "1", "highestWastedBytes": "1000000", "highestUserWastedPercent": "0"}
    assert rules_from_mapping({"lowestEfficiency": "0x1p-1"}, "t").lowest_efficiency == 0.5


def test_unknown_key_names_source_and_key():
    with pytest.raises(ConfigError, match=r"^sizebot.toml: image.rules.x|^sizebot.toml: x: unknown rule"):
        rules_from_mapping({"x": 1}, "sizebot.toml")


def test_load_file(tmp_path: Path):
    f = tmp_path / ".dive-ci"
    f.write_text("rules:\n  # comment\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n"
                 "  highestUserWastedPercent: ~\n")
    rules = load_dive_ci(f)
    assert rules == dataclasses.replace(
        DiveRules(0.95, 20_000_000, 0.1), source=str(f),
        raw=(("lowestEfficiency", "0.95"), ("highestWastedBytes", "20MB"), ("highestUserWastedPercent", "0.1")))
    empty = tmp_path / "empty"
    empty.write_text("")
    assert load_dive_ci(empty).lowest_efficiency == 0.9
    broken = tmp_path / "broken"
    broken.write_text("rules:\n  lowestEfficiency: [\n")
    with pytest.raises(ConfigError, match=rf"^{broken}:\d+: "):
        load_dive_ci(broken)
    with pytest.raises(ConfigError, match="cannot read"):
        load_dive_ci(tmp_path / "missing")
    bad_rules = tmp_path / "bad"
    bad_rules.write_text("rules: 3\n")
    with pytest.raises(ConfigError, match="rules: expected a mapping"):
        load_dive_ci(bad_rules)


def test_format_results_like_dive():
    text = format_results(evaluate_rules(report(efficiency=0.5), default_rules()))
    assert text == (
        "Results:\n"
        "  PASS: highestUserWastedPercent\n"
        "  SKIP: highestWastedBytes: rule disabled\n"
        "  FAIL: lowestEfficiency: image efficiency is too low (efficiency=0.5 < threshold=0.9)\n"
        "Result:FAIL [Total:3] [Passed:1] [Failed:1] [Warn:0] [Skipped:1]\n")
