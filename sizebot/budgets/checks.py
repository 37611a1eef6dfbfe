"""Budget rules that can judge nothing, found once the builds are known: config errors, not silent passes.

A budget scoped to a target that is not built (a typo, with targets discovered by ``go list``) and a
package cap naming a package that is in no binary of its scope at either commit would pass forever.
Pure: the caller raises the ``ConfigError``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence

from sizebot.budgets import BuildMeasurement
from sizebot.config import BudgetRule, Config
from sizebot.errors import ConfigError


def unknown_target(config: Config, rules: Sequence[BudgetRule], built: Sequence[str],
                   known: Iterable[str] = ()) -> ConfigError | None:
    """The first ``targets`` entry of a rule that names no target built (nor one of ``known``)."""
    names = set(built) | set(known)
    for rule in rules:
        for j, name in enumerate(rule.targets):
            if name not in names:
                close = difflib.get_close_matches(name, list(built), n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else "targets built: " + ", ".join(built)
                return ConfigError(f"unknown target {name!r}; {hint}", path=config.path, line=rule.line,
                                   key=f"budget[{rule.index}].targets[{j}]")
    return None


def _has_package(packages: Mapping[str, int], pattern: str) -> bool:
    if pattern.endswith("/..."):
        root = pattern[:-4]
        return any(name == root or name.startswith(root + "/") for name in packages)
    return pattern in packages


def unmatched_package(config: Config, rules: Sequence[BudgetRule],
                      builds: Sequence[BuildMeasurement]) -> ConfigError | None:
    """The first package cap whose package is in no binary of its rule's scope, at base or head.

    Only judged over builds that produced a binary on some side: with none, nothing is known."""
    for rule in rules:
        measured = [b for b in builds if in_scope(rule, b) and (b.base_size is not None or b.head_size is not None)]
        if not measured:
            continue
        for name, _cap in rule.packages:
            if not any(_has_package(b.head_packages, name) or _has_package(b.base_packages, name) for b in measured):
                return ConfigError(f"package {name!r} is in no binary of this budget's builds, at the base or the "
                                   "head (a typo, or a package path the binaries do not use)",
                                   path=config.path, line=rule.line, key=f"budget[{rule.index}].packages")
    return None


def in_scope(rule: BudgetRule, build: BuildMeasurement) -> bool:
    return judges(rule, build.target, build.platform, build.strategy)


def judges(rule: BudgetRule, target: str, platform: str, strategy: str) -> bool:
    """Whether ``rule``'s scope names the build of ``target`` on ``platform`` with ``strategy``."""
    return ((not rule.targets or target in rule.targets)
            and (not rule.platforms or platform in rule.platforms)
            and (not rule.strategies or strategy in rule.strategies))
