"""diff_images on hand-made reports: layer matching, file changes, totals; JSON valid against its
schema; markdown escapes untrusted paths and commands."""

from __future__ import annotations

import json
import math

import jsonschema

from sizebot.documents.image import FileEntry, ImageReport, LayerReport
from sizebot.image.diff import diff_images, match_layers
from sizebot.render import render
from tests.support.schemas import load_schema

SCHEMA = load_schema("image-diff")


def layer(i: int, diff_id: str, command: str, size: int, compressed: int | None = None) -> LayerReport:
    return LayerReport(index=i, digest="", diff_id=diff_id, command=command, size=size,
                       compressed_size=size // 2 if compressed is None else compressed, file_count=1)


def image(layers: list[LayerReport], files: list[FileEntry], *, efficiency: float = 1.0, wasted: int = 0,
          uwp: float = 0.0, corrected: int = 0, source: str = "a.tar") -> ImageReport:
    return ImageReport(source=source, platform="linux/amd64", size=sum(x.size for x in layers),
                       user_size=sum(x.size for x in layers[1:]), efficiency=efficiency, wasted_bytes=wasted,
                       user_wasted_percent=uwp, inefficiencies=(), layers=tuple(layers),
                       compressed_size=sum(x.compressed_size for x in layers), corrected_wasted_bytes=corrected,
                       duplicates=(), largest_files=(), files=tuple(sorted(files, key=lambda f: f.path)),
                       file_count=len(files))


def fe(path: str, size: int, digest: str = "", kind: str = "file") -> FileEntry:
    return FileEntry(path=path, size=size, digest=digest or f"sha256:{size:064x}", layer=0, kind=kind)


def test_layers_match_by_diff_id_then_command_in_order():
    old = (layer(0, "sha256:base", "", 100), layer(1, "sha256:a", "RUN x", 10), layer(2, "sha256:b", "RUN x", 20),
           layer(3, "sha256:c", "COPY old", 30))
    new = (layer(0, "sha256:base", "", 100), layer(1, "sha256:a2", "RUN x", 11), layer(2, "sha256:b2", "RUN x", 25),
           layer(3, "sha256:d", "COPY new", 40), layer(4, "sha256:c", "COPY moved", 30))
    got = [(c.old_index, c.new_index, c.match, c.size_delta) for c in match_layers(old, new)]
    assert got == [(0, 0, "diff_id", 0), (1, 1, "command", 1), (2, 2, "command", 5), (None, 3, "added", 40),
                   (3, 4, "diff_id", 0)]


def test_unmatched_base_layers_are_removed_and_empty_keys_never_match():
    old = (layer(0, "", "", 5), layer(1, "sha256:x", "RUN a", 7))
    new = (layer(0, "", "", 5),)
    got = [(c.old_index, c.new_index, c.match) for c in match_layers(old, new)]
    assert got == [(None, 0, "added"), (0, None, "removed"), (1, None, "removed")]


def test_files_and_totals():
    old = image([layer(0, "sha256:base", "", 1000), layer(1, "sha256:app1", "COPY app", 500)],
                [fe("/bin", 0, kind="dir"), fe("/app/a", 100), fe("/app/b", 200), fe("/app/c", 300),
                 fe("/app/same", 50, "sha256:1"), fe("/app/gone", 40), fe("/link", 0, kind="symlink")],
                efficiency=0.9, wasted=300, uwp=0.6, corrected=120)
    new = image([layer(0, "sha256:base", "", 1000), layer(1, "sha256:app2", "COPY app", 800)],
                [fe("/bin", 0, kind="dir"), fe("/app/a", 150), fe("/app/b", 50), fe("/app/c", 300),
                 fe("/app/same", 50, "sha256:2"), fe("/app/new", 70), fe("/app/new2", 70), fe("/usr", 0, kind="dir"),
                 fe("/link", 0, kind="symlink")],
                efficiency=0.95, wasted=100, uwp=0.125, corrected=20, source="b.tar")
    d = diff_images(old, new, top=1)
    assert (d.size.old, d.size.new, d.size.delta) == (1500, 1800, 300)
    assert d.compressed_size.delta == 150
    assert math.isclose(d.efficiency.delta, 0.05)
    assert (d.wasted_bytes.delta, d.corrected_wasted_bytes.delta) == (-200, -100)
    # top 1 by |delta|, ties by path; counts and byte sums cover every change
    assert [(c.path, c.delta) for c in d.added.top] == [("/app/new", 70)]
    assert (d.added.count, d.added.bytes) == (2, 140)  # directories are not files
    assert [(c.path, c.delta) for c in d.removed.top] == [("/app/gone", -40)]
    assert [(c.path, c.old_size, c.new_size) for c in d.grown.top] == [("/app/a", 100, 150)]
    assert [(c.path, c.delta) for c in d.shrunk.top] == [("/app/b", -150)]
    assert d.modified_same_size == 1
    assert [(c.old_index, c.new_index, c.match) for c in d.layers] == [(0, 0, "diff_id"), (1, 1, "command")]
    doc = d.to_json()
    jsonschema.validate(doc, SCHEMA)
    assert doc["files"]["added"] == {"count": 2, "bytes": 140, "top": [
        {"path": "/app/new", "old_size": 0, "new_size": 70, "delta": 70, "kind": "file"}]}
    assert json.loads(render(d, "json")) == doc


def test_nan_and_inf_ratios_are_null_in_json():
    a = image([layer(0, "sha256:x", "", 10)], [fe("/a", 10)], uwp=math.nan)
    b = image([layer(0, "sha256:y", "", 20)], [fe("/a", 20)], uwp=math.inf)
    doc = diff_images(a, b).to_json()
    jsonschema.validate(doc, SCHEMA)
    assert doc["user_wasted_percent"] == {"old": None, "new": None, "delta": None}
    assert "n/a" in render(diff_images(a, b), "markdown")


def test_markdown_escapes_paths_and_commands():
    evil = "/app/<img src=x>|@team #1 [x](https://e.vil)"
    cmd = "RUN echo '</code>|<script>' @someone"
    a = image([layer(0, "sha256:x", "", 10)], [fe("/a", 10)])
    b = image([layer(0, "sha256:x", "", 10), layer(1, "sha256:z", cmd, 5)], [fe("/a", 10), fe(evil, 5)])
    md = render(diff_images(a, b), "markdown")
    assert "<img" not in md and "<script>" not in md and "</code>|" not in md
    assert "@someone" not in md and "@team" not in md
    assert "&lt;img src=x&gt;" in md
    # every table row keeps its column count: escaped pipes never split a cell
    for line in md.splitlines():
        if line.startswith("| +5 B"):
            assert line.count(" | ") == 3
    text = render(diff_images(a, b), "text")
    assert "Files added: 1" in text and "<img src=x>" in text  # plain text is shown as is, never parsed


def test_the_stored_figure_is_not_called_compressed():
    # a docker archive stores plain layer tars: the blobs' bytes are "as stored", compressed or not
    a = image([layer(0, "sha256:x", "", 100, 300)], [fe("/a", 100)])
    b = image([layer(0, "sha256:x", "", 100, 300), layer(1, "sha256:z", "RUN x", 50, 250)], [fe("/a", 100), fe("/b", 50)])
    md = render(diff_images(a, b), "markdown")
    assert "| layer blobs as stored | 300 B | 550 B | +250 B (+83.33%) |" in md
    assert "| base | head | match | size | delta | stored delta | command |" in md
    text = render(diff_images(a, b), "text")
    assert "layer blobs as stored" in text and "stored delta" in text
    assert "compressed" not in md + text
