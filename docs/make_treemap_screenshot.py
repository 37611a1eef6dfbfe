"""Make docs/screenshot-treemap.png: the diff page (``sizebot diff --format html``) of the demo's two
commits (sizebot/demo/sample/1 and 2), built with the machine's Go, in headless Chromium driven over
the DevTools protocol (tests/support/browser.py), the pointer on net/http.

    python docs/make_treemap_screenshot.py [--output docs/screenshot-treemap.png] [--size 1280,720]

Needs Go and Debian's ``chromium`` (scripts/install-deps installs it). Offline: the sample needs no
module download, and the page loads nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sizebot.cli import main as sizebot  # noqa: E402
from tests.support.browser import Browser  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(ROOT / "docs" / "screenshot-treemap.png"))
    parser.add_argument("--size", default="1280,720", help="window width,height")
    args = parser.parse_args()
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
    with tempfile.TemporaryDirectory(prefix="sizebot-treemap-") as tmp:
        work = Path(tmp)
        for commit, side in (("1", "main"), ("2", "feature-http-api")):
            src = work / "src" / commit
            shutil.copytree(ROOT / "sizebot" / "demo" / "sample" / commit, src)
            subprocess.run(["go", "build", "-o", str(work / side / "app"), "./cmd/app"], cwd=src, env=env,
                           check=True)
        page = work / "diff.html"
        os.chdir(work)  # the page names the binaries as given: main/app -> feature-http-api/app
        if sizebot(["diff", "main/app", "feature-http-api/app", "--format", "html", "-o", str(page)]) != 0:
            return 1
        width, height = (int(x) for x in args.size.split(","))
        with Browser(width=width, height=height) as browser:
            browser.open(page)
            # Hover the HTTP server's largest package, as a reviewer would: its exact sizes show.
            box = browser.evaluate("(() => { const e = [...document.querySelectorAll('.r')].find("
                                   "e => e.dataset.name === 'net/http'); const r = e.getBoundingClientRect();"
                                   " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
            browser.hover(*box)
            if browser.console_errors:
                print("\n".join(browser.console_errors), file=sys.stderr)
                return 1
            browser.screenshot(args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
