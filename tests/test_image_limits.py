"""Hostile images that cost work or memory out of proportion to their size: each is generated here
(small, bounded in time), and each ends in one ImageError line naming the archive and the fault,
exit 2 from the CLI, or, for an index that repeats its children, in the image it describes."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import tarfile
import tracemalloc
import zlib
from pathlib import Path

import pytest

from sizebot.cli import main
from sizebot.errors import ImageError
from sizebot.image import limits as image_limits
from sizebot.image.analysis import analyze_image
from sizebot.image.limits import ImageLimits
from tests.support.images import M, compress, config_for, docker_archive, f, layer_tar, oci_blobs, oci_dir, sha
from tests.support.paths import TESTS

pytestmark = pytest.mark.timeout(60)

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
ZSTD_LAYER = "application/vnd.oci.image.layer.v1.tar+zstd"


def error_of(path: Path, **kw) -> str:
    with pytest.raises(ImageError) as info:
        analyze_image(str(path), **kw)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg, msg
    return msg


def cli_error(path: Path, capsys) -> str:
    code = main(["image", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "", (code, out, err)
    assert err.startswith("sizebot: error: ") and err.count("\n") == 1, err
    assert str(path) in err
    return err


def with_limits(monkeypatch, **changes) -> None:
    monkeypatch.setattr(image_limits, "DEFAULT_LIMITS", dataclasses.replace(image_limits.DEFAULT_LIMITS, **changes))


def oci_layout(tmp_path: Path, raw_layer: bytes, media: str, name: str = "layout") -> Path:
    cfg = config_for([b""])
    man = json.dumps({"schemaVersion": 2, "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                                     "digest": sha(cfg), "size": len(cfg)},
                      "layers": [{"mediaType": media, "digest": sha(raw_layer), "size": len(raw_layer)}]}).encode()
    index = {"schemaVersion": 2, "manifests": [{"mediaType": MANIFEST, "digest": sha(man), "size": len(man)}]}
    return oci_dir(tmp_path / name, {sha(cfg): cfg, sha(raw_layer): raw_layer, sha(man): man}, index)


# ------------------------------------------------------------------------------- OCI indexes


def fanned_out_index(tmp_path: Path, children: int, levels: int) -> Path:
    """index.json -> ``levels`` nested indexes, each listing the next one ``children`` times -> one image."""
    blobs, index = oci_blobs([([[f("app/bin", 300)]], "linux/amd64", "")], compression="gzip")
    for _ in range(levels):
        blob = json.dumps(index).encode()
        blobs[sha(blob)] = blob
        index = {"schemaVersion": 2, "mediaType": INDEX,
                 "manifests": [{"mediaType": INDEX, "digest": sha(blob), "size": len(blob)}] * children}
    return oci_dir(tmp_path / f"fan-{children}x{levels}", blobs, index)


def test_index_listing_the_same_child_many_times_at_each_level_is_read_once(tmp_path):
    # 20 x 8 walked naively is 20**8 visits; each nested index is read once instead.
    layout = fanned_out_index(tmp_path, children=20, levels=8)
    report = analyze_image(str(layout))
    assert [(x.path, x.size) for x in report.files] == [("/app/bin", 300)]


def test_index_listing_too_many_descriptors(tmp_path, capsys):
    cap = image_limits.DEFAULT_LIMITS.max_index_descriptors
    blobs, index = oci_blobs([([[f("a", 10)]], "linux/amd64", "")])
    index["manifests"] = index["manifests"] * (cap + 1)
    layout = oci_dir(tmp_path / "wide", blobs, index)
    assert f"the indexes list more than {cap} descriptors" in error_of(layout)
    assert f"more than {cap} descriptors" in cli_error(layout, capsys)


def test_descriptor_cap_counts_over_all_nested_indexes(tmp_path):
    layout = fanned_out_index(tmp_path, children=20, levels=8)  # 160 descriptors in all
    assert "more than 100 descriptors" in error_of(layout, limits=ImageLimits(max_index_descriptors=100))


def test_index_that_lists_itself(tmp_path, capsys):
    # A layout directory is not content-addressed by force: a blob can name its own file.
    layout = tmp_path / "loop"
    (layout / "blobs" / "sha256").mkdir(parents=True)
    name = "ab" * 32
    loop = {"schemaVersion": 2, "mediaType": INDEX,
            "manifests": [{"mediaType": INDEX, "digest": "sha256:" + name, "size": 1}] * 4}
    (layout / "blobs" / "sha256" / name).write_text(json.dumps(loop))
    (layout / "index.json").write_text(json.dumps(loop))
    assert "lists no image manifest" in cli_error(layout, capsys)


# ------------------------------------------------------------------------------- tar entries


def empty_entries(count: int) -> bytes:
    """A tar of ``count`` empty regular files, written header by header (tarfile is too slow for this)."""
    out = bytearray()
    for i in range(count):
        block = bytearray(512)
        name = b"f%07d" % i
        block[0:len(name)] = name
        block[100:108] = b"0000644\0"
        block[108:116] = block[116:124] = b"0000000\0"
        block[124:136] = b"00000000000\0"
        block[136:148] = b"14545360000\0"
        block[156:157] = b"0"
        block[257:265] = b"ustar\x0000"
        block[148:156] = b" " * 8
        block[148:156] = b"%06o\0 " % sum(block)
        out += block
    return bytes(out + b"\0" * 1024)


def test_empty_entry_layer_past_the_entry_limit(tmp_path, capsys, monkeypatch):
    # What a 1.4 MB zstd layer of 900,000 empty entries is to the default limit, 2,001 are to 2,000.
    layer = compress(empty_entries(2001), "zstd")
    layout = oci_layout(tmp_path, layer, ZSTD_LAYER)
    assert "layer 0" in error_of(layout, limits=ImageLimits(max_entries=2000))
    with_limits(monkeypatch, max_entries=2000)
    err = cli_error(layout, capsys)
    assert "more than 2,000 tar entries (the limit" in err and "layer 0" in err


def test_entry_limit_counts_over_all_layers(tmp_path):
    layers = [[f(f"l{k}/f{i}", b"") for i in range(300)] for k in range(4)]
    archive = docker_archive(tmp_path / "many.tar", layers)
    assert len(analyze_image(str(archive), limits=ImageLimits(max_entries=1200)).files) == 1200
    msg = error_of(archive, limits=ImageLimits(max_entries=1199))
    assert "layer 3" in msg and "more than 1,199 tar entries (the limit" in msg


def test_memory_per_entry_is_bounded(tmp_path):
    entries = 5000
    layout = oci_layout(tmp_path, compress(empty_entries(entries), "zstd"), ZSTD_LAYER)
    tracemalloc.start()
    try:
        report = analyze_image(str(layout))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.file_count == entries
    print(f"{peak / entries:.0f} bytes per entry")
    assert peak / entries < 1024, peak / entries  # bytes per entry, everything the analysis keeps included


def test_long_names_past_the_name_budget(tmp_path, capsys, monkeypatch):
    layer = layer_tar([M("d/" + "n" * 5000 + str(i), b"") for i in range(30)], fmt=tarfile.PAX_FORMAT)
    layout = oci_layout(tmp_path, layer, "application/vnd.oci.image.layer.v1.tar")
    with_limits(monkeypatch, max_name_bytes=100_000)
    assert "names add up to more than 100,000 bytes (the limit" in cli_error(layout, capsys)


def test_oversized_pax_record(tmp_path, capsys):
    layer = layer_tar([M("x" * 10, b"", pax={"comment": "c" * (1 << 20)})], fmt=tarfile.PAX_FORMAT)
    layout = oci_layout(tmp_path, compress(layer, "gzip"), "application/vnd.oci.image.layer.v1.tar+gzip")
    err = cli_error(layout, capsys)
    assert "tar extension header at offset 0 is larger than 1048576 bytes" in err


# ------------------------------------------------------------------------------- inflation


def gzip_of_zeros(n: int) -> bytes:
    """A layer holding one file of ``n`` zero bytes, gzip-compressed (about a thousandfold)."""
    head = tarfile.TarInfo("zeros")
    head.size = n
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = [comp.compress(head.tobuf(tarfile.GNU_FORMAT))]
    chunk = b"\0" * (1 << 20)
    for _ in range(n >> 20):
        out.append(comp.compress(chunk))
    out.append(comp.compress(b"\0" * 1024))
    out.append(comp.flush())
    return b"".join(out)


def test_layer_inflating_past_the_cap(tmp_path, capsys, monkeypatch):
    bomb = gzip_of_zeros(16 << 20)  # 16 MiB from ~16 KB
    layout = oci_layout(tmp_path, bomb, "application/vnd.oci.image.layer.v1.tar+gzip")
    with_limits(monkeypatch, inflate_floor=4 << 20)
    err = cli_error(layout, capsys)
    assert "layer 0" in err and f"inflates to more than {4 << 20} bytes" in err
    # The cap grows with the image's stored size: 2000x lets it through.
    report = analyze_image(str(layout), limits=ImageLimits(inflate_floor=4 << 20, inflate_ratio=2000))
    assert report.size == 16 << 20


def test_zstd_layer_inflating_past_the_cap(tmp_path):
    layer = compress(layer_tar([M("zeros", b"\0" * (8 << 20))]), "zstd")
    layout = oci_layout(tmp_path, layer, ZSTD_LAYER)
    msg = error_of(layout, limits=ImageLimits(inflate_floor=1 << 20, inflate_ratio=10))
    assert "layer 0" in msg and f"inflates to more than {1 << 20} bytes" in msg


# ------------------------------------------------------------------------------- deep JSON


def nested(depth: int) -> bytes:
    return b'{"history": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("which", ["config", "manifest"])
def test_docker_archive_json_nested_100k_deep(tmp_path, capsys, which):
    good = docker_archive(tmp_path / "good.tar", [[f("a", 10)]])
    bad = tmp_path / f"deep-{which}.tar"
    with tarfile.open(good) as tin, tarfile.open(bad, "w") as tout:
        for ti in tin.getmembers():
            data = tin.extractfile(ti).read()
            is_config = ti.name.endswith(".json") and ti.name != "manifest.json"
            if (which == "config" and is_config) or (which == "manifest" and ti.name == "manifest.json"):
                data = nested(100_000)
                ti.size = len(data)
            tout.addfile(ti, io.BytesIO(data))
    err = cli_error(bad, capsys)
    assert "nested too deep" in err and (which in err)


def test_oci_manifest_nested_100k_deep(tmp_path, capsys):
    deep = nested(100_000)
    index = {"schemaVersion": 2, "manifests": [{"mediaType": MANIFEST, "digest": sha(deep), "size": len(deep)}]}
    layout = oci_dir(tmp_path / "deep", {sha(deep): deep}, index)
    err = cli_error(layout, capsys)
    assert "manifest" in err and "nested too deep" in err


# ------------------------------------------------------------------------------- documentation


def test_every_limit_is_documented_with_its_default():
    text = (TESTS.parent / "docs" / "image.md").read_text()
    for fld in dataclasses.fields(ImageLimits):
        value = getattr(image_limits.DEFAULT_LIMITS, fld.name)
        row = re.search(rf"^\| `{fld.name}` \| ([^|]+) \|", text, re.M)
        assert row, f"docs/image.md does not list {fld.name}"
        assert f"{value:,}" in row.group(1), (fld.name, value, row.group(1))
