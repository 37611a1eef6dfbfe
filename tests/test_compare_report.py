"""compare/report.py: measured builds -> the sizebot/report@1 document (pure; hand-made reports)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from sizebot.binary.diff import diff_reports
from sizebot.budgets import ImageMeasurement
from sizebot.budgets.overrides import Override
from sizebot.builds.discover import ImportGraph, chains_in
from sizebot.compare.model import FAILED, MISSING, OK, Commit, Comparison, Side
from sizebot.compare.report import assemble, compared, comparison_notes, new_dependencies, waterfalls
from sizebot.compare.report import build as build_of
from sizebot.config import parse_config
from sizebot.documents.analyze import BinaryReport, Function, ModuleSize, PackageSize, Section, Unattributed
from sizebot.documents.report import Dependency, Report
from sizebot.documents.verdict import Verdict
from sizebot.render import render
from sizebot.render.report_markdown import render_report_markdown
from sizebot.render.report_text import render_report_text
from tests.support.schemas import load_schema, validate_document

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = load_schema("report")
SAMPLE = json.loads((ROOT / "tests/data/report-render-sample.json").read_text())
MAIN = "example.com/app/cmd/app"


def validate(doc: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def binary(packages: dict[str, tuple[str, int]], *, padding: int = 1000, name: str = "app",
           versions: dict[str, str] | None = None) -> BinaryReport:
    """A report whose buckets add up: packages + one unattributed row == file_size."""
    pkgs = tuple(sorted((PackageSize(n, m, s, s, 0, 0) for n, (m, s) in packages.items()), key=lambda p: -p.size))
    modules: dict[str, int] = {}
    for module, size in packages.values():
        modules[module] = modules.get(module, 0) + size
    mods = tuple(sorted((ModuleSize(m, (versions or {}).get(m, ""), s) for m, s in modules.items()),
                        key=lambda m: -m.size))
    total = sum(p.size for p in pkgs) + padding
    funcs = tuple(Function(f"{p.name}.F", p.name, p.size // 2, 0) for p in pkgs)
    return BinaryReport(path=f"/tmp/out/{name}", file_size=total, format="elf", goos="linux", goarch="amd64",
                        go_version="go1.26.8", coverage=1 - padding / total,
                        sections=(Section(".text", total - padding, total - padding, padding, 0x401000, "r,x,alloc"),),
                        packages=pkgs, modules=mods, functions=funcs, unattributed=(Unattributed("(headers)", padding),),
                        build_info=None, stripped=False)


BASE_PKGS = {
    "runtime": ("std", 500_000),
    "fmt": ("std", 80_000),
    "net/http": ("std", 650_000),
    "main": ("example.com/app", 2_000),
    "example.com/app/internal/legacy": ("example.com/app", 9_000),
}
HEAD_PKGS = {
    "runtime": ("std", 500_000),
    "fmt": ("std", 81_000),
    "main": ("example.com/app", 2_500),
    "net/http": ("std", 700_000),
    "crypto/tls": ("std", 300_000),
    "example.com/app/server": ("example.com/app", 12_000),
    "golang.org/x/net/http2": ("golang.org/x/net", 400_000),
    "golang.org/x/net/http2/hpack": ("golang.org/x/net", 90_000),
    "golang.org/x/net/idna": ("golang.org/x/net", 60_000),
    "golang.org/x/text/unicode/norm": ("golang.org/x/text", 110_000),
}
CHAINS = {
    "net/http": ("net/http", "example.com/app/server", MAIN),
    "crypto/tls": ("crypto/tls", "net/http", "example.com/app/server", MAIN),
    "example.com/app/server": ("example.com/app/server", MAIN),
    "golang.org/x/net/http2": ("golang.org/x/net/http2", "net/http", "example.com/app/server", MAIN),
    "golang.org/x/net/http2/hpack": ("golang.org/x/net/http2/hpack", "golang.org/x/net/http2", "net/http",
                                     "example.com/app/server", MAIN),
    "golang.org/x/net/idna": ("golang.org/x/net/idna", "golang.org/x/net/http2", "net/http",
                              "example.com/app/server", MAIN),
    "golang.org/x/text/unicode/norm": ("golang.org/x/text/unicode/norm", "golang.org/x/net/idna",
                                       "golang.org/x/net/http2", "net/http", "example.com/app/server", MAIN),
}

CONFIG = parse_config("""
[[target]]
name = "app"
package = "./cmd/app"
platforms = ["linux/amd64", "linux/arm64"]

