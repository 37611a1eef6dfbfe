"""discover_targets and import_chains against real modules and the real `go list`."""

from __future__ import annotations

from pathlib import Path

import pytest

from sizebot.builds.discover import discover_targets, import_chains
from sizebot.config import Target
from sizebot.errors import BuildError
from tests.support.goprograms import write_tree

MOD = "example.com/shop"



def _main(*imports: str) -> str:
    body = "".join(f'\t_ "{i}"\n' for i in imports)
    return f"package main\n\nimport (\n{body})\n\nfunc main() {{}}\n" if imports else "package main\n\nfunc main() {}\n"


def _lib(name: str, *imports: str, build: str | None = None) -> str:
    head = f"//go:build {build}\n\n" if build else ""
    body = "".join(f'\t_ "{i}"\n' for i in imports)
    return f"{head}package {name}\n\nimport (\n{body})\n" if imports else f"{head}package {name}\n"


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    """Two main packages (cmd/api, cmd/worker), libraries, a testdata main that go list skips.

    cmd/api -> internal/server -> internal/codec -> encoding/json
            -> internal/metrics -> internal/ring -> internal/codec   (a longer way to codec)
    internal/server imports internal/winsvc on windows only, internal/trace with -tags trace.
    """
    root = tmp_path_factory.mktemp("discover") / "shop"
    return write_tree(root, {
        "go.mod": f"module {MOD}\n\ngo 1.21\n",
        "cmd/api/main.go": _main(f"{MOD}/internal/metrics", f"{MOD}/internal/server"),
        "cmd/worker/main.go": _main("fmt"),
        "internal/server/server.go": _lib("server", f"{MOD}/internal/codec"),
        "internal/server/server_windows.go": _lib("server", f"{MOD}/internal/winsvc"),
        "internal/server/trace.go": _lib("server", f"{MOD}/internal/trace", build="trace"),
        "internal/metrics/metrics.go": _lib("metrics", f"{MOD}/internal/ring"),
        "internal/ring/ring.go": _lib("ring", f"{MOD}/internal/codec"),
        "internal/codec/codec.go": _lib("codec", "encoding/json"),
        "internal/winsvc/winsvc.go": _lib("winsvc"),
        "internal/trace/trace.go": _lib("trace"),
        "testdata/fixture/main.go": _main(),
    })


def test_discover_two_mains_and_a_library(shop, go_env):
    assert discover_targets(shop, env=go_env) == (
        Target(name="api", package="./cmd/api", platforms=()),
        Target(name="worker", package="./cmd/worker", platforms=()),
    )


def test_discover_root_main_named_after_the_module(tmp_path, go_env):
    write_tree(tmp_path, {"go.mod": "module github.com/acme/sizer/v2\n\ngo 1.21\n", "main.go": _main(),
                      "lib/lib.go": _lib("lib")})
    assert discover_targets(tmp_path, env=go_env) == (Target(name="sizer", package=".", platforms=()),)


def test_discover_deduplicates_names_deterministically(tmp_path, go_env):
    write_tree(tmp_path, {
        "go.mod": "module example.com/dup\n\ngo 1.21\n",
        "cmd/app/main.go": _main(), "tools/app/main.go": _main(), "cmd/gen/main.go": _main(),
        "cmd/broken/main.go": "package main\n\nfunc main() {\n",  # still listed: its build will say why
    })
    assert [(t.name, t.package) for t in discover_targets(tmp_path, env=go_env)] == [
        ("cmd-app", "./cmd/app"), ("broken", "./cmd/broken"), ("gen", "./cmd/gen"), ("tools-app", "./tools/app")]


def test_discover_without_go_mod(tmp_path, go_env):
    write_tree(tmp_path, {"main.go": _main()})
    with pytest.raises(BuildError) as err:
        discover_targets(tmp_path, env=go_env)
    assert str(err.value) == f"{tmp_path.resolve()}: no go.mod, not a Go module (name the targets in sizebot.toml)"


def test_discover_a_module_without_main_packages(tmp_path, go_env):
    write_tree(tmp_path, {"go.mod": "module example.com/lib\n\ngo 1.21\n", "lib.go": _lib("lib")})
    assert discover_targets(tmp_path, env=go_env) == ()


def test_import_chains_take_the_shortest_path(shop, go_env):
    wanted = [f"{MOD}/internal/codec", "encoding/json", f"{MOD}/internal/ring", f"{MOD}/internal/winsvc",
              "net/http", f"{MOD}/cmd/api"]
    chains = import_chains(shop, "./cmd/api", "linux/amd64", wanted, env=go_env)
    assert chains == {
        f"{MOD}/internal/codec": (f"{MOD}/internal/codec", f"{MOD}/internal/server", f"{MOD}/cmd/api"),
        "encoding/json": ("encoding/json", f"{MOD}/internal/codec", f"{MOD}/internal/server", f"{MOD}/cmd/api"),
        f"{MOD}/internal/ring": (f"{MOD}/internal/ring", f"{MOD}/internal/metrics", f"{MOD}/cmd/api"),
        f"{MOD}/cmd/api": (f"{MOD}/cmd/api",),
    }
    assert list(chains) == [w for w in wanted if w in chains]  # in the order asked


def test_import_chains_follow_platform_and_tags(shop, go_env):
    winsvc, trace = f"{MOD}/internal/winsvc", f"{MOD}/internal/trace"
    assert import_chains(shop, "./cmd/api", "windows/amd64", [winsvc, trace], env=go_env) == {
        winsvc: (winsvc, f"{MOD}/internal/server", f"{MOD}/cmd/api")}
    assert import_chains(shop, "./cmd/api", "linux/arm64", [winsvc, trace], tags=("trace",), env=go_env) == {
        trace: (trace, f"{MOD}/internal/server", f"{MOD}/cmd/api")}


def test_import_chains_by_import_path_and_errors(shop, go_env):
    codec = f"{MOD}/internal/codec"
    assert import_chains(shop, f"{MOD}/cmd/worker", "linux/amd64", [codec, "fmt"], env=go_env) == {
        "fmt": ("fmt", f"{MOD}/cmd/worker")}
    with pytest.raises(BuildError, match="platform must be GOOS/GOARCH"):
        import_chains(shop, "./cmd/api", "amd64", [codec], env=go_env)


def test_import_chains_through_the_standard_library_vendor(tmp_path, go_env):
    write_tree(tmp_path, {"go.mod": "module example.com/web\n\ngo 1.21\n", "main.go": _main("example.com/web/server"),
                      "server/server.go": _lib("server", "net/http")})
    hpack = "vendor/golang.org/x/net/http2/hpack"
    assert import_chains(tmp_path, ".", "linux/amd64", [hpack], env=go_env) == {
        hpack: (hpack, "net/http", "example.com/web/server", "example.com/web")}
