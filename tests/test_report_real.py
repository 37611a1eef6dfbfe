"""`sizebot report` on a real program nobody here wrote, read as a reviewer reads the comment: a git
repository whose base commit is fzf v0.55.0 and whose head is fzf v0.56.0, both from the Go module proxy
(tests/support/realprograms.py), with one sizebot.toml at both commits.

What this pull request is, measured once by hand and asserted below: fastwalk v1.0.8 -> v1.0.9,
golang.org/x/sys v0.24.0 -> v0.26.0 and golang.org/x/term v0.23.0 -> v0.25.0; fzf's own code grows by a
few KB; two of its six `//go:embed` []byte payloads change (man/man1/fzf.1 and shell/completion.bash).
The linux/arm64 release binary (-trimpath -ldflags=-s -w) keeps its size to the byte: arm64 aligns the
segments and the end of the file to 64 KiB, so the padding absorbs the growth. Its code, packages,
module versions and embedded files changed all the same, and the comment must say so.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from sizebot.cli import main
from sizebot.documents.report import Report
from sizebot.render.report_markdown import render_report_markdown
from sizebot.units import format_delta, format_size
from tests.support.git import commit_all, git
from tests.support.goprograms import write_tree
from tests.support.realprograms import RealProgram, copy_release, module_dir

BASE = RealProgram("github.com/junegunn/fzf", "v0.55.0")
HEAD = RealProgram("github.com/junegunn/fzf", "v0.56.0")

CONFIG = """
[[target]]
name = "fzf"
package = "."
platforms = ["linux/amd64", "linux/arm64"]
strategies = ["release"]

[strategy.release]
flags = ["-trimpath", "-ldflags=-s -w"]

[[budget]]
level = "fail"
max_increase = "1%"

[[budget]]
level = "warn"
new_modules = "warn"
"""

# A subject as a real one may read: GitHub renders $...$ in a comment as math, unless escaped.
SUBJECT = "fzf 0.56.0: costs $5 or $10"

VERSIONS = [("github.com/charlievieth/fastwalk", "v1.0.8", "v1.0.9"),
            ("golang.org/x/sys", "v0.24.0", "v0.26.0"),
            ("golang.org/x/term", "v0.23.0", "v0.25.0")]


@pytest.fixture(scope="module")
def fzf_pr(tmp_path_factory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("fzf-pr")
    repo = root / "fzf"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    copy_release(BASE, repo, CONFIG)
    base = commit_all(repo, "fzf 0.55.0")
    copy_release(HEAD, repo, CONFIG)
    head = commit_all(repo, SUBJECT)
    out, status = _report(repo, base, head, root)
    return {"status": status, "doc": json.loads((out / "report.json").read_text()),
            "markdown": (out / "report.md").read_text(), "base_dir": module_dir(BASE), "head_dir": module_dir(HEAD)}


def _report(repo: Path, base: str, head: str, root: Path) -> tuple[Path, int]:
    """``sizebot report`` of base..head in text, JSON and markdown into root/out, module downloads off:
    (the output directory, the exit status)."""
    out = root / "out"
    out.mkdir()
    env_before = dict(os.environ)
    os.environ["GOFLAGS"] = "-mod=readonly"
    try:
        status = main(["report", "--repo", str(repo), "--base", base, "--head", head, "--go-version", "local",
                       "--format", "text", "--output", str(out / "report.txt"), "--json", str(out / "report.json"),
                       "--markdown", str(out / "report.md"), "--no-cache", "--quiet"])
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    return out, status


def _build(doc: dict, platform: str) -> dict:
    [build] = [b for b in doc["builds"] if b["platform"] == platform]
    return build


def test_the_pull_request_passes_and_the_arm64_release_keeps_its_size(fzf_pr):
    doc = fzf_pr["doc"]
    assert fzf_pr["status"] == 0 and doc["verdict"] == "pass"
    arm64 = _build(doc, "linux/arm64")
    assert arm64["base_size"] == arm64["head_size"] and arm64["delta"] == 0
    assert _build(doc, "linux/amd64")["delta"] > 0


def test_a_build_that_changed_inside_but_not_in_size_is_a_changed_build(fzf_pr):
    """Its row is among the changed builds (0 B), not folded into "unchanged", and its packages,
    modules, sections, module versions and embedded files are in the detail like any other build's."""
    doc, markdown = fzf_pr["doc"], fzf_pr["markdown"]
    arm64 = _build(doc, "linux/arm64")
    size = f"{arm64['head_size'] / 1e6:.2f} MB"
    assert "2 builds, 2 changed" in markdown.splitlines()[0]
    assert f"| fzf | linux/arm64 | release | {size} | {size} | 0 B | +0.00% |" in markdown
    assert "unchanged</summary>" not in markdown
    # its budget row says what is true of the file, not that nothing changed
    assert "| fzf linux/arm64 release | head kept its size \\(limit 1%\\) |" in markdown
    diff = arm64["diff"]
    for kind in ("package", "module", "section"):
        rows = [r for r in diff[f"{kind}s"] if r["delta"]]
        total = sum(r["delta"] for r in rows)
        assert total > 0  # the growth that the padding absorbed
        assert re.search(rf"\*\*fzf linux/arm64 release\*\*: {len(rows)} changed \(\+[0-9.]+ KB\) \+ "
                         rf"unattributed \(-[0-9.]+ KB\) = 0 B\n\n\| {kind} \|", markdown), kind
        assert re.search(rf"\| unattributed \| \| \| -[0-9.]+ KB \| {-total:+,} \| \|", markdown), kind
    version_groups = re.findall(r"\*\*([^*]+)\*\*\n\n\| module \| base \| head \|", markdown)
    assert version_groups == ["fzf linux/amd64 release, fzf linux/arm64 release"]
    embed_groups = re.findall(r"\*\*([^*]+)\*\*\n\n\| package \| file or variable \|", markdown)
    assert embed_groups == ["fzf linux/amd64 release, fzf linux/arm64 release"]