[[target]]
name = "cli"
package = "./cmd/cli"
platforms = ["linux/amd64"]

[strategy.release]
flags = ["-trimpath", "-ldflags=-s -w"]

[strategy.upx]
post = ["upx --best {binary}"]

[[budget]]
level = "fail"
max_increase = "10%"
max_size = "25 MB"

[[budget]]
level = "warn"
new_modules = "warn"
""")


def ok(report: BinaryReport, name: str = "app-linux-amd64") -> Side:
    return Side(OK, report=report, name=name)


def comparison(target="app", platform="linux/amd64", strategy="default", base=None, head=None,
               chains=CHAINS, package=None) -> Comparison:
    base = base if base is not None else ok(binary(BASE_PKGS))
    head = head if head is not None else ok(binary(HEAD_PKGS))
    diff = diff_reports(base.report, head.report) if base.status == OK and head.status == OK else None
    chained = tuple(sorted((p, c) for p, c in chains.items() if diff is not None and p in diff.added_packages))
    return Comparison(target=target, package=package or f"./cmd/{target}", platform=platform, strategy=strategy,
                      base=base, head=head, diff=diff, chains=chained)


@pytest.fixture(scope="module")
def comparisons() -> list[Comparison]:
    small = {"runtime": ("std", 400_000), "main": ("example.com/app", 1_000)}
    return [
        comparison(strategy="default"),
        comparison(strategy="release", base=ok(binary(BASE_PKGS, padding=500)),
                   head=ok(binary(HEAD_PKGS, padding=500))),
        comparison(strategy="upx", base=ok(binary(small, padding=100)), head=ok(binary(small, padding=100))),
        comparison(platform="linux/arm64", strategy="default",
                   head=Side(FAILED, error="go build -o app-linux-arm64 ./cmd/app: exit status 1")),
        comparison(platform="linux/arm64", strategy="release"),
        comparison(platform="linux/arm64", strategy="upx",
                   head=Side(FAILED, error="upx: not installed (post-step `upx --best app`)")),
        comparison(target="cli", strategy="default", base=Side(MISSING, error="package ./cmd/cli does not exist"),
                   head=ok(binary(small))),
        comparison(target="cli", strategy="release", base=Side(MISSING, error="package ./cmd/cli does not exist"),
                   head=ok(binary(small, padding=10))),
        comparison(target="cli", strategy="upx", base=Side(MISSING, error="package ./cmd/cli does not exist"),
                   head=ok(binary(small, padding=5))),
    ]


def test_build_sizes_deltas_and_diff_rows_add_up(comparisons):
    build = build_of(comparisons[0]).to_json()
    base_size = sum(s for _, s in BASE_PKGS.values()) + 1000
    head_size = sum(s for _, s in HEAD_PKGS.values()) + 1000
    assert (build["base_size"], build["head_size"], build["delta"]) == (1_242_000, 2_256_500, 1_014_500)
    assert (base_size, head_size) == (1_242_000, 2_256_500)
    diff = build["diff"]
    assert (diff["old_size"], diff["new_size"], diff["delta"]) == (1_242_000, 2_256_500, 1_014_500)
    # unchanged rows are left out, the changed ones are all there: their deltas add up to the file's
    names = [r["name"] for r in diff["packages"]]
    assert "runtime" not in names and len(names) == 10
    assert sum(r["delta"] for r in diff["packages"]) + sum(r["delta"] for r in diff["unattributed"]) == 1_014_500
    assert diff["packages"][0] == {"name": "golang.org/x/net/http2", "old_size": 0, "new_size": 400_000, "delta": 400_000}
    assert [r["name"] for r in diff["modules"]] == ["golang.org/x/net", "std", "golang.org/x/text", "example.com/app"]
    assert diff["added_modules"] == ["golang.org/x/net", "golang.org/x/text"]
    assert diff["removed_packages"] == ["example.com/app/internal/legacy"]
    assert build["base"]["binary"]["path"] == "app-linux-amd64"  # the file's name, not the temporary path
    assert build["base"]["binary"]["file_size"] == 1_242_000
    assert (build["base"]["status"], build["base"]["error"]) == ("ok", None)


def test_top_cuts_packages_functions_and_dependencies():
    build = build_of(comparison(), top=3).to_json()
    head = build["head"]["binary"]
    assert [p["name"] for p in head["packages"]] == ["net/http", "runtime", "golang.org/x/net/http2"]
    assert len(head["functions"]) == 3
    assert len(head["modules"]) == 4  # modules are never cut
    assert len(build["diff"]["functions"]) == 3
    assert len(build["diff"]["packages"]) == 10  # changed packages are never cut
    assert [d["name"] for d in build["new_dependencies"]] == ["golang.org/x/net", "golang.org/x/net/http2", "golang.org/x/text"]


def _shown(d: Dependency) -> dict:
    """A dependency's JSON without its total cost (no import graph in these comparisons)."""
    doc = d.to_json()
    assert (doc.pop("total_size"), doc.pop("replaces"), doc.pop("replaced_size")) == (None, "", 0)
    return doc


