"""The baseline document (``sizebot/baseline@2``; sizebot/schemas/baseline.schema.json): one commit of the
default branch, built and measured by ``sizebot measure``, so that a pull request on it need not build
its base again, and the sizes of the last measurements of that branch (the history of the trend chart).

A baseline is used only when it was measured at the pull request's base commit with the same
fingerprint: the same builds (targets, packages, platforms, strategies with their flags, tags, env,
commands and post-steps), the same Go, the same build-relevant environment, the same build path and
the same sizebot. Each build keeps its whole analysis (every package and function): the diff against
the head needs them all, and the report must be the same as if the base had been built. For the same
reason it keeps each target's import graph on each platform (the chains and total cost of what a pull
request removes) and the ``[image]``'s analysis with its whole final filesystem (the image diff), used
when the image was measured with the same settings.

A baseline file comes from a cache that pull requests can also write to: it is read strictly
(``from_json``: every value's type, a fingerprint digest that matches its inputs, bounded counts).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from sizebot.documents.analyze import BinaryReport
from sizebot.documents.fields import Fields, array, one_of, size, string, strings
from sizebot.documents.image import ImageReport
from sizebot.errors import DocumentError

SCHEMA = "sizebot/baseline@2"
STATUSES = ("ok", "failed", "missing")
MAX_HISTORY = 1000  # entries a file may carry (sizebot keeps 30 by default)
MAX_BUILDS = 1000
MAX_PACKAGES = 100_000  # packages an import graph may list (gopls links ~700)
MAX_IMPORTS = 1_000_000  # imports (edges) an import graph may list, all packages together
MAX_DEPTH = 200  # packages on an import graph's longest shortest chain from its main package (gopls: ~20)
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def _sha(value: Any, where: str) -> str:
    text = string(value, where)
    if not _SHA.fullmatch(text):
        raise DocumentError(f"{where}: expected a hexadecimal commit id")
    return text


def _text_map(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise DocumentError(f"{where}: expected an object")
    return tuple(sorted((str(k), string(v, f"{where}.{k}")) for k, v in value.items()))


def _bounded(value: Any, where: str, limit: int) -> Any:
    if isinstance(value, list) and len(value) > limit:
        raise DocumentError(f"{where}: {len(value)} entries, more than {limit}")
    return value


# ---- the fingerprint --------------------------------------------------------------------------------

@dataclass(frozen=True)
class BuildSpec:
    """One build as the fingerprint sees it: everything that decides its bytes."""

    target: str
    package: str
    platform: str
    strategy: str
    flags: tuple[str, ...]
    tags: tuple[str, ...]
    env: tuple[tuple[str, str], ...]  # the target's env, then the strategy's (sorted by name)
    command: str | None
    output: str | None
    post: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.target} {self.platform} {self.strategy}"

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "package": self.package, "platform": self.platform,
                "strategy": self.strategy, "flags": list(self.flags), "tags": list(self.tags),
                "env": dict(self.env), "command": self.command, "output": self.output, "post": list(self.post)}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> BuildSpec:
        f = Fields(obj, where, ("target", "package", "platform", "strategy", "flags", "tags", "env", "command",
                                "output", "post"))
        return cls(f.text("target"), f.text("package"), f.text("platform"), f.text("strategy"),
                   f.get("flags", strings), f.get("tags", strings), f.get("env", _text_map),
                   f.nullable("command", string), f.nullable("output", string), f.get("post", strings))


@dataclass(frozen=True)
class Fingerprint:
    """What must be equal for a measured base to stand in for a built one; ``digest`` sums it up."""

    builds: tuple[BuildSpec, ...]
    go_version: str
    env: tuple[tuple[str, str], ...]  # the build-relevant variables of the environment (GOFLAGS, CGO_ENABLED, ...)
    path: str  # where the builds ran: a build without -trimpath embeds it
    sizebot: str  # the analysis that measured it: sizebot's version + the analyser's sources' digest

    def inputs(self) -> dict[str, Any]:
        return {"builds": [b.to_json() for b in self.builds], "go_version": self.go_version, "env": dict(self.env),
                "path": self.path, "sizebot": self.sizebot}

    @property
    def digest(self) -> str:
        canonical = json.dumps(self.inputs(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def differences(self, other: Fingerprint) -> list[str]:
        """What differs from ``other``, in words, for the note that says why a baseline was not used."""
        out = []
        if self.go_version != other.go_version:
            out.append(f"Go {other.go_version} instead of {self.go_version}")
        if self.sizebot != other.sizebot:
            out.append(f"another sizebot analysis ({other.sizebot} instead of {self.sizebot})")
        if self.path != other.path:
            out.append("another build path")
        if self.env != other.env:
            changed = sorted({k for k, _ in set(self.env) ^ set(other.env)})
            out.append(f"another environment ({', '.join(changed[:4])})")
        mine, theirs = {b.label: b for b in self.builds}, {b.label: b for b in other.builds}
        if mine.keys() != theirs.keys():
            only = sorted(theirs.keys() - mine.keys()) + sorted(mine.keys() - theirs.keys())
            out.append(f"other builds ({', '.join(only[:3])}{', ...' if len(only) > 3 else ''})")
        else:
            changed = [label for label in mine if mine[label] != theirs[label]]
            if changed:
                out.append(f"other build settings ({', '.join(changed[:3])}{', ...' if len(changed) > 3 else ''})")
        return out or ["another build order"]

    def to_json(self) -> dict[str, Any]:
        return {"digest": self.digest, **self.inputs()}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> Fingerprint:
        f = Fields(obj, where, ("digest", "builds", "go_version", "env", "path", "sizebot"))
        out = cls(builds=f.get("builds", lambda v, w: array(_bounded(v, w, MAX_BUILDS), w, BuildSpec.from_json)),
                  go_version=f.text("go_version"), env=f.get("env", _text_map), path=f.text("path"),
                  sizebot=f.text("sizebot"))
        if f.text("digest") != out.digest:
            raise DocumentError(f"{f.at('digest')}: does not match the fingerprint's inputs")
        return out


# ---- builds and history -------------------------------------------------------------------------------

@dataclass(frozen=True)
class BaselineBuild:
    spec: BuildSpec
    status: str  # ok | failed | missing
    error: str | None
    name: str  # the binary's file name
    report: BinaryReport | None  # every package and function (status ok)

    @property
    def size(self) -> int | None:
        return self.report.file_size if self.report is not None else None

    def to_json(self) -> dict[str, Any]:
        return {"label": self.spec.label, "status": self.status, "error": self.error, "name": self.name,
                "binary": self.report.to_json(top=None) if self.report is not None else None}

    @classmethod
    def from_json(cls, obj: Any, where: str, spec: BuildSpec) -> BaselineBuild:
        f = Fields(obj, where, ("label", "status", "error", "name", "binary"))
        if f.text("label") != spec.label:
            raise DocumentError(f"{f.at('label')}: expected {spec.label!r}, the fingerprint's build at this place")
        status = f.get("status", lambda v, w: one_of(v, w, STATUSES))
        report = f.nullable("binary", BinaryReport.from_json)
        if (report is not None) != (status == "ok"):
            raise DocumentError(f"{f.at('binary')}: a build has its analysis exactly when its status is ok")
        if report is not None and report.packages and \
                sum(p.size for p in report.packages) + sum(u.size for u in report.unattributed) != report.file_size:
            raise DocumentError(f"{f.at('binary')}: its packages and unattributed rows do not add up to its file_size")
        return cls(spec, status, f.nullable("error", string), f.text("name"), report)


@dataclass(frozen=True)
class HistoryEntry:
    """One measured commit of the default branch: its size per build (None: it did not build)."""

    sha: str
    date: str  # the commit's committer date, ISO 8601
    subject: str
    sizes: tuple[tuple[str, int | None], ...]  # (build label, size) in build order

    def size_of(self, label: str) -> int | None:
        return dict(self.sizes).get(label)

    def to_json(self) -> dict[str, Any]:
        return {"sha": self.sha, "date": self.date, "subject": self.subject,
                "sizes": [{"build": label, "size": s} for label, s in self.sizes]}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> HistoryEntry:
        f = Fields(obj, where, ("sha", "date", "subject", "sizes"))

        def one(value: Any, at: str) -> tuple[str, int | None]:
            g = Fields(value, at, ("build", "size"))
            return g.text("build"), g.nullable("size", size)
        return cls(f.get("sha", _sha), f.text("date"), f.text("subject"),
                   f.get("sizes", lambda v, w: array(_bounded(v, w, MAX_BUILDS), w, one)))



@dataclass(frozen=True)
class BaselineGraph:
    """One target's import graph on one platform at the commit (``go list -deps``): each linked package
    with what it imports, in go list's order; or why it could not be listed (``error``)."""

    target: str
    platform: str
    roots: tuple[str, ...]  # the main package(s)
    imports: tuple[tuple[str, tuple[str, ...]], ...]
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "platform": self.platform, "error": self.error, "roots": list(self.roots),
                "imports": {package: list(imported) for package, imported in self.imports}}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> BaselineGraph:
        f = Fields(obj, where, ("target", "platform", "error", "roots", "imports"))
        raw = f.raw("imports")
        if not isinstance(raw, dict):
            raise DocumentError(f"{f.at('imports')}: expected an object")
        if len(raw) > MAX_PACKAGES:
            raise DocumentError(f"{f.at('imports')}: {len(raw)} packages, more than {MAX_PACKAGES}")
        imports = tuple((str(k), strings(_bounded(v, f"{f.at('imports')}.{k}", MAX_PACKAGES),
                                         f"{f.at('imports')}.{k}")) for k, v in raw.items())
        edges = sum(len(imported) for _, imported in imports)
        if edges > MAX_IMPORTS:
            raise DocumentError(f"{f.at('imports')}: {edges} imports, more than {MAX_IMPORTS}")
        roots = f.get("roots", lambda v, w: strings(_bounded(v, w, MAX_PACKAGES), w))
        error = f.nullable("error", string)
        if error is not None and (roots or imports):
            raise DocumentError(f"{f.at('error')}: a graph that could not be listed has no packages")
        if _depth(dict(imports), roots) > MAX_DEPTH:
            # every chain a report shows is walked from its package up: chains this long make it quadratic
            raise DocumentError(f"{f.at('imports')}: an import chain longer than {MAX_DEPTH} packages")
        return cls(f.text("target"), f.text("platform"), roots, imports, error)


