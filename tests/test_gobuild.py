"""build_binary on real worktrees with the real Go toolchain: strategies, post-steps, custom commands."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sizebot.binary.container import open_binary
from sizebot.builds.gobuild import BuildOutcome, build_binary, host_platform
from sizebot.builds.worktree import checkouts
from sizebot.config import Strategy, Target
from sizebot.errors import BuildError
from tests.support.git import git
from tests.support.goprograms import write_tree

APP = """package main

import (
	"fmt"
	"strings"
)

var version = "dev"

var extras []string

func main() { fmt.Println("app", version, strings.Join(extras, ",")) }
"""
EXTRA = '//go:build extra\n\npackage main\n\nfunc init() { extras = append(extras, "extra") }\n'
OTHER = '//go:build other\n\npackage main\n\nfunc init() { extras = append(extras, "other") }\n'
TOOL = 'package main\n\nimport "os"\n\nfunc main() { os.Stdout.WriteString("tool\\n") }\n'
MAKEFILE = ".PHONY: dist/app\ndist/app:\n\tgo build -o $@ ./cmd/app\n\ndist/plain:\n\tgo build -o $@ ./cmd/app\n"

DEFAULT = Strategy("default")
RELEASE = Strategy("release", flags=("-trimpath", "-ldflags=-s -w"))
APP_TARGET = Target("app", "./cmd/app", ())
TOOL_TARGET = Target("tool", "./cmd/tool", ())



@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    """(base checkout, head checkout, out root): head adds cmd/tool. Worktrees live for the module."""
    tmp = tmp_path_factory.mktemp("gobuild")
    repo = tmp / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_tree(repo, {"go.mod": "module example.com/sb\n\ngo 1.21\n", "cmd/app/main.go": APP,
                  "cmd/app/extra.go": EXTRA, "cmd/app/other.go": OTHER, "Makefile": MAKEFILE})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    write_tree(repo, {"cmd/tool/main.go": TOOL})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "head: add the tool")
    with checkouts(repo, ["main~1", "main"], tmp / "work") as (base, head):
        yield base.path, head.path, tmp / "out"


@pytest.fixture(scope="module")
def env(go_env) -> dict[str, str]:
    return {k: v for k, v in go_env.items() if k not in ("GOOS", "GOARCH", "CGO_ENABLED")}


@pytest.fixture(scope="module")
def default_build(trees, env) -> BuildOutcome:
    _, head, out = trees
    return build_binary(head, APP_TARGET, "linux/amd64", DEFAULT, out / "head", env=env)


def _run(binary: Path) -> str:
    return subprocess.run([str(binary)], check=True, capture_output=True, text=True).stdout


def _settings(go: str, binary: Path) -> dict[str, str]:
    """`go version -m`'s build settings of a binary."""
    text = subprocess.run([go, "version", "-m", str(binary)], check=True, capture_output=True, text=True).stdout
    out = {}
    for line in text.splitlines():
        parts = line.strip().split("\t")
        if parts[0] == "build" and "=" in parts[1]:
            key, _, value = parts[1].partition("=")
            out[key] = value
    return out


def test_default_build_lands_in_out_dir(trees, default_build):
    _, head, out = trees
    binary = out / "head" / "default" / "app-linux-amd64"
    assert default_build == BuildOutcome(
        target="app", platform="linux/amd64", strategy="default", status="ok", binary=binary, error=None,
        command=("go", "build", "-o", str(binary), "./cmd/app"))
    assert _run(binary) == "app dev \n"
    with open_binary(binary) as b:
        assert (b.format, b.goos, b.goarch, b.stripped) == ("elf", "linux", "amd64", False)


def test_base_without_the_package_is_missing(trees, env):
    base, head, out = trees
    result = build_binary(base, TOOL_TARGET, "linux/amd64", DEFAULT, out / "base", env=env)
    assert (result.status, result.binary) == ("missing", None)
    assert result.error == "package ./cmd/tool does not exist at this commit"
    assert not (out / "base" / "default" / "tool-linux-amd64").exists()
    ok = build_binary(head, TOOL_TARGET, "linux/amd64", DEFAULT, out / "head", env=env)
    assert ok.status == "ok" and _run(ok.binary) == "tool\n"
    # by import path as well: mapped onto the module's directories, not guessed from go's message
    by_path = Target("tool", "example.com/sb/cmd/tool", ())
    assert build_binary(base, by_path, "linux/amd64", DEFAULT, out / "base", env=env).status == "missing"
    assert build_binary(head, by_path, "linux/amd64", DEFAULT, out / "head-ip", env=env).status == "ok"


