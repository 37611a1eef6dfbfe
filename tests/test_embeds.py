"""//go:embed: an embed.FS's files and string/[]byte variables, every one listed with its exact size
under the embedding package, its bytes in that package's data, on ELF, Mach-O and PE, stripped or
not, Go 1.21-1.27, in a test program and in fzf from the module proxy; diff and the report comment
list the changes; damaged headers and tables are notes, never exceptions."""

from __future__ import annotations

import dataclasses
import json
import re
import struct

import pytest

from sizebot.binary.attribute import analyze_binary
from sizebot.binary.container import open_binary
from sizebot.binary.diff import diff_reports
from sizebot.binary.embeds import find_data_vars, find_fs_tables
from sizebot.documents.analyze import BinaryReport, EmbeddedFile
from sizebot.documents.diff import BinaryDiff
from sizebot.documents.report import Build, BuildDiff, BuildSide, Commit, ConfigUsed, Repo, Report
from sizebot.documents.verdict import Verdict
from sizebot.render import render
from sizebot.render.common import code_md
from sizebot.render.report_markdown import render_report_markdown
from sizebot.render.report_text import render_report_text
from tests.support.binary_reports import analyzed_or_refused
from tests.support.goprograms import EMBEDS, EMBEDS_CSS, EXTRA_GO_VERSIONS, HTTPJSON, build, go_bin
from tests.support.realprograms import FZF, build_real, module_dir
from tests.support.schemas import validate_document

CSS, PROGRAM = EMBEDS_CSS, EMBEDS
WEB = "example.com/embedded/web"
STRIPPED = ("-ldflags=-s -w",)
SCHEMA, BLOB = len(PROGRAM["web/schema.json"]), len(PROGRAM["blob.txt"])
FILES = (
    EmbeddedFile(WEB, "index.html", len(PROGRAM["web/index.html"])),
    EmbeddedFile(WEB, "static/a.txt", 12),
    EmbeddedFile(WEB, "static/app.css", len(CSS)),
)


def expected(stripped: bool) -> tuple[EmbeddedFile, ...]:
    """The files, and the two variables: by name from the symbol table, else by their order in the
    package. Not listed: web's 7-byte version string (under 1 KiB) and main's []uint16 table."""
    return tuple(sorted((
        *FILES,
        EmbeddedFile(WEB, "#1" if stripped else "schema", SCHEMA, "string"),
        EmbeddedFile("main", "#1" if stripped else "blob", BLOB, "[]byte"),
    )))


def _sums(r: BinaryReport) -> None:
    assert sum(p.size for p in r.packages) + sum(u.size for u in r.unattributed) == r.file_size


@pytest.mark.parametrize("flags", [(), STRIPPED], ids=["default", "stripped"])
@pytest.mark.parametrize("goos, goarch", [("linux", "amd64"), ("linux", "arm64"), ("linux", "386"),
                                          ("darwin", "arm64"), ("windows", "amd64")])
def test_files_listed_exactly(goos, goarch, flags):
    r = analyze_binary(build(PROGRAM, goos=goos, goarch=goarch, flags=flags))
    _sums(r)
    assert r.embeds == expected(bool(flags))
    _in_data(r)
    assert not r.notes


@pytest.mark.parametrize("flags", [(), STRIPPED], ids=["default", "stripped"])
@pytest.mark.parametrize("version", EXTRA_GO_VERSIONS)
def test_go_versions(version, flags):
    r = analyze_binary(build(PROGRAM, flags=flags, go=go_bin(version)))
    _sums(r)
    assert r.go_version == f"go{version}"
    assert r.embeds == expected(bool(flags))
    _in_data(r)


def _in_data(r: BinaryReport) -> None:
    """Each package's data holds its embeds' bytes (contents, plus each file's name and 3-word
    header, each variable's header)."""
    packages = {p.name: p for p in r.packages}
    ptr = 4 if r.goarch == "386" else 8
    web = sum(e.size + len(e.name) + 6 * ptr for e in r.embeds if e.package == WEB and e.kind == "file")
    assert packages[WEB].data >= web + SCHEMA + 2 * ptr
    assert packages["main"].data >= BLOB + 3 * ptr


