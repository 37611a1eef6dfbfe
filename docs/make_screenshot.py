"""Make docs/screenshot-comment.png: the demo's PR comment (``sizebot demo``: a sample Go change that
adds an HTTP server, a new package and a new module), rendered as GitHub renders markdown by
sizebot's HTML preview and photographed in headless Chromium.

    python docs/make_screenshot.py [--demo-out DIR] [--chromium PATH] [--output docs/screenshot-comment.png]

Without ``--demo-out`` it runs the demo first (Go and git needed). Needs Debian's ``chromium`` and
an emoji font (apt-get install -y chromium fonts-noto-color-emoji). Runs offline: the page has no
script and no remote resource.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sizebot.render.html_preview import render_html_preview  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    parser.add_argument("--demo-out", metavar="DIR", help="an existing `sizebot demo --out DIR` (default: run it)")
    parser.add_argument("--output", default=str(ROOT / "docs" / "screenshot-comment.png"))
    parser.add_argument("--size", default="1000,1700", help="window width,height")
    args = parser.parse_args()
    if not args.chromium:
        print("chromium not found: apt-get install -y chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        demo_out = Path(args.demo_out) if args.demo_out else Path(tmp) / "demo"
        if not args.demo_out:
            subprocess.run([sys.executable, "-m", "sizebot", "demo", "--quiet", "--out", str(demo_out)], check=True,
                           cwd=ROOT, stdout=subprocess.DEVNULL)
        comment = (demo_out / "sizebot-report.md").read_text(encoding="utf-8")
        page = render_html_preview(comment, "acme/app#42: Serve greetings and quotes as JSON over HTTP")
        # Open what a reviewer opens first: the new dependencies and the packages that grew.
        for summary in ("🆕 New dependencies", "📦 Packages"):
            page = page.replace(f"<details><summary>{summary}", f"<details open><summary>{summary}", 1)
        html = Path(tmp) / "comment.html"
        html.write_text(page, encoding="utf-8")
        cmd = [args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp}/profile",
               f"--screenshot={Path(args.output).resolve()}", f"--window-size={args.size}", "--hide-scrollbars",
               html.as_uri()]
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not Path(args.output).is_file():
        print(proc.stderr[-2000:], file=sys.stderr)
        return 1
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
