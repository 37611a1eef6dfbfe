"""``sizebot.toml``: what to build, how, and which size budgets to hold it to.

``find_config(repo_root)`` looks for the file; ``load_config(path)`` reads and validates it
into frozen dataclasses; ``default_config()`` is what runs without a file. Every error is
a ``ConfigError`` naming file, line and key (``sizebot.toml:7: budget[1].max_size: ...``).
tomllib gives no positions for values, so the line of each key comes from a small scanner
of the (already valid) TOML text at the end of this module. Pure but for reading the file.
Paths inside the file (packages, dockerfile, context, output) are relative to the
repository root, also when the file lives in ``.github/``.
"""

from __future__ import annotations

import difflib
import re
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from sizebot.errors import ConfigError
from sizebot.units import parse_size, parse_size_or_percent

KeyPath = tuple[str | int, ...]  # tomllib-shaped: ("budget", 1, "max_size")

DEFAULT_LABEL = "size-budget-override"
DEFAULT_TRAILER = "Size-Budget-Override"


@dataclass(frozen=True)
class OverridePolicy:
    """``[override]`` of sizebot.toml; an empty string disables that way of overriding."""

    label: str = DEFAULT_LABEL
    trailer: str = DEFAULT_TRAILER


CONFIG_NAMES = ("sizebot.toml", ".github/sizebot.toml")

# `go tool dist list` of Go 1.26 (first-class and secondary ports). Kept static: config
# validation must not need a toolchain, and a typo should fail before any build starts.
KNOWN_PLATFORMS = (
    "aix/ppc64", "android/386", "android/amd64", "android/arm", "android/arm64", "darwin/amd64",
    "darwin/arm64", "dragonfly/amd64", "freebsd/386", "freebsd/amd64", "freebsd/arm", "freebsd/arm64",
    "illumos/amd64", "ios/amd64", "ios/arm64", "js/wasm", "linux/386", "linux/amd64",
    "linux/arm", "linux/arm64", "linux/loong64", "linux/mips", "linux/mips64", "linux/mips64le",
    "linux/mipsle", "linux/ppc64", "linux/ppc64le", "linux/riscv64", "linux/s390x", "netbsd/386",
    "netbsd/amd64", "netbsd/arm", "netbsd/arm64", "openbsd/386", "openbsd/amd64", "openbsd/arm",
    "openbsd/arm64", "openbsd/ppc64", "openbsd/riscv64", "plan9/386", "plan9/amd64", "plan9/arm",
    "solaris/amd64", "wasip1/wasm", "windows/386", "windows/amd64", "windows/arm64",
)

LEVELS = ("fail", "warn")
NEW_MODULES = ("allow", "warn", "fail")
MEASURES = ("compressed", "uncompressed")
POST_PLACEHOLDERS = ("binary", "goos", "goarch")
COMMAND_PLACEHOLDERS = ("output", "goos", "goarch")
OUTPUT_PLACEHOLDERS = ("goos", "goarch")