@pytest.mark.parametrize("flags", [(), STRIPPED], ids=["default", "stripped"])
def test_standard_library_variables_not_listed(flags):
    """net/http's []byte literals and idna's long string tables have an embed's shape: not listed."""
    r = analyze_binary(build(HTTPJSON, flags=flags))
    _sums(r)
    assert r.embeds == ()


def test_command_line_files_build():
    """`go build main.go` (no main module in the build info): main's embed is still listed."""
    files = {"go.mod": PROGRAM["go.mod"], "blob.txt": PROGRAM["blob.txt"],
             "main.go": 'package main\n\nimport (\n\t_ "embed"\n\t"fmt"\n)\n\n//go:embed blob.txt\nvar blob []byte\n\n'
                        "func main() { fmt.Println(len(blob)) }\n"}
    for flags in ((), STRIPPED):
        r = analyze_binary(build(files, package="main.go", flags=flags))
        _sums(r)
        assert r.build_info.main is None
        assert {m.path for m in r.modules if m.path == "std"} == {"std"}
        assert next(p for p in r.packages if p.name == "main").module == ""  # unknown, never "std"
        assert r.embeds == (EmbeddedFile("main", "#1" if flags else "blob", BLOB, "[]byte"),)


def test_json_round_trip():
    r = analyze_binary(build(PROGRAM))
    doc = r.to_json()
    assert doc["embeds"][-1] == {"package": "main", "name": "blob", "size": BLOB, "kind": "[]byte"}
    assert {"package": WEB, "name": "schema", "size": SCHEMA, "kind": "string"} in doc["embeds"]
    assert BinaryReport.from_json(doc).embeds == r.embeds
    del doc["embeds"][0]["kind"]  # documents written before variables were listed
    assert BinaryReport.from_json(doc).embeds[0].kind == "file"


def _changed() -> dict[str, str]:
    """The program with a.txt swapped for new.js, app.css longer, blob longer, the schema string
    gone and a new []byte embed."""
    changed = dict(PROGRAM)
    del changed["web/static/a.txt"]
    changed["web/static/app.css"] = CSS + "body { margin: 0 }\n"
    changed["web/static/new.js"] = "console.log(1)\n"
    changed["blob.txt"] = "x" * 3500
    changed["logo.png"] = "PNG" + "L" * 2045
    changed["web/web.go"] = (PROGRAM["web/web.go"].replace("//go:embed schema.json\nvar schema string\n\n", "")
                             .replace('strings.Count(schema, ":")', 'strings.Count(version, ":")'))
    changed["main.go"] = (PROGRAM["main.go"].replace('"static/a.txt"', '"static/new.js"')
                          .replace("var blob []byte\n", "var blob []byte\n\n//go:embed logo.png\nvar logo []byte\n")
                          .replace("len(blob),", "len(blob), len(logo),"))
    return changed


def test_diff_lists_added_removed_changed():
    d = diff_reports(analyze_binary(build(PROGRAM)), analyze_binary(build(_changed())))
    rows = {(e.package, e.name, e.kind, e.status, e.delta) for e in d.embeds}
    assert rows == {(WEB, "static/a.txt", "file", "removed", -12), (WEB, "static/app.css", "file", "changed", 19),
                    (WEB, "static/new.js", "file", "added", 15), (WEB, "schema", "string", "removed", -SCHEMA),
                    ("main", "blob", "[]byte", "changed", 500), ("main", "logo", "[]byte", "added", 2048)}
    doc = d.to_json()
    assert BinaryDiff.from_json(doc).embeds == d.embeds
    text = render(d, "text", width=200)
    assert "Embedded files" in text and "static/new.js" in text and "var logo []byte" in text
    md = render(d, "markdown")
    assert "#### Embedded files" in md and "| <code>static/new.js</code> | added | 0 B | 15 B | +15 B |" in md
    assert f"| <code>{WEB}</code> | <code>var schema string</code> | removed | 2.78 KB | 0 B | -2.78 KB |" in md


