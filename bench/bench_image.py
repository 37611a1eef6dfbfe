"""Speed and memory of ``sizebot image`` against dive v0.13.1 on two large image archives.

Both archives are written by this bench directly in Python (once, cached in ``--dir``):

* ``blobs``: a Docker 25+ docker-save archive (OCI blobs) of about 1.1 GB: 10 layers, ~24,000
  tar entries in one directory per layer, random and text content, files overwritten in later
  layers and deleted through whiteouts.
* ``rootfs``: a legacy docker-save archive (``<id>/layer.tar``) of about 1 GB shaped like a real
  root filesystem: 10 layers, ~28,000 files in a tree of nested directories (every layer carries
  the parent directories of what it writes, as docker does), many overwrites of earlier layers'
  files, whiteouts of files and of whole directories, opaque directories.

For each archive the tools run alternately (the order flips every run), ``--runs`` times:

    sizebot image ARCHIVE --format json -o OUT
    CI=true dive --source docker-archive ARCHIVE --json OUT

and the bench prints each run's wall time and peak RSS (of the child, from wait4), then the
medians and the ratios sizebot / dive, and checks that the figures agree with dive's.

    python bench/bench_image.py [--dir /tmp/sizebot-bench] [--runs 5] [--shape blobs|rootfs|all]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

LAYERS = 10
FILES_PER_LAYER = 2400
TARGET_BYTES = 1_100_000_000

WORDS = b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "


def _content(rng: random.Random, size: int, compressible: bool) -> bytes:
    if compressible:
        return (WORDS * (size // len(WORDS) + 1))[:size]
    return rng.randbytes(size)


def _layer(path: Path, index: int, rng: random.Random, per_layer: int) -> None:
    """One layer tar of the ``blobs`` shape: new files, overwrites of earlier layers' files, and whiteouts."""
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
    """The ``blobs`` shape (Docker 25+ layout)."""
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


# --------------------------------------------------------------------------------------------
# The ``rootfs`` shape: a root filesystem in a tree of directories, rewritten layer after layer.

ROOTFS_BASE_FILES = 10_000  # layer 0
ROOTFS_NEW_FILES = 1_500  # each later layer: new files ...
ROOTFS_OVERWRITES = 500  # ... files of earlier layers written again ...
ROOTFS_FILE_WHITEOUTS = 5  # ... files deleted ...
ROOTFS_DIR_WHITEOUTS = 1  # ... whole directories deleted ...
ROOTFS_BIG_BYTES = 80_000_000  # ... and a few big files per layer carrying most of the bytes
TOPS = ("usr/lib", "usr/share", "usr/local/lib", "opt/app", "var/lib", "etc")


class _RootfsLayer:
    def __init__(self, tf: tarfile.TarFile):
        self.tf = tf
        self.dirs: set[str] = set()

    def _parents(self, path: str) -> None:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self.dirs:
                self.dirs.add(d)
                ti = tarfile.TarInfo(d)
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                ti.mtime = 1_700_000_000
                self.tf.addfile(ti)

    def file(self, path: str, data: bytes) -> None:
        self._parents(path)
        ti = tarfile.TarInfo(path)
        ti.size = len(data)
        ti.mode = 0o644
        ti.mtime = 1_700_000_000
        self.tf.addfile(ti, io.BytesIO(data))


def _rootfs_dir(rng: random.Random, layer: int) -> str:
    depth = rng.randint(1, 4)
    return "/".join([rng.choice(TOPS)] + [f"pkg{layer}-{rng.randint(0, 40)}" if i == 0 else f"d{rng.randint(0, 6)}"
                                           for i in range(depth)])


def _small(rng: random.Random) -> bytes:
    size = min(int(rng.lognormvariate(7.6, 1.3)), 2_000_000)  # median ~2 KB, mean ~4.5 KB
    return _content(rng, size, compressible=rng.random() < 0.4)


