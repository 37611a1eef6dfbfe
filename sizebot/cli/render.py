"""``sizebot render FILE.json``: render a saved document again (analyze, diff, image, image-diff,
report, measurement, baseline) in another format, without building or measuring anything.

A file that is not one of sizebot's documents, or whose values are not its schema's: one line
naming the file and the fault, exit 2.
"""

from __future__ import annotations

import argparse
from typing import Any

from sizebot.cli.analyze import top_rows
from sizebot.cli.output import emit
from sizebot.render import FORMATS


def register(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "render",
        help="render a saved JSON document again, in another format",
        description="Read a JSON document that sizebot wrote (analyze, diff, image, image-diff, report, "
        "measurement or baseline: the \"schema\" field says which) and render it as text, markdown, json or html.",
    )
    p.add_argument("file", metavar="FILE.json")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--top", type=top_rows, default=20, metavar="N",
                   help="rows in the top-N lists (default 20; 'all' for every row the document holds; a report "
                        "keeps the rows it was written with)")
    p.add_argument("--output", "-o", metavar="FILE", help="write there instead of stdout")
    return p


def run(args: argparse.Namespace) -> int:
    from sizebot.documents.saved import load_saved
    from sizebot.errors import SizebotError
    from sizebot.render import render

    kind, record = load_saved(args.file)
    if kind in ("report", "measurement"):
        from sizebot.cli.report import render_doc

        emit(render_doc(record, args.format), args.output)
        return 0
    try:
        text = render(record, args.format, top=args.top)
    except ValueError as exc:  # a format this kind of document has no renderer for
        raise SizebotError(f"{args.format}: no such rendering of a {kind} document ({exc})",
                           path=args.file) from None
    emit(text, args.output)
    return 0
