"""Budget evaluation, verdicts and overrides (labels, commit trailers read as git reads them)."""

from __future__ import annotations

import os
import subprocess

import pytest

from sizebot.budgets import (
    BudgetResult,
    BuildMeasurement,
    ImageMeasurement,
    apply_overrides,
    evaluate,
    verdict,
)
from sizebot.budgets.overrides import Override, OverridePolicy, find_overrides, parse_trailers
from sizebot.config import BudgetRule, ImageBudgetRule, parse_config
from sizebot.documents.verdict import Verdict

APP = BuildMeasurement(
    target="app", platform="linux/amd64", strategy="release", base_size=1_000_000, head_size=1_018_000,
    head_packages={"golang.org/x/net/http2": 412_000, "golang.org/x/net/idna": 100_000, "golang.org/x/netx": 9},
    head_modules={"golang.org/x/net": 520_000, "std": 400_000},
    new_modules=("golang.org/x/net",),
)
SUBJECT = "app linux/amd64 release"


def rule(**kw) -> BudgetRule:
    return BudgetRule(index=kw.pop("index", 0), level=kw.pop("level", "fail"), **kw)


def build(**kw) -> BuildMeasurement:
    fields = {**APP.__dict__, **kw}
    return BuildMeasurement(**fields)


# -- single checks with exact figures -----------------------------------------------------------

def test_max_increase_percent_fails_with_exact_figures():
    (result,) = evaluate([rule(max_increase=("percent", 1.0))], [APP])
    assert result == BudgetResult(rule="max_increase 1%", level="fail", status="fail", subject=SUBJECT, actual=1.8,
                                  limit=1.0, unit="percent", message="head grew 1.80% (limit 1%)",
                                  override_reason=None, source="budget[0]")
    assert result.to_json() == {
        "rule": "max_increase 1%", "level": "fail", "status": "fail", "subject": SUBJECT, "actual": 1.8,
        "limit": 1.0, "unit": "percent", "message": "head grew 1.80% (limit 1%)", "override_reason": None,
    }


@pytest.mark.parametrize("head, status, actual", [(1_010_000, "pass", 1.0), (1_010_001, "fail", 1.0001),
                                                  (990_000, "pass", -1.0), (1_000_000, "pass", 0.0)])
def test_max_increase_percent_boundary_is_strict(head, status, actual):
    (result,) = evaluate([rule(max_increase=("percent", 1.0))], [build(head_size=head)])
    assert (result.status, result.actual) == (status, actual)


def test_max_increase_percent_messages():
    shrink, same = (evaluate([rule(max_increase=("percent", 0.5))], [build(head_size=h)])[0]
                    for h in (987_654, 1_000_000))
    assert shrink.message == "head shrank 1.23% (limit 0.5%)"
    assert shrink.actual == -1.2346
    assert same.message == "head kept its size (limit 0.5%)"


def test_max_increase_bytes():
    grew, shrank = (evaluate([rule(max_increase=("bytes", 50_000), level="warn")], [build(head_size=h)])[0]
                    for h in (1_060_000, 998_800))
    assert grew == BudgetResult("max_increase 50 KB", "warn", "warn", SUBJECT, 60_000, 50_000, "bytes",
                                "head grew 60.0 KB (limit 50 KB)", source="budget[0]")
    assert (shrank.status, shrank.actual, shrank.message) == ("pass", -1200, "head shrank 1.20 KB (limit 50 KB)")
    (exact,) = evaluate([rule(max_increase=("bytes", 50_000))], [build(head_size=1_050_000)])
    assert (exact.status, exact.actual) == ("pass", 50_000)


def test_max_size():
    over, at = (evaluate([rule(max_size=1_017_999)], [APP])[0], evaluate([rule(max_size=1_018_000)], [APP])[0])
    assert over == BudgetResult("max_size 1.02 MB", "fail", "fail", SUBJECT, 1_018_000, 1_017_999, "bytes",
                                "head is 1.02 MB (limit 1.02 MB)", source="budget[0]")
    assert at.status == "pass"


