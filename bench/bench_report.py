"""Cost of ``sizebot report`` against the ``go build`` commands it runs, on a real medium-size repository.

The repository is dive v0.13.1's source (from the Go module cache), committed into a temp git repo as
the base; the head commit adds a ``dive checksum`` command (cmd/checksum.go, pulling in hash/crc64 and
text/tabwriter). Two contenders, each with its own build cache, from the same module cache:

* sizebot: ``python -m sizebot report --repo REPO --base BASE --head HEAD --format json --output X``
* baseline.sh (written by the bench): the same ``go build`` commands sizebot runs without a config,
  for every main package (found by ``go list``) and the two default strategies (default, release =
  ``-trimpath -ldflags=-s -w``), base builds in parallel, then head builds in parallel, both sides in
  one ``git worktree`` at one path, the head checked out over the base (as sizebot does: the path is
  part of the cache key of a build without -trimpath, and embedded in its binary). Its wall time is the
  whole bash run, its worktree included (well under 1 s).

Each runs cold (GOCACHE = an empty dir) then warm (the same GOCACHE again), for --rounds rounds in ABBA
order; the overhead (sizebot's wall time outside its go builds, as a share of its wall time) is reported
per run and as the median of the cold and of the warm runs, against the goals (<= 5% cold, <= 10% warm).
Wall times on a shared machine swing more than the overhead measured, so two figures that ignore other
jobs come with them: every go command goes through a wrapper that logs its start and end, so within
one run the bench knows how long a go build was in flight (own time = wall time minus that: git worktrees,
go list, the analysis of the binaries that does not overlap a build, the report); and the CPU time of each
run's whole process tree (from RUSAGE_CHILDREN).

    python bench/bench_report.py [--dir /tmp/sizebot-bench-report] [--rounds 2] [--warm-rounds 0]
                                 [--no-analysis-cache] [--keep]
    python bench/bench_report.py --baseline-rounds 2   # a PR run with and without a baseline instead

sizebot keeps analyses by the binary's content in --cache-dir: the bench gives it an empty directory for
each cold run, kept for the warm ones (as GOCACHE); --no-analysis-cache runs it with --no-cache.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DIVE = "github.com/wagoodman/dive@v0.13.1"
ROOT = Path(__file__).resolve().parent.parent

# The head's change: a cobra subcommand, as dive's own commands are written.
CHECKSUM_GO = '''package cmd

import (
	"fmt"
	"hash/crc64"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// checksumCmd prints the CRC-64 of files, to compare files extracted from two images.
var checksumCmd = &cobra.Command{
	Use:   "checksum FILE...",
	Short: "Print the CRC-64 (ECMA) and size of each file",
	Args:  cobra.MinimumNArgs(1),
	RunE:  doChecksumCmd,
}

func init() {
	rootCmd.AddCommand(checksumCmd)
}

func doChecksumCmd(cmd *cobra.Command, args []string) error {
	table := crc64.MakeTable(crc64.ECMA)
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 2, ' ', 0)
	for _, name := range args {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		h := crc64.New(table)
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(w, "%016x\\t%d\\t%s\\n", h.Sum64(), n, name)
	}
	return w.Flush()
}
'''

# Logs every go command (start, end, cwd, args) and runs the real one; bash's $EPOCHREALTIME costs no fork.
GO_WRAPPER = '''#!/bin/bash
start=$EPOCHREALTIME
"$BENCH_REAL_GO" "$@"
rc=$?
printf '%s\\t%s\\t%s\\t%s\\n' "$start" "$EPOCHREALTIME" "$PWD" "$*" >> "$BENCH_GO_LOG"
exit $rc
'''

# sizebot's default strategies (sizebot/config DEFAULT_STRATEGIES), as go build flags.
STRATEGIES = (("default", ()), ("release", ("-trimpath", "-ldflags=-s -w")))


def sh(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"bench: {shlex.join(cmd)} failed:\n{proc.stderr}{proc.stdout}")
    return proc.stdout


def dive_source(work: Path) -> Path:
    modcache = Path(sh(["go", "env", "GOMODCACHE"]).strip())
    src = modcache / "github.com/wagoodman/dive@v0.13.1"
    if not src.is_dir():
        tmpmod = work / "download"
        tmpmod.mkdir(parents=True, exist_ok=True)
        sh(["go", "mod", "init", "bench.example/download"], cwd=tmpmod)
        sh(["go", "mod", "download", DIVE], cwd=tmpmod, env={**os.environ, "GOFLAGS": "-mod=mod"})
    if not src.is_dir():
        sys.exit(f"bench: {src} is missing after go mod download")
    return src


def make_repo(work: Path) -> tuple[Path, str, str]:
    """dive's source as the base commit, plus a head commit that adds cmd/checksum.go."""
    repo = work / "dive"
    if repo.exists():
        shutil.rmtree(repo)
    shutil.copytree(dive_source(work), repo)
    for d, _dirs, files in os.walk(repo):  # the module cache is read-only
        os.chmod(d, 0o755)
        for f in files:
            p = os.path.join(d, f)
            os.chmod(p, os.stat(p).st_mode | stat.S_IWUSR)
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
    git = ["git", "-C", str(repo), "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false"]
    sh(git[:3] + ["init", "-q", "-b", "main"], env=env)
    sh(git + ["add", "-A"], env=env)
    sh(git + ["commit", "-q", "-m", "dive v0.13.1"], env=env)
    base = sh(git + ["rev-parse", "HEAD"], env=env).strip()
    (repo / "cmd" / "checksum.go").write_text(CHECKSUM_GO)
    sh(git + ["add", "-A"], env=env)
    sh(git + ["commit", "-q", "-m", "Add dive checksum: CRC-64 of files"], env=env)
    head = sh(git + ["rev-parse", "HEAD"], env=env).strip()
    return repo, base, head


