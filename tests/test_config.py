"""sizebot.toml: parsing into dataclasses, defaults, lookup, and every error naming file:line:key."""

from __future__ import annotations

import json
import textwrap
import tomllib
from pathlib import Path

import jsonschema
import pytest

from sizebot.config import (
    DEFAULT_STRATEGIES,
    BudgetRule,
    Config,
    ImageBudgetRule,
    ImageConfig,
    OverridePolicy,
    Strategy,
    Target,
    default_config,
    expand_placeholders,
    find_config,
    format_path,
    key_lines,
    load_config,
    parse_config,
)
from sizebot.config.loading import MAX_CONFIG_BYTES
from sizebot.config.schema import config_schema, keys_of, known_platforms
from sizebot.errors import ConfigError, SizebotError
from tests.support.schemas import load_schema

SCHEMA = load_schema("config")

# Every key of docs/configuration.md's reference, in one file (its custom build as [strategy.dist]).
FULL_EXAMPLE = """\
[[target]]
name = "app"
package = "./cmd/app"
platforms = ["linux/amd64", "darwin/arm64"]
tags = ["netgo"]            # optional
env = { GOAMD64 = "v3" }    # optional
strategies = ["default", "release"]   # optional: which strategies for this target (default: all)

[strategy.release]
flags = ["-trimpath", "-ldflags=-s -w"]
env = { CGO_ENABLED = "0" }
post = ["strip --strip-unneeded {binary}"]   # commands with {binary}; run on the built binary in order

[strategy.dist]
command = "make dist/app"
output = "dist/app"

[[budget]]
level = "fail"          # or "warn"
max_size = "25 MB"      # sizes: bytes, or "KB"/"MB" (1000) and "KiB"/"MiB" (1024)
max_increase = "1%"     # or a size such as "50 KB"
new_modules = "warn"    # allow | warn | fail
targets = ["app"]       # optional scope: target names; platforms = [...] and strategies = [...] likewise
packages = { "golang.org/x/net/http2" = "500 KB" }   # per-package caps
modules = { "github.com/aws/aws-sdk-go-v2" = "5 MB" } # per-module caps

[override]
label = "size-budget-override"               # a PR label that overrides fail budgets
trailer = "Size-Budget-Override"             # commit trailer on the head commit: "Size-Budget-Override: reason"

[image]
dockerfile = "Dockerfile"
context = "."
target = "runtime"          # optional multi-stage target
build_args = { VERSION = "dev" }
platform = "linux/amd64"    # optional
[[image.budget]]            # size budgets on the image too: level, max_size, max_increase (compressed or not:
level = "warn"              #   `measure = "compressed" | "uncompressed"`, default compressed)
max_increase = "5 MB"
"""

EXPECTED = Config(
    path="sizebot.toml",
    defaulted=False,
    targets=(Target(name="app", package="./cmd/app", platforms=("linux/amd64", "darwin/arm64"), tags=("netgo",),
                    env=(("GOAMD64", "v3"),), strategies=("default", "release")),),
    strategies=(
        Strategy("default"),
        Strategy("release", flags=("-trimpath", "-ldflags=-s -w"), env=(("CGO_ENABLED", "0"),),
                 post=("strip --strip-unneeded {binary}",)),
        Strategy("dist", command="make dist/app", output="dist/app"),
    ),
    budgets=(BudgetRule(index=0, level="fail", max_size=25_000_000, max_increase=("percent", 1.0), new_modules="warn",
                        targets=("app",), packages=(("golang.org/x/net/http2", 500_000),),
                        modules=(("github.com/aws/aws-sdk-go-v2", 5_000_000),), line=18),),
    override=OverridePolicy(label="size-budget-override", trailer="Size-Budget-Override"),
    image=ImageConfig(dockerfile="Dockerfile", context=".", target="runtime", build_args=(("VERSION", "dev"),),
                      platform="linux/amd64", rules=None,
                      budgets=(ImageBudgetRule(index=0, level="warn", max_increase=("bytes", 5_000_000),
                                               measure="compressed", line=37),)),
)