def _depth(imports: dict[str, tuple[str, ...]], roots: tuple[str, ...]) -> int:
    """The packages on the longest of the shortest chains from the roots (breadth-first, linear)."""
    seen = set(roots)
    level, depth = list(seen), 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            break
        following = []
        for package in level:
            for imported in imports.get(package, ()):
                if imported not in seen:
                    seen.add(imported)
                    following.append(imported)
        level = following
    return depth


_TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")  # what discovery names a main package


def _main_package(value: Any, where: str) -> tuple[str, str]:
    """(name, package) of a main package found by go list: a plain file name, and "." or "./dir/..." inside
    the checkout (the build runs ``go build`` on it and writes the binary under the name)."""
    f = Fields(value, where, ("name", "package"))
    name, package = f.text("name"), f.text("package")
    if not _TARGET_NAME.fullmatch(name):
        raise DocumentError(f"{f.at('name')}: {name[:60]!r} is not a main package's name "
                            "(letters, digits, '.', '_', '-')")
    elements = package.split("/")
    if package != "." and (len(package) > 1000 or elements[0] != "." or any(
            e in ("", ".", "..") or any(c < " " or c in "\\\x7f" for c in e)
            for e in elements[1:]) or len(elements) < 2):
        raise DocumentError(f"{f.at('package')}: {package[:60]!r} is not a directory of the checkout "
                            "(\".\" or \"./dir\")")
    return name, package


