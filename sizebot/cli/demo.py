"""``sizebot demo``: the report on a built-in example, the README's first command.

Makes the sample Go repository (sizebot/demo/) in a temporary directory, with two commits: a
small program on ``main``, and on ``feature/http-api`` a change that adds an HTTP server with
JSON, a new local package and a new module. Runs ``sizebot report`` on them, prints the terminal
report and writes the PR comment (markdown), the JSON report, an HTML preview of the comment
(rendered as GitHub renders markdown) and the treemap page to --out. The change breaks a fail budget on purpose: the
demo exits 0 once it has shown that verdict, so that its failing verdict and a crash never share
a status; ``--exit-code`` exits with the verdict's status instead (1 for fail), as a check would.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from sizebot.documents.verdict import Verdict
from sizebot.errors import SizebotError

DEFAULT_OUT = "sizebot-demo-out"
MARKDOWN, JSON, HTML = "sizebot-report.md", "sizebot-report.json", "sizebot-report.html"
TREEMAP = "sizebot-treemap.html"


def register(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo",
        help="the report on a built-in example repository",
        description="Make a sample Go repository with two commits in a temporary directory, build and compare "
        "them with two strategies, print the report and write it as markdown (the PR comment), JSON, an "
        "HTML preview and a treemap page. The sample change exceeds its budget on purpose; the demo exits 0 once "
        "it has shown that verdict (with --exit-code: the verdict's status, 1 for fail, as a failing check would).",
    )
    p.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                   help=f"where to write {MARKDOWN}, {JSON}, {HTML} and {TREEMAP} (default: ./{DEFAULT_OUT})")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    p.add_argument("--exit-code", action="store_true",
                   help="exit with the verdict's status (0 pass or warn, 1 fail) instead of 0")
    return p


def run(args: argparse.Namespace) -> int:
    from sizebot.cli.report import progress_display, render_doc, write_report
    from sizebot.compare.run import run_report_doc
    from sizebot.demo import BASE_BRANCH, HEAD_BRANCH, materialize
    from sizebot.github.comment import build_comment
    from sizebot.render.html_preview import render_html_preview

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SizebotError(f"cannot create the output directory: {exc.strerror}", path=str(out)) from None
    # The sample is offline and self-contained: no toolchain download, no module proxy needed.
    env = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"}
    with tempfile.TemporaryDirectory(prefix="sizebot-demo-") as tmp:
        repo = materialize(Path(tmp) / "sizebot-demo")
        with progress_display(quiet=args.quiet) as progress:
            progress(f"sample repository: {repo} ({BASE_BRANCH} and {HEAD_BRANCH})")
            report = run_report_doc(repo=repo, base=BASE_BRANCH, head=HEAD_BRANCH, env=env, progress=progress,
                                 work_dir=Path(tmp) / "work")
    comment = build_comment(report, "demo")
    files = {
        MARKDOWN: comment,
        JSON: render_doc(report, "json"),
        HTML: render_html_preview(comment, f"sizebot demo: {HEAD_BRANCH} compared with {BASE_BRANCH}"),
        TREEMAP: render_doc(report, "html"),
    }
    for name, text in files.items():
        try:
            (out / name).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise SizebotError(f"cannot write: {exc.strerror}", path=str(out / name)) from None
    write_report(report, "text", None)
    print()
    print(f"The PR comment:  {out / MARKDOWN}")
    print(f"As GitHub shows it: {out / HTML}")
    print(f"The JSON report: {out / JSON}")
    print(f"Where the bytes go: {out / TREEMAP}")
    verdict = Verdict(report.verdict)
    if verdict is Verdict.FAIL:
        print("The sample change exceeds a fail budget on purpose: a pull request check would fail "
              f"(exit status {verdict.exit_code}; the demo exits with it under --exit-code).")
    sys.stdout.flush()
    return verdict.exit_code if args.exit_code else 0