def test_build_failure_is_an_outcome_naming_the_file(tmp_path, env):
    write_tree(tmp_path, {"go.mod": "module example.com/broken\n\ngo 1.21\n",
                      "cmd/broken/main.go": "package main\n\nfunc main() {\n\tx :=\n}\n",
                      "cmd/empty/README.md": "the code moved\n", "lib/lib.go": "package lib\n\nvar X = 1\n"})
    result = build_binary(tmp_path, Target("broken", "./cmd/broken", ()), "linux/amd64", DEFAULT,
                          tmp_path / "out", env=env)
    assert (result.status, result.binary) == ("failed", None)
    assert "\n" not in result.error
    assert result.error.startswith("go build -o broken-linux-amd64 ./cmd/broken: # example.com/broken/cmd/broken; ")
    assert "cmd/broken/main.go:5:1: syntax error" in result.error
    assert result.command == ("go", "build", "-o", str(tmp_path / "out" / "default" / "broken-linux-amd64"),
                              "./cmd/broken")
    # a directory without Go files is no package either
    empty = build_binary(tmp_path, Target("empty", "./cmd/empty", ()), "linux/amd64", DEFAULT,
                         tmp_path / "out", env=env)
    assert empty.status == "missing"
    # go build -o on a library writes a package archive and exits 0: not a binary to measure
    lib = build_binary(tmp_path, Target("lib", "./lib", ()), "linux/amd64", DEFAULT, tmp_path / "out", env=env)
    assert (lib.status, lib.error) == ("failed", "go build -o lib-linux-amd64 ./lib: ./lib is not a main package")
    assert not (tmp_path / "out" / "default" / "lib-linux-amd64").exists()


@pytest.mark.parametrize("platform,name,fmt", [
    ("linux/arm64", "app-linux-arm64", "elf"),
    ("windows/amd64", "app-windows-amd64.exe", "pe"),
    ("darwin/arm64", "app-darwin-arm64", "macho"),
])
def test_cross_builds(trees, env, platform, name, fmt):
    _, head, out = trees
    result = build_binary(head, APP_TARGET, platform, RELEASE, out / "cross", env=env)
    assert result.status == "ok", result.error
    assert result.binary == out / "cross" / "release" / name
    goos, goarch = platform.split("/")
    with open_binary(result.binary) as b:
        assert (b.format, b.goos, b.goarch) == (fmt, goos, goarch)


def test_release_flags_strip_the_symbol_table(trees, env, default_build):
    _, head, out = trees
    result = build_binary(head, APP_TARGET, "linux/amd64", RELEASE, out / "head", env=env)
    assert result.status == "ok"
    assert result.command == ("go", "build", "-o", str(result.binary), "-trimpath", "-ldflags=-s -w", "./cmd/app")
    with open_binary(result.binary) as b:
        assert b.stripped and b.section(".symtab") is None
    assert result.binary.stat().st_size < default_build.binary.stat().st_size
    assert _run(result.binary) == "app dev \n"


@pytest.mark.parametrize("step", ["strip --strip-unneeded {binary}", "objcopy --strip-all {binary}"])
def test_post_steps_run_on_the_binary(tmp_path, trees, env, default_build, step):
    _, head, _ = trees
    out = tmp_path / "out dir"  # a space: {binary} is shell-quoted
    strategy = Strategy("stripped", post=(step, "test -x {binary}"))
    result = build_binary(head, APP_TARGET, "linux/amd64", strategy, out, env=env)
    assert result.status == "ok", result.error
    assert result.binary == out / "stripped" / "app-linux-amd64"
    with open_binary(result.binary) as b:
        assert b.stripped and b.section(".symtab") is None
    assert result.binary.stat().st_size < default_build.binary.stat().st_size
    assert _run(result.binary) == "app dev \n"


def test_post_step_program_not_installed(tmp_path, trees, env):
    _, head, _ = trees
    strategy = Strategy("upx", flags=("-ldflags=-s -w",), post=("upx --best --lzma {binary}",))
    result = build_binary(head, APP_TARGET, "linux/amd64", strategy, tmp_path, env=env)
    binary = tmp_path / "upx" / "app-linux-amd64"
    assert (result.status, result.binary) == ("failed", None)
    assert result.error == f"upx: not installed (post-step `upx --best --lzma {binary}`)"


def test_failing_post_step_leaves_no_stale_binary(tmp_path, trees, env):
    _, head, _ = trees
    ok = build_binary(head, APP_TARGET, "linux/amd64", Strategy("s"), tmp_path, env=env)
    assert ok.status == "ok" and ok.binary.is_file()
    failing = Strategy("s", post=("echo cannot shrink {binary} >&2; exit 3",))
    result = build_binary(head, APP_TARGET, "linux/amd64", failing, tmp_path, env=env)
    assert result.status == "failed"
    assert result.error == (f"post-step `echo cannot shrink {ok.binary} >&2; exit 3` exited with status 3: "
                            f"cannot shrink {ok.binary}")
    assert not ok.binary.exists()