def _main_packages(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    found = array(_bounded(value, where, MAX_BUILDS), where, _main_package)
    names = [n for n, _ in found]
    if len(set(names)) != len(names):
        raise DocumentError(f"{where}: two main packages of the same name")
    return found


IMAGE_STATUSES = ("ok", "failed", "missing")


@dataclass(frozen=True)
class ImageSpec:
    """The ``[image]`` settings that decide its analysis (the Dockerfile and its context are the commit's)."""

    dockerfile: str
    context: str
    target: str | None
    build_args: tuple[tuple[str, str], ...]
    platform: str | None
    top: int  # largest files kept in the analysis
    analysis: str  # the image analyser's sources' digest

    def to_json(self) -> dict[str, Any]:
        return {"dockerfile": self.dockerfile, "context": self.context, "target": self.target,
                "build_args": dict(self.build_args), "platform": self.platform, "top": self.top,
                "analysis": self.analysis}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> ImageSpec:
        f = Fields(obj, where, ("dockerfile", "context", "target", "build_args", "platform", "top", "analysis"))
        return cls(f.text("dockerfile"), f.text("context"), f.nullable("target", string),
                   f.get("build_args", _text_map), f.nullable("platform", string), f.size("top"), f.text("analysis"))

    def differences(self, other: ImageSpec) -> list[str]:
        """The names of the settings that differ from ``other``'s."""
        theirs = other.to_json()
        return [k for k, v in self.to_json().items() if theirs[k] != v]


@dataclass(frozen=True)
class BaselineImage:
    """The ``[image]`` built and analysed at the commit ("ok"), its build that failed ("failed": the
    one-line error), or a commit without its Dockerfile or context ("missing")."""

    spec: ImageSpec
    status: str
    error: str | None
    report: ImageReport | None  # with its whole final filesystem (status ok)

    def to_json(self) -> dict[str, Any]:
        return {"spec": self.spec.to_json(), "status": self.status, "error": self.error,
                "image": self.report.to_json(files=True) if self.report is not None else None}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> BaselineImage:
        f = Fields(obj, where, ("spec", "status", "error", "image"))
        status = f.get("status", lambda v, w: one_of(v, w, IMAGE_STATUSES))
        report = f.nullable("image", ImageReport.from_json)
        if (report is not None) != (status == "ok"):
            raise DocumentError(f"{f.at('image')}: the image has its analysis exactly when its status is ok")
        return cls(f.get("spec", ImageSpec.from_json), status, f.nullable("error", string), report)


@dataclass(frozen=True)
class Baseline:
    repo: str
    sha: str
    date: str
    subject: str
    fingerprint: Fingerprint
    builds: tuple[BaselineBuild, ...]  # in the fingerprint's build order
    history: tuple[HistoryEntry, ...]  # oldest first; the last entry is this commit
    graphs: tuple[BaselineGraph, ...] = ()  # per target x platform whose package is at the commit
    image: BaselineImage | None = None  # None: no [image], or no Docker engine where it was measured
    # the main packages go list found at the commit, (name, package) in its order: what a report that
    # builds every main package learns from the base without checking it out (None: its config names targets)
    discovered: tuple[tuple[str, str], ...] | None = None

    def graph(self, target: str, platform: str) -> BaselineGraph | None:
        return next((g for g in self.graphs if (g.target, g.platform) == (target, platform)), None)

    @property
    def go_version(self) -> str:
        return self.fingerprint.go_version

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "repo": self.repo,
                "commit": {"sha": self.sha, "date": self.date, "subject": self.subject},
                "go_version": self.go_version, "fingerprint": self.fingerprint.to_json(),
                "builds": [b.to_json() for b in self.builds], "graphs": [g.to_json() for g in self.graphs],
                "image": self.image.to_json() if self.image is not None else None,
                "discovered": [{"name": n, "package": p} for n, p in self.discovered]
                if self.discovered is not None else None,
                "history": [h.to_json() for h in self.history]}

    @classmethod
    def from_json(cls, obj: Any, where: str = "baseline") -> Baseline:
        f = Fields(obj, where, ("schema", "repo", "commit", "go_version", "fingerprint", "builds", "graphs", "image",
                                "discovered", "history"))
        if f.raw("schema") != SCHEMA:
            raise DocumentError(f"{f.at('schema')}: expected {SCHEMA!r}")
        commit = Fields(f.raw("commit"), f.at("commit"), ("sha", "date", "subject"))
        fingerprint = f.get("fingerprint", Fingerprint.from_json)
        if f.text("go_version") != fingerprint.go_version:
            raise DocumentError(f"{f.at('go_version')}: differs from the fingerprint's")
        raw_builds = _bounded(f.raw("builds"), f.at("builds"), MAX_BUILDS)
        if not isinstance(raw_builds, list) or len(raw_builds) != len(fingerprint.builds):
            raise DocumentError(f"{f.at('builds')}: expected one entry per build of the fingerprint "
                                f"({len(fingerprint.builds)})")
        builds = tuple(BaselineBuild.from_json(b, f"{f.at('builds')}[{i}]", spec)
                       for i, (b, spec) in enumerate(zip(raw_builds, fingerprint.builds, strict=True)))
        history = f.get("history", lambda v, w: array(_bounded(v, w, MAX_HISTORY), w, HistoryEntry.from_json))
        graphs = f.get("graphs", lambda v, w: array(_bounded(v, w, MAX_BUILDS), w, BaselineGraph.from_json))
        built = {(b.target, b.platform) for b in fingerprint.builds}
        seen: set[tuple[str, str]] = set()
        for i, g in enumerate(graphs):
            if (g.target, g.platform) in seen:
                raise DocumentError(f"{f.at('graphs')}[{i}]: a second graph of {g.target} {g.platform}")
            if (g.target, g.platform) not in built:
                raise DocumentError(f"{f.at('graphs')}[{i}]: no build of the fingerprint is {g.target} {g.platform}")
            seen.add((g.target, g.platform))
        return cls(f.text("repo"), commit.get("sha", _sha), commit.text("date"), commit.text("subject"),
                   fingerprint, builds, history, graphs, f.nullable("image", BaselineImage.from_json),
                   f.nullable("discovered", _main_packages))
