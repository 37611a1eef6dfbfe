"""Speed and memory of ``sizebot analyze`` against ``go tool nm -size`` and go-size-analyzer (gsa)
on one large real Go binary.

Builds (once, cached in --dir) a large program from the Go module proxy, unstripped as ``go install``
leaves it (default: gopls, about 40+ MB), or takes --binary FILE. Then runs, in the same process, each
tool on it once:

    sizebot analyze BINARY --format json -o sizebot.json
    <go tool -n nm> -size -sort size BINARY > nm.txt     (the nm binary `go tool nm` runs)
    gsa BINARY -f json -o gsa.json                        (gsa from PATH or $SIZEBOT_BENCH_GSA)

and prints wall time and peak RSS (of the child and its descendants, from wait4) side by side, with the
ratios. gsa is AGPL: it is never vendored here; when it is not found the bench says so and goes on.

    python bench/bench_analyze.py [--dir /tmp/sizebot-bench] [--target golang.org/x/tools/gopls@v0.23.0]
                                  [--binary FILE] [--gsa PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TARGET = "golang.org/x/tools/gopls@v0.23.0"


def build_target(target: str, out_dir: Path) -> Path:
    """``go install target`` into out_dir/bin (cached): the binary as a user builds it, symbols and DWARF kept."""
    pkg = target.split("@", 1)[0]
    exe = out_dir / "bin" / pkg.rstrip("/").rsplit("/", 1)[-1]
    if exe.exists():
        return exe
    env = {**os.environ, "GOBIN": str(exe.parent), "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
    env.pop("GOFLAGS", None)
    print(f"building {target} (once) ...", flush=True)
    subprocess.run(["go", "install", target], check=True, env=env, cwd=out_dir)
    return exe


def measure(cmd: list[str], stdout_path: Path | None = None) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in MiB, exit status) of one child process (descendants included)."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    finally:
        if stdout_path:
            out.close()  # type: ignore[union-attr]
    err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        print(f"  {cmd[0]} exited {rc}: {err.splitlines()[-1] if err else ''}", file=sys.stderr)
    return wall, usage.ru_maxrss // 1024, rc


def find_gsa(option: str | None) -> str | None:
    for cand in (option, os.environ.get("SIZEBOT_BENCH_GSA"), shutil.which("gsa")):
        if cand and os.access(cand, os.X_OK):
            return cand
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="/tmp/sizebot-bench", help="work directory (the build is cached there)")
    ap.add_argument("--target", default=DEFAULT_TARGET, help="module package@version to build with go install")
    ap.add_argument("--binary", help="measure this binary instead of building --target")
    ap.add_argument("--gsa", help="go-size-analyzer binary (default: $SIZEBOT_BENCH_GSA, then gsa on PATH)")
    args = ap.parse_args()
    base = Path(args.dir)
    base.mkdir(parents=True, exist_ok=True)
    binary = Path(args.binary) if args.binary else build_target(args.target, base)
    size = binary.stat().st_size
    print(f"binary: {binary} ({size / 1e6:.1f} MB, {size / 2**20:.1f} MiB)")

    nm = subprocess.run(["go", "tool", "-n", "nm"], capture_output=True, text=True, check=True).stdout.strip()
    tools: dict[str, tuple[list[str], Path | None]] = {
        "sizebot": ([sys.executable, "-m", "sizebot", "analyze", str(binary), "--format", "json", "-o",
                     str(base / "sizebot.json")], None),
        "go tool nm": ([nm, "-size", "-sort", "size", str(binary)], base / "nm.txt"),
    }
    gsa = find_gsa(args.gsa)
    if gsa:
        tools["gsa"] = ([gsa, str(binary), "-f", "json", "-o", str(base / "gsa.json")], None)
    else:
        print("gsa: not found (put it on PATH or set SIZEBOT_BENCH_GSA): measured without it")

    results: dict[str, tuple[float, int, int]] = {}
    print(f"{'tool':<11} {'wall s':>8} {'peak RSS MiB':>13} {'exit':>4}")
    for name, (cmd, stdout_path) in tools.items():
        results[name] = measure(cmd, stdout_path)
        wall, rss, rc = results[name]
        print(f"{name:<11} {wall:>8.2f} {rss:>13} {rc:>4}", flush=True)

    ours_wall, ours_rss, ours_rc = results["sizebot"]
    for name in ("go tool nm", "gsa"):
        if name in results:
            wall, rss, _ = results[name]
            print(f"sizebot / {name}: wall {ours_wall / wall:.2f}x, peak RSS {ours_rss / max(rss, 1):.2f}x")
    print(f"sizebot peak RSS / file size: {ours_rss * 2**20 / size:.2f}x")
    if ours_rc == 0:
        doc = json.loads((base / "sizebot.json").read_text())
        attributed = sum(p["size"] for p in doc["packages"])
        total = attributed + sum(u["size"] for u in doc["unattributed"])
        print(f"sizebot: {len(doc['packages'])} packages, {len(doc['modules'])} modules, coverage "
              f"{100 * doc['coverage']:.2f}%, buckets sum to the file size: {total == doc['file_size']}")
    return ours_rc


if __name__ == "__main__":
    raise SystemExit(main())