def test_without_a_base_sizes_and_caps_still_judge_the_head_and_increases_are_skipped():
    r = rule(max_size=2_000_000, max_increase=("percent", 1.0), new_modules="fail",
             packages=(("golang.org/x/net/http2", 400_000),))
    results = evaluate([r], [build(base_size=None, new_modules=())])
    assert [(x.rule, x.status, x.actual, x.limit) for x in results] == [
        ("max_size 2 MB", "pass", 1_018_000, 2_000_000),
        ("max_increase 1%", "skipped", None, 1.0),
        ("package golang.org/x/net/http2 max_size 400 KB", "fail", 412_000, 400_000),
        ("new_modules fail", "skipped", None, 0),
    ]
    assert results[1].message == "no base build to compare with"
    assert verdict(results, compared=False) == "fail"
    assert verdict(results[:2], compared=False) == "neutral"


def test_a_head_that_did_not_build_is_skipped():
    (result,) = evaluate([rule(max_size=1, index=3)], [build(head_size=None)])
    assert result == BudgetResult("budget[3]", "fail", "skipped", SUBJECT, None, None, "bytes",
                                  "the head did not build", source="budget[3]")


def test_zero_byte_base_skips_percentages():
    (result,) = evaluate([rule(max_increase=("percent", 1.0))], [build(base_size=0)])
    assert (result.status, result.message) == ("skipped", "the base is 0 bytes: no percentage")


# -- caps ------------------------------------------------------------------------------------------

def test_package_and_module_caps():
    r = rule(level="warn", packages=(("golang.org/x/net/http2", 412_000), ("golang.org/x/net/...", 500_000),
                                     ("example.com/gone", 1)),
             modules=(("golang.org/x/net", 519_999), ("std", 1_000_000)))
    results = evaluate([r], [APP])
    assert [(x.rule, x.status, x.actual, x.limit, x.message) for x in results] == [
        ("package golang.org/x/net/http2 max_size 412 KB", "pass", 412_000, 412_000,
         "golang.org/x/net/http2 is 412 KB (limit 412 KB)"),
        # "path/..." sums the package and everything below it, not golang.org/x/netx
        ("package golang.org/x/net/... max_size 500 KB", "warn", 512_000, 500_000,
         "golang.org/x/net/... is 512 KB (limit 500 KB)"),
        ("package example.com/gone max_size 1 B", "pass", 0, 1, "example.com/gone is not in the head binary (limit 1 B)"),
        ("module golang.org/x/net max_size 520 KB", "warn", 520_000, 519_999, "golang.org/x/net is 520 KB (limit 520 KB)"),
        ("module std max_size 1 MB", "pass", 400_000, 1_000_000, "std is 400 KB (limit 1 MB)"),
    ]
    assert verdict(results, compared=True) == "warn"


# -- new modules -------------------------------------------------------------------------------------

def test_new_modules_allow_warn_fail():
    assert evaluate([rule(new_modules="allow", max_size=10**9)], [APP])[1:] == ()
    (warn,) = evaluate([rule(new_modules="warn", level="fail")], [APP])
    assert warn == BudgetResult("new_modules warn", "warn", "warn", SUBJECT, 1, 0, "modules",
                                "1 new module: golang.org/x/net", source="budget[0]")
    many = tuple(f"example.com/m{i}" for i in range(7))
    (fail,) = evaluate([rule(new_modules="fail")], [build(new_modules=many)])
    assert (fail.status, fail.actual, fail.message) == (
        "fail", 7, "7 new modules: example.com/m0, example.com/m1, example.com/m2, example.com/m3, example.com/m4 "
        "and 2 more")
    (none,) = evaluate([rule(new_modules="fail")], [build(new_modules=())])
    assert (none.status, none.actual, none.message) == ("pass", 0, "no new modules")