def main_packages(repo: Path) -> list[str]:
    """The main packages, as sizebot's discover_targets finds them ("." or "./rel")."""
    out = sh(["go", "list", "-e", "-f", '{{if eq .Name "main"}}{{.Dir}}{{end}}', "./..."], cwd=repo)
    pkgs = []
    for line in out.splitlines():
        if line.strip():
            rel = Path(line.strip()).resolve().relative_to(repo.resolve()).as_posix()
            pkgs.append("." if rel == "." else f"./{rel}")
    return pkgs


def baseline_script(packages: list[str], goos: str, goarch: str) -> str:
    """The go build commands sizebot runs for the default config, for base then head."""
    def builds(side: str) -> str:
        lines = []
        for i, pkg in enumerate(packages):
            name = Path(pkg).name if pkg != "." else "dive"
            for strategy, flags in STRATEGIES:
                out = f'"$out/{side}/{i}/{strategy}/{name}-{goos}-{goarch}"'
                cmd = " ".join(["go", "build", "-o", out, *(shlex.quote(f) for f in flags), pkg])
                lines.append(f'( cd "$work/src" && {cmd} ) &')
        return "\n".join(lines) + "\nwait_all\n"

    return f'''#!/usr/bin/env bash
# Written by bench/bench_report.py: the go builds of `sizebot report` without a config.
# usage: baseline.sh REPO BASE HEAD GOCACHE OUT
set -euo pipefail
repo=$1 base=$2 head=$3 out=$5
export GOCACHE=$4 GOTOOLCHAIN=local GOOS={goos} GOARCH={goarch}
work=${{TMPDIR:-/tmp}}/baseline-src  # one fixed path, as sizebot's
cleanup() {{ git -C "$repo" worktree remove --force "$work/src" 2>/dev/null || true; rm -rf "$work"; }}
trap cleanup EXIT
cleanup
wait_all() {{ local rc=0; for j in $(jobs -p); do wait "$j" || rc=1; done; return $rc; }}
now() {{ echo "$EPOCHREALTIME"; }}
git -C "$repo" worktree add -q --detach "$work/src" "$base"
t0=$(now)
{builds("base")}t1=$(now)
git -C "$work/src" checkout -q --detach "$head"
{builds("head")}t2=$(now)
echo "base_builds $t0 $t1"
echo "head_builds $t1 $t2"
'''


