"""Broken and hostile archives: one ImageError line naming the archive (and the layer) and
what is wrong; exit 2 through the CLI; nothing written; memory bounded."""

from __future__ import annotations

import io
import json
import os
import random
import tarfile
import tracemalloc
from pathlib import Path

import pytest

from sizebot.cli import main
from sizebot.errors import ImageError
from sizebot.image.analysis import analyze_image
from tests.support.images import (
    M,
    compress,
    d,
    docker_archive,
    f,
    layer_tar,
    oci_blobs,
    oci_dir,
    sha,
    sym,
)

GOOD = [[d("app"), f("app/bin", 5000), f("app/readme", 300)], [f("app/bin", 5100)]]


def error_of(path: Path | str, **kw) -> str:
    with pytest.raises(ImageError) as info:
        analyze_image(str(path), **kw)
    msg = str(info.value)
    assert "\n" not in msg, msg
    assert str(path) in msg, msg
    return msg


def rewrite_member(src: Path, dst: Path, name_suffix: str, new: bytes) -> Path:
    """Copy a tar, replacing the content of the member whose name ends with ``name_suffix``."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
        for ti in tin.getmembers():
            data = tin.extractfile(ti).read() if ti.isreg() else None
            if ti.name.endswith(name_suffix):
                data = new
                ti.size = len(new)
            tout.addfile(ti, io.BytesIO(data) if data is not None else None)
    return dst


def oci_with_layer(tmp_path: Path, raw_layer: bytes, media: str = "application/vnd.oci.image.layer.v1.tar+gzip") -> Path:
    """An OCI layout dir whose single layer blob is ``raw_layer`` (any bytes; digests kept consistent)."""
    cfg = json.dumps({"os": "linux", "architecture": "amd64",
                      "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}, "history": []}).encode()
    man = json.dumps({"schemaVersion": 2, "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                                     "digest": sha(cfg), "size": len(cfg)},
                      "layers": [{"mediaType": media, "digest": sha(raw_layer), "size": len(raw_layer)}]}).encode()
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                "digest": sha(man), "size": len(man)}]}
    return oci_dir(tmp_path / "layout", {sha(cfg): cfg, sha(raw_layer): raw_layer, sha(man): man}, index)


# ------------------------------------------------------------------------------- truncation


def test_truncated_outer_archive(tmp_path):
    good = docker_archive(tmp_path / "good.tar", GOOD)
    data = good.read_bytes()
    with tarfile.open(good) as tf:
        layer = next(m for m in tf.getmembers() if m.name.endswith("layer.tar"))
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: layer.offset_data + 700])  # inside the first layer's data
    msg = error_of(cut)
    assert "truncated" in msg or "unexpected end of data" in msg


def test_truncated_inside_a_header(tmp_path):
    good = docker_archive(tmp_path / "good.tar", GOOD)
    data = good.read_bytes()
    with tarfile.open(good) as tf:
        last = tf.getmembers()[-1]  # manifest.json
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: last.offset + 100])
    msg = error_of(cut)
    assert "manifest" in msg


def test_hostile_names_stay_on_one_line(tmp_path):
    layer = layer_tar([f("evil\nname\x1b[31m", 4000)])
    msg = error_of(oci_with_layer(tmp_path, layer[:1500], "application/vnd.oci.image.layer.v1.tar"))
    assert "evil\\x0aname\\x1b[31m: header declares 4000 bytes" in msg


def test_truncated_plain_layer(tmp_path):
    layer = layer_tar([f("first", 3000), f("big", 3000), f("after", 10)])
    cut = 512 + 3072 + 512 + 1000
    msg = error_of(oci_with_layer(tmp_path, layer[:cut], "application/vnd.oci.image.layer.v1.tar"))
    assert "layer 0" in msg and "big: truncated (3000 bytes declared, 1000 present)" in msg
    # A header declaring more than the whole blob is refused before reading on.
    msg = error_of(oci_with_layer(tmp_path / "2", layer[: 512 + 2000], "application/vnd.oci.image.layer.v1.tar"))
    assert "first: header declares 3000 bytes but the layer holds only 2512" in msg


@pytest.mark.parametrize("how", ["gzip", "zstd"])
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, -8])
def test_truncated_compressed_layer(tmp_path, how, keep):
    rnd = random.Random(7)
    # Incompressible content spread over several zstd blocks (128 KiB each).
    layer = compress(layer_tar([M("big", rnd.randbytes(400_000)), f("after", 10)]), how)
    cut = int(len(layer) * keep) if keep > 0 else len(layer) + keep
    msg = error_of(oci_with_layer(tmp_path, layer[:cut]))
    assert "layer 0" in msg and "truncated" in msg


# ------------------------------------------------------------------------------- corruption


def test_bad_gzip_stream(tmp_path):
    gz = bytearray(compress(layer_tar([f("a", 20000)]), "gzip"))
    for i in range(20, 60):
        gz[i] ^= 0x5A
    msg = error_of(oci_with_layer(tmp_path, bytes(gz)))
    assert "layer 0" in msg and "bad gzip stream" in msg


def test_bad_zstd_stream(tmp_path):
    z = bytearray(compress(layer_tar([f("a", 20000)]), "zstd"))
    for i in range(8, 40):
        z[i] ^= 0xA5
    msg = error_of(oci_with_layer(tmp_path, bytes(z), "application/vnd.oci.image.layer.v1.tar+zstd"))
    assert "layer 0" in msg and "zstd" in msg


def test_layer_that_is_not_a_tar(tmp_path):
    msg = error_of(oci_with_layer(tmp_path, b"this is not a tar archive at all" * 40, "application/vnd.oci.image.layer.v1.tar"))
    assert "layer 0" in msg and ("not a tar stream" in msg or "bad tar header" in msg)


def test_bad_checksum_in_a_later_header(tmp_path):
    layer = bytearray(layer_tar([f("a", 10), f("b", 10)]))
    layer[1024 + 148] ^= 0x01  # checksum field of the second header
    msg = error_of(oci_with_layer(tmp_path, bytes(layer), "application/vnd.oci.image.layer.v1.tar"))
    assert "layer 0" in msg and "bad tar header at offset 1024" in msg


def test_blob_not_matching_its_digest(tmp_path):
    blobs, index = oci_blobs([([[f("a", 100)]], "linux/amd64", "")], compression="none")
    layout = oci_dir(tmp_path / "l", blobs, index)
    layer_digest = next(k for k, v in blobs.items() if v.startswith(b"a\0"))
    blob = layout / "blobs" / "sha256" / layer_digest[7:]
    blob.write_bytes(layer_tar([f("a", 101)])[: len(blobs[layer_digest])])
    msg = error_of(layout)
    assert "layer 0" in msg and "does not match its digest" in msg


# ------------------------------------------------------------------------------- missing parts


def test_not_an_archive_at_all(tmp_path):
    p = tmp_path / "random.bin"
    p.write_bytes(random.Random(3).randbytes(5000))
    assert "not a tar archive" in error_of(p)
    empty_dir = tmp_path / "emptydir"
    empty_dir.mkdir()
    assert "not an image" in error_of(empty_dir)


def test_missing_manifest(tmp_path):
    p = tmp_path / "nomanifest.tar"
    with tarfile.open(p, "w") as tf:
        ti = tarfile.TarInfo("hello.txt")
        ti.size = 2
        tf.addfile(ti, io.BytesIO(b"hi"))
    assert "not an image" in error_of(p)


def test_manifest_not_json(tmp_path):
    good = docker_archive(tmp_path / "good.tar", GOOD)
    bad = rewrite_member(good, tmp_path / "bad.tar", "manifest.json", b"[{not json")
    assert "manifest 'manifest.json' is not valid JSON" in error_of(bad)


def test_missing_config(tmp_path):
    good = docker_archive(tmp_path / "good.tar", GOOD)
    with tarfile.open(good) as tf:
        cfg_name = next(m.name for m in tf.getmembers() if m.name.endswith(".json") and m.name != "manifest.json")
    bad = tmp_path / "noconfig.tar"
    with tarfile.open(good) as tin, tarfile.open(bad, "w") as tout:
        for ti in tin.getmembers():
            if ti.name != cfg_name:
                tout.addfile(ti, tin.extractfile(ti) if ti.isreg() else None)
    msg = error_of(bad)
    assert "image config" in msg and cfg_name in msg and "missing" in msg


def test_missing_layer_blob_legacy(tmp_path):
    good = docker_archive(tmp_path / "good.tar", GOOD)
    bad = tmp_path / "nolayer.tar"
    with tarfile.open(good) as tin, tarfile.open(bad, "w") as tout:
        members = tin.getmembers()
        second = [m.name for m in members if m.name.endswith("layer.tar")][1]
        for ti in members:
            if ti.name != second:
                tout.addfile(ti, tin.extractfile(ti) if ti.isreg() else None)
    msg = error_of(bad)
    assert "layer 1" in msg and second in msg and "missing" in msg


def test_missing_blobs_oci(tmp_path):
    blobs, index = oci_blobs([([[f("a", 10)], [f("b", 10)]], "linux/amd64", "")])
    layout = oci_dir(tmp_path / "l", blobs, index)
    man = json.loads(next(v for v in blobs.values() if b'"schemaVersion"' in v and b'"config"' in v))
    (layout / "blobs" / "sha256" / man["layers"][1]["digest"][7:]).unlink()
    msg = error_of(layout)
    assert "layer 1" in msg and "missing" in msg
    (layout / "blobs" / "sha256" / man["config"]["digest"][7:]).unlink()
    assert "config blob" in error_of(layout)
    for p in (layout / "blobs" / "sha256").iterdir():
        p.unlink()
    assert "manifest blob" in error_of(layout)


def test_layout_names_cannot_escape_the_directory(tmp_path):
    outside = tmp_path / "secret.tar"
    outside.write_bytes(layer_tar([f("secret", 10)]))
    layout = tmp_path / "layout"
    layout.mkdir()
    cfg = json.dumps({"os": "linux", "architecture": "amd64", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    (layout / "c.json").write_bytes(cfg)
    (layout / "manifest.json").write_text(json.dumps([{"Config": "c.json", "Layers": ["../secret.tar"]}]))
    msg = error_of(layout)
    assert "layer 0" in msg and "'../secret.tar' is missing" in msg
    (layout / "link.tar").symlink_to(outside)
    (layout / "manifest.json").write_text(json.dumps([{"Config": "c.json", "Layers": ["link.tar"]}]))
    assert "'link.tar' is missing" in error_of(layout)


# ------------------------------------------------------------------------------- hostile entries


def test_traversal_and_absolute_names_are_normalised_and_nothing_is_written(tmp_path, monkeypatch):
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    img = docker_archive(tmp_path / "evil.tar", [[
        f("../../../../tmp/pwned", 10), f("/etc/shadow", 20), f("a/../../b", 30), f("./ok/./x", 40),
        M("..", kind=tarfile.DIRTYPE), M("/", kind=tarfile.DIRTYPE),
    ]])
    before = sorted(os.listdir(tmp_path))
    r = analyze_image(str(img))
    assert [x.path for x in r.files if x.kind == "file"] == ["/../../../../tmp/pwned", "/../b", "/etc/shadow", "/ok/x"]
    assert r.size == 100
    assert sorted(os.listdir(tmp_path)) == before and os.listdir(work) == []
    assert not Path("/tmp/pwned").exists()


def test_symlink_loops_are_recorded_not_followed(tmp_path):
    img = docker_archive(tmp_path / "loop.tar", [[sym("a", "b"), sym("b", "a"), sym("self", "self"), sym("up", "../../..")]])
    r = analyze_image(str(img))
    assert [(x.path, x.kind, x.link) for x in r.files] == [
        ("/a", "symlink", "b"), ("/b", "symlink", "a"), ("/self", "symlink", "self"), ("/up", "symlink", "../../..")]


def test_outer_link_loop(tmp_path):
    p = tmp_path / "outerloop.tar"
    cfg = json.dumps({"rootfs": {"type": "layers", "diff_ids": []}}).encode()
    with tarfile.open(p, "w") as tf:
        for name, target in (("x/layer.tar", "../y/layer.tar"), ("y/layer.tar", "../x/layer.tar")):
            ti = tarfile.TarInfo(name)
            ti.type = tarfile.SYMTYPE
            ti.linkname = target
            tf.addfile(ti)
        for name, data in (("c.json", cfg), ("manifest.json", json.dumps([{"Config": "c.json", "Layers": ["x/layer.tar"]}]).encode())):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    assert "too many levels of links" in error_of(p)


def _huge_header(name: str, size: int) -> bytes:
    ti = tarfile.TarInfo(name)
    ti.size = size
    return ti.tobuf(format=tarfile.GNU_FORMAT)  # base-256 size field for > 8 GiB


def test_huge_declared_size_plain_layer(tmp_path):
    layer = _huge_header("huge", 10**12) + b"tiny" + b"\0" * 508 + b"\0" * 1024
    msg = error_of(oci_with_layer(tmp_path, layer, "application/vnd.oci.image.layer.v1.tar"))
    assert "layer 0" in msg and "huge: header declares 1000000000000 bytes but the layer holds only 2048" in msg


def test_huge_declared_size_gzip_layer_memory_bounded(tmp_path):
    layer = compress(_huge_header("huge", 10**12) + b"\0" * (8 << 20), "gzip")  # 8 MB of zeros behind a 1 TB claim
    layout = oci_with_layer(tmp_path, layer)
    tracemalloc.start()
    try:
        msg = error_of(layout)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "huge: truncated (1000000000000 bytes declared, 8388608 present)" in msg
    assert peak < 16 << 20, peak  # chunks, never the declared size


def test_gzip_bomb_is_streamed(tmp_path):
    # 64 MiB file that compresses to ~64 KiB: read and hashed in chunks, never held whole.
    raw = layer_tar([M("zeros", b"\0" * (64 << 20))])
    layer = compress(raw, "gzip")
    layout = oci_with_layer(tmp_path, layer)
    del raw
    tracemalloc.start()
    try:
        r = analyze_image(str(layout))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert r.size == 64 << 20 and r.files[0].size == 64 << 20
    assert peak < 16 << 20, peak


def test_pax_headers_global_and_local(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT,
                      pax_headers={"comment": "global", "path": "renamed-by-global"}) as tf:
        long = "d/" + "n" * 150  # needs a local PAX path record
        for name, data in ((long, b"x" * 10), ("plain", b"y" * 5)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    layer = buf.getvalue()
    assert layer[156:157] == b"g"  # the archive starts with a global header
    r = analyze_image(str(oci_with_layer(tmp_path, layer, "application/vnd.oci.image.layer.v1.tar")))
    assert [(x.path, x.size) for x in r.files] == [("/d/" + "n" * 150, 10), ("/plain", 5)]
    assert r.size == 15 and r.layers[0].file_count == 2


def test_empty_and_zero_byte_layers(tmp_path):
    # An empty tar (just the end blocks) and a 0-byte blob: empty layers, as Go's reader sees them.
    for raw in (b"\0" * 1024, b""):
        r = analyze_image(str(oci_with_layer(tmp_path / str(len(raw)), raw, "application/vnd.oci.image.layer.v1.tar")))
        assert (r.size, r.files, r.layers[0].compressed_size) == (0, (), len(raw))


def test_cli_exit_2_with_one_line(tmp_path, capsys):
    gz = bytearray(compress(layer_tar([f("a", 20000)]), "gzip"))
    gz[30] ^= 0xFF
    layout = oci_with_layer(tmp_path, bytes(gz))
    code = main(["image", str(layout), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("sizebot: error: ") and err.count("\n") == 1
    assert str(layout) in err and "layer 0" in err