# -- scope ---------------------------------------------------------------------------------------------

def test_scope_filters():
    builds = [build(target=t, platform=p, strategy=s)
              for t in ("app", "cli") for p in ("linux/amd64", "darwin/arm64") for s in ("default", "release")]

    def subjects(r):
        return [x.subject for x in evaluate([r], builds)]

    assert len(subjects(rule(max_size=1))) == 8
    assert subjects(rule(max_size=1, targets=("cli",), platforms=("darwin/arm64",))) == [
        "cli darwin/arm64 default", "cli darwin/arm64 release"]
    assert subjects(rule(max_size=1, strategies=("release",), platforms=("linux/amd64",))) == [
        "app linux/amd64 release", "cli linux/amd64 release"]
    assert subjects(rule(max_size=1, targets=("nope",))) == ["targets nope"]  # a skipped row: it judged nothing


def test_results_follow_rule_order_then_build_order():
    other = build(target="cli")
    results = evaluate([rule(max_size=1), rule(index=1, max_size=10**9, level="warn")], [APP, other])
    assert [(x.source, x.subject, x.status) for x in results] == [
        ("budget[0]", SUBJECT, "fail"), ("budget[0]", "cli linux/amd64 release", "fail"),
        ("budget[1]", SUBJECT, "pass"), ("budget[1]", "cli linux/amd64 release", "pass")]


# -- image ---------------------------------------------------------------------------------------------

def test_image_budgets_compressed_and_uncompressed():
    image = ImageMeasurement(base_size=80_000_000, head_size=86_000_000, base_compressed_size=30_000_000,
                             head_compressed_size=34_000_000)
    rules = [ImageBudgetRule(index=0, level="warn", max_increase=("bytes", 5_000_000)),
             ImageBudgetRule(index=1, level="fail", max_increase=("bytes", 5_000_000), measure="uncompressed",
                             max_size=100_000_000)]
    results = evaluate([], [], image_rules=rules, image=image)
    assert [(x.source, x.subject, x.rule, x.status, x.actual, x.message) for x in results] == [
        ("image.budget[0]", "image (layer tars as saved)", "max_increase 5 MB", "pass", 4_000_000,
         "head grew 4.00 MB (limit 5 MB)"),
        ("image.budget[1]", "image (uncompressed)", "max_size 100 MB", "pass", 86_000_000,
         "head is 86.0 MB (limit 100 MB)"),
        ("image.budget[1]", "image (uncompressed)", "max_increase 5 MB", "fail", 6_000_000,
         "head grew 6.00 MB (limit 5 MB)"),
    ]
    assert evaluate([], [], image_rules=rules, image=None) == ()
    (skipped,) = evaluate([], [], image_rules=rules[:1], image=ImageMeasurement(1, None, 1, None))
    assert (skipped.status, skipped.message) == ("skipped", "the head image did not build")


# -- verdicts, overrides, exit status ------------------------------------------------------------------

def test_verdicts_and_exit_status():
    fail = evaluate([rule(max_size=1)], [APP])
    warn = evaluate([rule(max_size=1, level="warn")], [APP])
    ok = evaluate([rule(max_size=10**9)], [APP])
    assert [verdict(r, compared=True) for r in (fail, warn, ok, ())] == ["fail", "warn", "pass", "pass"]
    assert [verdict(r, compared=False) for r in (fail, warn, ok, ())] == ["fail", "warn", "neutral", "neutral"]
    assert all(isinstance(verdict(r, compared=True), Verdict) for r in (fail, warn, ok, ()))