def read_go_log(path: Path) -> list[dict]:
    calls = []
    if path.exists():
        for line in path.read_text().splitlines():
            start, end, cwd, args = line.split("\t", 3)
            calls.append({"start": float(start), "end": float(end), "cwd": cwd, "args": args})
    return calls


def union(intervals: list[tuple[float, float]]) -> float:
    total, cur_s, cur_e = 0.0, None, None
    for s, e in sorted(intervals):
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += cur_e - cur_s
    return total


def go_figures(calls: list[dict]) -> dict:
    """Time with a go build in flight (all, base side, head side) and in other go commands."""
    def side(c: dict) -> str:
        out = c["args"].split()[2] if c["args"].startswith("build -o ") else ""
        return "base" if "/base/" in out else "head" if "/head/" in out else "?"

    builds = [c for c in calls if c["args"].startswith("build ")]
    others = [c for c in calls if not c["args"].startswith("build ")]
    fig = {"builds": union([(c["start"], c["end"]) for c in builds]),
           "other_go": union([(c["start"], c["end"]) for c in others]),
           "n_builds": len(builds), "n_other_go": len(others),
           "other_go_commands": sorted({" ".join(c["args"].split()[:3]) for c in others})}
    for s in ("base", "head"):
        mine = [c for c in builds if side(c) == s]
        fig[f"{s}_builds"] = union([(c["start"], c["end"]) for c in mine])
        fig[f"{s}_each"] = sorted(round(c["end"] - c["start"], 2) for c in mine)
    return fig


