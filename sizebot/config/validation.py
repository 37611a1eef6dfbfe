"""Checking a parsed sizebot.toml against the config schema, then into the model.

Two passes. ``SchemaWalker`` checks the document against config.schema.json (the keys, types,
enums, patterns and ranges all come from there) and turns each failure into one line naming
file:line:key, with "did you mean" for near misses. ``build_config`` then makes the dataclasses
and checks what a schema cannot say: references between tables (a budget's targets and
strategies), unique target names, placeholders, and go build flags that cannot work.
"""

from __future__ import annotations

import difflib
import json
import re
import shlex
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath
from typing import Any

from sizebot.config.dive_rules import DiveRules, rules_from_mapping
from sizebot.config.lines import KeyPath, format_path, line_of
from sizebot.config.model import (
    DEFAULT_STRATEGIES,
    BudgetRule,
    Config,
    ImageBudgetRule,
    ImageConfig,
    OverridePolicy,
    Strategy,
    Target,
)
from sizebot.config.placeholders import COMMAND_PLACEHOLDERS, OUTPUT_PLACEHOLDERS, POST_PLACEHOLDERS, placeholders
from sizebot.config.schema import config_schema, default_of, definition, known_platforms, max_size
from sizebot.errors import ConfigError
from sizebot.units import parse_size, parse_size_or_percent

Schema = dict[str, Any]
Defined = dict[str, None]  # names in the file's order, looked up by hash (a file may list 100,000s)

SIZE_EXPECTED = "expected a size such as 1234, \"50 KB\" or \"2 MiB\""
SIZE_OR_PERCENT_EXPECTED = "expected a percentage such as \"1%\" or a size such as \"50 KB\""

# What a failed pattern means, in words (the schema's patterns are for machines).
PATTERN_MESSAGES = {
    "\\S": "must not be empty",
    "^(?!-)\\s*\\S": ("expected a package such as ./cmd/app, got {got} (not empty, and not starting with '-': "
                       "go build takes that for a flag)"),
    "^-(?!-?o(=|$))": "expected a go build flag starting with '-', got {got}",
    "\\{binary\\}": "needs the {{binary}} placeholder, e.g. \"strip {{binary}}\"",
    "^([A-Za-z0-9-]+)?$": "a trailer key is letters, digits and '-', got {got}",
    "^[A-Za-z_][A-Za-z0-9_]*$": "not a valid environment variable name",
}
NAME_MESSAGE = "{what} names are letters, digits, '.', '_' and '-', got {got}"
MIN_ITEMS_MESSAGES = {"target.strategies": "list at least one strategy (or leave the key out: all)"}
DEPENDENT_MESSAGES = {
    ("strategy", "command"): "a custom command needs output = \"path/of/the/binary\"",
    ("strategy", "output"): "output goes with a custom command = \"...\"",
}
# go build flags that take no value: "-trimpath netgo" is not "-trimpath=netgo".
_BOOLEAN_FLAGS = frozenset({"-a", "-n", "-x", "-v", "-race", "-msan", "-asan", "-cover", "-trimpath", "-work",
                            "-linkshared", "-modcacherw", "-buildvcs"})
_QUOTED_VALUE = re.compile(r"^(-{1,2}[A-Za-z0-9_.-]+=)?(['\"]).*\2$", re.DOTALL)


