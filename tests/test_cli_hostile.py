"""The CLI under hostile local input: FIFOs, a work directory that is a file, crashes, a binary whose
embedded file names were forged. Each fault is one line on stderr and exit 2, nothing blocks (every
subprocess runs under a timeout), and a forged name is shown as inert text in every format."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sizebot.cli import main
from tests.support.git import commit_all, git
from tests.support.goprograms import EMBEDS, build

ROOT = Path(__file__).resolve().parents[1]


def _sizebot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "sizebot", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.parametrize("argv", [["analyze", "{fifo}"], ["diff", "{fifo}", "{fifo}"], ["render", "{fifo}"],
                                  ["report", "--repo", ".", "--baseline", "{fifo}"],
                                  ["measure", "--repo", ".", "--previous", "{fifo}"]])
def test_fifo_refused_without_blocking(tmp_path, argv):
    # --repo .: a Go module's repository, so that the FIFO is what is refused
    (tmp_path / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    git(tmp_path, "init", "-q", "-b", "main")
    commit_all(tmp_path, "one")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # nobody ever writes to it: opening it for reading in blocking mode never returns
    proc = _sizebot(*[a.format(fifo=fifo) for a in argv], cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"sizebot: error: {fifo}: a FIFO, not a regular file\n"


def test_directory_refused(tmp_path, capsys):
    assert main(["analyze", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"sizebot: error: {tmp_path}: a directory, not a regular file\n"


def test_work_dir_naming_a_file(tmp_path, capsys):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    work = tmp_path / "work"
    work.write_text("a file the user keeps\n")
    assert main(["report", "--repo", str(repo), "--base", "HEAD", "--head", "HEAD", "--work-dir", str(work), "-q"]) == 2
    assert capsys.readouterr().err == f"sizebot: error: --work-dir {work}: not a directory\n"
    assert work.read_text() == "a file the user keeps\n"
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


# Same-length replacements for the embedded file name "static/app.css" in the binary's data: what a
# forged binary (a pull request's build output) can name a file, kept in the table's sorted order.
FORGED = {
    "html": b"static/a</x><!",
    "markdown": b"static/a`<b>|#",
    "bidi": "static/a\u202eexe".encode(),
    "controls": b"static/az\x1b[2J\n",
    "not-utf8": b"static/a\xff\xfe\xc0\x80zz",
}


@pytest.mark.parametrize("forged", sorted(FORGED))
def test_forged_embedded_file_names_are_inert_text(tmp_path, capsys, forged):
    name = FORGED[forged]
    assert len(name) == len(b"static/app.css")
    data = build(EMBEDS).read_bytes()
    assert data.count(b"static/app.css") == 1
    path = tmp_path / "forged"
    path.write_bytes(data.replace(b"static/app.css", name))
    shown = {}
    for fmt in ("text", "markdown", "html", "json"):
        assert main(["analyze", str(path), "--format", fmt]) == 0
        shown[fmt] = capsys.readouterr().out
    listed = [e["name"] for e in json.loads(shown["json"])["embeds"]]
    # the forged one is still listed, by its name (bytes that are not UTF-8 as \xNN escapes, with a note)
    assert "static/app.css" not in listed and len(listed) == 5
    if forged == "not-utf8":
        assert "static/a\\xff\\xfe\\xc0\\x80zz" in listed
    for fmt, out in shown.items():
        assert not re.search("[\u202a-\u202e\u2066-\u2069\x00\x1b]", out), fmt  # never obeyed: named or escaped
    assert "<b>" not in shown["markdown"] and "</x><!" not in shown["html"]
    if forged == "bidi":
        assert "static/a<U+202E>exe" in shown["text"]
        assert "static/a&lt;U\\+202E&gt;exe" in shown["markdown"]
        assert "static/a\\u003cU+202E\\u003eexe" in shown["html"]


def _hostile_json(rng, depth: int) -> object:
    """Nested objects and arrays whose strings and keys hold brackets, quotes, backslashes and UTF-8."""
    pieces = ['[', ']', '{', '}', '"', '\\', '\\"', '\\\\', 'é', '\u202e', ' ', 'x']

    def text() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randrange(6)))

    if depth == 0 or rng.random() < 0.2:
        return rng.choice([text(), 1, None, True, 2.5])
    if rng.random() < 0.5:
        return [_hostile_json(rng, depth - 1) for _ in range(rng.randrange(4))]
    return {text(): _hostile_json(rng, depth - 1) for _ in range(rng.randrange(4))}


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def test_nesting_is_measured_exactly_with_brackets_and_quotes_in_strings():
    """The scan that refuses deep JSON before the parser sees it counts only the brackets outside
    strings, whatever the strings hold (it drops escapes and strings without parsing)."""
    import random

    from sizebot.documents.jsonfile import _max_depth

    rng = random.Random(10)
    for _ in range(400):
        doc = _hostile_json(rng, rng.randrange(1, 12))
        for text in (json.dumps(doc), json.dumps(doc, ensure_ascii=False, indent=1)):
            assert _max_depth(text.encode()) == _depth(doc), text


def test_a_package_that_reads_as_a_flag_never_reaches_go_build(tmp_path):
    """A target's package from a document (a baseline's main packages) or go list's output that starts
    with '-' would be a go build flag (-toolexec runs any program): refused before anything runs."""
    from sizebot.builds.gobuild import build_binary
    from sizebot.config.model import Strategy, Target
    from sizebot.errors import BuildError

    marker = tmp_path / "ran"
    (tmp_path / "main.go").write_text("package main\n\nfunc main() {}\n")
    (tmp_path / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    with pytest.raises(BuildError, match="is not a package"):
        build_binary(tmp_path, Target("app", f"-toolexec=touch {marker}", ()), "linux/amd64", Strategy("default"),
                     tmp_path / "out")
    assert not marker.exists() and not (tmp_path / "out").exists()



@pytest.mark.parametrize("name", ["../../escaped", "..", "a/b", "a\\b"])
def test_a_target_name_that_is_a_path_never_places_a_binary(tmp_path, name):
    """The target's name names its binary's file (a baseline's main packages carry names): never a path."""
    from sizebot.builds.gobuild import build_binary
    from sizebot.config.model import Strategy, Target
    from sizebot.errors import BuildError

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "main.go").write_text("package main\n\nfunc main() {}\n")
    (repo / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    with pytest.raises(BuildError, match="not a name for a file"):
        build_binary(repo, Target(name, ".", ()), "linux/amd64", Strategy("default"), tmp_path / "out" / "dir")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]


@pytest.mark.parametrize("goarch", ["amd64", "arm64", "386"])
def test_mutated_code_never_breaks_the_data_by_reference(tmp_path, goarch):
    """Stripped, data is attributed by the code's references to it (one scanner per GOARCH): random
    bytes in the code (forged instructions, addresses anywhere) still give a report whose rows add up
    to the file, or one line of SizebotError; never another exception."""
    import random

    from sizebot.binary.attribute import analyze_binary
    from sizebot.binary.container import open_binary
    from sizebot.errors import SizebotError

    src = build(EMBEDS, goarch=goarch, flags=("-ldflags=-s -w",))
    data = src.read_bytes()
    with open_binary(src) as b:
        text = next(s for s in b.sections if s.name == ".text")
    rng = random.Random(goarch)
    path = tmp_path / "mutated"
    for flips in (64, 1024, 16384):
        mutated = bytearray(data)
        for _ in range(flips):
            mutated[text.offset + rng.randrange(text.file_size)] = rng.randrange(256)
        path.write_bytes(bytes(mutated))
        try:
            r = analyze_binary(path)
        except SizebotError as e:
            assert "\n" not in str(e)
            continue
        assert sum(p.size for p in r.packages) + sum(u.size for u in r.unattributed) == r.file_size
