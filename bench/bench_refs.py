"""The data-reference scanners (sizebot/binary/refs_*.py) on a big real binary: CPU time of one scan of its
.text, and how many references it finds against `go tool objdump` (precision, recall): the figures quoted
in docs/benchmarks.md.

Builds gopls from the Go module proxy for each GOARCH (once, cached in --dir), or takes --binary FILE.

    python bench/bench_refs.py [--dir /tmp/sizebot-bench-refs] [--arch arm64 --arch 386] [--binary FILE]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sizebot.binary.container import open_binary  # noqa: E402
from sizebot.binary.references import scanner  # noqa: E402
from tests.support import objdump_refs  # noqa: E402
from tests.support.objdump_refs import instruction_starts, listing, precision_recall  # noqa: E402

TARGET = ("golang.org/x/tools/gopls", "v0.23.0")
# objdump's references per GOARCH (the helper of each scanner's tests)
TRUTH = {"amd64": "amd64_references", "arm64": "arm64_references", "386": "i386_references"}


def build(goarch: str, out: Path) -> Path:
    """gopls for linux/``goarch`` (cached): a throwaway module that requires it, then go build."""
    exe = out / f"gopls-{goarch}"
    if exe.exists():
        return exe
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": goarch}
    env.pop("GOFLAGS", None)
    if not (out / "go.mod").exists():
        subprocess.run(["go", "mod", "init", "example.com/benchrefs"], cwd=out, env=env, check=True)
        subprocess.run(["go", "get", f"{TARGET[0]}@{TARGET[1]}"], cwd=out, env=env, check=True)
    print(f"building {TARGET[0]}@{TARGET[1]} for linux/{goarch} (once) ...", flush=True)
    subprocess.run(["go", "build", "-o", str(exe), TARGET[0]], cwd=out, env=env, check=True)
    return exe


def measure(exe: Path) -> None:
    lst = listing(exe)
    goarch = open_binary(exe).goarch
    scan = scanner(goarch)
    truth_of = getattr(objdump_refs, TRUTH.get(goarch, ""), None)
    if scan is None or truth_of is None:
        print(f"{exe}: no scanner for {goarch}")
        return
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        pcs, targets = scan(lst.code, lst.code_addr, lst.lo, lst.hi)
        best = min(best, time.process_time() - start)
    truth = truth_of(lst)
    at = list(pcs)
    if goarch == "amd64":  # amd64 reports the opcode's address: the instruction holding it is compared
        at = instruction_starts(lst, at)
    precision, recall = precision_recall(set(zip(at, targets, strict=True)), truth)
    print(f"{exe.name}: {goarch}, .text {len(lst.code):,} bytes, {len(pcs):,} references found, "
          f"{len(truth):,} in objdump; precision {precision:.5f}, recall {recall:.5f}; "
          f"scan {best:.3f} s CPU (best of 5)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="/tmp/sizebot-bench-refs", help="work directory (builds cached there)")
    ap.add_argument("--arch", action="append", help="GOARCH to build gopls for (default: arm64 and 386)")
    ap.add_argument("--binary", help="measure this binary instead (with symbols: objdump needs them)")
    args = ap.parse_args()
    if args.binary:
        measure(Path(args.binary))
        return 0
    for goarch in args.arch or ["arm64", "386"]:
        measure(build(goarch, Path(args.dir)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