def test_overrides_turn_fails_into_overridden_and_keep_warns():
    overrides = (Override("trailer", "vendoring the new SDK"), Override("label", "PR label size-budget-override"))
    results = evaluate([rule(max_increase=("percent", 1.0)), rule(index=1, level="warn", max_size=1)], [APP],
                       overrides=overrides)
    assert [(x.status, x.override_reason) for x in results] == [
        ("overridden", "vendoring the new SDK; PR label size-budget-override"), ("warn", None)]
    assert verdict(results, compared=True) == "warn"
    assert verdict(results, compared=True).exit_code == 0
    assert results[0].to_json()["override_reason"] == "vendoring the new SDK; PR label size-budget-override"
    assert [o.to_json() for o in overrides] == [{"source": "trailer", "reason": "vendoring the new SDK"},
                                            {"source": "label", "reason": "PR label size-budget-override"}]
    assert apply_overrides(results, ()) == results


def test_from_toml_to_verdict():
    config = parse_config("""
[[target]]
name = "app"
package = "./cmd/app"
platforms = ["linux/amd64"]
[[budget]]
level = "fail"
max_increase = "1%"
[[budget]]
level = "warn"
new_modules = "warn"
packages = { "golang.org/x/net/http2" = "400 KB" }
[override]
trailer = "Size-Budget-Override"
""")
    results = evaluate(config.budgets, [APP])
    assert [(x.source, x.rule, x.status) for x in results] == [
        ("budget[0]", "max_increase 1%", "fail"),
        ("budget[1]", "package golang.org/x/net/http2 max_size 400 KB", "warn"),
        ("budget[1]", "new_modules warn", "warn"),
    ]
    assert verdict(results, compared=True) == "fail"
    message = "Bump the SDK\n\nWe need the new API.\n\nSize-Budget-Override: vendoring the new SDK\n"
    overrides = find_overrides([], message, config.override)
    overridden = evaluate(config.budgets, [APP], overrides=overrides)
    assert verdict(overridden, compared=True) == "warn"
    assert overridden[0].override_reason == "vendoring the new SDK"
    # without [override] trailer in the file, a trailer any author can write overrides nothing
    assert find_overrides([], message, parse_config("[[budget]]\nmax_size = 1\n").override) == ()


# -- overrides: labels and trailers -------------------------------------------------------------------

def test_find_overrides_labels_and_trailers():
    policy = OverridePolicy(trailer="Size-Budget-Override")
    msg = "Add SDK\n\nBody text.\n\nsize-budget-override : vendoring\n  the SDK\nSigned-off-by: A <a@example.invalid>\n"
    assert find_overrides(["bug", "Size-Budget-Override"], msg, policy) == (
        Override("trailer", "vendoring the SDK"), Override("label", "PR label size-budget-override"))
    assert find_overrides(["bug"], "Add SDK\n\nBody.\n", policy) == ()
    # the subject is never a trailer; a trailer outside the last paragraph does not count
    assert find_overrides([], "Size-Budget-Override: no", policy) == ()
    assert find_overrides([], "s\n\nSize-Budget-Override: early\n\nlast paragraph\n", policy) == ()
    assert find_overrides([], "s\n\nSize-Budget-Override:\n", policy) == (
        Override("trailer", "Size-Budget-Override trailer (no reason given)"),)
    # an empty policy entry disables that way of overriding
    off = OverridePolicy(label="", trailer="")
    assert find_overrides(["size-budget-override"], msg, off) == ()
    custom = OverridePolicy(label="big-ok", trailer="Big-OK")
    assert find_overrides(["BIG-OK"], "s\n\nBig-OK: fine\n", custom) == (
        Override("trailer", "fine"), Override("label", "PR label big-ok"))