def run_timed(cmd: list[str], env: dict, log: Path) -> tuple[float, float, float, float, int]:
    """(wall seconds, CPU seconds of the whole process tree, epoch at launch, epoch at exit, status);
    the epochs compare with the go log's."""
    def cpu() -> float:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)  # every waited-for descendant: go, compile, link
        return ru.ru_utime + ru.ru_stime

    c0, t0, e0 = cpu(), time.perf_counter(), time.time()
    with open(log, "w") as f:
        rc = subprocess.run(cmd, env=env, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
    return time.perf_counter() - t0, cpu() - c0, e0, time.time(), rc


def own_time(calls: list[dict], launch: float, exit_: float) -> list[tuple[str, float]]:
    """Where a run's time outside go commands goes: each stretch with no go command in flight,
    named by what surrounds it."""
    spans = sorted((c["start"], c["end"], c["args"].split()[0]) for c in calls)
    merged: list[list] = []
    for s, e, what in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
            merged[-1][2] = what if merged[-1][2] == what else merged[-1][2]
        else:
            merged.append([s, e, what])
    out, t, prev = [], launch, "start (python, git worktree add)"
    for s, e, what in merged:
        out.append((f"{prev} -> {what}", max(0.0, s - t)))
        t, prev = e, f"after go {what}"
    out.append((f"{prev} -> exit", max(0.0, exit_ - t)))
    return out


def plan(rounds: int, warm_rounds: int = 0) -> list[tuple[int, str, str, int]]:
    """(round, tool, state, round of its build cache) in ABBA order, so a slow stretch of a shared machine
    hits both tools: round 1 script cold, sizebot cold, sizebot warm, script warm; round 2 the mirror
    image; ... Then ``warm_rounds`` more warm runs of each tool on round 1's caches (filled first by an
    unmeasured run of each tool when there are no full rounds: a cold build of dive takes minutes on a
    busy machine)."""
    out = []
    for r in range(1, rounds + 1):
        a, b = ("script", "sizebot") if r % 2 else ("sizebot", "script")
        out += [(r, a, "cold", r), (r, b, "cold", r), (r, b, "warm", r), (r, a, "warm", r)]
    if warm_rounds and not rounds:
        out += [(0, "script", "fill", 1), (0, "sizebot", "fill", 1)]
    for k in range(1, warm_rounds + 1):
        r = rounds + k
        a, b = ("script", "sizebot") if r % 2 else ("sizebot", "script")
        out += [(r, a, "warm", 1), (r, b, "warm", 1)]
    return out


def binary_sizes(root: Path) -> dict[str, int]:
    """{"base release": size, ...} of the binaries one run left under root."""
    out = {}
    for p in root.rglob("*-*-*"):
        if p.is_file():
            side, strategy = p.relative_to(root).parts[0], p.parent.name
            out[f"{side} {strategy}"] = p.stat().st_size
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "sizebot-bench-report"))
    ap.add_argument("--rounds", type=int, default=2, help="cold+warm runs of each tool, in ABBA order (default 2)")
    ap.add_argument("--no-analysis-cache", action="store_true",
                    help="sizebot analyses every binary (--no-cache), also when warm")
    ap.add_argument("--warm-rounds", type=int, default=0,
                    help="then this many more warm runs of each tool, alternately (default 0)")
    ap.add_argument("--keep", action="store_true", help="keep the caches and binaries")
    ap.add_argument("--baseline-rounds", type=int, default=0, metavar="N",
                    help="instead: a pull request's run with and without a baseline, N rounds each "
                         "(report_with_baseline.py)")
    ap.add_argument("--baseline-gocache", choices=("cold", "warm", "both"), default="both",
                    help="the Go build cache of those runs: empty, or the push job's (default both)")
    args = ap.parse_args()
    work = Path(args.dir).resolve()
    if work.exists():
        shutil.rmtree(work, onerror=lambda f, p, _e: (os.chmod(p, 0o700), f(p)))
    work.mkdir(parents=True)

    real_go = shutil.which("go")
    if real_go is None:
        sys.exit("bench: go is not on PATH")
    repo, base, head = make_repo(work)
    if args.baseline_rounds:
        import report_with_baseline

        sh(["go", "mod", "download"], cwd=repo)
        for gocache in ("warm", "cold") if args.baseline_gocache == "both" else (args.baseline_gocache,):
            report_with_baseline.print_comparison(report_with_baseline.compare(work, repo, base, head,
                                                                               args.baseline_rounds, gocache))
        return 0
    packages = main_packages(repo)
    goos, goarch = sh(["go", "env", "GOOS", "GOARCH"]).split()
    # Modules into the module cache and sources into the page cache before anything is timed.
    sh(["go", "mod", "download"], cwd=repo)
    sh(["go", "list", "-deps", "-test=false", *packages], cwd=repo,
       env={**os.environ, "GOCACHE": str(work / "throwaway-cache"), "GOTOOLCHAIN": "local"})

    script = work / "baseline.sh"
    script.write_text(baseline_script(packages, goos, goarch))
    bindir = work / "bin"
    bindir.mkdir()
    (bindir / "go").write_text(GO_WRAPPER)
    (bindir / "go").chmod(0o755)
    (work / "tmp").mkdir()

    # sizebot as installed (pip compiles every module to bytecode): compiled once here, so a run does not
    # recompile its modules from source when the environment says PYTHONDONTWRITEBYTECODE
    package = sh([sys.executable, "-c", "import os, sizebot; print(os.path.dirname(sizebot.__file__))"]).strip()
    sh([sys.executable, "-m", "compileall", "-q", package])
    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def env_for(gocache: Path, golog: Path) -> dict:
        return {**base_env, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "BENCH_REAL_GO": real_go,
                "BENCH_GO_LOG": str(golog), "GOCACHE": str(gocache), "TMPDIR": str(work / "tmp")}

    results = {}
    for rnd, tool, state, cache_round in plan(args.rounds, args.warm_rounds):
        key = f"{tool}-{state}-{rnd}"
        cache = work / f"gocache-{tool}-{cache_round}"  # empty for the cold run, reused by the warm ones
        cache.mkdir(exist_ok=True)
        golog = work / f"{key}.golog"
        if tool == "sizebot":
            out = work / f"{key}.json"
            cmd = [sys.executable, "-m", "sizebot", "report", "--repo", str(repo), "--base", base, "--head", head,
                   "--format", "json", "--output", str(out)]
            # the analyses kept by content follow the build cache: empty when cold, kept when warm
            cmd += ["--no-cache"] if args.no_analysis_cache else ["--cache-dir", str(work / f"analyses-{cache_round}")]
        else:
            cmd = ["bash", str(script), str(repo), base, head, str(cache), str(work / key)]
        print(f"bench: {key} ...", file=sys.stderr, flush=True)
        load = os.getloadavg()[0]  # other jobs on a shared machine show here
        wall, cpu, launch, exit_, rc = run_timed(cmd, env_for(cache, golog), work / f"{key}.log")
        if rc not in (0, 1):  # 1 = a fail budget; none without a config, but not a bench failure either
            print((work / f"{key}.log").read_text()[-3000:], file=sys.stderr)
            sys.exit(f"bench: {key} exited with status {rc} (log: {work / f'{key}.log'})")
        calls = read_go_log(golog)
        fig = go_figures(calls)
        fig.update(tool=tool, state=state, round=rnd, wall=wall, cpu=cpu, load=load, own=own_time(calls, launch, exit_))
        if tool == "sizebot":
            doc = json.loads(out.read_text())
            fig["builds_ok"] = [(b["strategy"], b["base"]["status"], b["head"]["status"]) for b in doc["builds"]]
            fig["sizes"] = {f"{side} {b['strategy']}": b[f"{side}_size"]
                            for b in doc["builds"] for side in ("base", "head")}
            fig["verdict"] = doc["verdict"]
        else:
            fig["sizes"] = binary_sizes(work / key)
        results[key] = fig
        # each run as it ends (a cold run takes minutes on a busy machine: what is measured is kept)
        print(f"bench: {key}: wall {wall:.2f}s, go build in flight {fig['builds']:.2f}s, "
              f"own {(wall - fig['builds']) / wall:.1%}, load {load:.1f}", file=sys.stderr, flush=True)
        (work / "results.json").write_text(json.dumps(results, indent=2))

    print_table(results, packages, goos, goarch, args.no_analysis_cache)
    (work / "results.json").write_text(json.dumps(results, indent=2))
    if not args.keep:
        for p in work.glob("gocache-*"):
            shutil.rmtree(p, onerror=lambda f, p, _e: (os.chmod(p, 0o700), f(p)))
    return 0