def test_module_versions_and_embedded_files_are_the_releases(fzf_pr):
    """The exact upgrades of the two go.mod files, and the exact sizes of the two embedded files that
    changed (the binaries are stripped: the variables are #N, their sizes the files')."""
    doc = fzf_pr["doc"]
    man = ("man/man1/fzf.1", "shell/completion.bash")
    sizes = [((fzf_pr["base_dir"] / f).stat().st_size, (fzf_pr["head_dir"] / f).stat().st_size) for f in man]
    assert sizes == [(57216, 57377), (17494, 17559)]
    for platform in ("linux/amd64", "linux/arm64"):
        diff = _build(doc, platform)["diff"]
        assert [(c["path"], c["old_version"], c["new_version"]) for c in diff["module_changes"]] == VERSIONS
        embeds = sorted((e["package"], e["status"], e["old_size"], e["new_size"], e["kind"]) for e in diff["embeds"])
        assert embeds == sorted(("main", "changed", old, new, "[]byte") for old, new in sizes), platform
    for path, old, new in VERSIONS:
        assert f"| <code>{path.replace('_', chr(92) + '_')}</code> | {old} | {new} |" in fzf_pr["markdown"]


def test_every_table_adds_up_to_the_file(fzf_pr):
    """Per build: the modules (the report keeps every one; packages are cut to the top 20) add up, with
    the unattributed rows, to the file's size at each side; the changed packages and modules to the change."""
    for b in fzf_pr["doc"]["builds"]:
        for side in ("base", "head"):
            binary = b[side]["binary"]
            unattributed = sum(u["size"] for u in binary["unattributed"])
            assert sum(m["size"] for m in binary["modules"]) + unattributed == binary["file_size"]
            assert binary["file_size"] == b[f"{side}_size"]
        diff = b["diff"]
        unattributed = sum(u["delta"] for u in diff["unattributed"])
        for kind in ("packages", "modules"):
            assert sum(r["delta"] for r in diff[kind]) + unattributed == b["delta"], (b["platform"], kind)


def test_the_head_subject_is_text_not_math(fzf_pr):
    assert fzf_pr["doc"]["head"]["subject"] == SUBJECT
    assert "“fzf 0.56.0: costs \\$5 or \\$10”" in fzf_pr["markdown"]


def test_budgets_are_counted_alike_in_the_headline_and_the_table(fzf_pr):
    """Two rules on two builds: four results, in three rows (the new_modules rule says "no new modules" of
    both builds in one row). The headline and the table's summary both count the four."""
    markdown = fzf_pr["markdown"]
    assert [r["status"] for r in fzf_pr["doc"]["budgets"]] == ["pass"] * 4
    assert markdown.splitlines()[0].endswith(" · 4 budgets passed")
    assert "<details><summary>4 budgets passed</summary>" in markdown
    assert markdown.count("| ✅ pass |") == 3