TRAILER_MESSAGES = [
    "subject\n\nbody\n\nSize-Budget-Override: vendoring\n",
    "subject\n\nSize-Budget-Override: vendoring\nReviewed-by: B\n",
    "subject\n\nsome prose\nSize-Budget-Override: vendoring\n",
    "subject\n\nsome prose\nmore prose\nmore\nSigned-off-by: x\nSize-Budget-Override: v\n  folded\n",
    "subject\n\nprose one\nprose two\nprose three\nprose four\nSigned-off-by: x\nSize-Budget-Override: v\n",
    "subject\n\n(cherry picked from commit 0123456789abcdef)\nSize-Budget-Override: v\nplain line\n",
    "subject only: with a colon",
    "subject\n\nKey With Space: no\n",
    "subject\n\nSize-Budget-Override:   spaced   \n\n\n",
    "subject\r\n\r\nSize-Budget-Override: crlf\r\n",
    "subject\n\n  indented first: line\nA: b\n",
    "subject\n\np1\np2\np3\nSigned-off-by: x\n",  # exactly 25% trailers
    "subject\n\np1\np2\np3\np4\nSigned-off-by: x\n",  # 20%
    "subject\n\np1\np2\np3\nSize-Budget-Override: not known to git, not all trailers\n",
]


@pytest.mark.parametrize("message", TRAILER_MESSAGES, ids=[str(i) for i in range(len(TRAILER_MESSAGES))])
def test_trailers_parse_as_git_interpret_trailers_does(message, tmp_path):
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path), "GIT_CONFIG_GLOBAL": os.devnull}
    out = subprocess.run(["git", "interpret-trailers", "--parse", "--no-divider"], input=message.replace("\r\n", "\n"),
                         capture_output=True, text=True, check=True, env=env, cwd=tmp_path).stdout
    expected = tuple(tuple(line.split(": ", 1)) if ": " in line else (line.rstrip(":"), "")
                     for line in out.splitlines())
    assert parse_trailers(message) == expected


# -- measurements from the analyses ------------------------------------------------------------------

def _binary(size: int, packages: dict[str, int], modules: dict[str, int]):
    from sizebot.documents.analyze import BinaryReport, ModuleSize, PackageSize

    return BinaryReport(
        path="app", file_size=size, format="elf", goos="linux", goarch="amd64", go_version="go1.26.8", coverage=1.0,
        sections=(), packages=tuple(PackageSize(n, "", s, s, 0, 0) for n, s in packages.items()),
        modules=tuple(ModuleSize(n, "v1.0.0", s) for n, s in modules.items()), functions=(), unattributed=(),
        build_info=None, stripped=False)


def test_build_measurement_from_reports():
    base = _binary(1000, {"main": 600}, {"example.com/app": 600})
    head = _binary(1300, {"main": 600, "golang.org/x/net/http2": 300}, {"example.com/app": 600, "golang.org/x/net": 300})
    m = BuildMeasurement.from_reports("app", "linux/amd64", "default", base, head)
    assert m == BuildMeasurement("app", "linux/amd64", "default", 1000, 1300,
                                 {"main": 600, "golang.org/x/net/http2": 300},
                                 {"example.com/app": 600, "golang.org/x/net": 300}, ("golang.org/x/net",),
                                 {"main": 600})
    only_head = BuildMeasurement.from_reports("app", "linux/amd64", "default", None, head)
    assert (only_head.base_size, only_head.head_size, only_head.new_modules) == (None, 1300, ())
    failed = BuildMeasurement.from_reports("app", "linux/amd64", "default", base, None)
    assert (failed.base_size, failed.head_size, dict(failed.head_packages)) == (1000, None, {})


def test_image_measurement_from_reports():
    from sizebot.documents.image import ImageReport

    def image(size: int, compressed: int) -> ImageReport:
        return ImageReport(source="x.tar", platform="linux/amd64", size=size, user_size=size, efficiency=1.0,
                           wasted_bytes=0, user_wasted_percent=0.0, inefficiencies=(), layers=(),
                           compressed_size=compressed, corrected_wasted_bytes=0, duplicates=(), largest_files=())

    m = ImageMeasurement.from_reports(image(100, 40), image(150, 50))
    assert m == ImageMeasurement(100, 150, 40, 50)
    assert m.sizes("compressed") == (40, 50) and m.sizes("uncompressed") == (100, 150)
    assert ImageMeasurement.from_reports(None, image(150, 50)) == ImageMeasurement(None, 150, None, 50)