# A placeholder is {identifier} not preceded by '$', so shell's ${VAR} and awk's '{print $1}' pass through.
_PLACEHOLDER_RE = re.compile(r"(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_TOKEN_RE = re.compile(r"[A-Za-z0-9-]+")
_ENV_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

KEYS_TOP = ("target", "strategy", "budget", "override", "image")
KEYS_TARGET = ("name", "package", "platforms", "tags", "env", "strategies")
KEYS_STRATEGY = ("flags", "env", "post", "command", "output")
KEYS_BUDGET = ("level", "max_size", "max_increase", "new_modules", "targets", "platforms", "strategies",
               "packages", "modules")
KEYS_OVERRIDE = ("label", "trailer")
KEYS_IMAGE = ("dockerfile", "context", "target", "build_args", "platform", "rules", "budget")
KEYS_IMAGE_BUDGET = ("level", "max_size", "max_increase", "measure")


# ------------------------------------------------------------------------------------------
# The configuration
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    name: str
    package: str  # a Go package pattern for `go build`, e.g. "./cmd/app"
    platforms: tuple[str, ...]  # "goos/goarch"; empty = the host's (go env GOOS GOARCH)
    tags: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # in file order; dict(target.env)
    strategies: tuple[str, ...] = ()  # strategy names in config order; empty only for discovered targets = all


@dataclass(frozen=True)
class Strategy:
    name: str
    flags: tuple[str, ...] = ()  # extra `go build` flags
    env: tuple[tuple[str, str], ...] = ()
    post: tuple[str, ...] = ()  # shell commands run on the built binary, in order; {binary} {goos} {goarch}
    command: str | None = None  # custom build command instead of `go build`; {output} {goos} {goarch}
    output: str | None = None  # where `command` leaves the binary (repo-relative); {goos} {goarch}


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
    measure: str = "compressed"  # "compressed" (what a pull costs) | "uncompressed" (dive's image size)
    line: int | None = None


@dataclass(frozen=True)
class ImageConfig:
    dockerfile: str = "Dockerfile"
    context: str = "."
    target: str | None = None
    build_args: tuple[tuple[str, str], ...] = ()
    platform: str | None = None  # "os/arch[/variant]"
    rules: Any = None  # sizebot.image.ci_rules.DiveRules from [image.rules], None when absent
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


def find_config(repo_root: str | FsPath) -> FsPath | None:
    """sizebot.toml at the repository root, else .github/sizebot.toml, else None."""
    for name in CONFIG_NAMES:
        candidate = FsPath(repo_root) / name
        if candidate.is_file():
            return candidate
    return None


def load_config(path: str | FsPath, *, repo_root: str | FsPath | None = None) -> Config:
    """Read and validate one file. Messages name it relative to ``repo_root`` when given and inside it."""
    path = FsPath(path)
    display = str(path)
    if repo_root is not None:
        try:
            display = path.resolve().relative_to(FsPath(repo_root).resolve()).as_posix()
        except ValueError:
            pass
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such file", path=display) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=display) from None
    return parse_config(text, display)


def parse_config(text: str, path: str = "sizebot.toml") -> Config:
    """Validate the text of a sizebot.toml; ``path`` is how messages name the file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, text, path) from None
    try:
        lines = key_lines(text)
    except (AssertionError, IndexError, tomllib.TOMLDecodeError):  # a scanner gap: messages lose lines, not more
        lines = {}
    return _Validator(path, lines).config(data)


def expand_placeholders(template: str, values: Mapping[str, str], *, quote: bool = True) -> str:
    """Fill {binary}/{output}/{goos}/{goarch} in a command; values are shell-quoted unless ``quote`` is False."""
    def fill(m: re.Match[str]) -> str:
        value = values[m.group(1)]
        return shlex.quote(value) if quote else value
    return _PLACEHOLDER_RE.sub(fill, template)


def placeholders(template: str) -> tuple[str, ...]:
    """The placeholder names used in a command, in order."""
    return tuple(m.group(1) for m in _PLACEHOLDER_RE.finditer(template))


def _syntax_error(exc: tomllib.TOMLDecodeError, text: str, path: str) -> ConfigError:
    message = str(exc)
    m = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, re.DOTALL)
    if m:
        return ConfigError(f"invalid TOML: {m.group(1)} (column {m.group(3)})", path=path, line=int(m.group(2)))
    m = re.fullmatch(r"(.*) \(at end of document\)", message, re.DOTALL)
    if m:
        last = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
        return ConfigError(f"invalid TOML: {m.group(1)} (at end of file)", path=path, line=last)
    return ConfigError(f"invalid TOML: {message}", path=path)


# ------------------------------------------------------------------------------------------
# Validation
# ------------------------------------------------------------------------------------------

def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__.replace('datetime', 'date-time')}"


class _Validator:
    def __init__(self, path: str, lines: dict[KeyPath, int]):
        self.path = path
        self.lines = lines

    def error(self, key: KeyPath, message: str) -> ConfigError:
        return ConfigError(message, path=self.path, line=line_of(self.lines, key), key=format_path(key) or None)

    # -- primitives ----------------------------------------------------------------------
    def keys(self, table: dict, key: KeyPath, allowed: tuple[str, ...]) -> None:
        for name in table:
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else "expected one of " + ", ".join(allowed)
                raise self.error(key + (name,), f"unknown key; {hint}")

    def table(self, value: Any, key: KeyPath) -> dict:
        if not isinstance(value, dict):
            raise self.error(key, f"expected a table, got {_describe(value)}")
        return value

    def string(self, value: Any, key: KeyPath, *, empty: bool = False) -> str:
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {_describe(value)}")
        if not empty and not value.strip():
            raise self.error(key, "must not be empty")
        return value

    def strings(self, value: Any, key: KeyPath) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.error(key, f"expected an array of strings, got {_describe(value)}")
        return tuple(self.string(v, key + (i,)) for i, v in enumerate(value))

    def unique(self, values: tuple[str, ...], key: KeyPath) -> tuple[str, ...]:
        for i, v in enumerate(values):
            if v in values[:i]:
                raise self.error(key + (i,), f"{v!r} is listed twice")
        return values

    def name(self, value: Any, key: KeyPath, what: str) -> str:
        text = self.string(value, key)
        if not _NAME_RE.fullmatch(text):
            raise self.error(key, f"{what} names are letters, digits, '.', '_' and '-', got {text!r}")
        return text

    def enum(self, value: Any, key: KeyPath, allowed: tuple[str, ...]) -> str:
        quoted = [repr(a) for a in allowed]
        choices = ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]
        if not isinstance(value, str) or value not in allowed:
            raise self.error(key, f"expected {choices}, got {_describe(value)}")
        return value

    def env(self, value: Any, key: KeyPath, reserved: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
        table = self.table(value, key)
        out = []
        for name, v in table.items():
            if not _ENV_RE.fullmatch(name):
                raise self.error(key + (name,), "not a valid environment variable name")
            if name in reserved:
                raise self.error(key + (name,), f"{name} is set by sizebot from the platform; list platforms instead")
            out.append((name, self.string(v, key + (name,), empty=True)))
        return tuple(out)

    def size(self, value: Any, key: KeyPath) -> int:
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            try:
                return parse_size(value)
            except ValueError as exc:
                raise self.error(key, str(exc)) from None
        raise self.error(key, f"expected a size such as 1234, \"50 KB\" or \"2 MiB\", got {_describe(value)}")

    def size_or_percent(self, value: Any, key: KeyPath) -> tuple[str, float]:
        expected = "expected a percentage such as \"1%\" or a size such as \"50 KB\""
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.error(key, f"{expected}, got {_describe(value)}")
        try:
            kind, amount = parse_size_or_percent(value)
        except ValueError as exc:
            message = str(exc)
            if not message.startswith("expected a percentage"):
                message = f"{expected}, got {value!r}" if not message.startswith("a size") else message
            raise self.error(key, message) from None
        if kind == "percent":
            if amount < 0:
                raise self.error(key, "a percentage cannot be negative")
            return ("percent", amount)
        return ("bytes", int(amount))

    def platform(self, value: Any, key: KeyPath, *, variant: bool = False) -> str:
        text = self.string(value, key)
        pair = "/".join(text.split("/")[:2]) if variant and text.count("/") == 2 else text
        if pair not in KNOWN_PLATFORMS:
            close = difflib.get_close_matches(pair, KNOWN_PLATFORMS, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else " (GOOS/GOARCH from `go tool dist list`)"
            raise self.error(key, f"unknown platform {text!r}{hint}")
        return text

    def command(self, value: Any, key: KeyPath, allowed: tuple[str, ...], required: str | None = None) -> str:
        text = self.string(value, key)
        used = placeholders(text)
        for name in used:
            if name not in allowed:
                choices = ", ".join("{" + a + "}" for a in allowed)
                raise self.error(key, f"unknown placeholder {{{name}}} (known: {choices})")
        if required and required not in used:
            raise self.error(key, f"needs the {{{required}}} placeholder, e.g. \"strip {{{required}}}\"")
        return text

    def array_of_tables(self, value: Any, key: KeyPath) -> list[dict]:
        header = "[[" + format_path(key) + "]]"
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(key, f"expected an array of tables ({header}), got {_describe(value)}")
        return value

    # -- sections ------------------------------------------------------------------------
    def config(self, data: dict) -> Config:
        self.keys(data, (), KEYS_TOP)
        strategies = self.strategies(data["strategy"]) if "strategy" in data else DEFAULT_STRATEGIES
        names = tuple(s.name for s in strategies)
        targets = self.targets(data.get("target", []), names)
        budgets = tuple(self.budget(t, ("budget", i), i, targets, names)
                        for i, t in enumerate(self.array_of_tables(data.get("budget", []), ("budget",))))
        override = self.override(data["override"]) if "override" in data else OverridePolicy()
        image = self.image(data["image"]) if "image" in data else None
        return Config(path=self.path, defaulted=False, targets=targets, strategies=strategies, budgets=budgets,
                      override=override, image=image)

    def strategies(self, value: Any) -> tuple[Strategy, ...]:
        table = self.table(value, ("strategy",))
        defined = tuple(self.strategy(name, body) for name, body in table.items())
        if any(s.name == "default" for s in defined):
            return defined
        return (DEFAULT_STRATEGIES[0],) + defined  # plain `go build` stays the waterfall's baseline

    def strategy(self, name: str, body: Any) -> Strategy:
        key: KeyPath = ("strategy", name)
        self.name(name, key, "strategy")
        body = self.table(body, key)
        self.keys(body, key, KEYS_STRATEGY)
        flags = self.strings(body.get("flags", []), key + ("flags",))
        for i, flag in enumerate(flags):
            if not flag.startswith("-"):
                raise self.error(key + ("flags", i), f"expected a go build flag starting with '-', got {flag!r}")
            if flag == "-o" or flag.startswith(("-o=", "--o=")) or flag == "--o":
                raise self.error(key + ("flags", i), "sizebot chooses the output file; remove -o")
        env = self.env(body.get("env", {}), key + ("env",), reserved=("GOOS", "GOARCH"))
        post = tuple(self.command(c, key + ("post", i), POST_PLACEHOLDERS, required="binary")
                     for i, c in enumerate(self.strings(body.get("post", []), key + ("post",))))
        command = output = None
        if "command" in body:
            command = self.command(body["command"], key + ("command",), COMMAND_PLACEHOLDERS)
            if "output" not in body:
                raise self.error(key + ("command",), "a custom command needs output = \"path/of/the/binary\"")
            if flags:
                raise self.error(key + ("flags",), "flags are for go build; a custom command takes none")
        if "output" in body:
            output = self.command(body["output"], key + ("output",), OUTPUT_PLACEHOLDERS)
            if command is None:
                raise self.error(key + ("output",), "output goes with a custom command = \"...\"")
        return Strategy(name=name, flags=flags, env=env, post=post, command=command, output=output)

    def targets(self, value: Any, strategy_names: tuple[str, ...]) -> tuple[Target, ...]:
        targets: list[Target] = []
        for i, body in enumerate(self.array_of_tables(value, ("target",))):
            key: KeyPath = ("target", i)
            self.keys(body, key, KEYS_TARGET)
            for required in ("name", "package"):
                if required not in body:
                    raise self.error(key, f"missing {required} = \"...\"")
            name = self.name(body["name"], key + ("name",), "target")
            if any(t.name == name for t in targets):
                raise self.error(key + ("name",), f"target {name!r} is defined twice")
            package = self.string(body["package"], key + ("package",))
            platforms = self.unique(self.strings(body.get("platforms", []), key + ("platforms",)), key + ("platforms",))
            for j, p in enumerate(platforms):
                self.platform(p, key + ("platforms", j))
            tags = self.strings(body.get("tags", []), key + ("tags",))
            env = self.env(body.get("env", {}), key + ("env",), reserved=("GOOS", "GOARCH"))
            chosen = strategy_names
            if "strategies" in body:
                listed = self.unique(self.strings(body["strategies"], key + ("strategies",)), key + ("strategies",))
                for j, s in enumerate(listed):
                    self.known(s, key + ("strategies", j), strategy_names, "strategy")
                if not listed:
                    raise self.error(key + ("strategies",), "list at least one strategy (or leave the key out: all)")
                chosen = tuple(s for s in strategy_names if s in listed)  # config order: the waterfall's
            targets.append(Target(name=name, package=package, platforms=platforms, tags=tags, env=env,
                                  strategies=chosen))
        return tuple(targets)

    def known(self, value: str, key: KeyPath, names: tuple[str, ...], what: str) -> None:
        if value not in names:
            close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else "defined: " + ", ".join(names)
            raise self.error(key, f"unknown {what} {value!r}; {hint}")

    def caps(self, value: Any, key: KeyPath) -> tuple[tuple[str, int], ...]:
        table = self.table(value, key)
        for name in table:
            if not name.strip():
                raise self.error(key + (name,), "an empty path cannot be capped")
        return tuple((name, self.size(v, key + (name,))) for name, v in table.items())

    def budget(self, body: dict, key: KeyPath, index: int, targets: tuple[Target, ...],
               strategy_names: tuple[str, ...]) -> BudgetRule:
        self.keys(body, key, KEYS_BUDGET)
        level = self.enum(body.get("level", "fail"), key + ("level",), LEVELS)
        max_size = self.size(body["max_size"], key + ("max_size",)) if "max_size" in body else None
        max_increase = (self.size_or_percent(body["max_increase"], key + ("max_increase",))
                        if "max_increase" in body else None)
        new_modules = self.enum(body.get("new_modules", "allow"), key + ("new_modules",), NEW_MODULES)
        scope_targets = self.unique(self.strings(body.get("targets", []), key + ("targets",)), key + ("targets",))
        if targets:  # discovered targets are only known at build time
            names = tuple(t.name for t in targets)
            for j, t in enumerate(scope_targets):
                self.known(t, key + ("targets", j), names, "target")
        platforms = self.unique(self.strings(body.get("platforms", []), key + ("platforms",)), key + ("platforms",))
        for j, p in enumerate(platforms):
            self.platform(p, key + ("platforms", j))
        strategies = self.unique(self.strings(body.get("strategies", []), key + ("strategies",)),
                                 key + ("strategies",))
        for j, s in enumerate(strategies):
            self.known(s, key + ("strategies", j), strategy_names, "strategy")
        packages = self.caps(body.get("packages", {}), key + ("packages",))
        modules = self.caps(body.get("modules", {}), key + ("modules",))
        if max_size is None and max_increase is None and new_modules == "allow" and not packages and not modules:
            raise self.error(key, "a budget needs max_size, max_increase, new_modules, packages or modules")
        return BudgetRule(index=index, level=level, max_size=max_size, max_increase=max_increase,
                          new_modules=new_modules, targets=scope_targets, platforms=platforms, strategies=strategies,
                          packages=packages, modules=modules, line=line_of(self.lines, key))

    def override(self, value: Any) -> OverridePolicy:
        key: KeyPath = ("override",)
        table = self.table(value, key)
        self.keys(table, key, KEYS_OVERRIDE)
        label = self.string(table.get("label", DEFAULT_LABEL), key + ("label",), empty=True).strip()
        trailer = self.string(table.get("trailer", DEFAULT_TRAILER), key + ("trailer",), empty=True).strip()
        if trailer and not _TOKEN_RE.fullmatch(trailer):
            raise self.error(key + ("trailer",), f"a trailer key is letters, digits and '-', got {trailer!r}")
        return OverridePolicy(label=label, trailer=trailer)

    def image(self, value: Any) -> ImageConfig:
        key: KeyPath = ("image",)
        table = self.table(value, key)
        self.keys(table, key, KEYS_IMAGE)
        dockerfile = self.string(table.get("dockerfile", "Dockerfile"), key + ("dockerfile",))
        context = self.string(table.get("context", "."), key + ("context",))
        target = self.string(table["target"], key + ("target",)) if "target" in table else None
        build_args = self.env(table.get("build_args", {}), key + ("build_args",))
        platform = self.platform(table["platform"], key + ("platform",), variant=True) if "platform" in table else None
        rules = self.rules(table["rules"]) if "rules" in table else None
        budgets = []
        for i, body in enumerate(self.array_of_tables(table.get("budget", []), key + ("budget",))):
            bkey = key + ("budget", i)
            self.keys(body, bkey, KEYS_IMAGE_BUDGET)
            rule = ImageBudgetRule(
                index=i,
                level=self.enum(body.get("level", "fail"), bkey + ("level",), LEVELS),
                max_size=self.size(body["max_size"], bkey + ("max_size",)) if "max_size" in body else None,
                max_increase=(self.size_or_percent(body["max_increase"], bkey + ("max_increase",))
                              if "max_increase" in body else None),
                measure=self.enum(body.get("measure", "compressed"), bkey + ("measure",), MEASURES),
                line=line_of(self.lines, bkey),
            )
            if rule.max_size is None and rule.max_increase is None:
                raise self.error(bkey, "an image budget needs max_size or max_increase")
            budgets.append(rule)
        return ImageConfig(dockerfile=dockerfile, context=context, target=target, build_args=build_args,
                           platform=platform, rules=rules, budgets=tuple(budgets))

    def rules(self, value: Any) -> Any:
        key: KeyPath = ("image", "rules")
        table = self.table(value, key)
        from sizebot.image.ci_rules import rules_from_mapping  # the image helpers' .dive-ci reader

        try:
            return rules_from_mapping(table, self.path)
        except ConfigError as exc:
            # Re-anchor their message on our file, line and full key.
            message = str(exc)
            for prefix in (exc.path, exc.key):
                if prefix and message.startswith(f"{prefix}: "):
                    message = message[len(prefix) + 2:]
            sub = (exc.key,) if exc.key and exc.key in table else ()
            raise self.error(key + sub, message) from None


# ------------------------------------------------------------------------------------------
# Where keys are: a scanner of valid TOML text
# ------------------------------------------------------------------------------------------

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = ",]}\n#"


class _Scanner:
    def __init__(self, text: str):
        self.s = text.replace("\r\n", "\n")
        self.i = 0
        self.line = 1
        self.lines: dict[KeyPath, int] = {}
        self.aot: dict[KeyPath, int] = {}  # array-of-tables path -> elements seen so far

    # -- low level -------------------------------------------------------------------
    def peek(self, n: int = 1) -> str:
        return self.s[self.i:self.i + n]

    def advance(self, n: int = 1) -> None:
        self.line += self.s.count("\n", self.i, self.i + n)
        self.i += n

    def eof_check(self) -> None:
        if self.i >= len(self.s):
            raise IndexError("unterminated string")

    def skip_blanks(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def skip_ws_comments(self, newlines: bool) -> None:
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t" or (newlines and c == "\n"):
                self.advance()
            elif c == "#":
                end = self.s.find("\n", self.i)
                self.i = len(self.s) if end < 0 else end
            else:
                break

    def record(self, path: KeyPath, line: int) -> None:
        for n in range(1, len(path) + 1):
            self.lines.setdefault(path[:n], line)

    # -- keys ------------------------------------------------------------------------
    def key_part(self) -> str:
        c = self.peek()
        if c in "\"'":
            start = self.i
            self.advance()
            while self.s[self.i] != c:
                self.advance(2 if c == '"' and self.s[self.i] == "\\" else 1)
            self.advance()
            return tomllib.loads(f"k = {self.s[start:self.i]}")["k"]
        m = _BARE.match(self.s, self.i)
        assert m, f"bad key at line {self.line}"
        self.i = m.end()
        return m.group(0)

    def dotted_key(self) -> list[str]:
        parts = [self.key_part()]
        self.skip_blanks()
        while self.peek() == ".":
            self.advance()
            self.skip_blanks()
            parts.append(self.key_part())
            self.skip_blanks()
        return parts

    # -- values ----------------------------------------------------------------------
    def string(self) -> None:
        for quote in ('"""', "'''"):
            if self.peek(3) == quote:
                self.advance(3)
                while self.peek(3) != quote:
                    self.eof_check()
                    self.advance(2 if quote[0] == '"' and self.peek() == "\\" else 1)
                self.advance(3)
                while self.peek() == quote[0]:  # up to two quotes may end the content
                    self.advance()
                return
        q = self.peek()
        self.advance()
        while self.peek() != q:
            self.eof_check()
            self.advance(2 if q == '"' and self.peek() == "\\" else 1)
        self.advance()

    def value(self, path: KeyPath) -> None:
        c = self.peek()
        if c in "\"'":
            self.string()
        elif c == "[":
            self.advance()
            index = 0
            while True:
                self.skip_ws_comments(newlines=True)
                if self.peek() == "]":
                    self.advance()
                    return
                self.record(path + (index,), self.line)
                start = self.i
                self.value(path + (index,))
                index += 1
                self.skip_ws_comments(newlines=True)
                if self.peek() == ",":
                    self.advance()
                elif self.i == start or self.peek() != "]":
                    raise AssertionError(f"unexpected text in an array at line {self.line}")
        elif c == "{":
            self.advance()
            while True:
                self.skip_blanks()
                if self.peek() == "}":
                    self.advance()
                    return
                line = self.line
                key = path + tuple(self.dotted_key())
                self.record(key, line)
                self.skip_blanks()
                self.advance()  # '='
                self.skip_blanks()
                self.value(key)
                self.skip_blanks()
                if self.peek() == ",":
                    self.advance()
                elif self.peek() != "}":
                    raise AssertionError(f"unexpected text in an inline table at line {self.line}")
        else:
            while self.i < len(self.s) and self.s[self.i] not in _SCALAR_END:
                self.i += 1

    # -- document --------------------------------------------------------------------
    def resolve(self, parts: list[str]) -> KeyPath:
        """A header's key parts -> the path, with the current index after every array of tables."""
        path: KeyPath = ()
        for part in parts:
            path += (part,)
            if path in self.aot:
                path += (self.aot[path] - 1,)
        return path

    def document(self) -> dict[KeyPath, int]:
        current: KeyPath = ()
        while True:
            self.skip_ws_comments(newlines=True)
            if self.i >= len(self.s):
                return self.lines
            line = self.line
            if self.peek(2) == "[[":
                self.advance(2)
                self.skip_blanks()
                parts = self.dotted_key()
                array = self.resolve(parts[:-1]) + (parts[-1],)
                self.aot[array] = self.aot.get(array, 0) + 1
                current = array + (self.aot[array] - 1,)
                self.record(current, line)
                self.advance(2)
            elif self.peek() == "[":
                self.advance()
                self.skip_blanks()
                current = self.resolve(self.dotted_key())
                self.record(current, line)
                self.advance()
            else:
                key = current + tuple(self.dotted_key())
                self.record(key, line)
                self.skip_blanks()
                self.advance()  # '='
                self.skip_blanks()
                self.value(key)
            # rest of the line: blanks and a comment
            self.skip_ws_comments(newlines=False)


def key_lines(text: str) -> dict[KeyPath, int]:
    """Every key path of a valid TOML document -> its 1-based line (first definition wins)."""
    return _Scanner(text).document()


def line_of(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one (for a missing key: its table)."""
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


def format_path(path: KeyPath) -> str:
    """("budget", 1, "max_size") -> "budget[1].max_size"; keys that are not bare are quoted."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = part if _BARE.fullmatch(part) else '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out += f".{text}" if out else text
    return out
