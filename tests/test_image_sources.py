"""Every archive and layout reader gives the same figures for the same layers; OCI indexes
(nested, multi-platform, attestations); our own figures (corrected waste, duplicates,
compressed sizes, commands, final filesystem) checked against independent re-counts;
the CLI and its JSON (schema-validated) and markdown (escaped)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import cmarkgfm
import jsonschema
import pytest

from sizebot.cli import main
from sizebot.documents.image import ImageReport
from sizebot.errors import ImageError
from sizebot.image.analysis import analyze_image
from sizebot.image.sources import open_source
from sizebot.render import render
from tests.support.images import (
    M,
    compress,
    d,
    docker25_archive,
    docker_archive,
    f,
    hard,
    kaniko_tar,
    layer_tar,
    oci_blobs,
    oci_dir,
    oci_tar,
    opq,
    sha,
    sym,
    wh,
)
from tests.support.paths import DIVE_FIXTURES
from tests.support.schemas import load_schema

SCHEMA = load_schema("image")

LAYERS = [
    [d("app"), f("app/bin", 3000), f("app/data.txt", 500), f("etc/conf", 120), d("cache"), f("cache/a", 700),
     f("cache/b", 800), sym("app/link", "bin")],
    [f("app/bin", 3100), f("copy1.txt", 500), opq("cache"), f("cache/c", 90)],
    [wh("etc/conf"), f("app/data2.txt", 500), hard("app/bin2", "app/bin")],
]


def figures(r) -> tuple:
    return (r.size, r.user_size, r.efficiency, r.wasted_bytes, r.user_wasted_percent, r.corrected_wasted_bytes,
            [(i.path, i.count, i.size) for i in r.inefficiencies], [(x.size, x.file_count) for x in r.layers],
            [(x.path, x.size, x.digest, x.layer, x.kind) for x in r.files])


@pytest.fixture
def legacy(tmp_path) -> Path:
    return docker_archive(tmp_path / "legacy.tar", LAYERS)


def test_legacy_archive_against_an_independent_recount(legacy):
    r = analyze_image(str(legacy))
    assert r.format == "docker-archive"
    assert r.platform == "linux/amd64"
    # Re-count with tarfile: a layer's size is the sum of its header sizes.
    expect_sizes = []
    with tarfile.open(legacy) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        for name in manifest[0]["Layers"]:
            with tarfile.open(fileobj=outer.extractfile(name)) as inner:
                expect_sizes.append(sum(m.size for m in inner.getmembers()))
            assert r.layers[len(expect_sizes) - 1].compressed_size == outer.getmember(name).size
    assert [x.size for x in r.layers] == expect_sizes == [3000 + 500 + 120 + 700 + 800, 3100 + 500 + 90, 500]
    assert r.size == sum(expect_sizes) and r.user_size == sum(expect_sizes[1:])
    # Commands: empty_layer history entries skipped, "/bin/sh -c " cut as dive does.
    assert [x.command for x in r.layers] == ["step 0", "step 1", "step 2"]
    files = {x.path: x for x in r.files}
    # Opaque whiteout: /cache/a and /cache/b (layer 0) hidden, /cache/c (layer 1) visible.
    assert "/cache/a" not in files and "/cache/b" not in files and files["/cache/c"].layer == 1
    assert "/etc/conf" not in files
    assert files["/app/bin"].size == 3100 and files["/app/bin"].layer == 1
    assert files["/app/link"].kind == "symlink" and files["/app/link"].link == "bin"
    assert files["/app/bin2"].kind == "hardlink"
    content = bytes((i * 7 + len("app/data.txt")) % 251 for i in range(500))
    assert files["/app/data.txt"].digest == "sha256:" + hashlib.sha256(content).hexdigest()
    # Corrected waste: the first /app/bin (3000), /cache/a+b (1500, opaque), /etc/conf (120).
    assert r.corrected_wasted_bytes == 3000 + 700 + 800 + 120
    assert r.corrected_wasted_bytes == r.size - sum(x.size for x in r.files)
    # dive ignores the opaque whiteout and counts the surviving copy: /app/bin 3000+3100.
    assert [(i.path, i.count, i.size) for i in r.inefficiencies] == [("/app/bin", 2, 6100), ("/etc/conf", 2, 120)]
    assert r.wasted_bytes == 6220
    # Largest first, ties by path.
    assert [(x.path, x.size) for x in r.largest_files[:4]] == [
        ("/app/bin", 3100), ("/app/data.txt", 500), ("/app/data2.txt", 500), ("/copy1.txt", 500)]


def test_final_filesystem_replacements(tmp_path):
    img = docker_archive(tmp_path / "replace.tar", [
        [f("x/a", 10), f("y", 20), d("z"), f("z/in", 30), f("w/keep", 4)],
        [wh("x"), f("x", 5), f("y/b", 7), f("z", 3), opq("w"), wh("w/keep")],
    ])
    r = analyze_image(str(img))
    # x: dir deleted and re-made as a file in the same layer (whiteouts hide lower layers only);
    # y: a file replaced by a directory; z: a directory replaced by a file (its content hidden).
    assert [(x.path, x.size, x.layer, x.kind) for x in r.files] == [
        ("/x", 5, 1, "file"), ("/y/b", 7, 1, "file"), ("/z", 3, 1, "file")]
    assert r.corrected_wasted_bytes == (10 + 20 + 30 + 4 + 5 + 7 + 3) - (5 + 7 + 3)
    assert r.total_file_size == 15 and r.file_count == 3


def test_duplicates_group_identical_content(tmp_path):
    blob = b"x" * 4096
    img = docker_archive(tmp_path / "dup.tar", [[M("a/one", blob), M("b/two", blob), M("c/empty1"), M("c/empty2")],
                                                [M("three", blob)]])
    r = analyze_image(str(img))
    assert len(r.duplicates) == 1
    g = r.duplicates[0]
    assert g.digest == sha(blob) and g.size == 4096 and g.paths == ("/a/one", "/b/two", "/three") and g.wasted == 8192


def test_all_formats_agree(tmp_path, legacy):
    base = figures(analyze_image(str(legacy)))
    d25 = analyze_image(str(docker25_archive(tmp_path / "d25.tar", LAYERS)))
    assert d25.format == "docker-archive-oci"
    assert figures(d25) == base
    assert all(x.media_type == "application/vnd.oci.image.layer.v1.tar" for x in d25.layers)
    k = analyze_image(str(kaniko_tar(tmp_path / "kaniko.tar", LAYERS)))
    assert k.format == "kaniko" and figures(k) == base
    assert [x.digest for x in k.layers] == [sha(compress(layer_tar(m), "gzip")) for m in LAYERS]
    assert [x.compression for x in k.layers] == ["gzip"] * 3
    legacy_report = analyze_image(str(legacy))
    assert [x.digest for x in legacy_report.layers] == [x.diff_id for x in legacy_report.layers] == [
        sha(layer_tar(m)) for m in LAYERS]
    for how in ("none", "gzip", "zstd"):
        blobs, index = oci_blobs([(LAYERS, "linux/amd64", "")], compression=how)
        as_dir = analyze_image(str(oci_dir(tmp_path / f"dir-{how}", blobs, index)))
        as_tar = analyze_image(str(oci_tar(tmp_path / f"oci-{how}.tar", blobs, index)))
        assert as_dir.format == "oci-layout" and as_tar.format == "oci-archive"
        assert figures(as_dir) == figures(as_tar) == base
        assert [x.compression for x in as_tar.layers] == [how] * 3
        stored = [compress(layer_tar(m), how) for m in LAYERS]
        assert [x.compressed_size for x in as_tar.layers] == [len(s) for s in stored]
        assert [x.digest for x in as_tar.layers] == [sha(s) for s in stored]
        assert [x.diff_id for x in as_tar.layers] == [sha(layer_tar(m)) for m in LAYERS]


def test_extracted_and_gzipped_docker_save(tmp_path, legacy):
    base = figures(analyze_image(str(legacy)))
    extracted = tmp_path / "extracted"
    with tarfile.open(legacy) as tf:
        tf.extractall(extracted, filter="data")
    r = analyze_image(str(extracted))
    assert r.format == "docker-archive" and figures(r) == base
    gz = tmp_path / "image.tar.gz"
    gz.write_bytes(compress(legacy.read_bytes(), "gzip"))  # docker save | gzip
    assert figures(analyze_image(str(gz))) == base


def test_multi_platform_index(tmp_path):
    amd = [[f("bin/app", 1000)]]
    arm = [[f("bin/app", 900)], [f("extra", 5)]]
    armv7 = [[f("bin/app", 800)]]
    blobs, index = oci_blobs([(amd, "linux/amd64", ""), (arm, "linux/arm64/v8", ""), (armv7, "linux/arm/v7", "")],
                             attestation=True)
    layout = oci_dir(tmp_path / "multi", blobs, index)
    with pytest.raises(ImageError) as err:
        analyze_image(str(layout))
    assert "--platform" in str(err.value)
    assert "linux/amd64, linux/arm/v7, linux/arm64/v8" in str(err.value)  # attestation (unknown/unknown) left out
    assert analyze_image(str(layout), platform="linux/amd64").size == 1000
    r = analyze_image(str(layout), platform="linux/arm64")
    assert (r.size, r.platform, len(r.layers)) == (905, "linux/arm64/v8", 2)
    assert analyze_image(str(layout), platform="linux/arm/v7").size == 800
    with pytest.raises(ImageError, match=r"no image for platform linux/s390x \(available: linux/amd64, "):
        analyze_image(str(layout), platform="linux/s390x")


def test_nested_index_and_single_platform_mismatch(tmp_path):
    blobs, index = oci_blobs([([[f("a", 10)], [f("b", 20)]], "linux/arm64", "")], nested=True)
    layout = oci_tar(tmp_path / "nested.tar", blobs, index)
    r = analyze_image(str(layout))
    assert [x.size for x in r.layers] == [10, 20] and r.platform == "linux/arm64"
    assert analyze_image(str(layout), platform="linux/arm64").size == 30
    with pytest.raises(ImageError, match="holds a linux/arm64 image, not linux/amd64"):
        analyze_image(str(layout), platform="linux/amd64")


def test_layer_order_is_manifest_order_not_archive_order(tmp_path):
    layers = [[f("x", 1)], [f("x", 2)], [f("x", 3)], [wh("x")]]
    blobs, index = oci_blobs([(layers, "linux/amd64", "")], compression="gzip")
    # Write blobs in reverse digest order: the reader must follow the manifest, not the tar.
    items = dict(sorted(blobs.items(), reverse=True))
    r = analyze_image(str(oci_tar(tmp_path / "order.tar", items, index)))
    assert [x.size for x in r.layers] == [1, 2, 3, 0]
    assert r.inefficiencies[0].path == "/x" and r.inefficiencies[0].count == 4
    assert r.files == ()


def test_docker_save_layer_symlink(tmp_path):
    # docker save writes a layer seen twice as a symlink to its first copy.
    layer = layer_tar([f("same", 64)])
    cfg = json.dumps({"os": "linux", "architecture": "amd64", "rootfs": {"type": "layers", "diff_ids": [sha(layer)] * 2},
                      "history": [{"created_by": "a"}, {"created_by": "b"}]}).encode()
    path = tmp_path / "symlinked.tar"
    with tarfile.open(path, "w") as tf:
        for name, data in (("aaa/layer.tar", layer), ("c.json", cfg)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
        ti = tarfile.TarInfo("bbb/layer.tar")
        ti.type = tarfile.SYMTYPE
        ti.linkname = "../aaa/layer.tar"
        tf.addfile(ti)
        man = json.dumps([{"Config": "c.json", "Layers": ["aaa/layer.tar", "bbb/layer.tar"]}]).encode()
        ti = tarfile.TarInfo("manifest.json")
        ti.size = len(man)
        tf.addfile(ti, io.BytesIO(man))
    r = analyze_image(str(path))
    # `dive --source docker-archive symlinked.tar --json out.json` reads the link as an empty
    # layer: layer sizes [64, 0], sizeBytes 64, efficiency 1, no inefficient file. dive's figures
    # here do the same; sizebot's own figures read the real content through the link.
    assert [x.size for x in r.layers] == [64, 0] and [x.linked for x in r.layers] == [False, True]
    assert (r.size, r.efficiency, r.wasted_bytes, r.inefficiencies) == (64, 1.0, 0, ())
    assert [x.compressed_size for x in r.layers] == [len(layer)] * 2
    assert r.corrected_wasted_bytes == 64 and [(x.path, x.layer) for x in r.files] == [("/same", 1)]
    assert [x.command for x in r.layers] == ["a", "b"]


def test_open_source_describes_without_reading_layers(legacy):
    with open_source(str(legacy)) as src:
        assert len(src.info.layers) == 3
        assert src.info.config["rootfs"]["type"] == "layers"
        assert src.info.config_digest.startswith("sha256:")
        with src.open_layer(src.info.layers[2]) as fh:
            assert fh.read(512)[:12] == b"etc/.wh.conf"


# ---------------------------------------------------------------------------------------- CLI


def run_cli(*args: str, capsys) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_is_valid_and_round_trips(legacy, capsys, tmp_path):
    code, out, _ = run_cli("image", str(legacy), "--format", "json", capsys=capsys)
    assert code == 0
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert doc["schema"] == "sizebot/image@1" and "files" not in doc
    assert [x["size"] for x in doc["layers"]] == [5120, 3690, 500]
    out_file = tmp_path / "out.json"
    code, out, _ = run_cli("image", str(legacy), "--format", "json", "--all-files", "--output", str(out_file), capsys=capsys)
    assert code == 0 and out == ""
    full = json.loads(out_file.read_text())
    jsonschema.validate(full, SCHEMA)
    assert ImageReport.from_json(full) == analyze_image(str(legacy))


def test_json_of_every_fixture_validates():
    fixtures = DIVE_FIXTURES
    for name in ("test-docker-image", "test-kaniko-image", "test-oci-zstd-image", "test-oci-estargz-image"):
        r = analyze_image(str(fixtures / f"{name}.tar"))
        doc = json.loads(render(r, "json", files=True))
        jsonschema.validate(doc, SCHEMA)
        assert ImageReport.from_json(doc).to_json(files=True) == doc


def test_cli_text_and_markdown(legacy, capsys):
    code, out, _ = run_cli("image", str(legacy), "--top", "1", capsys=capsys)
    assert code == 0
    assert "efficiency" in out and "wastedBytes" in out and "6220 bytes" in out and "corrected wasted bytes" in out
    code, out, _ = run_cli("image", str(legacy), "--format", "markdown", capsys=capsys)
    assert code == 0 and "| efficiency |" in out and "<code>/app/bin</code>" in out


def test_markdown_escapes_untrusted_names_and_commands(tmp_path, capsys):
    evil = "x|<img src=x onerror=alert(1)>`@admin"
    img = docker_archive(tmp_path / "evil.tar", [[f(evil, 50)], [f(evil, 60)]],
                         commands=["RUN echo | <b>bold</b> @someone", "/bin/sh -c [x](https://evil.example) *em*"])
    code, out, _ = run_cli("image", str(img), "--format", "markdown", capsys=capsys)
    assert code == 0
    assert "<img" not in out and "<b>" not in out and "@someone" not in out and "@admin" not in out
    html = cmarkgfm.github_flavored_markdown_to_html(out)
    assert "<a " not in html and "<img" not in html and "<b>" not in html and "<em>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "[x](https" in html
    # Each layer row keeps its 4 cells, each inefficiency row its 3: no "|" broke out.
    for row in html.split("<tr>")[1:]:
        assert row.count("<td") in (0, 3, 4), row


def test_cli_reports_errors_on_one_line(tmp_path, capsys):
    code, out, err = run_cli("image", str(tmp_path / "missing.tar"), capsys=capsys)
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "missing.tar: no such file or directory" in err


def test_cli_reference_that_cannot_be_saved(capsys, monkeypatch, tmp_path):
    # Not a file or directory: an image reference, saved through the Docker engine. With no
    # engine at this address the command fails cleanly (exit 2, one line).
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    code, out, err = run_cli("image", "sizebot-test/not-here:1", capsys=capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("sizebot: error: ")


def test_cli_ci_rules_and_diff(legacy, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # Default rules (dive's): userWastedPercent 1.4845 > 0.1 fails -> exit 1, dive's layout.
    code, out, _ = run_cli("image", str(legacy), "--ci", capsys=capsys)
    assert code == 1 and "FAIL: highestUserWastedPercent" in out and "Result:FAIL" in out
    (tmp_path / ".dive-ci").write_text("rules:\n  lowestEfficiency: 0.5\n  highestUserWastedPercent: disabled\n")
    code, out, _ = run_cli("image", str(legacy), "--ci", capsys=capsys)
    assert code == 0 and "Result:PASS" in out
    other = docker_archive(tmp_path / "other.tar", LAYERS[:2])
    code, out, _ = run_cli("image", str(other), str(legacy), "--format", "json", capsys=capsys)
    assert code == 0 and json.loads(out)["schema"].startswith("sizebot/")


def test_module_entry_point(legacy):
    proc = subprocess.run([sys.executable, "-m", "sizebot", "image", str(legacy), "--format", "json"],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr
    jsonschema.validate(json.loads(proc.stdout), SCHEMA)


TEXT = """\
Image: legacy.tar (linux/amd64) [docker-archive]
dive's figures
 efficiency                    65.4135 %
 wastedBytes        6220 bytes (6.22 KB)
 userWastedPercent            148.4487 %
 image size         9310 bytes (9.31 KB)
 user size          4190 bytes (4.19 KB)
