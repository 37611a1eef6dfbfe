"""//go:embed into an embed.FS: every file listed with its exact size under the embedding package,
its bytes in that package's data, on ELF, Mach-O and PE, stripped or not; diff lists the changes."""

from __future__ import annotations

import struct

import pytest

from sizebot.binary.attribute import analyze_binary
from sizebot.binary.container import open_binary
from sizebot.binary.diff import diff_reports
from sizebot.binary.embeds import find_fs_tables
from sizebot.documents.analyze import BinaryReport, EmbeddedFile
from sizebot.documents.diff import BinaryDiff
from sizebot.render import render
from tests.support.goprograms import EMBEDS, EMBEDS_CSS, build

CSS, PROGRAM = EMBEDS_CSS, EMBEDS
WEB = "example.com/embedded/web"
EXPECTED = (
    EmbeddedFile(WEB, "index.html", len(PROGRAM["web/index.html"])),
    EmbeddedFile(WEB, "static/", 0),
    EmbeddedFile(WEB, "static/a.txt", 12),
    EmbeddedFile(WEB, "static/app.css", len(CSS)),
)


def _sums(r: BinaryReport) -> None:
    assert sum(p.size for p in r.packages) + sum(u.size for u in r.unattributed) == r.file_size


@pytest.mark.parametrize("flags", [(), ("-ldflags=-s -w",)], ids=["default", "stripped"])
@pytest.mark.parametrize("goos, goarch", [("linux", "amd64"), ("linux", "arm64"), ("darwin", "arm64"),
                                          ("windows", "amd64")])
def test_files_listed_exactly(goos, goarch, flags):
    r = analyze_binary(build(PROGRAM, goos=goos, goarch=goarch, flags=flags))
    _sums(r)
    assert r.embeds == EXPECTED
    web = next(p for p in r.packages if p.name == WEB)
    assert web.data >= sum(e.size for e in EXPECTED) + sum(len(e.name) for e in EXPECTED)
    assert not r.notes


def test_json_round_trip():
    r = analyze_binary(build(PROGRAM))
    doc = r.to_json()
    assert doc["embeds"][-1] == {"package": WEB, "name": "static/app.css", "size": len(CSS)}
    assert BinaryReport.from_json(doc).embeds == r.embeds


def test_diff_lists_added_removed_changed():
    changed = dict(PROGRAM)
    del changed["web/static/a.txt"]
    changed["web/static/app.css"] = CSS + "body { margin: 0 }\n"
    changed["web/static/new.js"] = "console.log(1)\n"
    changed["main.go"] = PROGRAM["main.go"].replace('"static/a.txt"', '"static/new.js"')
    d = diff_reports(analyze_binary(build(PROGRAM)), analyze_binary(build(changed)))
    rows = {(e.name, e.status, e.delta) for e in d.embeds}
    assert rows == {("static/a.txt", "removed", -12), ("static/app.css", "changed", 19),
                    ("static/new.js", "added", 15)}
    doc = d.to_json()
    assert BinaryDiff.from_json(doc).embeds == d.embeds
    text = render(d, "text", width=200)
    assert "Embedded files" in text and "static/new.js" in text and "added" in text
    md = render(d, "markdown")
    assert "#### Embedded files" in md and "| <code>static/new.js</code> | added | 0 B | 15 B | +15 B |" in md


def test_text_lists_files():
    text = render(analyze_binary(build(PROGRAM)), "text", width=200)
    table = text[text.index("Embedded files"):]
    assert "static/app.css" in table and WEB in table
    md = render(analyze_binary(build(PROGRAM)), "markdown")
    assert "<summary>Embedded files (4)</summary>" in md
    assert f"| <code>{WEB}</code> | <code>static/a.txt</code> | 12 B |" in md


def test_absurd_table_length_is_a_note(tmp_path):
    src = build(PROGRAM, flags=("-ldflags=-s -w",))
    with open_binary(src) as b:
        (table,) = find_fs_tables(b, [])
        off = table.offset
    data = bytearray(src.read_bytes())
    struct.pack_into("<QQ", data, off + 8, 1 << 40, 1 << 40)  # len and cap of the files slice
    path = tmp_path / "corrupt"
    path.write_bytes(bytes(data))
    r = analyze_binary(path)
    _sums(r)
    assert r.embeds == ()
    assert any("embed.FS table" in n and "left unattributed" in n for n in r.notes), r.notes