def test_custom_command_go_build(tmp_path, trees, env):
    base, _, _ = trees
    strategy = Strategy("dist", command="go build -trimpath -o {output} ./cmd/app",
                        output="dist/app-{goos}-{goarch}")
    result = build_binary(base, APP_TARGET, "linux/arm64", strategy, tmp_path, env=env)
    assert result.status == "ok", result.error
    assert result.command == ("/bin/sh", "-c", "go build -trimpath -o dist/app-linux-arm64 ./cmd/app")
    assert result.binary == tmp_path / "dist" / "app-linux-arm64"  # copied out of the worktree
    assert (base / "dist" / "app-linux-arm64").is_file()
    with open_binary(result.binary) as b:
        assert (b.goos, b.goarch) == ("linux", "arm64")


def test_one_custom_command_builds_each_target_it_serves(tmp_path, trees, env):
    """{package} and {target}: one strategy's command builds app and tool, each to its own output (before,
    a command could not tell which target it was called for, and every target's row showed one binary)."""
    _, head, _ = trees
    strategy = Strategy("dist", command="go build -trimpath -o {output} {package}", output="dist/{target}-{goos}")
    built = {t.name: build_binary(head, t, "linux/amd64", strategy, tmp_path, env=env) for t in (APP_TARGET, TOOL_TARGET)}
    assert built["tool"].command == ("/bin/sh", "-c", "go build -trimpath -o dist/tool-linux ./cmd/tool")
    for name, result in built.items():
        assert result.status == "ok", result.error
        info = subprocess.run(["go", "version", "-m", str(result.binary)], capture_output=True, text=True,
                              check=True, env=env).stdout
        assert f"\tpath\texample.com/sb/cmd/{name}\n" in info


def test_a_custom_command_that_ignores_the_platform_fails(tmp_path, trees, env):
    """A command that builds for the host whatever GOARCH it is given: the linux/arm64 row would measure
    an amd64 binary and pass green. It fails, naming what the binary is."""
    base, _, _ = trees
    strategy = Strategy("dist", command="GOOS=linux GOARCH=amd64 go build -o {output} ./cmd/app", output="dist/host")
    result = build_binary(base, APP_TARGET, "linux/arm64", strategy, tmp_path, env=env)
    assert (result.status, result.binary) == ("failed", None)
    assert result.error == ("build command `GOOS=linux GOARCH=amd64 go build -o dist/host ./cmd/app` left a linux/amd64 "
                            "binary at dist/host, not linux/arm64: it must build for the GOOS and GOARCH it is given")
    assert not (tmp_path / "dist" / "app-linux-arm64").exists()
    windows = build_binary(base, APP_TARGET, "windows/amd64", strategy, tmp_path, env=env)
    assert windows.status == "failed" and "left a linux/amd64 binary at dist/host, not windows/amd64" in windows.error
    assert build_binary(base, APP_TARGET, "linux/amd64", strategy, tmp_path, env=env).status == "ok"


def test_custom_command_make_with_post_step(tmp_path, trees, env):
    _, head, _ = trees
    strategy = Strategy("make", command="make dist/app", output="dist/app",
                        post=("strip --strip-unneeded {binary}",))
    result = build_binary(head, APP_TARGET, "linux/amd64", strategy, tmp_path, env=env)
    assert result.status == "ok", result.error
    assert result.binary == tmp_path / "make" / "app-linux-amd64"
    with open_binary(result.binary) as b:
        assert b.stripped
    assert _run(result.binary) == "app dev \n"


def test_custom_command_output_is_rebuilt_per_platform(tmp_path, trees, env):
    base, _, _ = trees
    strategy = Strategy("plain", command="make dist/plain", output="dist/plain")  # not .PHONY
    arches = []
    for platform in ("linux/amd64", "linux/arm64"):
        result = build_binary(base, APP_TARGET, platform, strategy, tmp_path, env=env)
        assert result.status == "ok", result.error
        with open_binary(result.binary) as b:
            arches.append(b.goarch)
    assert arches == ["amd64", "arm64"]