def test_directories_are_not_files():
    """A head that embeds a new directory tree: analyze, diff, report and their texts list its files,
    never "assets/" or "assets/img/" as added 0 B files; a document of an older analysis that lists
    "static/" with size 0 changes nothing either."""
    head_files = dict(PROGRAM)
    head_files["web/assets/logo.svg"] = "<svg/>\n"
    head_files["web/assets/img/a.gif"] = "GIF89a" + "g" * 100
    head_files["web/web.go"] = PROGRAM["web/web.go"].replace("//go:embed index.html static\n",
                                                             "//go:embed index.html static assets\n")
    old, new = analyze_binary(build(PROGRAM)), analyze_binary(build(head_files))
    assert [e.name for e in new.embeds if e.kind == "file"] == [
        "assets/img/a.gif", "assets/logo.svg", "index.html", "static/a.txt", "static/app.css"]
    d = diff_reports(old, new)
    assert [(e.name, e.status, e.delta) for e in d.embeds] == [("assets/img/a.gif", "added", 106),
                                                                ("assets/logo.svg", "added", 7)]
    side = BuildSide("ok", None)
    build_row = Build("app", ".", "linux/amd64", "default", side, side, BuildDiff.of(d, top=10),
                      d.old.file_size, d.new.file_size)
    report = Report(verdict=Verdict.NEUTRAL, repo=Repo("", ""), base=Commit("", "0" * 40, ""),
                    head=Commit("", "1" * 40, ""), config=ConfigUsed(None, True), builds=(build_row,))
    for text in (render(new, "text", width=200), render(new, "markdown"), render(d, "text", width=200),
                 render(d, "markdown"), render_report_markdown(report), render_report_text(report, width=200),
                 json.dumps(d.to_json())):
        assert "assets/img/a.gif" in text and not re.search(r"(static|assets|img)/[^a-z]", text), text
    older = dataclasses.replace(old, embeds=tuple(sorted((*old.embeds, EmbeddedFile(WEB, "static/", 0)))))
    assert diff_reports(older, old).embeds == ()
    assert diff_reports(older, new).embeds == d.embeds


def test_report_comment_lists_changed_embeds():
    """The pull request comment has an "Embedded files" section: what changed, largest first."""
    d = diff_reports(analyze_binary(build(PROGRAM)), analyze_binary(build(_changed())))
    side = BuildSide("ok", None)
    b = Build("app", ".", "linux/amd64", "default", side, side, BuildDiff.of(d, top=10),
              d.old.file_size, d.new.file_size)
    report = Report(verdict=Verdict.NEUTRAL, repo=Repo("", ""), base=Commit("", "0" * 40, ""),
                    head=Commit("", "1" * 40, ""), config=ConfigUsed(None, True), builds=(b,))
    doc = report.to_json()
    validate_document(doc)
    assert Report.from_json(doc).builds[0].diff.embeds == d.embeds
    md = render_report_markdown(report)
    table = md[md.index("<summary>📎 Embedded files</summary>"):]
    table = table[: table.index("</details>")]
    rows = [line for line in table.splitlines() if line.startswith("| <code>")]
    assert rows == [
        f"| <code>{WEB}</code> | {code_md('var schema string')} | removed | 2.78 KB | 0 B | -2.78 KB |",
        f"| <code>main</code> | {code_md('var logo []byte')} | added | 0 B | 2.05 KB | +2.05 KB |",
        f"| <code>main</code> | {code_md('var blob []byte')} | changed | 3.00 KB | 3.50 KB | +500 B |",
        f"| <code>{WEB}</code> | <code>static/app.css</code> | changed | 5.09 KB | 5.11 KB | +19 B |",
        f"| <code>{WEB}</code> | <code>static/new.js</code> | added | 0 B | 15 B | +15 B |",
        f"| <code>{WEB}</code> | <code>static/a.txt</code> | removed | 12 B | 0 B | -12 B |",
    ]
    text = render_report_text(report, width=200)
    table = text[text.index("Embedded files of app linux/amd64 default"):]
    assert "var logo []byte" in table and "static/a.txt" in table and "-2.78 KB" in table


def test_diff_stripped():
    """Without symbols a variable is its package's "#N": blob stays main's first []byte."""
    changed = _changed()
    changed["main.go"] = changed["main.go"].replace("//go:embed logo.png\nvar logo []byte\n", "").replace(
        "len(logo), ", "")
    d = diff_reports(analyze_binary(build(PROGRAM, flags=STRIPPED)), analyze_binary(build(changed, flags=STRIPPED)))
    rows = {(e.package, e.name, e.kind, e.status, e.delta) for e in d.embeds if e.kind != "file"}
    assert rows == {(WEB, "#1", "string", "removed", -SCHEMA), ("main", "#1", "[]byte", "changed", 500)}