def test_new_dependencies_with_import_chains():
    c = comparison()
    deps = [_shown(d) for d in new_dependencies(c.diff, dict(c.chains), top=None)]
    # every new module; new packages where new code is entered from outside: a package of another module
    # imported by one the base had (http2 under net/http), or imported by the project's own code (server).
    # Not: hpack, idna, norm (behind the new http2), crypto/tls (std imported by std)
    assert [(d["kind"], d["name"], d["size"]) for d in deps] == [
        ("module", "golang.org/x/net", 550_000),
        ("package", "golang.org/x/net/http2", 400_000),
        ("module", "golang.org/x/text", 110_000),
        ("package", "example.com/app/server", 12_000),
    ]
    by_name = {(d["kind"], d["name"]): d for d in deps}
    # a module's chain is that of its package nearest to the main package
    assert by_name[("module", "golang.org/x/net")]["chain"] == list(CHAINS["golang.org/x/net/http2"])
    assert by_name[("module", "golang.org/x/text")]["chain"] == list(CHAINS["golang.org/x/text/unicode/norm"])
    assert by_name[("package", "example.com/app/server")] == {
        "kind": "package", "name": "example.com/app/server", "module": "example.com/app", "size": 12_000,
        "chain": ["example.com/app/server", MAIN]}
    # without chains (go list could not say), each is its own chain
    bare = [_shown(d) for d in new_dependencies(c.diff, {}, top=3)]
    assert bare == [
        {"kind": "module", "name": "golang.org/x/net", "module": "golang.org/x/net", "size": 550_000,
         "chain": ["golang.org/x/net"]},
        {"kind": "package", "name": "golang.org/x/net/http2", "module": "golang.org/x/net", "size": 400_000,
         "chain": ["golang.org/x/net/http2"]},
        {"kind": "package", "name": "crypto/tls", "module": "std", "size": 300_000, "chain": ["crypto/tls"]},
    ]
    # a package behind a new package of the main module is listed: the project's code pulls it in
    inside = {**CHAINS, "golang.org/x/net/idna": ("golang.org/x/net/idna", "example.com/app/server", MAIN)}
    assert "golang.org/x/net/idna" not in [d.name for d in new_dependencies(c.diff, CHAINS, top=None)]
    assert "golang.org/x/net/idna" in [d.name for d in new_dependencies(c.diff, inside, top=None)]


def test_a_package_named_as_its_new_module_is_said_once():
    head = {**BASE_PKGS, "example.com/greet": ("example.com/greet", 3_000)}
    c = comparison(head=ok(binary(head)),
                   chains={"example.com/greet": ("example.com/greet", "main", MAIN)})
    assert [_shown(d) for d in new_dependencies(c.diff, dict(c.chains))] == [
        {"kind": "module", "name": "example.com/greet", "module": "example.com/greet", "size": 3_000,
         "chain": ["example.com/greet", "main", MAIN]}]