def describe(value: Any) -> str:
    """A value as a message shows it: strings quoted and cut short, containers by kind."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:40]) + f"... ({len(value)} characters)"
    if isinstance(value, int):
        text = str(value)
        return text if len(text) <= 30 else f"{text[:12]}... ({len(text)} digits)"
    if isinstance(value, float):
        return str(value)
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__.replace('datetime', 'date-time')}"


def choices(names: tuple[str, ...] | list[str], quote: bool = True) -> str:
    shown = [repr(n) if quote else n for n in names]
    return ", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0]


def suggest(value: str, names: Iterable[str], otherwise: str) -> str:
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else otherwise


class SchemaWalker:
    """Checks a value against a (subset of JSON Schema 2020-12) schema; raises the first failure in file order.

    ``where`` names the schema location for the message tables: a definition name, then property names."""

    def __init__(self, path: str, lines: dict[KeyPath, int]):
        self.path = path
        self.lines = lines
        self.handlers: dict[str, Callable[[Any, Schema, KeyPath], None]] = {
            "name": self.name, "size": self.size, "size_or_percent": self.size_or_percent,
            "platform": self.platform, "image_platform": self.image_platform, "build_env": self.build_env,
            "post_step": self.post_step, "go_flag": self.go_flag,
        }

    def error(self, key: KeyPath, message: str) -> ConfigError:
        return ConfigError(message, path=self.path, line=line_of(self.lines, key), key=format_path(key) or None)

    # -- the generic walk --------------------------------------------------------------------
    def check(self, value: Any, schema: Schema, key: KeyPath, where: str = "") -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            handler = self.handlers.get(name)
            if handler:
                handler(value, definition(name), key)
            else:
                self.check(value, definition(name), key, name)
            return
        for sub in schema.get("allOf", ()):
            self.check(value, sub, key, where)
        if "type" in schema:
            self.type(value, schema, key)
        if "enum" in schema and value not in schema["enum"]:
            raise self.error(key, f"expected {choices(schema['enum'])}, got {describe(value)}")
        if isinstance(value, str):
            self.string(value, schema, key)
        elif isinstance(value, dict):
            self.table(value, schema, key, where)
        elif isinstance(value, list):
            self.array(value, schema, key, where)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                raise self.error(key, f"must be at least {schema['minimum']}, got {describe(value)}")
            if "maximum" in schema and value > schema["maximum"]:
                raise self.error(key, f"must be at most {schema['maximum']}, got {describe(value)}")
        if "anyOf" in schema and not any(self.valid(value, sub, key) for sub in schema["anyOf"]):
            raise self.error(key, self.any_of_message(schema, where))
        if "not" in schema and self.valid(value, schema["not"], key):
            raise self.error(key, f"{describe(value)} is not allowed here")

    def valid(self, value: Any, schema: Schema, key: KeyPath) -> bool:
        try:
            self.check(value, schema, key)
        except ConfigError:
            return False
        return True

    def type(self, value: Any, schema: Schema, key: KeyPath) -> None:
        kind = schema["type"]
        ok = {
            "object": isinstance(value, dict),
            "array": isinstance(value, list),
            "string": isinstance(value, str),
            "boolean": isinstance(value, bool),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
        }[kind]
        if ok:
            return
        expected = {"object": "a table", "string": "a string", "boolean": "true or false",
                    "integer": "an integer", "number": "a number"}.get(kind)
        if kind == "array":
            items = schema.get("items", {})
            item = definition(items["$ref"].rsplit("/", 1)[-1]) if "$ref" in items else items
            if item.get("type") == "object":
                expected = f"an array of tables ([[{format_path(key)}]])"
            elif item.get("type") == "string":
                expected = "an array of strings"
            else:
                expected = "an array"
        raise self.error(key, f"expected {expected}, got {describe(value)}")

    def string(self, value: str, schema: Schema, key: KeyPath) -> None:
        if len(value) < schema.get("minLength", 0):
            raise self.error(key, "must not be empty")
        pattern = schema.get("pattern")
        if pattern is not None and not re.search(pattern, value):
            template = PATTERN_MESSAGES.get(pattern, "does not match " + pattern + ", got {got}")
            raise self.error(key, template.format(got=describe(value)))

    def table(self, value: dict, schema: Schema, key: KeyPath, where: str) -> None:
        properties: Schema = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        if extra is False:
            allowed = tuple(properties)
            for name in value:
                if name not in allowed:
                    hint = suggest(name, allowed, "expected one of " + ", ".join(allowed))
                    raise self.error(key + (name,), f"unknown key; {hint}")
        for name in schema.get("required", ()):
            if name not in value:
                raise self.error(key, f"missing {name} = \"...\"")
        for name, needs in schema.get("dependentRequired", {}).items():
            for other in needs:
                if name in value and other not in value:
                    message = DEPENDENT_MESSAGES.get((where, name), f"{name} needs {other}")
                    raise self.error(key + (name,), message)
        names = schema.get("propertyNames")
        for name, item in value.items():
            if names is not None:
                self.check(name, names, key + (name,), where)
            if name in properties:
                self.check(item, properties[name], key + (name,), f"{where}.{name}")
            elif isinstance(extra, dict):
                self.check(item, extra, key + (name,), where)

    def array(self, value: list, schema: Schema, key: KeyPath, where: str) -> None:
        if len(value) < schema.get("minItems", 0):
            raise self.error(key, MIN_ITEMS_MESSAGES.get(where, f"list at least {schema['minItems']}"))
        items = schema.get("items")
        unique = schema.get("uniqueItems", False)
        seen: set[Any] = set()  # a set, not the items before: a hostile file lists 100,000s
        for i, item in enumerate(value):
            if items is not None:
                self.check(item, items, key + (i,), where)
            if unique:
                try:
                    repeated = item in seen
                    seen.add(item)
                except TypeError:  # a table or an array: compared with the items before
                    repeated = item in value[:i]
                if repeated:
                    raise self.error(key + (i,), f"{describe(item)} is listed twice")

    def any_of_message(self, schema: Schema, where: str) -> str:
        branches = schema["anyOf"]
        if all("required" in b for b in branches):  # "at least one of these keys"
            what = where.replace("_", " ")
            article = "an" if what[:1] in "aeiou" else "a"
            return f"{article} {what} needs {choices([b['required'][0] for b in branches], quote=False)}"
        return "matches none of the allowed forms"

    # -- definitions with their own words ----------------------------------------------------
    def name(self, value: Any, schema: Schema, key: KeyPath) -> None:
        self.type(value, schema, key)
        if not re.search(schema["pattern"], value):
            label = next((p for p in reversed(key) if isinstance(p, str)), "")
            what = {"targets": "target", "strategies": "strategy", "name": str(key[0])}.get(label, "strategy")
            raise self.error(key, NAME_MESSAGE.format(what=what, got=describe(value)))

    def size(self, value: Any, schema: Schema, key: KeyPath, expected: str = SIZE_EXPECTED) -> None:
        number, text = (b for b in schema["anyOf"] if "type" in b)
        if isinstance(value, str) and re.search(text["pattern"], value):
            value = parse_size(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(key, f"{expected}, got {describe(value)}")
        if value < number["minimum"]:
            raise self.error(key, "a size cannot be negative")
        if value > number["maximum"]:
            raise self.error(key, f"a size cannot exceed {number['maximum']} bytes")

    def size_or_percent(self, value: Any, schema: Schema, key: KeyPath) -> None:
        if not (isinstance(value, str) and value.strip().endswith("%")):
            self.size(value, definition("size"), key, SIZE_OR_PERCENT_EXPECTED)
            return
        percent = definition("percent")
        if re.search(percent["pattern"], value):
            return
        number = value.strip()[:-1].strip()
        try:
            amount = Decimal(number)
        except InvalidOperation:
            raise self.error(key, f"{SIZE_OR_PERCENT_EXPECTED}, got {describe(value)}") from None
        if not amount.is_nan() and amount < 0:
            raise self.error(key, "a percentage cannot be negative")
        if not amount.is_finite():
            raise self.error(key, f"a percentage must be a finite number, got {describe(value)}")
        if amount >= 10_000_000:
            raise self.error(key, f"a percentage cannot exceed 9999999%, got {describe(value)}")
        raise self.error(key, f"{SIZE_OR_PERCENT_EXPECTED}, got {describe(value)}")

    def platform(self, value: Any, schema: Schema, key: KeyPath, shown: str | None = None) -> None:
        self.type(value, {"type": "string"}, key)
        if value not in schema["enum"]:
            hint = suggest(value, tuple(schema["enum"]), "")
            hint = f"; {hint}" if hint else " (GOOS/GOARCH from `go tool dist list`)"
            raise self.error(key, f"unknown platform {(shown or value)!r}{hint}")

    def image_platform(self, value: Any, schema: Schema, key: KeyPath) -> None:
        self.type(value, schema, key)
        pair = "/".join(value.split("/")[:2]) if value.count("/") == 2 else value
        self.platform(pair, definition("platform"), key, shown=value)
        self.string(value, schema, key)

    def build_env(self, value: Any, schema: Schema, key: KeyPath) -> None:
        self.check(value, definition("env"), key, "env")
        for name in ("GOOS", "GOARCH"):
            if name in value:
                raise self.error(key + (name,), f"{name} is set by sizebot from the platform; list platforms instead")

    def go_flag(self, value: Any, schema: Schema, key: KeyPath) -> None:
        self.type(value, schema, key)
        problem = flag_problem(value)
        if problem:
            raise self.error(key, problem)
        if value.startswith("-") and not re.search(schema["pattern"], value):
            raise self.error(key, "sizebot chooses the output file; remove -o")
        self.string(value, schema, key)

    def post_step(self, value: Any, schema: Schema, key: KeyPath) -> None:
        self.type(value, schema, key)
        check_placeholders(self, value, key, POST_PLACEHOLDERS)
        self.string(value, schema, key)


def check_placeholders(walker: SchemaWalker, text: str, key: KeyPath, allowed: tuple[str, ...]) -> None:
    for name in placeholders(text):
        if name not in allowed:
            known = ", ".join("{" + a + "}" for a in allowed)
            raise walker.error(key, f"unknown placeholder {{{name}}} (known: {known})")


def flag_problem(flag: str) -> str | None:
    """Why a go build flag as written cannot work, with its right spelling; None when it can.

    Each array element reaches go build as one argument, with no shell in between: quotes stay in
    the value, and "-trimpath -ldflags=-s -w" is one unknown flag."""
    words = flag.split()
    several = len(words) > 1 and "=" not in words[0]
    quoted = bool(_QUOTED_VALUE.match(flag)) and not several
    if not (several or quoted):
        return None
    try:
        tokens = shlex.split(flag)
    except ValueError:
        tokens = words
    spelled: list[str] = []
    for token in tokens:
        if spelled and "=" in spelled[-1]:
            spelled[-1] += " " + token  # -ldflags=-s -w: the value goes on
        elif spelled and not token.startswith("-") and spelled[-1] not in _BOOLEAN_FLAGS:
            spelled[-1] += "=" + token  # "-tags netgo" -> "-tags=netgo"
        else:
            spelled.append(token)
    right = "flags = [" + ", ".join(json.dumps(t) for t in spelled) + "]"
    if quoted:
        return (f"{describe(flag)} looks shell-quoted, but go build gets it without a shell and keeps the quotes; "
                f"write {right}")
    return f"{describe(flag)} holds several flags in one string, which go build gets as one argument; write {right}"


class ConfigBuilder:
    """A schema-valid document -> Config, with the checks that span tables."""

    def __init__(self, walker: SchemaWalker):
        self.walker = walker
        self.error = walker.error

    def config(self, data: dict) -> Config:
        strategies = self.strategies(data["strategy"]) if "strategy" in data else DEFAULT_STRATEGIES
        names = dict.fromkeys(s.name for s in strategies)
        targets = self.targets(data.get("target", []), names)
        target_names = dict.fromkeys(t.name for t in targets)
        budgets = tuple(self.budget(body, ("budget", i), i, target_names, names)
                        for i, body in enumerate(data.get("budget", [])))
        override = self.override(data["override"]) if "override" in data else OverridePolicy()
        image = self.image(data["image"]) if "image" in data else None
        return Config(path=self.walker.path, defaulted=False, targets=targets, strategies=strategies,
                      budgets=budgets, override=override, image=image,
                      budgets_from=data.get("budgets_from", "base"))

    def strategies(self, table: dict) -> tuple[Strategy, ...]:
        defined = tuple(self.strategy(name, body) for name, body in table.items())
        if any(s.name == "default" for s in defined):
            return defined
        return (DEFAULT_STRATEGIES[0],) + defined  # plain `go build` stays the waterfall's baseline

    def strategy(self, name: str, body: dict) -> Strategy:
        key: KeyPath = ("strategy", name)
        flags = tuple(body.get("flags", ()))
        command, output = body.get("command"), body.get("output")
        if command is not None:
            check_placeholders(self.walker, command, key + ("command",), COMMAND_PLACEHOLDERS)
            if flags:
                raise self.error(key + ("flags",), "flags are for go build; a custom command takes none")
        if output is not None:
            check_placeholders(self.walker, output, key + ("output",), OUTPUT_PLACEHOLDERS)
            # only a lexical check can be made here; the build resolves symlinks against its worktree
            parts = PurePosixPath(output.replace("\\", "/")).parts
            if not parts or output.startswith(("/", "~")) or ".." in parts:
                raise self.error(key + ("output",), f"must be a path inside the repository (relative, no '..'), "
                                                    f"got {output!r}")
        return Strategy(name=name, flags=flags, env=tuple(body.get("env", {}).items()),
                        post=tuple(body.get("post", ())), command=command, output=output)

    def targets(self, bodies: list[dict], strategy_names: Defined) -> tuple[Target, ...]:
        targets: list[Target] = []
        seen: set[str] = set()
        for i, body in enumerate(bodies):
            key: KeyPath = ("target", i)
            if body["name"] in seen:
                raise self.error(key + ("name",), f"target {body['name']!r} is defined twice")
            seen.add(body["name"])
            chosen = tuple(strategy_names)
            if "strategies" in body:
                listed = body["strategies"]
                for j, s in enumerate(listed):
                    self.known(s, key + ("strategies", j), strategy_names, "strategy")
                chosen = tuple(s for s in strategy_names if s in listed)  # config order: the waterfall's
            targets.append(Target(name=body["name"], package=body["package"],
                                  platforms=tuple(body.get("platforms", ())), tags=tuple(body.get("tags", ())),
                                  env=tuple(body.get("env", {}).items()), strategies=chosen,
                                  line=line_of(self.walker.lines, key)))
        return tuple(targets)

    def known(self, value: str, key: KeyPath, names: Defined, what: str) -> None:
        if value not in names:
            raise self.error(key, f"unknown {what} {value!r}; {suggest(value, names, 'defined: ' + ', '.join(names))}")

    def budget(self, body: dict, key: KeyPath, index: int, target_names: Defined,
               strategy_names: Defined) -> BudgetRule:
        scope_targets = tuple(body.get("targets", ()))
        if target_names:  # discovered targets are only known at build time
            for j, t in enumerate(scope_targets):
                self.known(t, key + ("targets", j), target_names, "target")
        strategies = tuple(body.get("strategies", ()))
        for j, s in enumerate(strategies):
            self.known(s, key + ("strategies", j), strategy_names, "strategy")
        return BudgetRule(
            index=index, level=body.get("level", default_of("budget", "level")),
            max_size=parse_size(body["max_size"]) if "max_size" in body else None,
            max_increase=limit(body["max_increase"]) if "max_increase" in body else None,
            new_modules=body.get("new_modules", default_of("budget", "new_modules")),
            targets=scope_targets, platforms=tuple(body.get("platforms", ())), strategies=strategies,
            packages=caps(body.get("packages", {})), modules=caps(body.get("modules", {})),
            line=line_of(self.walker.lines, key))

    def override(self, table: dict) -> OverridePolicy:
        return OverridePolicy(label=table.get("label", default_of("override", "label")).strip(),
                              trailer=table.get("trailer", default_of("override", "trailer")).strip())

    def image(self, table: dict) -> ImageConfig:
        key: KeyPath = ("image",)
        budgets = tuple(
            ImageBudgetRule(
                index=i, level=body.get("level", default_of("image_budget", "level")),
                max_size=parse_size(body["max_size"]) if "max_size" in body else None,
                max_increase=limit(body["max_increase"]) if "max_increase" in body else None,
                measure=body.get("measure", default_of("image_budget", "measure")),
                line=line_of(self.walker.lines, key + ("budget", i)))
            for i, body in enumerate(table.get("budget", [])))
        return ImageConfig(dockerfile=table.get("dockerfile", default_of("image", "dockerfile")),
                           context=table.get("context", default_of("image", "context")),
                           target=table.get("target"), build_args=tuple(table.get("build_args", {}).items()),
                           platform=table.get("platform"),
                           rules=self.rules(table["rules"]) if "rules" in table else None, budgets=budgets)

    def rules(self, table: dict) -> DiveRules:
        key: KeyPath = ("image", "rules")
        try:
            return rules_from_mapping(table, self.walker.path)
        except ConfigError as exc:
            # Re-anchor their message on our file, line and full key.
            message = str(exc)
            for prefix in (exc.path, exc.key):
                if prefix and message.startswith(f"{prefix}: "):
                    message = message[len(prefix) + 2:]
            sub = (exc.key,) if exc.key and exc.key in table else ()
            raise self.error(key + sub, message) from None


def limit(value: str | int) -> tuple[str, float]:
    kind, amount = parse_size_or_percent(value)
    return (kind, amount) if kind == "percent" else (kind, int(amount))


def caps(table: dict) -> tuple[tuple[str, int], ...]:
    return tuple((name, parse_size(v)) for name, v in table.items())


def validate(data: dict, path: str, lines: dict[KeyPath, int]) -> Config:
    """A tomllib document -> Config; the first fault, in file order, as a ConfigError naming file:line:key."""
    walker = SchemaWalker(path, lines)
    walker.check(data, config_schema(), (), "")
    return ConfigBuilder(walker).config(data)


__all__ = ["SchemaWalker", "ConfigBuilder", "validate", "flag_problem", "known_platforms", "max_size"]
