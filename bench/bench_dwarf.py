"""CPU time of the DWARF split (``sizebot.binary.dwarf.split_dwarf``) on real binaries, optionally
against another checkout of sizebot, alternately in one run.

Each measurement is a fresh Python process that opens the binary and runs ``split_dwarf`` with code
addresses for owners (as the analysis worker runs it: no function table needed), timing only that
call (``time.process_time``: inflating the debug sections and splitting them). With ``--before DIR``
(a checkout of sizebot, e.g. a ``git worktree`` at an older commit) the two trees run alternately
(before, after, before, after, ...) --runs times on each binary, and the bench prints each run with
the 1-minute load average before it, the medians and their ratio. It also checks that both trees
split every section into the same pieces.

    python bench/bench_dwarf.py [--runs 3] [--before DIR] BINARY [BINARY ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import hashlib, json, sys, time
from sizebot.binary.container import open_binary
from sizebot.binary.dwarf import split_dwarf
with open_binary(sys.argv[1]) as binary:
    t = time.process_time()
    split = split_dwarf(binary, lambda pc: pc)
    cpu = time.process_time() - t
digest = hashlib.sha256(json.dumps([split.pieces, split.sizes, split.notes], sort_keys=True).encode()).hexdigest()
print(json.dumps({"cpu": cpu, "pieces": sum(map(len, split.pieces.values())), "digest": digest}))
"""


def measure(tree: Path, binary: str) -> dict[str, float | int | str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.run([sys.executable, "-c", CHILD, os.path.abspath(binary)], env=env, cwd=tree,
                          capture_output=True, text=True, timeout=600, check=True)  # cwd: first on sys.path
    return json.loads(proc.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="+", metavar="BINARY")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--before", type=Path, help="another checkout of sizebot to measure alternately")
    args = ap.parse_args()
    trees = [("before", args.before.resolve()), ("after", ROOT)] if args.before else [("this tree", ROOT)]
    for binary in args.binaries:
        print(f"{binary} ({os.path.getsize(binary):,} bytes)")
        cpu: dict[str, list[float]] = {name: [] for name, _t in trees}
        digests: dict[str, set[str]] = {name: set() for name, _t in trees}
        for run in range(args.runs):
            for name, tree in trees:
                load = os.getloadavg()[0]
                got = measure(tree, binary)
                cpu[name].append(float(got["cpu"]))
                digests[name].add(str(got["digest"]))
                print(f"  run {run + 1} {name:>9}: split_dwarf CPU {got['cpu']:.3f} s, {got['pieces']} pieces "
                      f"(load {load:.1f})")
        medians = {name: statistics.median(v) for name, v in cpu.items()}
        line = ", ".join(f"{name} {m:.3f} s" for name, m in medians.items())
        if args.before:
            same = len(digests["before"] | digests["after"]) == 1
            ratio = medians["after"] / medians["before"]
            line += f"; after/before {ratio:.2f}x; pieces {'identical' if same else 'DIFFER'}"
        print(f"  median CPU: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