def test_waterfalls_follow_strategy_order_and_skip_single_steps(comparisons):
    falls = [w.to_json() for w in waterfalls(comparisons, ["default", "release", "upx"])]
    assert falls == [
        {"target": "app", "platform": "linux/amd64", "steps": [
            {"strategy": "default", "size": 2_256_500, "saving": 0},
            {"strategy": "release", "size": 2_256_000, "saving": 500},
            {"strategy": "upx", "size": 401_100, "saving": 1_854_900},
        ]},
        # app linux/arm64: only release built at the head -> no waterfall
        {"target": "cli", "platform": "linux/amd64", "steps": [
            {"strategy": "default", "size": 402_000, "saving": 0},
            {"strategy": "release", "size": 401_010, "saving": 990},
            {"strategy": "upx", "size": 401_005, "saving": 5},
        ]},
    ]
    # strategy order is the config's, not the comparisons'
    reordered = [w.to_json() for w in waterfalls(list(reversed(comparisons[:3])), ["default", "release", "upx"])]
    assert [s["strategy"] for s in reordered[0]["steps"]] == ["default", "release", "upx"]
    # a step that grows saves a negative amount
    grown = [w.to_json() for w in waterfalls(comparisons[:2], ["release", "default"])]
    assert grown[0]["steps"][1] == {"strategy": "default", "size": 2_256_500, "saving": -500}


def test_notes_say_once_what_every_strategy_shares(comparisons):
    assert comparison_notes(comparisons) == [
        "app linux/arm64 default: the head does not build (go build -o app-linux-arm64 ./cmd/app: exit status 1)",
        "app linux/arm64 upx: the head does not build (upx: not installed (post-step `upx --best app`))",
        "cli linux/amd64: the base does not build (package ./cmd/cli does not exist at the base): "
        "comparing against nothing",
    ]
    everywhere = [comparison(target="tool", platform=p, base=Side(MISSING, error="no such package"))
                  for p in ("linux/amd64", "windows/amd64")]
    assert comparison_notes(everywhere) == ["tool: the base does not build (package ./cmd/tool does not exist at "
                                            "the base): comparing against nothing"]
    gone = comparison(target="tool", head=Side(MISSING, error="package ./cmd/tool does not exist"))
    assert comparison_notes([gone]) == ["tool linux/amd64 default: package ./cmd/tool does not exist at the head: "
                                        "nothing to measure"]
    upx = ok(BinaryReport(**{**binary(BASE_PKGS).__dict__, "packed": "upx",
                             "notes": ("packed with UPX: the per-package breakdown needs the unpacked binary",)}))
    assert comparison_notes([comparison(head=upx)]) == [
        "app linux/amd64 default (head): packed with UPX: the per-package breakdown needs the unpacked binary"]


def _report(comparisons, overrides=(), image=None, image_measurement=None, notes=()) -> Report:
    return assemble(repo={"path": "/src/app", "name": "acme/app"},
                    base=Commit("main", "a" * 40, "Release v1"), head=Commit("feature", "b" * 40, "Add HTTP <b>x</b>"),
                    config=CONFIG, comparisons=comparisons, overrides=overrides, image=image,
                    image_measurement=image_measurement, notes=notes)


def _doc(comparisons, overrides=(), image=None, image_measurement=None, notes=()) -> dict:
    return _report(comparisons, overrides, image, image_measurement, notes).to_json()


def test_document_budgets_and_verdict(comparisons):
    doc = _doc(comparisons, notes=("run note",))
    validate(doc)
    assert list(doc) == ["schema", "verdict", "repo", "base", "head", "config", "builds", "waterfalls", "image",
                         "budgets", "overrides", "notes"]
    assert doc["schema"] == "sizebot/report@1"
    assert doc["verdict"] == "fail" and Verdict(doc["verdict"]).exit_code == 1
    assert doc["base"] == {"ref": "main", "sha": "a" * 40, "subject": "Release v1"}
    assert doc["config"] == {"path": "sizebot.toml", "defaulted": False}
    assert doc["notes"][0] == "run note"
    assert len(doc["builds"]) == 9
    by = {(r["subject"], r["rule"]): r for r in doc["budgets"]}
    grow = by[("app linux/amd64 default", "max_increase 10%")]
    assert (grow["status"], grow["actual"], grow["limit"]) == ("fail", round(100 * 1_014_500 / 1_242_000, 4), 10.0)
    assert by[("app linux/amd64 upx", "max_increase 10%")]["status"] == "pass"
    assert by[("cli linux/amd64 default", "max_increase 10%")]["status"] == "skipped"
    assert by[("cli linux/amd64 default", "max_size 25 MB")]["status"] == "pass"
    new = by[("app linux/amd64 release", "new_modules warn")]
    assert (new["status"], new["actual"]) == ("warn", 2)
    assert by[("app linux/arm64 default", "budget[0]")]["message"] == "the head did not build"


