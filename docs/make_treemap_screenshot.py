"""Make docs/screenshot-treemap.png: the diff page (``sizebot diff --format html``) of the demo's two
commits (sizebot/demo/sample/1 and 2), built with the machine's Go, in headless Chromium.

    python docs/make_treemap_screenshot.py [--chromium PATH] [--output docs/screenshot-treemap.png]

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    parser.add_argument("--output", default=str(ROOT / "docs" / "screenshot-treemap.png"))
    parser.add_argument("--size", default="1280,720", help="window width,height")
    args = parser.parse_args()
    if not args.chromium:
        print("chromium not found: apt-get install -y chromium", file=sys.stderr)
        return 2
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
        cmd = [args.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync", f"--user-data-dir={tmp}/profile",
               f"--screenshot={Path(args.output).resolve()}", f"--window-size={args.size}", "--hide-scrollbars",
               page.as_uri()]
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not Path(args.output).is_file():
        print(proc.stderr[-2000:], file=sys.stderr)
        return 1
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
