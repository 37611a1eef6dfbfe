"""Make docs/screenshot-comment.png: the sample report (hostile names included) as the PR comment
sizebot posts, previewed in headless Chromium.

    python docs/make_screenshot.py [--chromium PATH] [--expand] [--output docs/screenshot-comment.png]

Needs Debian's ``chromium`` (apt-get install -y chromium). Runs offline: the page has no script
and no remote resource.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sizebot.render.comment import build_comment
from sizebot.render.html_preview import render_html_preview

SAMPLE = ROOT / "tests" / "data" / "report-render-sample.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    parser.add_argument("--output", default=str(ROOT / "docs" / "screenshot-comment.png"))
    parser.add_argument("--expand", action="store_true", help="open every <details>")
    parser.add_argument("--size", default="1000,1500", help="window width,height (1500 tall: the comment with its package table open)")
    args = parser.parse_args()
    if not args.chromium:
        print("chromium not found: apt-get install -y chromium", file=sys.stderr)
        return 2
    doc = json.loads(SAMPLE.read_text())
    body = build_comment(doc, "default", summary_url="https://github.com/acme/app/actions/runs/1234")
    page = render_html_preview(body, "acme/app#42", expand=args.expand)
    # Open the package table as a reviewer would (the new dependencies open by themselves).
    page = page.replace("<details><summary>📦", "<details open><summary>📦", 1)
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "comment.html"
        html.write_text(page, encoding="utf-8")
        cmd = [args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp}/profile", f"--screenshot={Path(args.output).resolve()}",
               f"--window-size={args.size}", "--hide-scrollbars", html.as_uri()]
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not Path(args.output).is_file():
        print(proc.stderr[-2000:], file=sys.stderr)
        return 1
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