def test_override_turns_fail_into_warn(comparisons):
    built = [c for c in comparisons if c.head.status != FAILED]
    doc = _doc(built, overrides=(Override("trailer", "HTTP/2 is worth it"),))
    validate(doc)
    assert doc["verdict"] == "warn" and Verdict(doc["verdict"]).exit_code == 0
    assert doc["overrides"] == [{"source": "trailer", "reason": "HTTP/2 is worth it"}]
    statuses = {r["status"] for r in doc["budgets"]}
    assert "fail" not in statuses and "overridden" in statuses
    assert all(r["override_reason"] == "HTTP/2 is worth it" for r in doc["budgets"] if r["status"] == "overridden")


def test_pass_and_neutral():
    small = {"runtime": ("std", 400_000), "main": ("example.com/app", 1_000)}
    same = comparison(base=ok(binary(small)), head=ok(binary(small)))
    doc = _doc([same])
    assert doc["verdict"] == "pass"
    assert doc["builds"][0]["delta"] == 0 and doc["builds"][0]["new_dependencies"] == []
    assert doc["builds"][0]["diff"]["packages"] == []
    lonely = comparison(base=Side(MISSING, error="gone"), head=ok(binary(small)))
    assert not compared([lonely])
    doc = _doc([lonely])
    assert doc["verdict"] == "neutral"
    assert doc["builds"][0]["base"] == {"status": "missing", "error": "gone", "binary": None}
    assert doc["builds"][0]["diff"] is None and doc["builds"][0]["delta"] is None
    # an image with both sides counts as compared
    assert compared([lonely], ImageMeasurement(10, 12, 5, 6))
    validate(doc)


def test_sample_and_generated_documents_validate_and_render(comparisons):
    validate(SAMPLE)
    report = _report(comparisons)
    doc = report.to_json()
    text = render(report, "json")
    assert json.loads(text) == doc and text.endswith("}\n")
    assert Report.from_json(json.loads(text)).to_json() == doc
    validate_document({**doc, "pull_request": {"number": 1, "base_sha": "a" * 40, "head_sha": "b" * 40},
                       "comment_key": "default"}, "measurement")
    markdown = render_report_markdown(report)
    assert markdown.startswith("❌ **sizebot: fail**")
    assert ("<code>golang.org/x/net</code> through <code>golang.org/x/net/http2</code> ← <code>net/http</code>"
            in markdown)
    assert "Add HTTP &lt;b&gt;x&lt;/b&gt;" in markdown or "Add HTTP \\<b\\>x\\</b\\>" in markdown
    plain = render_report_text(report, 120)
    assert "app linux/amd64 default" in plain


def test_schema_rejects_what_is_not_a_report(comparisons):
    doc = _doc(comparisons)
    for broken in ({**doc, "verdict": "maybe"}, {**doc, "extra": 1},
                   {**doc, "builds": [{**doc["builds"][0], "base_size": -1}]},
                   {**doc, "waterfalls": [{"target": "app", "platform": "linux/amd64", "steps": []}]}):
        with pytest.raises(jsonschema.ValidationError):
            validate(broken)


def test_a_head_that_does_not_build_never_passes(comparisons):
    """Overridden budgets do not pass a failed head build; one failing at both sides is an error (exit 2)."""
    doc = _doc(comparisons, overrides=(Override("trailer", "HTTP/2 is worth it"),))
    validate(doc)
    assert doc["verdict"] == "fail" and Verdict(doc["verdict"]).exit_code == 1
    small = {"runtime": ("std", 400_000), "main": ("example.com/app", 1_000)}
    no_budgets = parse_config('[[target]]\nname = "app"\npackage = "./cmd/app"\n')
    head_broken = comparison(base=ok(binary(small)), head=Side(FAILED, error="go build: exit status 1"))
    doc = assemble(repo={"path": "/r", "name": "r"}, base=Commit("main", "a" * 40, "base"),
                   head=Commit("head", "b" * 40, "head"), config=no_budgets, comparisons=[head_broken]).to_json()
    assert doc["verdict"] == "fail"
    both = comparison(base=Side(FAILED, error="go build: bad flag"), head=Side(FAILED, error="go build: bad flag"))
    doc = assemble(repo={"path": "/r", "name": "r"}, base=Commit("main", "a" * 40, "base"),
                   head=Commit("head", "b" * 40, "head"), config=no_budgets,
                   comparisons=[head_broken, both]).to_json()
    validate(doc)
    assert doc["verdict"] == "error" and Verdict(doc["verdict"]).exit_code == 2
    assert doc["notes"][-1] == ("app linux/amd64 default: fails to build at the base and the head alike "
                                "(go build: bad flag): check the target and the strategy in sizebot.toml")


