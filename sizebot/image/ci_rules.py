""".dive-ci rules evaluated on an image the way dive v0.13.1 does: FAIL when ``threshold > efficiency``,
``wasted_bytes > threshold``, ``user_wasted_percent > threshold`` (all strict; a NaN user-wasted ratio
therefore passes and +Inf fails, as in dive). Reading the rules is sizebot.config.dive_rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sizebot.config.dive_rules import (  # noqa: F401 (read here, and by callers through this module)
    DEFAULTS,
    HIGHEST_USER_WASTED_PERCENT,
    HIGHEST_WASTED_BYTES,
    LOWEST_EFFICIENCY,
    RULE_KEYS,
    DiveRules,
    default_rules,
    format_go_float,
    is_disabled,
    load_dive_ci,
    parse_go_float,
    parse_humanize_bytes,
    rules_from_mapping,
)
from sizebot.documents.image import ImageReport

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"


@dataclass(frozen=True)
class RuleResult:
    name: str  # dive's key, e.g. "lowestEfficiency"
    status: str  # PASS, FAIL or SKIP
    value: float | int | None  # the image's figure (None when skipped)
    threshold: float | int | None  # None when skipped
    message: str  # "" on PASS; dive's wording on FAIL; "rule disabled" on SKIP


def evaluate_rules(report: ImageReport, rules: DiveRules) -> tuple[RuleResult, ...]:
    """The three rules, sorted by name as dive prints them."""
    out: list[RuleResult] = []

    t = rules.lowest_efficiency
    if t is None:
        out.append(RuleResult(LOWEST_EFFICIENCY, SKIP, None, None, "rule disabled"))
    elif t > report.efficiency:
        out.append(RuleResult(LOWEST_EFFICIENCY, FAIL, report.efficiency, t, "image efficiency is too low "
                              f"(efficiency={_go(report.efficiency)} < threshold={_go(t)})"))
    else:
        out.append(RuleResult(LOWEST_EFFICIENCY, PASS, report.efficiency, t, ""))

    b = rules.highest_wasted_bytes
    if b is None:
        out.append(RuleResult(HIGHEST_WASTED_BYTES, SKIP, None, None, "rule disabled"))
    elif report.wasted_bytes > b:
        out.append(RuleResult(HIGHEST_WASTED_BYTES, FAIL, report.wasted_bytes, b,
                              f"too many bytes wasted (wasted-bytes={report.wasted_bytes} > threshold={b})"))
    else:
        out.append(RuleResult(HIGHEST_WASTED_BYTES, PASS, report.wasted_bytes, b, ""))

    u = rules.highest_user_wasted_percent
    uwp = report.user_wasted_percent
    if u is None:
        out.append(RuleResult(HIGHEST_USER_WASTED_PERCENT, SKIP, None, None, "rule disabled"))
    elif uwp > u:  # NaN > u is False: dive passes a NaN ratio
        out.append(RuleResult(HIGHEST_USER_WASTED_PERCENT, FAIL, uwp, u,
                              "too many bytes wasted, relative to the user bytes added "
                              f"(%-user-wasted-bytes={_go(uwp)} > threshold={_go(u)})"))
    else:
        out.append(RuleResult(HIGHEST_USER_WASTED_PERCENT, PASS, uwp, u, ""))
    return tuple(sorted(out, key=lambda r: r.name))


def any_failed(results: tuple[RuleResult, ...]) -> bool:
    return any(r.status == FAIL for r in results)


def format_results(results: tuple[RuleResult, ...]) -> str:
    """Plain text in dive's CI layout: one line per rule, then the tally."""
    lines = ["Results:"]
    for r in results:
        lines.append(f"  {r.status}: {r.name}" + (f": {r.message}" if r.message else ""))
    n = {s: sum(1 for r in results if r.status == s) for s in (PASS, FAIL, SKIP)}
    verdict = FAIL if n[FAIL] else PASS
    lines.append(f"Result:{verdict} [Total:{len(results)}] [Passed:{n[PASS]}] [Failed:{n[FAIL]}] "
                 f"[Warn:0] [Skipped:{n[SKIP]}]")
    return "\n".join(lines) + "\n"


def _go(x: float) -> str:
    """Go's %v of a float64 (shortest digits; NaN, +Inf) for the values these messages hold."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    return format_go_float(x) if 1e-4 <= abs(x) < 1e21 or x == 0 else repr(x).replace("e-0", "e-")