sizebot's figures
 layer blobs as stored         40960 bytes (41.0 KB)
 corrected wasted bytes         4620 bytes (4.62 KB)
 duplicate content              0 groups, 0 B wasted
 final filesystem        9 entries, 4.69 KB in files
Layers
┏━━━┳━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━┳━━━━━━━━━┓
┃ # ┃    size ┃ as stored ┃ files ┃ command ┃
┡━━━╇━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━╇━━━━━━━━━┩
│ 0 │ 5.12 KB │   20.5 KB │     8 │ step 0  │
│ 1 │ 3.69 KB │   10.2 KB │     3 │ step 1  │
│ 2 │   500 B │   10.2 KB │     2 │ step 2  │
└───┴─────────┴───────────┴───────┴─────────┘
Inefficient files (dive)
┏━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━┓
┃ count ┃ wasted space ┃ path      ┃
┡━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━┩
│     2 │      6.10 KB │ /app/bin  │
│     2 │        120 B │ /etc/conf │
└───────┴──────────────┴───────────┘
Largest files
┏━━━━━━━━━┳━━━━━━━┳━━━━━━━━━━━━━━━━┓
┃    size ┃ layer ┃ path           ┃
┡━━━━━━━━━╇━━━━━━━╇━━━━━━━━━━━━━━━━┩
│ 3.10 KB │     1 │ /app/bin       │
│   500 B │     0 │ /app/data.txt  │
│   500 B │     2 │ /app/data2.txt │
└─────────┴───────┴────────────────┘
"""


def test_markdown_names_the_stored_figure(legacy):
    # a docker archive's layers are plain tars (20.5 KB for 5.12 KB of files): "as stored", not "compressed"
    md = render(dataclasses.replace(analyze_image(str(legacy)), source="legacy.tar"), "markdown", top=3)
    assert "| efficiency | 65.4135% | layer blobs as stored | 41.0 KB |" in md
    assert "| # | size | as stored | command |\n|---:|---:|---:|---|\n| 0 | 5.12 KB | 20.5 KB | <code>step 0</code> |" in md
    assert "compressed" not in md


def test_text_rendering_is_exact(legacy):
    report = dataclasses.replace(analyze_image(str(legacy)), source="legacy.tar")
    text = render(report, "text", top=3, width=100)
    assert "\n".join(line.rstrip() for line in text.splitlines()) + "\n" == TEXT