def _graph(imports: dict[str, tuple[str, ...]]) -> ImportGraph:
    parent: dict[str, str | None] = {MAIN: None}
    queue = [MAIN]
    while queue:
        current = queue.pop(0)
        for imported in imports.get(current, ()):
            if imported not in parent:
                parent[imported] = current
                queue.append(imported)
    return ImportGraph(parent=parent, imports=imports, roots=(MAIN,))


def test_dependencies_total_cost_upgrades_and_removals():
    """Each new or removed dependency with what it alone brings in (from the import graph); a major
    version move is one upgrade row with its net change, not a removal plus an addition."""
    base = {"runtime": ("std", 500_000), "main": ("example.com/app", 2_000),
            "github.com/alecthomas/chroma": ("github.com/alecthomas/chroma", 300_000),
            "example.com/old": ("example.com/old", 50_000), "example.com/old/sub": ("example.com/old", 20_000)}
    head = {"runtime": ("std", 500_000), "main": ("example.com/app", 2_500),
            "github.com/alecthomas/chroma/v2": ("github.com/alecthomas/chroma/v2", 312_000),
            "golang.org/x/net/http2": ("golang.org/x/net", 400_000),
            "golang.org/x/net/idna": ("golang.org/x/net", 60_000),
            "golang.org/x/text/unicode/norm": ("golang.org/x/text", 100_000),
            "example.com/shared": ("example.com/shared", 10_000)}
    head_graph = _graph({MAIN: ("runtime", "github.com/alecthomas/chroma/v2", "golang.org/x/net/http2",
                                "example.com/shared"),
                         "golang.org/x/net/http2": ("golang.org/x/net/idna", "example.com/shared"),
                         "golang.org/x/net/idna": ("golang.org/x/text/unicode/norm",),
                         "github.com/alecthomas/chroma/v2": ("runtime",)})
    base_graph = _graph({MAIN: ("runtime", "github.com/alecthomas/chroma", "example.com/old"),
                         "example.com/old": ("example.com/old/sub",)})
    c = replace(comparison(base=ok(binary(base)), head=ok(binary(head)), chains={}),
                head_graph=head_graph, base_graph=base_graph)
    c = replace(c, chains=tuple(sorted(chains_in(head_graph, c.diff.added_packages).items())))
    built = build_of(c, top=None)
    shown = {(d.kind, d.name): (d.size, d.total_size) for d in built.new_dependencies}
    assert shown == {
        ("upgrade", "github.com/alecthomas/chroma/v2"): (312_000, None),
        # x/net alone brings in x/text (through idna), not example.com/shared (main imports it too)
        ("module", "golang.org/x/net"): (460_000, 560_000),
        ("package", "golang.org/x/net/http2"): (400_000, 560_000),  # the main module imports it
        ("module", "golang.org/x/text"): (100_000, 100_000),
        ("module", "example.com/shared"): (10_000, 10_000),
    }
    [upgrade] = [d for d in built.new_dependencies if d.kind == "upgrade"]
    assert (upgrade.replaces, upgrade.replaced_size, upgrade.net) == ("github.com/alecthomas/chroma", 300_000, 12_000)
    assert [(d.kind, d.name, d.size, d.total_size, d.chain) for d in built.removed_dependencies] == [
        ("module", "example.com/old", 70_000, 70_000, ("example.com/old", MAIN))]
    assert "chroma" not in str([d.name for d in built.removed_dependencies])
    doc = assemble(repo={"path": "/r", "name": "r"}, base=Commit("main", "a" * 40, "base"),
                   head=Commit("head", "b" * 40, "head"), config=CONFIG, comparisons=[c]).to_json()
    validate(doc)
    md = render_report_markdown(Report.from_json(doc))
    assert ("- **+12.0 KB** upgrade <code>github.com/alecthomas/chroma</code> → "
            "<code>github.com/alecthomas/chroma/v2</code> (300 KB → 312 KB)") in md
    assert ("- **+460 KB** module <code>golang.org/x/net</code> through <code>golang.org/x/net/http2</code> ← "
            f"<code>{MAIN}</code> · +560 KB with what only it brings in") in md
    assert ("- **-70.0 KB** removed module <code>example.com/old</code> ← <code>example.com/app/cmd/app</code>"
            in md)
    assert "<summary>🆕 Dependencies: 4 new, 1 upgraded, 1 removed</summary>" in md


