"""What to build without a config, and why a package is linked in.

``discover_targets`` lists the main packages of a module (``go list ./...``);
``import_chains`` answers "who pulls this package in?" with the shortest import path from
the main package, over ``go list -deps -json`` for the platform and tags of the build.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sizebot.builds.gobuild import go_environ, one_line, run_go, split_platform
from sizebot.config import Target
from sizebot.errors import BuildError

_MAIN_FORMAT = '{{if eq .Name "main"}}{{.ImportPath}} {{.Dir}}{{end}}'
_VERSION_ELEMENT = re.compile(r"v(?:[2-9]|[1-9][0-9]+)")  # a major-version suffix, as go build treats it
_BAD_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def _exec_name(import_path: str) -> str:
    """The binary name go build would pick: the last element, skipping a /vN major-version suffix."""
    parts = import_path.split("/")
    name = parts[-1]
    if len(parts) > 1 and _VERSION_ELEMENT.fullmatch(name):
        name = parts[-2]
    return name


def _clean(name: str) -> str:
    name = _BAD_NAME_CHARS.sub("_", name).lstrip("._-")
    return name or "main"


def _unique_names(packages: list[tuple[str, str]]) -> list[str]:
    """One target name per (import path, relative dir): the binary name, or on a clash the
    directory's elements joined by '-' (``cmd-app``, ``tools-app``), numbered as a last resort."""
    names = [_clean(_exec_name(path)) for path, _ in packages]
    clashing = {n for n in names if names.count(n) > 1}
    for i, (_, rel) in enumerate(packages):
        if names[i] in clashing:
            elements = [e for e in PurePosixPath(rel).parts if e not in (".",)]
            names[i] = _clean("-".join(elements)) if elements else names[i]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        count = seen.get(n, 0) + 1
        seen[n] = count
        out.append(n if count == 1 else f"{n}-{count}")
    return out


def discover_targets(root: Path, *, go: str = "go", env: Mapping[str, str] | None = None) -> tuple[Target, ...]:
    """Every main package under ``root`` as a Target (name, "./rel/dir", platforms=() = the host's).

    Ordered by import path, as go list prints them. BuildError when root is no Go module.
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise BuildError(f"{root}: no such directory")
    if not (root / "go.mod").is_file() and not (root / "go.work").is_file():
        raise BuildError(f"{root}: no go.mod, not a Go module (name the targets in sizebot.toml)")
    # -e: one broken package must not hide the others; its build reports the error. -find: the
    # packages' names without loading what they import (dive: 0.15 s instead of 0.64 s on a warm
    # build cache, 1.8 s instead of 2.8 s on an empty one).
    proc = run_go(go, ["list", "-e", "-find", "-f", _MAIN_FORMAT, "./..."], root, go_environ(env))
    if proc.returncode != 0:
        raise BuildError(one_line(f"go list ./... in {root}", proc.stderr + proc.stdout))
    found: list[tuple[str, str]] = []
    for line in proc.stdout.splitlines():
        if not line.strip():
            continue
        import_path, _, directory = line.partition(" ")
        try:
            rel = Path(directory).resolve().relative_to(root).as_posix()
        except ValueError:
            continue  # outside the tree (a workspace's other module)
        package = "." if rel == "." else f"./{rel}"
        found.append((import_path, package))
    names = _unique_names(found)
    return tuple(Target(name=name, package=package, platforms=())
                 for name, (_, package) in zip(names, found, strict=True))


def _decode_stream(text: str) -> list[dict]:
    """go list -json prints concatenated JSON objects, not an array."""
    decoder = json.JSONDecoder()
    out: list[dict] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return out
        obj, i = decoder.raw_decode(text, i)
        out.append(obj)


def import_chains(root: Path, package: str, platform: str, wanted: Iterable[str], *,
                  tags: Iterable[str] = (), go: str = "go",
                  env: Mapping[str, str] | None = None) -> dict[str, tuple[str, ...]]:
    """For each wanted import path linked into ``package``: the shortest chain
    (wanted, its importer, ..., the main package's import path). Wanted paths not linked are omitted.

    Ties between equally short chains go to the importer go list sorts first.
    """
    return chains_in(import_graph(root, package, platform, tags=tags, go=go, env=env), wanted)


@dataclass(frozen=True)
class ImportGraph:
    """The packages linked into a main package, as ``go list -deps`` sees them for one platform."""

    parent: dict[str, str | None]  # package -> the importer that reaches it first from the main package
    imports: dict[str, tuple[str, ...]]  # package -> the packages it imports
    roots: tuple[str, ...]  # the main package(s)

    def only_through(self, removed: Collection[str]) -> set[str]:
        """The packages reachable from the roots only through ``removed`` (``removed`` included): what
        would leave the binary with them."""
        cut = set(removed)
        seen = {r for r in self.roots if r not in cut}
        queue = deque(seen)
        while queue:
            for imported in self.imports.get(queue.popleft(), ()):
                if imported not in seen and imported not in cut:
                    seen.add(imported)
                    queue.append(imported)
        return set(self.parent) - seen


def import_graph(root: Path, package: str, platform: str, *, tags: Iterable[str] = (), go: str = "go",
                 env: Mapping[str, str] | None = None) -> ImportGraph:
    """Every package linked into ``package`` with what it imports and its importer on a shortest path
    from the main package (``go list -deps`` for the platform and tags); the main package's importer is None."""
    goos, goarch = split_platform(platform)
    args = ["list", "-e", "-deps", "-json=ImportPath,Imports,DepOnly"]
    tag_list = [t for t in tags if t]
    if tag_list:
        args += ["-tags", ",".join(tag_list)]
    args.append(package)
    proc = run_go(go, args, Path(root), go_environ(env, {"GOOS": goos, "GOARCH": goarch}))
    if proc.returncode != 0:
        raise BuildError(one_line(f"go list -deps {package} ({platform})", proc.stderr + proc.stdout))
    try:
        packages = _decode_stream(proc.stdout)
    except ValueError as exc:
        raise BuildError(f"go list -deps {package}: unreadable output: {exc}") from None

    imports = {p["ImportPath"]: tuple(p.get("Imports") or ()) for p in packages if "ImportPath" in p}
    roots = tuple(p["ImportPath"] for p in packages if "ImportPath" in p and not p.get("DepOnly"))
    return graph_of(imports, roots)


def graph_of(imports: Mapping[str, tuple[str, ...]], roots: tuple[str, ...]) -> ImportGraph:
    """The graph of these packages (what each imports, in go list's order) from these main packages."""
    # Breadth-first from the main package: the first time a package is reached is over a shortest path.
    parent: dict[str, str | None] = {r: None for r in roots}
    queue = deque(roots)
    while queue:
        current = queue.popleft()
        for imported in imports.get(current, ()):
            if imported not in parent:
                parent[imported] = current
                queue.append(imported)
    return ImportGraph(parent=parent, imports=dict(imports), roots=roots)


def chains_in(graph: ImportGraph, wanted: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The chain (package, importer, ..., main package) of each wanted package in the graph."""
    parent = graph.parent
    chains: dict[str, tuple[str, ...]] = {}
    for path in dict.fromkeys(wanted):
        if path not in parent:
            continue
        chain = [path]
        while (up := parent[chain[-1]]) is not None:
            chain.append(up)
        chains[path] = tuple(chain)
    return chains