def test_a_comment_shortened_to_its_headline_does_not_say_nothing_was_measured(fzf_pr):
    """At the shortest level no build row fits: the comment says how many builds the job summary lists."""
    short = render_report_markdown(Report.from_json(fzf_pr["doc"]), max_chars=600)
    assert len(short) <= 600
    assert "No build was measured" not in short
    assert "#### Binaries\n\n2 builds changed or failed: listed in the job summary.\n" in short


# A small program of our own on real modules nobody here wrote: github.com/cespare/xxhash v1.1.0 at the
# base, its next major version github.com/cespare/xxhash/v2 v2.3.0 at the head, which also embeds a
# directory of files whose names a pull request chose (markdown, math and mentions in valid Go embed names).
HASHER_CONFIG = """
[[target]]
name = "hasher"
package = "."

[strategy.release]
flags = ["-trimpath", "-ldflags=-s -w"]

[[budget]]
level = "warn"
new_modules = "warn"
"""
HASHER_BASE = {
    "go.mod": "module example.com/hasher\n\ngo 1.21\n\nrequire github.com/cespare/xxhash v1.1.0\n",
    "go.sum": "github.com/OneOfOne/xxhash v1.2.2 h1:KMrpdQIwFcEqXDklaen+P1axHaj9BSKzvpUUfnHldSE=\n"
              "github.com/OneOfOne/xxhash v1.2.2/go.mod h1:HSdplMjZKSmBqAxg5vPj2TmRDmfkzw+cTzAElWljhcU=\n"
              "github.com/cespare/xxhash v1.1.0 h1:a6HrQnmkObjyL+Gs60czilIUGqrzKutQD6XZog3p+ko=\n"
              "github.com/cespare/xxhash v1.1.0/go.mod h1:XrSqR1VqqWfGrhpAt58auRo0WTKS1nRRg3ghfAqPWnc=\n"
              "github.com/spaolacci/murmur3 v0.0.0-20180118202830-f09979ecbc72 "
              "h1:qLC7fQah7D6K1B0ujays3HV9gkFtllcxhzImRR7ArPQ=\n"
              "github.com/spaolacci/murmur3 v0.0.0-20180118202830-f09979ecbc72/go.mod "
              "h1:JwIasOWyU6f++ZhiEuf87xNszmSA2myDM2Kzu9HwQUA=\n",
    "main.go": 'package main\n\nimport (\n\t"fmt"\n\t"os"\n\n\t"github.com/cespare/xxhash"\n)\n\n'
               'func main() {\n\tfor _, a := range os.Args[1:] {\n'
               '\t\tfmt.Printf("%016x  %s\\n", xxhash.Sum64String(a), a)\n\t}\n}\n',
    "sizebot.toml": HASHER_CONFIG,
}
ASSETS = {"$x^2$ @someone #12.txt": 3000, "[click](__evil.example) ~~x~~ _y_ (1).txt": 2222, "data.bin": 20000}
HASHER_HEAD = {
    "go.mod": "module example.com/hasher\n\ngo 1.21\n\nrequire github.com/cespare/xxhash/v2 v2.3.0\n",
    "go.sum": "github.com/cespare/xxhash/v2 v2.3.0 h1:UL815xU9SqsFlibzuggzjXhog7bL6oX9BbNZnL2UFvs=\n"
              "github.com/cespare/xxhash/v2 v2.3.0/go.mod h1:VGX0DQ3Q6kWi7AoAeZDth3/j3BFtOZR5XLFGgcrjCOs=\n",
    "main.go": 'package main\n\nimport (\n\t"embed"\n\t"fmt"\n\t"os"\n\n\t"github.com/cespare/xxhash/v2"\n)\n\n'
               "//go:embed assets\nvar assets embed.FS\n\n"
               'func main() {\n\tentries, _ := assets.ReadDir("assets")\n\tfor _, e := range entries {\n'
               '\t\tb, _ := assets.ReadFile("assets/" + e.Name())\n'
               '\t\tfmt.Printf("%016x  %s\\n", xxhash.Sum64(b), e.Name())\n\t}\n'
               '\tfor _, a := range os.Args[1:] {\n\t\tfmt.Printf("%016x  %s\\n", xxhash.Sum64String(a), a)\n\t}\n}\n',
    "sizebot.toml": HASHER_CONFIG,
    **{f"assets/{name}": bytes(i % 251 for i in range(size)) for name, size in ASSETS.items()},
}


