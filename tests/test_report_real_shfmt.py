"""`sizebot report` on shfmt (mvdan.cc/sh/v3, v3.13.1 -> v3.14.1, from the Go module proxy), read as a
reviewer reads it: the comment's function counts are of every changed function, as `sizebot diff --top all`
of the same two binaries counts them, not of the 20 rows the report keeps; and each function's code is what
`go tool nm -size` says it is.

Measured once by hand (linux/amd64, -trimpath, CGO off): 400-odd functions change, the 20 largest changes
make up only a part of the growth.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from sizebot.cli import main
from sizebot.units import format_delta
from tests.support.git import commit_all, git
from tests.support.realprograms import RealProgram, copy_release

BASE = RealProgram("mvdan.cc/sh/v3", "v3.13.1", "./cmd/shfmt")
HEAD = RealProgram("mvdan.cc/sh/v3", "v3.14.1", "./cmd/shfmt")

CONFIG = """
[[target]]
name = "shfmt"
package = "./cmd/shfmt"
platforms = ["linux/amd64"]
strategies = ["trimpath", "release"]

[strategy.trimpath]
flags = ["-trimpath"]
env = { CGO_ENABLED = "0" }

[strategy.release]
flags = ["-trimpath", "-ldflags=-s -w"]
env = { CGO_ENABLED = "0" }
"""


@pytest.fixture(scope="module")
def shfmt_pr(tmp_path_factory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("shfmt-pr")
    repo = root / "sh"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    copy_release(BASE, repo, CONFIG)
    base = commit_all(repo, "sh v3.13.1")
    copy_release(HEAD, repo, CONFIG)
    head = commit_all(repo, "sh v3.14.1")
    out, work = root / "out", root / "work"
    out.mkdir()
    env_before = dict(os.environ)
    os.environ["GOFLAGS"] = "-mod=readonly"
    try:
        status = main(["report", "--repo", str(repo), "--base", base, "--head", head, "--go-version", "local",
                       "--format", "json", "--output", str(out / "report.json"), "--markdown", str(out / "report.md"),
                       "--work-dir", str(work), "--no-cache", "--quiet"])
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    binaries = {(p.parent.parent.parent.name, p.parent.name): p for p in (work / "out").glob("*/*/*/shfmt-linux-amd64")}
    return {"status": status, "doc": json.loads((out / "report.json").read_text()),
            "markdown": (out / "report.md").read_text(), "binaries": binaries, "root": root}


def _diff_all(old: Path, new: Path, out: Path) -> dict:
    assert main(["diff", str(old), str(new), "--top", "all", "--format", "json", "-o", str(out)]) == 0
    return json.loads(out.read_text())


def test_the_comment_counts_every_changed_function(shfmt_pr):
    doc, markdown, binaries = shfmt_pr["doc"], shfmt_pr["markdown"], shfmt_pr["binaries"]
    assert shfmt_pr["status"] == 0
    assert sorted(binaries) == [("base", "release"), ("base", "trimpath"), ("head", "release"), ("head", "trimpath")]
    summaries = dict(re.findall(r"\*\*([^*]+)\*\*: (\d+ changed, [^\n]+ in all)\n\n\| function \|", markdown))
    for build in doc["builds"]:
        strategy = build["strategy"]
        full = _diff_all(binaries["base", strategy], binaries["head", strategy],
                         shfmt_pr["root"] / f"diff-{strategy}.json")
        assert (full["old_size"], full["new_size"]) == (build["base_size"], build["head_size"])
        changed, delta = len(full["functions"]), sum(f["delta"] for f in full["functions"])
        assert changed > 100 and (full["functions_changed"], full["functions_delta"]) == (changed, delta)
        diff = build["diff"]
        assert len(diff["functions"]) == 20  # the report keeps the top 20 ...
        assert (diff["functions_changed"], diff["functions_delta"]) == (changed, delta)  # ... and counts them all
        shown = sum(f["delta"] for f in diff["functions"][:10])
        [summary] = [s for label, s in summaries.items() if f"shfmt linux/amd64 {strategy}" in label]
        assert summary == f"{changed} changed, {format_delta(delta)} in all"
        rest = delta - shown
        assert f"| … {changed - 10} more | | | {format_delta(rest)} | {rest:+,} | | | |" in markdown


def test_function_code_is_what_go_tool_nm_says(shfmt_pr):
    """The head's unstripped build: every Go function's code equals its symbol's size (an ABI0 wrapper
    is named as its function in the pclntab, so nm's ``.abi0`` symbols count under that name; the pclntab
    writes a closure's "·N" where the symbol table has ".N")."""
    exe = shfmt_pr["binaries"]["head", "trimpath"]
    [build] = [b for b in shfmt_pr["doc"]["builds"] if b["strategy"] == "trimpath"]
    out = shfmt_pr["root"] / "analyze.json"
    assert main(["analyze", str(exe), "--top", "all", "--format", "json", "-o", str(out)]) == 0
    analysis = json.loads(out.read_text())
    assert analysis["file_size"] == build["head_size"]
    ours: Counter[str] = Counter()
    for f in analysis["functions"]:
        ours[f["name"].replace("·", ".")] += f["code"]
    nm = subprocess.run(["go", "tool", "nm", "-size", str(exe)], capture_output=True, text=True, check=True).stdout
    theirs: Counter[str] = Counter()
    for line in nm.splitlines():
        _addr, size, kind, name = line.split(None, 3)
        if kind in "Tt" and int(size):
            theirs[name.removesuffix(".abi0")] += int(size)
    differ = {n: (ours.get(n), theirs.get(n)) for n in ours.keys() | theirs.keys() if ours.get(n) != theirs.get(n)}
    assert differ == {}, sorted(differ.items())[:10]  # the FIPS brackets too: 1 byte each, not their padding
    assert len(ours) > 3000
