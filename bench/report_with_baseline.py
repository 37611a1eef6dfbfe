"""``bench_report.py --baseline-rounds N``: a pull request's run with and without a baseline, on the same
real program (dive v0.13.1 and its head commit, see bench_report.py), in one run.

First the base is measured once, as the default branch's push job does (``sizebot measure --ref BASE``;
timed and shown, not part of the comparison). Then, for N rounds in ABBA order, the pull request's run:
``sizebot report --base BASE --head HEAD`` without and with ``--baseline base.json``, each with an empty
analysis cache and a Go build cache that is either cold (empty: a runner with no cache at all) or warm
(a copy, made before the clock starts, of the cache the push job's measure left: a runner that restores
the default branch's Go build cache, as actions/setup-go does). The figure is the median wall time with
the baseline over the median without (goal: <= 55%); the two reports must be the same document but for
the baseline's ``trend``. Beside the wall times, the CPU time of each run's whole process tree (go, git,
the analysis workers; from RUSAGE_CHILDREN), which other jobs on a shared machine do not stretch.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL = 0.55


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(cmd: list[str], env: dict[str, str], log: Path) -> tuple[float, float]:
    """(wall time, CPU time of the whole process tree: go, git, the analysis workers)."""
    start, cpu = time.perf_counter(), _cpu()
    with open(log, "w") as fh:
        rc = subprocess.run(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - start
    if rc not in (0, 1):
        sys.exit(f"bench: {' '.join(cmd[:4])} ... exited with status {rc} (log: {log})")
    return wall, _cpu() - cpu


def compare(work: Path, repo: Path, base: str, head: str, rounds: int, gocache: str = "cold") -> dict:
    env = {**os.environ, "TMPDIR": str(work / "tmp")}
    (work / "tmp").mkdir(exist_ok=True)
    sizebot = [sys.executable, "-m", "sizebot"]
    baseline = work / "base.baseline.json"
    measure_wall = None
    if not baseline.exists():
        measure_wall, _ = _run([*sizebot, "measure", "--repo", str(repo), "--ref", base, "-o", str(baseline), "-q"],
                            {**env, "GOCACHE": str(work / "gocache-measure")}, work / "measure.log")
    order = [("without", "with") if i % 2 == 0 else ("with", "without") for i in range(rounds)]
    walls: dict[str, list[float]] = {"with": [], "without": []}
    cpus: dict[str, list[float]] = {"with": [], "without": []}
    reports: dict[str, dict] = {}
    for i, pair in enumerate(order):
        for kind in pair:
            key = f"{kind}-{i}"
            out = work / f"report-{gocache}-{key}.json"
            cmd = [*sizebot, "report", "--repo", str(repo), "--base", base, "--head", head, "--format", "json",
                   "--output", str(out), "--quiet", "--cache-dir", str(work / f"analyses-{gocache}-{key}")]
            if kind == "with":
                cmd += ["--baseline", str(baseline)]
            cache = work / f"gocache-{gocache}-{key}"
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(work / f"analyses-{gocache}-{key}", ignore_errors=True)  # empty: analysed anew
            if gocache == "warm":  # copied before the clock starts
                shutil.copytree(work / "gocache-measure", cache, symlinks=True)
            print(f"bench: report {gocache} {key} ...", file=sys.stderr, flush=True)
            wall, cpu = _run(cmd, {**env, "GOCACHE": str(cache)}, work / f"{gocache}-{key}.log")
            walls[kind].append(wall)
            cpus[kind].append(cpu)
            print(f"bench:   {wall:.1f} s wall, {cpu:.1f} s CPU (load {os.getloadavg()[0]:.1f})", file=sys.stderr)
            shutil.rmtree(cache, ignore_errors=True)
            reports[kind] = json.loads(out.read_text())
    used = dict(reports["with"])
    trend = used.pop("trend", None)
    if used != reports["without"]:
        sys.exit("bench: the report with the baseline differs from the one without it")
    if trend is None:
        sys.exit("bench: the report with the baseline has no trend: the baseline was not used")
    median = {k: statistics.median(v) for k, v in walls.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    return {"gocache": gocache, "measure": measure_wall, "walls": walls, "median": median, "cpus": cpus,
            "cpu": cpu, "ratio": median["with"] / median["without"], "cpu_ratio": cpu["with"] / cpu["without"],
            "builds": len(reports["without"]["builds"]), "baseline_bytes": baseline.stat().st_size}


def print_comparison(r: dict) -> None:
    print()
    print(f"A pull request's run with and without a baseline ({r['builds']} builds, {r['gocache']} Go build cache, "
          "empty analysis cache):")
    if r["measure"] is not None:
        print(f"  sizebot measure of the base (the push job, once): {r['measure']:.1f} s")
    print(f"  baseline file {r['baseline_bytes'] / 1e6:.1f} MB")
    for kind in ("without", "with"):
        runs = ", ".join(f"{w:.1f}" for w in r["walls"][kind])
        cpus = ", ".join(f"{c:.1f}" for c in r["cpus"][kind])
        print(f"  report {kind + ' baseline':17} median {r['median'][kind]:6.1f} s   (runs: {runs})   "
              f"CPU median {r['cpu'][kind]:6.1f} s   (runs: {cpus})")
    verdict = "met" if r["ratio"] <= GOAL else "NOT met"
    print(f"  with / without: {r['ratio']:.0%} of the wall time (goal <= {GOAL:.0%}: {verdict}), "
          f"{r['cpu_ratio']:.0%} of the CPU time; the reports are the same document")