NAMES = {"after go build -> build": "between the base and the head builds (analysis of the base binaries)",
         "after go build -> list": "after the head builds, before go list -deps (analysis of the head binaries, diffs)",
         "after go list -> exit": "after the last go command (budgets, JSON, worktree removal, exit)"}


def print_table(r: dict, packages: list[str], goos: str, goarch: str, no_cache: bool = False) -> None:
    go_version = sh(["go", "version"]).strip()
    print(f"\nsizebot report vs baseline.sh on dive v0.13.1 (+cmd/checksum.go), main packages {packages}, "
          f"analysis cache {'off' if no_cache else 'on'}, "
          f"{goos}/{goarch}, strategies default+release, {os.cpu_count()} CPUs, {go_version}\n")
    head = (f"{'run (in order)':<17}{'wall':>9}{'go build':>10}{'base':>9}{'head':>9}{'head/base':>10}"
            f"{'other go':>10}{'rest':>8}{'own %':>8}{'CPU':>9}{'load':>6}")
    print(head)
    print("-" * len(head))
    for key, f in r.items():
        own = f["wall"] - f["builds"]
        print(f"{key:<17}{f['wall']:>8.2f}s{f['builds']:>9.2f}s{f['base_builds']:>8.2f}s{f['head_builds']:>8.2f}s"
              f"{f['head_builds'] / f['base_builds']:>10.2f}{f['other_go']:>9.2f}s"
              f"{f['wall'] - f['builds'] - f['other_go']:>7.2f}s"
              f"{own / f['wall']:>8.1%}{f['cpu']:>8.1f}s{f['load']:>6.1f}")
    print("\ngo build = wall time with a go build in flight (base, head: per side); other go = go list, go env;\n"
          "rest = everything else; own % = (wall - go build) / wall: the run's overhead over its builds;\n"
          "CPU = user+sys of the whole process tree (go, compile, link included);\n"
          "load = 1-min load average at launch\n")
    goals = {"cold": 0.05, "warm": 0.10}
    states = [s for s in ("cold", "warm") if any(f["state"] == s for f in r.values())]
    for state in states:
        shares = sorted((f["wall"] - f["builds"]) / f["wall"] for f in r.values()
                        if f["tool"] == "sizebot" and f["state"] == state)
        print(f"sizebot {state} overhead outside its builds: median {statistics.median(shares):.1%} of its wall "
              f"time over {len(shares)} runs ({', '.join(f'{x:.1%}' for x in shares)}); goal <= {goals[state]:.0%}")
    print()
    for state in states:
        runs = {t: [f for f in r.values() if f["tool"] == t and f["state"] == state] for t in ("sizebot", "script")}
        s_wall = sum(f["wall"] for f in runs["sizebot"]) / len(runs["sizebot"])
        b_wall = sum(f["wall"] for f in runs["script"]) / len(runs["script"])
        s_build = sum(f["builds"] for f in runs["sizebot"]) / len(runs["sizebot"])
        b_build = sum(f["builds"] for f in runs["script"]) / len(runs["script"])
        own = s_wall - s_build
        s_cpu = sum(f["cpu"] for f in runs["sizebot"]) / len(runs["sizebot"])
        b_cpu = sum(f["cpu"] for f in runs["script"]) / len(runs["script"])
        print(f"{state} (mean of {len(runs['sizebot'])}): sizebot {s_wall:.2f}s, script {b_wall:.2f}s "
              f"= {s_wall / b_wall:.2f}x; "
              f"sizebot - script = {s_wall - b_wall:+.2f}s ({(s_wall - b_wall) / s_wall:+.1%} of sizebot); "
              f"builds: sizebot {s_build:.2f}s, script {b_build:.2f}s; "
              f"sizebot outside its builds = {own:.2f}s ({own / s_wall:.1%} of sizebot); "
              f"CPU: sizebot {s_cpu:.1f}s, script {b_cpu:.1f}s, "
              f"difference {s_cpu - b_cpu:+.1f}s ({(s_cpu - b_cpu) / s_cpu:+.1%} of sizebot)")
    first = next(f for f in r.values() if f["tool"] == "sizebot")
    for state in states:
        f = next(f for f in r.values() if f["tool"] == "sizebot" and f["state"] == state)
        own = f["own"]
        print(f"\nsizebot {state} (round {f['round']}), "
              f"time with no go command in flight ({sum(t for _, t in own):.2f}s):")
        for what, t in own:
            if t >= 0.05:
                print(f"    {t:6.2f}s  {NAMES.get(what, what)}")
    print(f"\nsizebot's other go commands: {first['other_go_commands']}; builds (strategy, base, head): "
          f"{first['builds_ok']}; verdict {first['verdict']}")
    sizes = {key: f["sizes"] for key, f in r.items() if f["state"] in ("cold", "fill")}
    print("binary sizes (first runs): " + "; ".join(f"{k}: " + ", ".join(f"{n} {v:,}" for n, v in sorted(s.items()))
                                                  for k, s in sizes.items()))


if __name__ == "__main__":
    sys.exit(main())
