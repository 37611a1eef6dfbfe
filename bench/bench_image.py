"""Speed and memory of ``sizebot image`` against dive v0.13.1 on one large image archive.

Makes (once, cached) a docker-archive of about 1.1 GB written directly in Python: 10 layers,
~24,000 files, incompressible (random) and compressible (text) content, files overwritten in
later layers and deleted through whiteouts. Then runs, in the same process, each tool on it:

    sizebot image ARCHIVE --format json
    dive --source docker-archive ARCHIVE --json out.json

and prints wall time and peak RSS (of the child, from wait4) side by side.

    python bench/bench_image.py [--dir /tmp/sizebot-bench] [--runs 1] [--dive "$(go env GOPATH)/bin/dive"]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

LAYERS = 10
FILES_PER_LAYER = 2400
TARGET_BYTES = 1_100_000_000


def _content(rng: random.Random, size: int, compressible: bool) -> bytes:
    if compressible:
        words = b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
        return (words * (size // len(words) + 1))[:size]
    return rng.randbytes(size)


def _layer(path: Path, index: int, rng: random.Random, per_layer: int) -> None:
    """One layer tar: new files, overwrites of earlier layers' files, and whiteouts."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 1_700_000_000
            tf.addfile(info, io.BytesIO(data))

        d = tarfile.TarInfo(f"layer{index}")
        d.type = tarfile.DIRTYPE
        d.mode = 0o755
        tf.addfile(d)
        # a few big files carry most bytes; many small ones carry the file count
        big = per_layer // 2
        for i in range(4):
            add(f"layer{index}/big{i}.bin", _content(rng, big // 4, compressible=i % 2 == 1))
        small_budget = per_layer - big
        for i in range(FILES_PER_LAYER):
            size = max(1, int(rng.expovariate(1 / (small_budget / FILES_PER_LAYER))))
            add(f"layer{index}/f{i:05d}.dat", _content(rng, size, compressible=i % 3 == 0))
        if index > 0:
            # overwrite some of the previous layer's files (dive's inefficiencies) and delete some
            for i in range(0, FILES_PER_LAYER, 10):
                add(f"layer{index - 1}/f{i:05d}.dat", _content(rng, 2000, compressible=True))
            for i in range(5, FILES_PER_LAYER, 20):
                add(f"layer{index - 1}/.wh.f{i:05d}.dat", b"")
            add(f"layer{index - 1}/.wh.big0.bin", b"")


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def make_archive(out: Path) -> Path:
    if out.exists():
        return out
    work = out.parent / "layers"
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(42)
    per_layer = TARGET_BYTES // LAYERS
    digests: list[str] = []
    for i in range(LAYERS):
        lp = work / f"{i}.tar"
        _layer(lp, i, rng, per_layer)
        digests.append(_sha256_file(lp))
    config = {
        "architecture": "amd64", "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{d}" for d in digests]},
        "history": [{"created_by": f"/bin/sh -c bench layer {i}"} for i in range(LAYERS)],
    }
    config_bytes = json.dumps(config).encode()
    config_hex = hashlib.sha256(config_bytes).hexdigest()
    manifest = [{"Config": f"blobs/sha256/{config_hex}", "RepoTags": ["sizebot-bench:1"],
                 "Layers": [f"blobs/sha256/{d}" for d in digests]}]
    tmp = out.with_suffix(".partial")
    with tarfile.open(tmp, "w") as tf:
        for name, data in ((f"blobs/sha256/{config_hex}", config_bytes),
                           ("manifest.json", json.dumps(manifest).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for i, d in enumerate(digests):
            tf.add(work / f"{i}.tar", arcname=f"blobs/sha256/{d}")
            (work / f"{i}.tar").unlink()
    tmp.rename(out)
    shutil.rmtree(work, ignore_errors=True)
    return out


def measure(cmd: list[str]) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in MiB, exit status) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss // 1024, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="/tmp/sizebot-bench", help="where the archive is made (cached)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--dive", default=shutil.which("dive") or "/root/go/bin/dive")
    args = ap.parse_args()
    base = Path(args.dir)
    base.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    archive = make_archive(base / "bench-image.tar")
    print(f"archive: {archive} ({archive.stat().st_size / 1e9:.2f} GB, made/found in {time.perf_counter() - t0:.1f} s)")
    tools = {
        "sizebot": [sys.executable, "-m", "sizebot", "image", str(archive), "--format", "json", "-o",
                    str(base / "sizebot.json")],
        "dive": [args.dive, "--source", "docker-archive", str(archive), "--json", str(base / "dive.json")],
    }
    print(f"{'tool':<8} {'run':>3} {'wall s':>8} {'peak RSS MiB':>13} {'exit':>4}")
    for run in range(args.runs):
        for name, cmd in tools.items():
            wall, rss, rc = measure(cmd)
            print(f"{name:<8} {run:>3} {wall:>8.2f} {rss:>13} {rc:>4}", flush=True)
    ours = json.loads((base / "sizebot.json").read_text())
    theirs = json.loads((base / "dive.json").read_text())["image"]
    same = (ours["size"], ours["wasted_bytes"], ours["efficiency"]) == (
        theirs["sizeBytes"], theirs["inefficientBytes"], theirs["efficiencyScore"])
    print(f"figures equal to dive's (size, wasted bytes, efficiency): {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