@pytest.mark.parametrize("goarch", ["amd64", "arm64"])
def test_diff_stripped_an_embed_added_before_the_others_is_one_embed_added(goarch):
    """Without symbols the variables are numbered in the order the binary holds them: a []byte embed
    added where it comes first renumbers the one already there. Matched by size, the diff still says one
    embed was added and nothing changed (not: blob "changed" to the new file's size and blob added)."""
    changed = dict(PROGRAM)
    changed["logo.png"] = "PNG" + "L" * 2045
    changed["main.go"] = (PROGRAM["main.go"].replace("//go:embed blob.txt\n", "//go:embed logo.png\nvar logo []byte\n\n"
                                                     "//go:embed blob.txt\n")
                          .replace("len(blob),", "len(logo), len(blob),"))
    old = analyze_binary(build(PROGRAM, goarch=goarch, flags=STRIPPED))
    new = analyze_binary(build(changed, goarch=goarch, flags=STRIPPED))
    assert sorted(e.size for e in new.embeds if e.package == "main") == [2048, BLOB]
    renumbered = {e.size: e.name for e in new.embeds if e.package == "main"}[BLOB] != "#1"
    d = diff_reports(old, new)
    assert [(e.package, e.kind, e.status, e.old_size, e.new_size) for e in d.embeds] == [
        ("main", "[]byte", "added", 0, 2048)]
    assert d.embeds[0].name == {e.size: e.name for e in new.embeds if e.package == "main"}[2048]
    print(f"linux/{goarch}: blob renumbered: {renumbered}")


def test_text_lists_files():
    text = render(analyze_binary(build(PROGRAM)), "text", width=200)
    table = text[text.index("Embedded files"):]
    assert "static/app.css" in table and WEB in table and "var blob []byte" in table
    md = render(analyze_binary(build(PROGRAM)), "markdown")
    assert "<summary>Embedded files (5)</summary>" in md
    assert f"| <code>{WEB}</code> | <code>static/a.txt</code> | 12 B |" in md
    assert "| <code>main</code> | <code>var blob \\[\\]byte</code> | 3.00 KB |" in md
    md = render(analyze_binary(build(PROGRAM, flags=STRIPPED)), "markdown")
    assert f"| <code>main</code> | {code_md('var #1 []byte')} | 3.00 KB |" in md


def test_absurd_table_length_is_a_note(tmp_path):
    src = build(PROGRAM, flags=STRIPPED)
    with open_binary(src) as b:
        (table,) = find_fs_tables(b, [])
    # len and cap of the files slice
    r = _corrupt(tmp_path, src, lambda d: struct.pack_into("<QQ", d, table.offset + 8, 1 << 40, 1 << 40))
    assert [e for e in r.embeds if e.kind == "file"] == []
    assert any("embed.FS table" in n and "left unattributed" in n for n in r.notes), r.notes


@pytest.mark.parametrize("flags", [(), STRIPPED])
def test_a_file_name_that_is_not_utf8_keeps_the_table_with_a_note(tmp_path, flags):
    """A table whose "static/a.txt" is forged to "static/\\xff.txt": every file is still listed, that
    name with the byte escaped, and a note says so; in markdown it is escaped as any name."""
    src = build(PROGRAM, flags=flags)
    with open_binary(src) as b:
        (table,) = find_fs_tables(b, [])
    [name_off] = [off for name, _, _, off in table.files if name == "static/a.txt"]
    r = _corrupt(tmp_path, src, lambda d: d.__setitem__(name_off + len("static/"), 0xFF))
    files = {e.name: e for e in r.embeds if e.kind == "file"}
    assert sorted(files) == ["index.html", "static/\\xff.txt", "static/app.css"]
    assert files["static/\\xff.txt"].size == 12
    assert any(n.startswith("embed.FS table at ") and n.endswith(": 1 file name(s) not UTF-8, shown with \\xNN escapes")
               for n in r.notes), r.notes
    md = render(r, "markdown")
    assert f"| {code_md('static/' + chr(92) + 'xff.txt')} | 12 B |" in md