def make_rootfs_archive(out: Path) -> Path:
    """The ``rootfs`` shape (legacy docker save: ``<id>/layer.tar``, ``<id>/json``, ``<id>/VERSION``)."""
    if out.exists():
        return out
    work = out.parent / "rootfs-layers"
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    live: dict[str, int] = {}  # path -> layer that wrote it (the model of the stacked filesystem)
    layer_files: list[Path] = []
    for index in range(LAYERS):
        lp = work / f"{index}.tar"
        with tarfile.open(lp, "w", format=tarfile.GNU_FORMAT) as tf:
            layer = _RootfsLayer(tf)
            if index > 0:
                victims = rng.sample(sorted(live), ROOTFS_FILE_WHITEOUTS)
                for path in victims:
                    head, _, base = path.rpartition("/")
                    layer.file(f"{head}/.wh.{base}", b"")
                    live.pop(path, None)
                dirs = sorted({p.rsplit("/", 1)[0] for p in live if p.count("/") >= 3})
                for d in rng.sample(dirs, ROOTFS_DIR_WHITEOUTS):
                    head, _, base = d.rpartition("/")
                    layer.file(f"{head}/.wh.{base}", b"")
                    for p in [p for p in live if p.startswith(d + "/")]:
                        del live[p]
                if index % 3 == 0:  # an opaque directory, refilled below
                    d = rng.choice(dirs)
                    layer.file(f"{d}/.wh..wh..opq", b"")
                    for p in [p for p in live if p.startswith(d + "/")]:
                        del live[p]
                    for i in range(20):
                        layer.file(f"{d}/refill{index}-{i}.conf", _small(rng))
                        live[f"{d}/refill{index}-{i}.conf"] = index
                for path in rng.sample(sorted(live), ROOTFS_OVERWRITES):
                    layer.file(path, _small(rng))
                    live[path] = index
            count = ROOTFS_BASE_FILES if index == 0 else ROOTFS_NEW_FILES
            for i in range(count):
                path = f"{_rootfs_dir(rng, index)}/f{index}-{i}.{rng.choice(('so', 'py', 'txt', 'json', 'bin'))}"
                layer.file(path, _small(rng))
                live[path] = index
            for i in range(3):
                path = f"opt/app/data{index}/big{i}.bin"
                layer.file(path, _content(rng, ROOTFS_BIG_BYTES // 3, compressible=i == 2))
                live[path] = index
        layer_files.append(lp)
    diff_ids = ["sha256:" + _sha256_file(p) for p in layer_files]
    config = {
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": f"/bin/sh -c bench rootfs step {i}"} for i in range(LAYERS)],
    }
    config_bytes = json.dumps(config).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    ids = [hashlib.sha256(f"{i}{d}".encode()).hexdigest() for i, d in enumerate(diff_ids)]
    manifest = [{"Config": config_name, "RepoTags": ["sizebot-bench:rootfs"],
                 "Layers": [f"{i}/layer.tar" for i in ids]}]
    tmp = out.with_suffix(".partial")
    with tarfile.open(tmp, "w") as tf:
        def member(name: str, data: bytes) -> None:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 1_700_000_000
            tf.addfile(ti, io.BytesIO(data))

        for i, (layer_id, lp) in enumerate(zip(ids, layer_files, strict=True)):
            member(f"{layer_id}/VERSION", b"1.0")
            member(f"{layer_id}/json", json.dumps({"id": layer_id, "parent": ids[i - 1] if i else ""}).encode())
            tf.add(lp, arcname=f"{layer_id}/layer.tar")
            lp.unlink()
        member(config_name, config_bytes)
        member("manifest.json", json.dumps(manifest).encode())
        member("repositories", json.dumps({"sizebot-bench": {"rootfs": ids[-1]}}).encode())
    tmp.rename(out)
    shutil.rmtree(work, ignore_errors=True)
    return out


SHAPES = {"blobs": ("bench-image.tar", make_archive), "rootfs": ("bench-rootfs.tar", make_rootfs_archive)}


# --------------------------------------------------------------------------------------------


def _tree_pss_kib(pid: int) -> int:
    """Proportional set size of a process and all its descendants (shared pages counted once)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            pass  # gone meanwhile
    return total


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int, int, int]:
    """(wall seconds, CPU seconds (user + system, all threads and reaped child processes), peak RSS
    of the largest process in MiB, peak PSS of the whole process tree in MiB (sampled every 20 ms:
    sizebot's worker processes count), exit status) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], _tree_pss_kib(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, peak[0] // 1024, proc.returncode


def bench_one(shape: str, archive: Path, base: Path, runs: int, dive: str) -> bool:
    out_s, out_d = base / f"sizebot-{shape}.json", base / f"dive-{shape}.json"
    tools = {
        "sizebot": ([sys.executable, "-m", "sizebot", "image", str(archive), "--format", "json", "-o", str(out_s)],
                    None),
        "dive": ([dive, "--source", "docker-archive", str(archive), "--json", str(out_d)],
                 {**os.environ, "CI": "true"}),
    }
    walls: dict[str, list[float]] = {t: [] for t in tools}
    cpus: dict[str, list[float]] = {t: [] for t in tools}
    rsss: dict[str, list[int]] = {t: [] for t in tools}
    psss: dict[str, list[int]] = {t: [] for t in tools}
    print(f"{'shape':<7} {'tool':<8} {'run':>3} {'wall s':>8} {'cpu s':>7} {'peak RSS MiB':>13} {'tree PSS MiB':>13}"
          f" {'exit':>4}")
    for run in range(runs):
        order = list(tools) if run % 2 == 0 else list(reversed(tools))
        for name in order:
            cmd, env = tools[name]
            wall, cpu, rss, pss, rc = measure(cmd, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
            rsss[name].append(rss)
            psss[name].append(pss)
            print(f"{shape:<7} {name:<8} {run:>3} {wall:>8.2f} {cpu:>7.2f} {rss:>13} {pss:>13} {rc:>4}", flush=True)
    med = {t: [statistics.median(m[t]) for m in (walls, cpus, rsss, psss)] for t in tools}
    for t, (w, c, r, p) in med.items():
        print(f"{shape:<7} {t:<8} median wall {w:.2f} s, CPU {c:.2f} s, peak RSS {r:.0f} MiB,"
              f" process tree peak PSS {p:.0f} MiB")
    ratio = [s / d for s, d in zip(med["sizebot"], med["dive"], strict=True)]
    print(f"{shape:<7} ratio sizebot/dive: wall {ratio[0]:.2f}x, CPU {ratio[1]:.2f}x, peak RSS {ratio[2]:.2f}x,"
          f" tree PSS {ratio[3]:.2f}x")
    ours = json.loads(out_s.read_text())
    theirs = json.loads(out_d.read_text())["image"]
    same = (ours["size"], ours["wasted_bytes"], ours["efficiency"]) == (
        theirs["sizeBytes"], theirs["inefficientBytes"], theirs["efficiencyScore"])
    print(f"{shape:<7} figures equal to dive's (size, wasted bytes, efficiency): {same}")
    return same


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="/tmp/sizebot-bench", help="where the archives are made (cached)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--shape", choices=[*SHAPES, "all"], default="all")
    ap.add_argument("--dive", default=shutil.which("dive") or os.path.expanduser("~/go/bin/dive"))
    args = ap.parse_args()
    base = Path(args.dir)
    base.mkdir(parents=True, exist_ok=True)
    ok = True
    for shape, (file_name, make) in SHAPES.items():
        if args.shape not in ("all", shape):
            continue
        t0 = time.perf_counter()
        archive = make(base / file_name)
        made = time.perf_counter() - t0
        print(f"{shape}: {archive} ({archive.stat().st_size / 1e9:.2f} GB, made/found in {made:.1f} s)")
        ok = bench_one(shape, archive, base, args.runs, args.dive) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