def write(tmp_path: Path, text: str, name: str = "sizebot.toml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(textwrap.dedent(text), "sizebot.toml")
    assert isinstance(info.value, SizebotError) and info.value.exit_code == 2
    return str(info.value)


# -- the example, defaults, lookup --------------------------------------------------------------

def test_full_example_parses_to_exact_dataclasses(tmp_path):
    path = write(tmp_path, FULL_EXAMPLE)
    assert load_config(path, repo_root=tmp_path) == EXPECTED


def test_full_example_validates_against_the_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(tomllib.loads(FULL_EXAMPLE))


def test_the_validator_takes_its_keys_and_ranges_from_the_schema(monkeypatch):
    schema = config_schema()
    assert keys_of(None) == tuple(schema["properties"]) == ("target", "strategy", "budget", "override", "image", "budgets_from")
    assert known_platforms() == tuple(schema["$defs"]["platform"]["enum"])
    text = '[[budget]]\nmodules = { "example.com/m" = "1 MB" }\nmax_size = "2 MB"\n'
    assert parse_config(text).budgets[0].max_size == 2_000_000
    monkeypatch.delitem(schema["$defs"]["budget"]["properties"], "modules")
    assert error_of(text) == "sizebot.toml:2: budget[0].modules: unknown key; did you mean 'new_modules'?"
    size = next(b for b in schema["$defs"]["size"]["anyOf"] if b.get("type") == "integer")
    monkeypatch.setitem(size, "maximum", 1_000_000)
    assert error_of('[[budget]]\nmax_size = "2 MB"\n') == \
        "sizebot.toml:2: budget[0].max_size: a size cannot exceed 1000000 bytes"
    monkeypatch.setitem(schema["$defs"]["budget"]["properties"]["level"], "default", "warn")
    assert parse_config("[[budget]]\nmax_size = 1\n").budgets[0].level == "warn"


# What the schema cannot say (references between tables, placeholders, flags): the validator's own checks.
BEYOND_THE_SCHEMA = {
    "sizebot.toml:2: budget[0].max_size: expected a size such as 1234, \"50 KB\" or \"2 MiB\", got 1500.0",
    "sizebot.toml:5: target[1].name: target 'a' is defined twice",
    "sizebot.toml:4: target[0].strategies[0]: unknown strategy 'relase'; did you mean 'release'?",
    "sizebot.toml:2: strategy.dist.command: unknown placeholder {binary} (known: {output}, {goos}, {goarch}, "
    "{target}, {package})",
    "sizebot.toml:3: strategy.dist.output: unknown placeholder {package} (known: {goos}, {goarch}, {target})",
    "sizebot.toml:2: strategy.dist.flags: flags are for go build; a custom command takes none",
    "sizebot.toml:6: budget[0].targets[0]: unknown target 'apq'; did you mean 'app'?",
    "sizebot.toml:3: budget[0].strategies[0]: unknown strategy 'fast'; defined: default, release",
}


def test_the_schema_rejects_every_other_error_case():
    # jsonschema, the reference implementation, agrees with the walker on everything the schema says
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for text, message in ERRORS:
        if "invalid TOML" in message:
            continue
        rejected = bool(list(validator.iter_errors(tomllib.loads(textwrap.dedent(text)))))
        assert rejected == (message not in BEYOND_THE_SCHEMA), message


def test_schema_rejects_what_the_validator_rejects():
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for bad in ({"budget": [{"max_sise": 1}]}, {"target": [{"name": "a"}]},
                {"budget": [{"level": "error", "max_size": 1}]},
                {"target": [{"name": "a", "package": ".", "platforms": ["linux/amd46"]}]}):
        assert list(validator.iter_errors(bad)), bad


def test_default_config():
    config = default_config()
    assert config == Config(path=None, defaulted=True, targets=(), strategies=DEFAULT_STRATEGIES, budgets=(),
                            override=OverridePolicy("size-budget-override", ""), image=None)
    assert config.strategies == (Strategy("default"), Strategy("release", flags=("-trimpath", "-ldflags=-s -w")))
    assert config.strategy("release").flags == ("-trimpath", "-ldflags=-s -w")


def test_empty_file_means_discover_targets_with_default_strategies(tmp_path):
    config = load_config(write(tmp_path, ""), repo_root=tmp_path)
    assert config == Config(path="sizebot.toml", defaulted=False, targets=(), strategies=DEFAULT_STRATEGIES,
                            budgets=(), override=OverridePolicy(), image=None)


def test_find_config_prefers_the_root_then_dot_github(tmp_path):
    assert find_config(tmp_path) is None
    github = write(tmp_path, "", ".github/sizebot.toml")
    assert find_config(tmp_path) == github
    root = write(tmp_path, "")
    assert find_config(tmp_path) == root
    assert load_config(github, repo_root=tmp_path).path == ".github/sizebot.toml"


def test_load_config_missing_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml", repo_root=tmp_path)
    assert str(info.value) == "nope.toml: no such file"


def test_errors_name_the_file_as_given(tmp_path):
    path = write(tmp_path, "[[budget]]\nmax_size = 'big'\n", ".github/sizebot.toml")
    with pytest.raises(ConfigError) as info:
        load_config(path, repo_root=tmp_path)
    assert str(info.value) == ('.github/sizebot.toml:2: budget[0].max_size: expected a size such as 1234, '
                               '"50 KB" or "2 MiB", got \'big\'')
    assert (info.value.line, info.value.key) == (2, "budget[0].max_size")


def test_strategy_order_is_file_order_with_default_first_unless_placed():
    config = parse_config('[strategy.upx]\npost = ["upx {binary}"]\n[strategy.release]\nflags = ["-trimpath"]\n')
    assert [s.name for s in config.strategies] == ["default", "upx", "release"]
    config = parse_config('[strategy.small]\nflags = ["-ldflags=-s -w"]\n[strategy.default]\n')
    assert [s.name for s in config.strategies] == ["small", "default"]


def test_target_strategies_follow_config_order_and_default_to_all():
    config = parse_config("""
        [[target]]
        name = "a"
        package = "./cmd/a"
        strategies = ["upx", "default"]
        [[target]]
        name = "b"
        package = "./cmd/b"
        [strategy.release]
        flags = ["-trimpath"]
        [strategy.upx]
        post = ["upx --best {binary}"]
    """.replace("\n        ", "\n"))
    assert config.targets[0].strategies == ("default", "upx")
    assert config.targets[1].strategies == ("default", "release", "upx")
    assert config.targets[1].platforms == ()


def test_defaults_of_a_minimal_budget_and_image():
    config = parse_config('[[budget]]\nmax_size = 1000\n[image]\n[[image.budget]]\nmax_size = "1 MiB"\n'
                          '[override]\nlabel = ""\n')
    assert config.budgets == (BudgetRule(index=0, level="fail", max_size=1000, line=1),)
    assert config.image == ImageConfig(budgets=(ImageBudgetRule(index=0, level="fail", max_size=1_048_576, line=4),))
    assert config.override == OverridePolicy(label="", trailer="")  # a trailer overrides only where opted in


def test_sizes_and_percentages():
    config = parse_config('[[budget]]\nmax_increase = "50 KB"\n[[budget]]\nmax_increase = "0.5%"\n'
                          '[[budget]]\nmax_increase = 0\n[[budget]]\nmax_size = "1.5 KiB"\n')
    assert [b.max_increase for b in config.budgets[:3]] == [("bytes", 50_000), ("percent", 0.5), ("bytes", 0)]
    assert config.budgets[3].max_size == 1536


def test_custom_build_and_placeholders():
    config = parse_config("""
[strategy.dist]
command = "make GOOS={goos} GOARCH={goarch} OUT={output}"
output = "dist/app-{goos}-{goarch}"
post = ["upx ${HOME}/x {binary}", "awk '{print $1}' {binary}"]
""")
    dist = config.strategy("dist")
    assert dist.output == "dist/app-{goos}-{goarch}"
    assert expand_placeholders(dist.command, {"goos": "linux", "goarch": "amd64", "output": "/tmp/a b"}) == \
        "make GOOS=linux GOARCH=amd64 OUT='/tmp/a b'"
    assert expand_placeholders(dist.post[0], {"binary": "/w/app"}) == "upx ${HOME}/x /w/app"
    assert expand_placeholders(dist.post[1], {"binary": "/w/app"}) == "awk '{print $1}' /w/app"


def test_targets_as_an_array_of_inline_tables():
    text = 'target = [\n  { name = "a", package = "." },\n  { name = "b", package = 5 },\n]\n'
    assert error_of(text) == "sizebot.toml:3: target[1].package: expected a string, got 5"


def test_image_platform_with_variant():
    assert parse_config('[image]\nplatform = "linux/arm/v7"\n').image.platform == "linux/arm/v7"


# -- errors: file:line:key and the exact text -------------------------------------------------------

ERRORS = [
    # a bad value and a misspelt key, each named by file:line:key
    ("""\
        [[budget]]
        max_size = "25 MB"

        [[target]]
        name = "app"
        package = "."
        [[budget]]
        max_size = "big"
        """,
     "sizebot.toml:8: budget[1].max_size: expected a size such as 1234, \"50 KB\" or \"2 MiB\", got 'big'"),
    ("""\
        [[target]]
        name = "app"
        package = "./cmd/app"


        # budgets


        [[budget]]
        max_sise = "25 MB"
        """,
     "sizebot.toml:10: budget[0].max_sise: unknown key; did you mean 'max_size'?"),
    # syntax errors keep tomllib's line and column
    ("[[target]]\nname = \n", "sizebot.toml:2: invalid TOML: Invalid value (column 8)"),
    ("[a]\nb = 1\n[a]\n", "sizebot.toml:3: invalid TOML: Cannot declare ('a',) twice (column 3)"),
    ('x = [1,\n2,\n', "sizebot.toml:2: invalid TOML: Invalid value (at end of file)"),
    # unknown keys
    ("[[targets]]\nname = 'a'\n", "sizebot.toml:1: targets: unknown key; did you mean 'target'?"),
    ("[stratgy.release]\n", "sizebot.toml:1: stratgy: unknown key; did you mean 'strategy'?"),
    ("[strategy.release]\nflag = ['-trimpath']\n",
     "sizebot.toml:2: strategy.release.flag: unknown key; did you mean 'flags'?"),
    ("[override]\nlabels = 'x'\n", "sizebot.toml:2: override.labels: unknown key; did you mean 'label'?"),
    ("[image]\ndockerfiel = 'x'\n", "sizebot.toml:2: image.dockerfiel: unknown key; did you mean 'dockerfile'?"),
    ("[[image.budget]]\nmesure = 'compressed'\n",
     "sizebot.toml:2: image.budget[0].mesure: unknown key; did you mean 'measure'?"),
    ("[[budget]]\nzzz = 1\n",
     "sizebot.toml:2: budget[0].zzz: unknown key; expected one of level, max_size, max_increase, new_modules, "
     "targets, platforms, strategies, packages, modules"),
    ("[[target]]\nname = 'a'\npackage = '.'\nplatfroms = ['linux/amd64']\n",
     "sizebot.toml:4: target[0].platfroms: unknown key; did you mean 'platforms'?"),
    # dotted keys and inline tables
    ("strategy.release.flgs = ['-x']\n", "sizebot.toml:1: strategy.release.flgs: unknown key; did you mean 'flags'?"),
    ("[[budget]]\nlevel = 'warn'\npackages = { \"golang.org/x/net/http2\" = \"lots\" }\n",
     "sizebot.toml:3: budget[0].packages.\"golang.org/x/net/http2\": expected a size such as 1234, \"50 KB\" or "
     "\"2 MiB\", got 'lots'"),
    ("[[budget]]\n[budget.modules]\n\"example.com/m\" = true\n",
     "sizebot.toml:3: budget[0].modules.\"example.com/m\": expected a size such as 1234, \"50 KB\" or \"2 MiB\", "
     "got true"),
    # wrong types
    ("target = { name = 'a' }\n", "sizebot.toml:1: target: expected an array of tables ([[target]]), got a table"),
    ("[[target]]\nname = 'a'\npackage = '.'\ntags = 'netgo'\n",
     "sizebot.toml:4: target[0].tags: expected an array of strings, got 'netgo'"),
    ("[[target]]\nname = 'a'\npackage = 7\n", "sizebot.toml:3: target[0].package: expected a string, got 7"),
    ("[[target]]\nname = 'a'\npackage = '-toolexec=touch /tmp/x'\n",
     "sizebot.toml:3: target[0].package: expected a package such as ./cmd/app, got '-toolexec=touch /tmp/x' "
     "(not empty, and not starting with '-': go build takes that for a flag)"),
    ("[[target]]\nname = 'a'\npackage = '.'\nenv = { GOAMD64 = 3 }\n",
     "sizebot.toml:4: target[0].env.GOAMD64: expected a string, got 3"),
    ("[[target]]\nname = 'a'\npackage = '.'\nenv = { GOOS = 'linux' }\n",
     "sizebot.toml:4: target[0].env.GOOS: GOOS is set by sizebot from the platform; list platforms instead"),
    ("strategy = ['x']\n", "sizebot.toml:1: strategy: expected a table, got an array"),
    ("[strategy]\nrelease = 1\n", "sizebot.toml:2: strategy.release: expected a table, got 1"),
    ("[[budget]]\nmax_size = 1.5e3\n",
     "sizebot.toml:2: budget[0].max_size: expected a size such as 1234, \"50 KB\" or \"2 MiB\", got 1500.0"),
    ("[[budget]]\nmax_size = -1\n", "sizebot.toml:2: budget[0].max_size: a size cannot be negative"),
    # enums
    ("[[budget]]\nlevel = 'error'\nmax_size = 1\n",
     "sizebot.toml:2: budget[0].level: expected 'fail' or 'warn', got 'error'"),
    ("[[budget]]\nnew_modules = true\n",
     "sizebot.toml:2: budget[0].new_modules: expected 'allow', 'warn' or 'fail', got true"),
    ("[[image.budget]]\nmax_size = 1\nmeasure = 'gzip'\n",
     "sizebot.toml:3: image.budget[0].measure: expected 'compressed' or 'uncompressed', got 'gzip'"),
    # percentages
    ("[[budget]]\nmax_increase = 'x%'\n",
     "sizebot.toml:2: budget[0].max_increase: expected a percentage such as \"1%\" or a size such as \"50 KB\", "
     "got 'x%'"),
    ("[[budget]]\nmax_increase = 'lots'\n",
     "sizebot.toml:2: budget[0].max_increase: expected a percentage such as \"1%\" or a size such as \"50 KB\", "
     "got 'lots'"),
    ("[[budget]]\nmax_increase = '-1%'\n", "sizebot.toml:2: budget[0].max_increase: a percentage cannot be negative"),
    ("[[budget]]\nmax_increase = 0.5\n",
     "sizebot.toml:2: budget[0].max_increase: expected a percentage such as \"1%\" or a size such as \"50 KB\", "
     "got 0.5"),
    # platforms: each element of a multi-line array has its own line
    ("[[target]]\nname = 'a'\npackage = '.'\nplatforms = [\n  'linux/amd64',\n  'linux/amd46',\n]\n",
     "sizebot.toml:6: target[0].platforms[1]: unknown platform 'linux/amd46'; did you mean 'linux/amd64'?"),
    ("[[target]]\nname = 'a'\npackage = '.'\nplatforms = ['plan10/x']\n",
     "sizebot.toml:4: target[0].platforms[0]: unknown platform 'plan10/x' (GOOS/GOARCH from `go tool dist list`)"),
    ("[[target]]\nname = 'a'\npackage = '.'\nplatforms = ['linux/amd64', 'linux/amd64']\n",
     "sizebot.toml:4: target[0].platforms[1]: 'linux/amd64' is listed twice"),
    ("[[budget]]\nmax_size = 1\nplatforms = ['darwin/arm']\n",
     "sizebot.toml:3: budget[0].platforms[0]: unknown platform 'darwin/arm'; did you mean 'darwin/arm64'?"),
    ("[image]\nplatform = 'linux/amd64/v9/x'\n",
     "sizebot.toml:2: image.platform: unknown platform 'linux/amd64/v9/x'; did you mean 'linux/amd64'?"),
    # targets
    ("[[target]]\nname = 'a'\n", "sizebot.toml:1: target[0]: missing package = \"...\""),
    ("[[target]]\npackage = '.'\n", "sizebot.toml:1: target[0]: missing name = \"...\""),
    ("[[target]]\nname = 'a'\npackage = '.'\n[[target]]\nname = 'a'\npackage = './b'\n",
     "sizebot.toml:5: target[1].name: target 'a' is defined twice"),
    ("[[target]]\nname = 'my app'\npackage = '.'\n",
     "sizebot.toml:2: target[0].name: target names are letters, digits, '.', '_' and '-', got 'my app'"),
    ("[[target]]\nname = 'a'\npackage = ''\n", "sizebot.toml:3: target[0].package: must not be empty"),
    ("[[target]]\nname = 'a'\npackage = '.'\nstrategies = ['relase']\n",
     "sizebot.toml:4: target[0].strategies[0]: unknown strategy 'relase'; did you mean 'release'?"),
    ("[[target]]\nname = 'a'\npackage = '.'\nstrategies = []\n",
     "sizebot.toml:4: target[0].strategies: list at least one strategy (or leave the key out: all)"),
    # strategies
    ("[strategy.release]\npost = ['strip']\n",
     "sizebot.toml:2: strategy.release.post[0]: needs the {binary} placeholder, e.g. \"strip {binary}\""),
    ("[strategy.release]\npost = [\n  'strip {binary}',\n  'upx {bin}',\n]\n",
     "sizebot.toml:4: strategy.release.post[1]: unknown placeholder {bin} (known: {binary}, {goos}, {goarch})"),
    ("[strategy.dist]\ncommand = 'make {binary}'\noutput = 'x'\n",
     "sizebot.toml:2: strategy.dist.command: unknown placeholder {binary} (known: {output}, {goos}, {goarch}, {target}, "
     "{package})"),
    ("[strategy.dist]\ncommand = 'make'\noutput = 'dist/{package}'\n",
     "sizebot.toml:3: strategy.dist.output: unknown placeholder {package} (known: {goos}, {goarch}, {target})"),
    ("[strategy.dist]\ncommand = 'make dist/app'\n",
     "sizebot.toml:2: strategy.dist.command: a custom command needs output = \"path/of/the/binary\""),
    ("[strategy.dist]\noutput = 'dist/app'\n",
     "sizebot.toml:2: strategy.dist.output: output goes with a custom command = \"...\""),
    ("[strategy.dist]\nflags = ['-trimpath']\ncommand = 'make'\noutput = 'app'\n",
     "sizebot.toml:2: strategy.dist.flags: flags are for go build; a custom command takes none"),
    ("[strategy.release]\nflags = ['trimpath']\n",
     "sizebot.toml:2: strategy.release.flags[0]: expected a go build flag starting with '-', got 'trimpath'"),
    ("[strategy.release]\nflags = ['-o=out']\n",
     "sizebot.toml:2: strategy.release.flags[0]: sizebot chooses the output file; remove -o"),
    ("[strategy.\"fast build\"]\n",
     "sizebot.toml:1: strategy.\"fast build\": strategy names are letters, digits, '.', '_' and '-', "
     "got 'fast build'"),
    # budgets
    ("[[budget]]\nlevel = 'warn'\n",
     "sizebot.toml:1: budget[0]: a budget needs max_size, max_increase, new_modules, packages or modules"),
    ("[[target]]\nname = 'app'\npackage = '.'\n[[budget]]\nmax_size = 1\ntargets = ['apq']\n",
     "sizebot.toml:6: budget[0].targets[0]: unknown target 'apq'; did you mean 'app'?"),
    ("[[budget]]\nmax_size = 1\nstrategies = ['fast']\n",
     "sizebot.toml:3: budget[0].strategies[0]: unknown strategy 'fast'; defined: default, release"),
    ("[[image.budget]]\nlevel = 'warn'\n",
     "sizebot.toml:1: image.budget[0]: an image budget needs max_size or max_increase"),
    # override
    ("[override]\ntrailer = 'Size Override'\n",
     "sizebot.toml:2: override.trailer: a trailer key is letters, digits and '-', got 'Size Override'"),
    ("[override]\nlabel = 5\n", "sizebot.toml:2: override.label: expected a string, got 5"),
]


@pytest.mark.parametrize("text, message", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_error_messages(text, message):
    assert error_of(text) == message


def test_every_non_syntax_error_case_is_valid_toml():
    # guards the table above: the cases test our validator, not tomllib
    for text, message in ERRORS:
        if "invalid TOML" in message:
            with pytest.raises(tomllib.TOMLDecodeError):
                tomllib.loads(textwrap.dedent(text))
        else:
            tomllib.loads(textwrap.dedent(text))


# -- the key-line scanner -----------------------------------------------------------------------

def test_key_lines_cover_every_way_to_write_a_key():
    text = textwrap.dedent('''\
        # comment
        [[target]]
        name = "app"
        env = { GOAMD64 = "v3", "A.B" = 'x' }
        platforms = [
          "linux/amd64",  # trailing comment with ] and "
          "darwin/arm64",
        ]
        [strategy.release]
        post = """
        strip {binary}
        """
        flags = ['-ldflags=-s -w']
        [[budget]]
        level = "fail"
        [[budget]]
        a.b = 1
        [budget.modules]
        "x/y" = 3
        [[image.budget]]
        max_size = 1
        ''')
    lines = key_lines(text)
    got = {format_path(k): v for k, v in lines.items()}
    assert got == {
        "target": 2, "target[0]": 2, "target[0].name": 3, "target[0].env": 4, "target[0].env.GOAMD64": 4,
        'target[0].env."A.B"': 4, "target[0].platforms": 5, "target[0].platforms[0]": 6,
        "target[0].platforms[1]": 7, "strategy": 9, "strategy.release": 9, "strategy.release.post": 10,
        "strategy.release.flags": 13, "strategy.release.flags[0]": 13, "budget": 14, "budget[0]": 14,
        "budget[0].level": 15, "budget[1]": 16, "budget[1].a": 17, "budget[1].a.b": 17, "budget[1].modules": 18,
        'budget[1].modules."x/y"': 19, "image": 20, "image.budget": 20, "image.budget[0]": 20,
        "image.budget[0].max_size": 21,
    }


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


def test_key_lines_know_every_path_tomllib_reads():
    texts = [FULL_EXAMPLE] + [textwrap.dedent(t) for t, m in ERRORS if "invalid TOML" not in m]
    for text in texts:
        lines = key_lines(text)
        missing = [format_path(p) for p in _paths(tomllib.loads(text)) if p not in lines]
        assert missing == [], text
        assert all(1 <= n <= text.count("\n") + 1 for n in lines.values())


# -- hostile input: one line naming file:line:key, never a traceback --------------------------------

def test_deep_nesting_is_one_line_naming_the_key(tmp_path):
    for opening, closing in (("[", "]"), ("{ a = ", "}")):
        text = 'name = "x"\n\nvalue = ' + opening * 5000 + closing * 5000 + "\n"
        assert error_of(text) == "sizebot.toml:3: value: arrays and inline tables nest at most 32 deep"
    deep = '[[budget]]\nmax_size = 1\npackages = { a = ' + "[" * 40 + "]" * 40 + " }\n"
    assert error_of(deep) == "sizebot.toml:3: packages: arrays and inline tables nest at most 32 deep"
    # brackets inside strings and comments do not count
    assert parse_config('# ' + "[" * 100 + '\n[[target]]\nname = "a"\npackage = "./' + "[" * 100 + '"\n').targets


def test_huge_sizes_are_refused_not_overflowed():
    digits = "1" * 400
    for value in (f'"{digits}"', digits, f'"{digits} MiB"'):
        assert error_of(f"[[budget]]\nmax_size = {value}\n") == \
            "sizebot.toml:2: budget[0].max_size: a size cannot exceed 9007199254740991 bytes"
    assert parse_config('[[budget]]\nmax_size = 9007199254740991\n').budgets[0].max_size == 2**53 - 1
    assert error_of(f'[[image.budget]]\nmax_increase = "{digits}%"\n') == \
        "sizebot.toml:2: image.budget[0].max_increase: a percentage cannot exceed 9999999%, got '" + \
        "1" * 40 + "'... (401 characters)"


@pytest.mark.parametrize("value", ["nan%", "inf%", "NaN %", "-inf%", "infinity%"])
def test_non_finite_percentages_are_refused(value):
    message = error_of(f'[[budget]]\nlevel = "warn"\nmax_increase = "{value}"\n')
    expected = "a percentage cannot be negative" if value.startswith("-") else \
        f"a percentage must be a finite number, got {value!r}"
    assert message == f"sizebot.toml:3: budget[0].max_increase: {expected}"


def test_a_config_over_the_size_limit_is_one_line(tmp_path):
    # 200,000 budget tables (10 MB) took minutes to parse: refused before parsing, naming the file
    text = '[[target]]\nname = "app"\npackage = "./cmd/app"\n\n' + \
        '[[budget]]\ntargets = ["app"]\nmax_increase = "1%"\n\n' * 200_000
    path = tmp_path / "sizebot.toml"
    path.write_text(text)
    message = f"sizebot.toml: {len(text)} bytes, more than a sizebot.toml may have (1048576 bytes, 1 MiB)"
    with pytest.raises(ConfigError) as info:
        load_config(path, repo_root=tmp_path)
    assert str(info.value) == message and info.value.exit_code == 2
    with pytest.raises(ConfigError) as info:  # the text read from git or through the API
        parse_config(text, "sizebot.toml")
    assert str(info.value) == message
    # the limit itself is allowed, in bytes of UTF-8 (not characters)
    head = '[[target]]\nname = "app"\npackage = "./cmd/app"\n# '
    at_limit = head + "é" * ((MAX_CONFIG_BYTES - len(head) - 1) // 2) + "\n"
    at_limit += "#" * (MAX_CONFIG_BYTES - len(at_limit.encode()))
    assert len(at_limit.encode()) == MAX_CONFIG_BYTES
    assert parse_config(at_limit).targets[0].name == "app"
    with pytest.raises(ConfigError, match=r"^sizebot.toml: 1048577 bytes, more than"):
        parse_config(at_limit + "#")


def test_hostile_counts_under_the_limit_are_checked_in_one_pass():
    # every target, budget and listed name is looked up once, not against all before it: a file
    # within the size limit once took minutes (targets x budgets, and each list item x the ones before)
    n = 5000
    text = "".join(f'[[target]]\nname = "t{i}"\npackage = "./cmd/t{i}"\n\n' for i in range(n))
    text += "".join(f'[[budget]]\ntargets = ["t{n - 1 - i}", "t{i // 3}"]\nmax_increase = "1%"\n\n'
                    for i in range(n))
    cfg = parse_config(text)
    assert len(cfg.targets) == len(cfg.budgets) == n
    assert cfg.budgets[-1].targets == ("t0", f"t{(n - 1) // 3}") and cfg.budgets[-1].line == 8 * n - 3
    assert error_of(text + '[[budget]]\ntargets = ["t1", "t7"]\nmax_size = 1\n[[target]]\nname = "t3"\npackage = "."\n') == \
        f"sizebot.toml:{8 * n + 5}: target[{n}].name: target 't3' is defined twice"
    many = ", ".join(f'"s{i}"' for i in range(100_000))  # 100,000 distinct names in one list
    assert error_of(f'[[target]]\nname = "a"\npackage = "."\nstrategies = [{many}, "s5"]\n') == \
        "sizebot.toml:4: target[0].strategies[100000]: 's5' is listed twice"


def test_a_fifo_is_not_read(tmp_path):
    import os
    os.mkfifo(tmp_path / "sizebot.toml")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "sizebot.toml", repo_root=tmp_path)
    assert str(info.value) == "sizebot.toml: a FIFO, not a regular file"


# -- go build flags that cannot work are caught when the config is checked --------------------------

FLAG_ERRORS = [
    ("-ldflags='-s -w'", "strategy.small.flags[0]: \"-ldflags='-s -w'\" looks shell-quoted, but go build gets it "
     "without a shell and keeps the quotes; write flags = [\"-ldflags=-s -w\"]"),
    ("-trimpath -ldflags=-s -w", "strategy.small.flags[0]: '-trimpath -ldflags=-s -w' holds several flags in one "
     "string, which go build gets as one argument; write flags = [\"-trimpath\", \"-ldflags=-s -w\"]"),
    ('-ldflags=\\"-s -w\\"', "strategy.small.flags[0]: '-ldflags=\"-s -w\"' looks shell-quoted, but go build gets "
     "it without a shell and keeps the quotes; write flags = [\"-ldflags=-s -w\"]"),
    ("-trimpath -ldflags='-s -w'", "strategy.small.flags[0]: \"-trimpath -ldflags='-s -w'\" holds several flags in "
     "one string, which go build gets as one argument; write flags = [\"-trimpath\", \"-ldflags=-s -w\"]"),
    ("-tags netgo", "strategy.small.flags[0]: '-tags netgo' holds several flags in one string, which go build gets "
     "as one argument; write flags = [\"-tags=netgo\"]"),
    ("'-trimpath'", "strategy.small.flags[0]: \"'-trimpath'\" looks shell-quoted, but go build gets it without a "
     "shell and keeps the quotes; write flags = [\"-trimpath\"]"),
]


@pytest.mark.parametrize("flag, message", FLAG_ERRORS, ids=[str(i) for i in range(len(FLAG_ERRORS))])
def test_flags_that_cannot_work_name_the_right_spelling(flag, message):
    text = f'[strategy.small]\nflags = [\n  "-a",\n  "{flag}",\n]\n'
    assert error_of(text) == "sizebot.toml:4: " + message.replace("flags[0]", "flags[1]")


def test_flags_that_go_build_takes_as_written_pass():
    flags = ["-trimpath", "-ldflags=-s -w", "-ldflags=-X 'main.version=1 2'", "-gcflags=all=-N -l",
             "-tags=netgo,osusergo", "-buildmode=pie", "-ldflags=-extldflags '-static'"]
    text = "[strategy.ok]\nflags = [" + ", ".join(json.dumps(f) for f in flags) + "]\n"
    assert parse_config(text).strategy("ok").flags == tuple(flags)


@pytest.mark.parametrize("text", [
    'value = ' + "[" * 5000 + "]" * 5000 + "\n",
    '[[budget]]\nmax_size = "' + "9" * 400 + '"\n',
    '[[budget]]\nmax_increase = "nan%"\n',
    '[strategy.small]\nflags = ["-trimpath -ldflags=-s -w"]\n',
], ids=["deep", "400-digits", "nan", "several-flags"])
def test_report_with_a_hostile_config_is_one_line_and_exit_2(tmp_path, text):
    import subprocess
    import sys

    from tests.support.git import git

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "go.mod").write_text("module example.com/m\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "one")
    bad = write(tmp_path, text, "bad.toml")
    proc = subprocess.run([sys.executable, "-m", "sizebot", "report", "--repo", str(repo), "--base", "HEAD",
                           "--config", str(bad), "--quiet"], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and f"{bad}:" in proc.stderr, proc.stderr


def test_budgets_from_chooses_whose_budgets_judge():
    assert parse_config('[[budget]]\nmax_size = 1\n').budgets_from == "base"
    assert parse_config('budgets_from = "head"\n\n[[budget]]\nmax_size = 1\n').budgets_from == "head"
    assert error_of('budgets_from = "pr"\n').startswith("sizebot.toml:1: budgets_from: ")


def test_every_example_in_the_docs_is_a_valid_config():
    import re

    from tests.support.paths import ROOT

    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    examples = re.findall(r"```toml\n(.*?)```", docs, re.DOTALL)
    assert len(examples) >= 3
    for text in examples:
        parse_config(text, "docs/configuration.md")
        jsonschema.Draft202012Validator(SCHEMA).validate(tomllib.loads(text))