def test_the_main_modules_own_rename_is_no_dependency():
    base = {"runtime": ("std", 500_000), "main": ("example.com/app", 2_000)}
    head = {"runtime": ("std", 500_000), "main": ("example.com/app/v2", 2_000)}
    built = build_of(comparison(base=ok(binary(base)), head=ok(binary(head)), chains={}), top=None)
    assert built.new_dependencies == () and built.removed_dependencies == ()


def test_a_go_upgrade_brings_no_unknown_dependency_and_no_new_module():
    """The same program built with the installed Go 1.26 (base) and with Go 1.27 as go.mod's toolchain line
    fetches it (head: GOTOOLCHAIN, from the module proxy into the module cache). That Go's entry point
    (_rt0_amd64_linux, assembly, its file under .../pkg/mod/golang.org/toolchain@...) is the standard
    library's runtime, not an "(unknown)" module: no new dependency, and a new_modules = "fail" budget
    passes (it failed with "1 new module: (unknown)")."""
    from sizebot.binary.attribute import analyze_binary
    from sizebot.budgets import BuildMeasurement, evaluate
    from sizebot.compare.report import removed_dependencies
    from tests.support.goprograms import HELLO, build

    base = analyze_binary(build(HELLO))
    head = analyze_binary(build(HELLO, extra_env={"GOTOOLCHAIN": "go1.27.3"}))
    assert (base.go_version, head.go_version) == ("go1.26.8", "go1.27.3")
    diff = diff_reports(base, head)
    assert diff.added_modules == diff.added_packages == ()
    assert [d.name for d in new_dependencies(diff, {})] == []
    assert [d.name for d in removed_dependencies(diff_reports(head, base), None)] == []
    measured = BuildMeasurement.from_reports("hello", "linux/amd64", "default", base, head, diff)
    assert measured.new_modules == ()
    [rule] = parse_config('[[budget]]\nnew_modules = "fail"\n').budgets
    assert [(r.status, r.message) for r in evaluate([rule], [measured])] == [("pass", "no new modules")]


def test_dependencies_carry_their_estimated_data():
    """Two stripped builds (data found by reference only), with the head's real import graph: each new
    package's estimated bytes are its analysed data_estimated, its total's those of what only it brings in."""
    from sizebot.binary.attribute import analyze_binary
    from sizebot.builds.discover import import_graph
    from tests.support.goprograms import HELLO, HTTPJSON, build

    stripped = ("-ldflags=-s -w",)
    exe = build(HTTPJSON, flags=stripped)
    base, head = analyze_binary(build(HELLO, flags=stripped)), analyze_binary(exe)
    graph = import_graph(exe.parent / "src", ".", "linux/amd64")
    diff = diff_reports(base, head)
    deps = new_dependencies(diff, chains_in(graph, diff.added_packages), top=None, graph=graph)
    estimated = {p.name: p.data_estimated for p in head.packages}
    assert deps and all(d.kind == "package" for d in deps)
    assert {d.name: d.estimated for d in deps} == {d.name: estimated[d.name] for d in deps}
    assert sum(d.estimated for d in deps) > 10_000  # the reference method did estimate data here
    for d in deps:
        only = graph.only_through({d.name})
        assert d.total_estimated == sum(estimated.get(p, 0) for p in only) <= (d.total_size or 0)
        assert Dependency.from_json(d.to_json(), "dependency") == d
