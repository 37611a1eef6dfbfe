"""``sizebot analyze BINARY``: where every byte of one Go binary goes.

Notes about the file (not a Go binary, UPX-packed, a Go version too old for the per-package
breakdown) go to stderr as ``sizebot: FILE: note`` lines and the sections report is still printed
(exit 0). A file that cannot be measured at all: one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sizebot.cli.output import emit
from sizebot.documents.analyze import BinaryReport
from sizebot.render import FORMATS, render


def top_rows(text: str) -> int | None:
    """--top N: rows in the top-N lists; "all" for every row."""
    if text.strip().lower() == "all":
        return None
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of rows or 'all', got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("must be 0 or more (or 'all')")
    return n


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--top", type=top_rows, default=20, metavar="N",
                   help="rows in the package, module and function lists (default 20; 'all' for every row; "
                        "JSON always has every package and module, and only N functions; HTML every function, the "
                        "smallest folded per package)")
    p.add_argument("--output", "-o", metavar="FILE", help="write there instead of stdout")


def register(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "analyze",
        help="where every byte of a Go binary goes",
        description="Attribute every byte of a Go binary (ELF, Mach-O, PE) to a package, a module, or an "
        "unattributed section row; the buckets sum to the file size exactly.",
    )
    p.add_argument("binary", metavar="BINARY")
    add_common(p)
    p.add_argument("--jobs", "-j", type=int, choices=(1, 2), default=1,
                   help="processes for the analysis (default 1: peak memory within about 2x the file); 2: on a "
                        "binary of 8 MiB or more a second process takes the type walk, the reference scan and the "
                        "DWARF split, about 15-30%% less wall time on a free core for about 30%% more memory; "
                        "the same figures")
    return p


def measure(path: str, top: int | None, jobs: int = 1) -> BinaryReport:
    """analyze_binary, its notes on stderr. Errors (SizebotError) go up to cli.main: one line, exit 2."""
    from sizebot.binary.attribute import analyze_binary

    report = analyze_binary(path, functions=top != 0, jobs=jobs)
    for note in report.notes:
        print(f"sizebot: {path}: {note}", file=sys.stderr)
    return report


def run(args: argparse.Namespace) -> int:
    report = measure(args.binary, args.top, args.jobs)
    emit(render(report, args.format, top=args.top), args.output)
    return 0
