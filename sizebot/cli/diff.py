"""``sizebot diff OLD NEW``: what changed between two Go binaries, and where.

The per-package deltas plus the unattributed deltas equal the file size delta exactly. Notes
about either file go to stderr (``sizebot: FILE: note``); exit 2 when either cannot be measured.
"""

from __future__ import annotations

import argparse
from typing import Any

from sizebot.binary.diff import diff_reports
from sizebot.cli.analyze import add_common, measure
from sizebot.cli.output import emit
from sizebot.render import render


def register(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "diff",
        help="what changed between two Go binaries",
        description="Deltas per section, module, package and function between two Go binaries, packages and "
        "modules added or removed, module version changes and the Go version change.",
    )
    p.add_argument("old", metavar="OLD")
    p.add_argument("new", metavar="NEW")
    add_common(p)
    return p


def run(args: argparse.Namespace) -> int:
    old = measure(args.old, args.top)
    new = measure(args.new, args.top)
    emit(render(diff_reports(old, new, top=args.top), args.format, top=args.top), args.output)
    return 0
