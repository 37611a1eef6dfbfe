"""``sizebot measure``: build and measure one commit (the default branch's, typically) and write its
baseline document, which ``sizebot report --baseline`` reads instead of building that commit again and
whose history the report's trend chart shows.

Exit status: 0 written; 2 an error the user can fix (a bad ref, config or previous baseline: one line).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from sizebot.cli.output import check_output, emit


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of commits, got {text!r}") from None
    if not 1 <= n <= 1000:
        raise argparse.ArgumentTypeError("must be 1 to 1000")
    return n


def register(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "measure",
        help="build and measure one commit; write its baseline for later reports",
        description="Build every target for every platform with every strategy at one commit, as a report "
        "builds its base, and write the baseline document (sizebot/schemas/baseline.schema.json): the commit, "
        "the Go version, the fingerprint of the builds, each build's analysis and import graph, the [image]'s "
        "analysis, and the history of sizes of the last measured commits (carried forward from --previous).",
    )
    p.add_argument("--repo", metavar="DIR", default=".", help="the git repository (default: .)")
    p.add_argument("--ref", metavar="REF", default="HEAD", help="the commit to measure (default: HEAD)")
    p.add_argument("--config", metavar="FILE", help="sizebot.toml to use (default: the commit's, else defaults)")
    p.add_argument("--previous", metavar="FILE", help="the previous baseline: its history is carried forward")
    p.add_argument("--history", type=_positive, default=30, metavar="N",
                   help="commits of history kept (default 30)")
    p.add_argument("--go-version", metavar="VERSION", help="the Go release that builds (default: go.mod's)")
    p.add_argument("--docker-host", metavar="URL", help="the Docker engine that builds the [image] "
                   "(default: $DOCKER_HOST, else the default socket; none answering: the baseline has no image)")
    p.add_argument("--work-dir", metavar="DIR", help="where the checkout and binaries go, kept (default: the "
                   "binaries in a temporary directory; the commit checked out in one git worktree at "
                   "TMPDIR/sizebot-UID/REPO-NAME/src, kept for the next run, which checks out only the files that "
                   "differ)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the baseline there instead of stdout")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    return p


def run(args: argparse.Namespace) -> int:
    from sizebot.cli.report import progress_display
    from sizebot.compare.measure import measure_commit
    from sizebot.documents.saved import load_baseline

    check_output(args.output, "--output")  # before any build, as a bad --previous
    previous = load_baseline(args.previous) if args.previous else None  # a bad file fails before any build
    with progress_display(quiet=args.quiet) as progress:
        baseline = measure_commit(repo=Path(args.repo), ref=args.ref, config=args.config,
                                  work_dir=Path(args.work_dir) if args.work_dir else None, progress=progress,
                                  go_version=args.go_version, previous=previous, history=args.history,
                                  docker_host=args.docker_host or os.environ.get("DOCKER_HOST") or None,
                                  keep_checkout=not args.work_dir)
    emit(json.dumps(baseline.to_json(), indent=1) + "\n", args.output)
    return 0
