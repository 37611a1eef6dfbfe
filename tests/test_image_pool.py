"""Layers read by worker processes give the same report, and the same first error, as a read in
this process (the pool is used for big images only: the tests lower that threshold)."""

from __future__ import annotations

import dataclasses
import gzip
import json
import random
from pathlib import Path

import pytest

from sizebot.errors import ImageError
from sizebot.image import layer_pool
from sizebot.image.analysis import analyze_image
from sizebot.image.limits import ImageLimits
from tests.support.images import (
    M,
    compress,
    d,
    docker25_archive,
    docker_archive,
    f,
    layer_tar,
    oci_blobs,
    oci_dir,
    opq,
    sha,
    wh,
)

pytestmark = pytest.mark.timeout(120)

NAMES = ["a", "b", ".e", "Z", "-m", "a.b"]


def random_layers(seed: int) -> list[list[M]]:
    """Files, directories, whiteouts and opaque whiteouts over a few names, in a few layers."""
    rnd = random.Random(seed)
    layers = []
    for _ in range(rnd.randint(2, 6)):
        layer = []
        for _ in range(rnd.randint(0, 25)):
            p = "/".join(rnd.choice(NAMES) for _ in range(rnd.randint(1, 3)))
            make = rnd.choice([lambda p: f(p, rnd.choice([0, 7, 100, 1000])), d, wh, opq])
            layer.append(make(p))
        layers.append(layer)
    return layers


def both(path: Path, **kw) -> tuple:
    """(report or error) read in this process, then by workers."""
    out = []
    for threshold in (1 << 62, 0):
        layer_pool.PARALLEL_MIN_BYTES = threshold
        try:
            r = analyze_image(str(path), **kw)
            out.append(dataclasses.asdict(r))
        except ImageError as exc:
            out.append(f"ImageError: {exc}")
    return tuple(out)


@pytest.fixture(autouse=True)
def restore_threshold():
    saved = layer_pool.PARALLEL_MIN_BYTES
    yield
    layer_pool.PARALLEL_MIN_BYTES = saved


def test_workers_are_used_when_the_image_is_big_enough(tmp_path, monkeypatch):
    archive = docker_archive(tmp_path / "a.tar", random_layers(0))
    calls = []
    real = layer_pool._read_in_workers
    monkeypatch.setattr(layer_pool, "_read_in_workers", lambda *a: calls.append(a) or real(*a))
    layer_pool.PARALLEL_MIN_BYTES = 0
    analyze_image(str(archive))
    assert len(calls) == 1


@pytest.mark.parametrize("seed", [0, 5, 17, 26, 37])
def test_same_report_from_workers(tmp_path, seed):
    here, workers = both(docker_archive(tmp_path / f"g{seed}.tar", random_layers(seed)))
    assert isinstance(here, dict) and here == workers


def test_same_report_from_workers_oci_layouts(tmp_path):
    layers = [[f("app/bin", 5000), f("app/readme", 300)], [f("app/bin", 5100)], [f("etc/x", 7)]]
    for how in ("gzip", "zstd", "none"):
        blobs, index = oci_blobs([(layers, "linux/amd64", "")], compression=how)
        here, workers = both(oci_dir(tmp_path / how, blobs, index))
        assert isinstance(here, dict) and here == workers
    here, workers = both(docker25_archive(tmp_path / "d25.tar", layers))
    assert isinstance(here, dict) and here == workers


def test_first_failing_layer_is_reported(tmp_path):
    good = [layer_tar([f(f"l{i}/a", 3000)]) for i in range(4)]
    stored = [compress(t, "gzip") for t in good]
    stored[1] = stored[1][:-40]  # layers 1 and 3 broken: layer 1 is the one named
    stored[3] = stored[3][:30]
    cfg = json.dumps({"os": "linux", "architecture": "amd64",
                      "rootfs": {"type": "layers", "diff_ids": [sha(t) for t in good]}}).encode()
    man = json.dumps({"schemaVersion": 2, "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                                     "digest": sha(cfg), "size": len(cfg)},
                      "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(s),
                                  "size": len(s)} for s in stored]}).encode()
    blobs = {sha(cfg): cfg, sha(man): man, **{sha(s): s for s in stored}}
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                "digest": sha(man), "size": len(man)}]}
    here, workers = both(oci_dir(tmp_path / "broken", blobs, index))
    assert here == workers and "layer 1" in here and "truncated" in here


def test_entry_budget_over_all_layers_from_workers(tmp_path):
    archive = docker_archive(tmp_path / "many.tar", [[f(f"l{k}/f{i}", b"") for i in range(300)] for k in range(4)])
    here, workers = both(archive, limits=ImageLimits(max_entries=1199))
    assert here == workers and "layer 3" in here and "more than 1,199 tar entries (the limit" in here


def test_compressed_outer_archive_is_read_here(tmp_path):
    plain = docker_archive(tmp_path / "a.tar", random_layers(5))
    gz = tmp_path / "a.tar.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    here, workers = both(gz)
    assert isinstance(here, dict) and {**here, "source": ""} == {**workers, "source": ""}