def _corrupt(tmp_path, src, patch) -> BinaryReport:
    data = bytearray(src.read_bytes())
    patch(data)
    path = tmp_path / "corrupt"
    path.write_bytes(bytes(data))
    r = analyze_binary(path)
    _sums(r)
    return r


def test_absurd_variable_header_is_a_note(tmp_path):
    """A []byte header whose length (and capacity) is absurd: its bytes stay unattributed, with a
    note; a pointer to nowhere or a string's absurd length: not taken for a variable at all."""
    src = build(PROGRAM, flags=STRIPPED)
    with open_binary(src) as b:
        found = {v.kind: v for v in find_data_vars(b, []) if v.size in (BLOB, SCHEMA)}
    blob, schema = found["[]byte"], found["string"]
    r = _corrupt(tmp_path, src, lambda d: struct.pack_into("<QQ", d, blob.offset + 8, 1 << 40, 1 << 40))
    assert [e for e in r.embeds if e.package == "main"] == []
    assert any(n.startswith("[]byte variable at ") and "left unattributed" in n for n in r.notes), r.notes
    r = _corrupt(tmp_path, src, lambda d: struct.pack_into("<Q", d, blob.offset, 0xDEAD_BEEF_0000))
    assert [e for e in r.embeds if e.package == "main"] == []
    r = _corrupt(tmp_path, src, lambda d: struct.pack_into("<Q", d, schema.offset + 8, 1 << 62))
    assert [e.kind for e in r.embeds if e.package == WEB] == ["file"] * 3


def test_mutated_data_never_crashes(tmp_path):
    """Random bytes changed in the writable data (variable headers) and the read-only data (tables,
    contents) of a stripped build: a report whose sums hold, or one line of SizebotError."""
    import random

    rng = random.Random(7)
    src = build(PROGRAM, flags=STRIPPED)
    data = src.read_bytes()
    with open_binary(src) as b:
        found = [v for v in find_data_vars(b, []) if v.size in (BLOB, SCHEMA)]
        secs = [s for s in b.sections if s.file_size and s.name in (".data", ".noptrdata", ".rodata")]
    path = tmp_path / "mutated"
    for i in range(16):
        mutated = bytearray(data)
        if i % 2:  # a header's words
            v = rng.choice(found)
            for _ in range(rng.choice((1, 3))):
                mutated[v.offset + rng.randrange(v.header)] = rng.randrange(256)
        else:
            sec = rng.choice(secs)
            for _ in range(rng.choice((1, 8, 64))):
                mutated[sec.offset + rng.randrange(sec.file_size)] = rng.randrange(256)
        path.write_bytes(bytes(mutated))
        r = analyzed_or_refused(path)
        assert r is None or all(e.size <= len(data) for e in r.embeds)


FZF_EMBEDS = (  # fzf v0.56.0's main.go: //go:embed FILE, var NAME []byte, in this order
    ("bashKeyBindings", "shell/key-bindings.bash"), ("bashCompletion", "shell/completion.bash"),
    ("zshKeyBindings", "shell/key-bindings.zsh"), ("zshCompletion", "shell/completion.zsh"),
    ("fishKeyBindings", "shell/key-bindings.fish"), ("manPage", "man/man1/fzf.1"),
)


@pytest.mark.parametrize("ldflags", ["", "-s -w"], ids=["default", "stripped"])
@pytest.mark.parametrize("goarch", ["amd64", "arm64"])
def test_real_program_fzf(goarch, ldflags):
    """fzf, from the module proxy: its six []byte embeds listed under main with the exact sizes of
    the files in its module (stripped: by their order, which is the declaration's), nothing else."""
    src = module_dir(FZF)
    r = analyze_binary(build_real(FZF, goarch=goarch, ldflags=ldflags))
    _sums(r)
    sizes = [(src / path).stat().st_size for _, path in FZF_EMBEDS]
    names = [f"#{i}" for i in range(1, 7)] if ldflags else [name for name, _ in FZF_EMBEDS]
    assert r.embeds == tuple(sorted(EmbeddedFile("main", n, s, "[]byte") for n, s in zip(names, sizes, strict=True)))
    main = next(p for p in r.packages if p.name == "main")
    assert main.data >= sum(sizes) + 6 * 24