@pytest.fixture(scope="module")
def hasher_pr(tmp_path_factory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("hasher-pr")
    repo = root / "hasher"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_tree(repo, HASHER_BASE)
    base = commit_all(repo, "hash the arguments")
    (repo / "go.sum").unlink()
    write_tree(repo, HASHER_HEAD)
    head = commit_all(repo, "xxhash v2, and hash the embedded assets")
    out, status = _report(repo, base, head, root)
    return {"status": status, "doc": json.loads((out / "report.json").read_text()),
            "markdown": (out / "report.md").read_text(), "text": (out / "report.txt").read_text()}


def test_a_major_version_move_is_one_upgrade_and_its_figures_name_their_build(hasher_pr):
    """The new module is xxhash/v2 replacing xxhash: one upgrade row. Its figures (and embed's, a new
    package) differ between the default build (DWARF) and the release build: the line says whose they are,
    and they are exactly that build's."""
    doc, markdown = hasher_pr["doc"], hasher_pr["markdown"]
    assert hasher_pr["status"] == 0 and doc["verdict"] == "warn"
    default, release = doc["builds"]
    assert (default["strategy"], release["strategy"]) == ("default", "release")
    deps = {d["name"]: d for d in default["new_dependencies"]}
    assert set(deps) == {"github.com/cespare/xxhash/v2", "embed"}
    upgrade = deps["github.com/cespare/xxhash/v2"]
    assert (upgrade["kind"], upgrade["replaces"]) == ("upgrade", "github.com/cespare/xxhash")
    assert upgrade["size"] != {d["name"]: d for d in release["new_dependencies"]}["github.com/cespare/xxhash/v2"]["size"]
    net = format_delta(upgrade["size"] - upgrade["replaced_size"])
    # a figure holding bytes found by reference only (the document's "estimated") is marked
    mark = {name: "†" if d.get("estimated") else "" for name, d in deps.items()}
    assert deps["embed"].get("estimated"), "the precondition: embed's data is partly estimated, even with symbols"
    assert (f"- **{net}{mark[upgrade['name']]}** upgrade <code>github.com/cespare/xxhash</code> → "
            f"<code>github.com/cespare/xxhash/v2</code> ({format_size(upgrade['replaced_size'])} → "
            f"{format_size(upgrade['size'])}{mark[upgrade['name']]}) (the figures of hasher linux/amd64 default)\n") \
        in markdown
    assert (f"- **{format_delta(deps['embed']['size'])}†** package <code>embed</code> ← <code>example.com/hasher</code> "
            "(the figures of hasher linux/amd64 default)\n") in markdown
    assert f"† data partly estimated: {deps['embed']['estimated']} B (head) found through" in markdown
    assert "(the figures of hasher linux/amd64 default)" in hasher_pr["text"]
    assert ("| <code>github.com/cespare/xxhash</code> | v1.1.0 | removed |\n"
            "| <code>github.com/cespare/xxhash/v2</code> | — | v2.3.0 |\n") in markdown


def test_embedded_file_names_a_pull_request_chose_are_listed_exactly_and_inert(hasher_pr):
    for build in hasher_pr["doc"]["builds"]:
        files = {e["name"]: e["size"] for e in build["head"]["binary"]["embeds"] if e["kind"] == "file"}
        assert files == {f"assets/{name}": size for name, size in ASSETS.items()}  # the directory is no file
    markdown = hasher_pr["markdown"]
    assert "| <code>main</code> | <code>assets/\\$x^2\\$ @\u200bsomeone \\#\u200b12.txt</code> | added | 0 B | 3.00 KB |" in markdown
    assert ("| <code>main</code> | <code>assets/\\[click\\]\\(\\_\\_evil.example\\) \\~\\~x\\~\\~ \\_y\\_ \\(1\\).txt</code> "
            "| added | 0 B | 2.22 KB |") in markdown
