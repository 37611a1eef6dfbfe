"""Size and responsiveness of the treemap pages (``--format html``) on a large real program.

Builds (once, cached in --dir) two releases of gopls from the Go module proxy, or takes --old/--new
FILE, then writes ``sizebot analyze NEW --format html`` and ``sizebot diff OLD NEW --format html``
and reports, for each page: its bytes, the tree's nodes and functions shown, the time to render it in
Python, and in headless Chromium (tests/support/browser.py) the time to open it and the median time
of a zoom (a click on each top-level rectangle, then back to the file), layout and paint included.

    python bench/bench_treemap.py [--dir /tmp/sizebot-bench] [--old FILE --new FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sizebot.cli import main as sizebot  # noqa: E402
from sizebot.render.treemap import count_nodes, iter_nodes  # noqa: E402
from tests.support.browser import Browser  # noqa: E402

OLD, NEW = "golang.org/x/tools/gopls@v0.21.1", "golang.org/x/tools/gopls@v0.23.0"

ZOOMS = """(async () => {
  const frame = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  const out = [];
  for (let i = 0; i < 4; i++) {
    const e = document.querySelectorAll(".r.d1")[i];
    if (!e) break;
    let t = performance.now(); e.click(); await frame(); out.push(performance.now() - t);
    t = performance.now(); document.querySelector(".crumb").click(); await frame(); out.push(performance.now() - t);
  }
  return out;
})()"""


def build(target: str, out: Path) -> Path:
    exe = out / target.replace("/", "_").replace("@", "-") / "gopls"
    if not exe.exists():
        env = {**os.environ, "GOBIN": str(exe.parent), "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
        subprocess.run(["go", "install", target], env=env, check=True)
    return exe


def page_tree(page: str) -> dict:
    start = page.index('id="sizebot-data">') + len('id="sizebot-data">')
    return dict(json.loads(page[start:page.index("</script>", start)])["maps"][0]["tree"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/tmp/sizebot-bench")
    parser.add_argument("--old", help="the old binary (default: gopls v0.21.1, built)")
    parser.add_argument("--new", help="the new binary (default: gopls v0.23.0, built)")
    args = parser.parse_args()
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    old = Path(args.old) if args.old else build(OLD, work)
    new = Path(args.new) if args.new else build(NEW, work)
    pages = {"analyze": ["analyze", str(new)], "diff": ["diff", str(old), str(new)]}
    print(f"new: {new} ({new.stat().st_size:,} B), old: {old} ({old.stat().st_size:,} B)")
    print("| page | bytes | nodes | functions shown | sizebot (s) | open in Chromium (ms) | zoom, median (ms) |")
    print("|---|---|---|---|---|---|---|")
    with Browser() as browser:
        for name, argv in pages.items():
            out = work / f"treemap-{name}.html"
            t = time.perf_counter()
            assert sizebot([*argv, "--format", "html", "-o", str(out)]) == 0
            seconds = time.perf_counter() - t
            page = out.read_text(encoding="utf-8")
            tree = page_tree(page)
            functions = sum(1 for _, n in iter_nodes(tree) if n["k"] == "function")
            t = time.perf_counter()
            browser.open(out)
            opened = (time.perf_counter() - t) * 1000
            zooms = browser.evaluate(ZOOMS)
            assert browser.console_errors == [], browser.console_errors
            print(f"| {name} | {len(page.encode()):,} | {count_nodes(tree):,} | {functions:,} | {seconds:.1f} | "
                  f"{opened:.0f} | {statistics.median(zooms):.0f} (max {max(zooms):.0f}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