def test_custom_command_failures(tmp_path, trees, env):
    _, head, _ = trees
    no_output = build_binary(head, APP_TARGET, "linux/amd64",
                             Strategy("c", command="true {output}", output="dist/none"), tmp_path, env=env)
    assert (no_output.status, no_output.error) == (
        "failed", "build command `true dist/none` succeeded but left no file at dist/none")
    broken = build_binary(head, APP_TARGET, "linux/amd64",
                          Strategy("c", command="make nothing-to-make", output="dist/app"), tmp_path, env=env)
    assert broken.status == "failed"
    assert broken.error.startswith("build command `make nothing-to-make` exited with status 2: make: ")
    absent = build_binary(head, APP_TARGET, "linux/amd64",
                          Strategy("c", command="goreleaser build --single-target -o {output}", output="dist/app"),
                          tmp_path, env=env)
    assert absent.error == "goreleaser: not installed (build command `goreleaser build --single-target -o dist/app`)"


def test_target_tags_and_strategy_tags_combine(tmp_path, trees, env):
    _, head, _ = trees
    tagged = Target("app", "./cmd/app", (), tags=("extra",))
    result = build_binary(head, tagged, "linux/amd64", DEFAULT, tmp_path / "a", env=env)
    assert result.command[-3:] == ("-tags", "extra", "./cmd/app")
    assert _run(result.binary) == "app dev extra\n"
    both = build_binary(head, tagged, "linux/amd64", Strategy("t", flags=("-tags=other", "-trimpath")),
                        tmp_path / "b", env=env)
    assert both.command[3:] == (str(both.binary), "-trimpath", "-tags", "extra,other", "./cmd/app")
    assert _run(both.binary) == "app dev extra,other\n"
    spaced = build_binary(head, Target("app", "./cmd/app", ()), "linux/amd64",
                          Strategy("u", flags=("-tags", "other extra")), tmp_path / "c", env=env)
    assert spaced.command[3:] == (str(spaced.binary), "-tags", "other,extra", "./cmd/app")
    assert _run(spaced.binary) == "app dev extra,other\n"


def test_environment_layers(tmp_path, trees, env, go):
    _, head, _ = trees
    target = Target("app", "./cmd/app", (), env=(("CGO_ENABLED", "1"), ("GOAMD64", "v3"), ("WHO", "target")))
    strategy = Strategy("e", env=(("CGO_ENABLED", "0"), ("WHO", "strategy")),
                        post=('printf "%s %s/%s %s" "$WHO" "$GOOS" "$GOARCH" "$GOTOOLCHAIN" > {binary}.env',))
    caller = {**env, "GOFLAGS": "-mod=mod -ldflags=-X=main.version=from-goflags", "GOOS": "windows"}
    result = build_binary(head, target, "linux/amd64", strategy, tmp_path, env=caller)
    assert result.status == "ok", result.error
    settings = _settings(go, result.binary)
    assert (settings["CGO_ENABLED"], settings["GOAMD64"], settings["GOOS"]) == ("0", "v3", "linux")
    assert _run(result.binary) == "app from-goflags \n"  # GOFLAGS passed through
    assert Path(f"{result.binary}.env").read_text() == "strategy linux/amd64 local"


def test_parallel_builds(tmp_path, trees, env):
    _, head, _ = trees
    jobs = [(t, p) for t in (APP_TARGET, TOOL_TARGET) for p in ("linux/amd64", "linux/arm64")]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda j: build_binary(head, j[0], j[1], RELEASE, tmp_path, env=env), jobs))
    assert [(r.target, r.platform, r.status) for r in results] == [
        ("app", "linux/amd64", "ok"), ("app", "linux/arm64", "ok"),
        ("tool", "linux/amd64", "ok"), ("tool", "linux/arm64", "ok")]
    assert sorted(p.name for p in (tmp_path / "release").iterdir()) == [
        "app-linux-amd64", "app-linux-arm64", "tool-linux-amd64", "tool-linux-arm64"]


def test_misuse_raises_build_error(tmp_path, trees, env):
    _, head, _ = trees
    with pytest.raises(BuildError, match="platform must be GOOS/GOARCH such as linux/amd64, got 'linux'"):
        build_binary(head, APP_TARGET, "linux", DEFAULT, tmp_path, env=env)
    with pytest.raises(BuildError, match="no such checkout directory"):
        build_binary(tmp_path / "absent", APP_TARGET, "linux/amd64", DEFAULT, tmp_path, env=env)
    with pytest.raises(BuildError) as err:
        build_binary(head, APP_TARGET, "linux/amd64", DEFAULT, tmp_path, go="no-such-go", env=env)
    assert str(err.value) == "no-such-go: not installed (sizebot needs the Go toolchain on PATH)"


def test_host_platform(go, env):
    goos, goarch = subprocess.run([go, "env", "GOOS", "GOARCH"], check=True, capture_output=True,
                                  text=True, env=env).stdout.split()
    assert host_platform(go, env) == f"{goos}/{goarch}" == "linux/amd64"
    assert host_platform(go, {**env, "GOOS": "darwin", "GOARCH": "arm64"}) == "darwin/arm64"
