"""The configuration as frozen dataclasses, and what runs without a sizebot.toml."""

from __future__ import annotations

from dataclasses import dataclass, field

from sizebot.config.dive_rules import DiveRules

DEFAULT_LABEL = "size-budget-override"
DEFAULT_TRAILER = ""  # off: any pull request's author can write a trailer; a base's sizebot.toml may opt in


@dataclass(frozen=True)
class OverridePolicy:
    """``[override]`` of sizebot.toml; an empty string disables that way of overriding."""

    label: str = DEFAULT_LABEL
    trailer: str = DEFAULT_TRAILER


@dataclass(frozen=True)
class Target:
    name: str
    package: str  # a Go package pattern for `go build`, e.g. "./cmd/app"
    platforms: tuple[str, ...]  # "goos/goarch"; empty = the host's (go env GOOS GOARCH)
    tags: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # in file order; dict(target.env)
    strategies: tuple[str, ...] = ()  # strategy names in config order; empty only for discovered targets = all
    line: int | None = field(default=None, compare=False)  # line of its [[target]] header; None when discovered


@dataclass(frozen=True)
class Strategy:
    name: str
    flags: tuple[str, ...] = ()  # extra `go build` flags
    env: tuple[tuple[str, str], ...] = ()
    post: tuple[str, ...] = ()  # shell commands run on the built binary, in order; {binary} {goos} {goarch}
    command: str | None = None  # custom build command instead of `go build`; {output} {goos} {goarch}
    output: str | None = None  # where `command` leaves the binary (repo-relative); {goos} {goarch}


Job = tuple[Target, str, Strategy]  # one build: a target, on a platform ("goos/goarch"), with a strategy


@dataclass(frozen=True)
class BudgetRule:
    index: int  # position among [[budget]] tables, 0-based
    level: str  # "fail" | "warn": the status of an exceeded max_size/max_increase/cap
    max_size: int | None = None  # bytes
    max_increase: tuple[str, float] | None = None  # ("percent", 1.0) or ("bytes", 50000)
    new_modules: str = "allow"  # "allow" | "warn" | "fail": the status when the head links new modules
    targets: tuple[str, ...] = ()  # scope; empty = all
    platforms: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()
    packages: tuple[tuple[str, int], ...] = ()  # per-package caps (bytes); "path/..." = the package and below
    modules: tuple[tuple[str, int], ...] = ()  # per-module caps (bytes)
    line: int | None = None  # line of its [[budget]] header


@dataclass(frozen=True)
class ImageBudgetRule:
    index: int
    level: str
    max_size: int | None = None
    max_increase: tuple[str, float] | None = None
    measure: str = "compressed"  # "compressed" (the layer tars as saved) | "uncompressed" (dive's image size)
    line: int | None = None


@dataclass(frozen=True)
class ImageConfig:
    dockerfile: str = "Dockerfile"
    context: str = "."
    target: str | None = None
    build_args: tuple[tuple[str, str], ...] = ()
    platform: str | None = None  # "os/arch[/variant]"
    rules: DiveRules | None = None  # [image.rules]; None when absent
    budgets: tuple[ImageBudgetRule, ...] = ()


@dataclass(frozen=True)
class Config:
    path: str | None  # the file as named in messages (repo-relative when found by find_config); None = defaults
    defaulted: bool  # True when no file was found
    targets: tuple[Target, ...]  # empty = discover main packages with `go list`
    strategies: tuple[Strategy, ...]  # in file order: the waterfall's order
    budgets: tuple[BudgetRule, ...] = ()
    override: OverridePolicy = field(default_factory=OverridePolicy)
    image: ImageConfig | None = None
    # whose budgets (and override policy) judge a pull request: the base's, so a PR cannot loosen its own
    budgets_from: str = "base"

    def strategy(self, name: str) -> Strategy:
        for s in self.strategies:
            if s.name == name:
                return s
        raise KeyError(name)


DEFAULT_STRATEGIES = (
    Strategy("default"),
    Strategy("release", flags=("-trimpath", "-ldflags=-s -w")),
)


def default_config() -> Config:
    """What runs without a sizebot.toml: discovered targets, host platform, default and release builds."""
    return Config(path=None, defaulted=True, targets=(), strategies=DEFAULT_STRATEGIES, budgets=(),
                  override=OverridePolicy(), image=None)
