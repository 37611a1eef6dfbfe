"""``sizebot image SOURCE [SOURCE2]``: one image (dive's figures and sizebot's), or what changed
between two. SOURCE is an archive file (docker save, OCI tar, kaniko tar), an OCI layout
directory, or else an image reference saved through the Docker engine first.

Exit status: 0, 1 when ``--ci`` rules fail, 2 for an error the user can fix.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from sizebot.cli.output import emit
from sizebot.documents.image import ImageReport
from sizebot.errors import ImageError, SizebotError
from sizebot.image.analysis import analyze_image
from sizebot.render import FORMATS, render


def register(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "image",
        help="analyse a container image (dive-compatible), or diff two",
        description="Analyse a container image without extracting it: dive's figures (efficiency, wasted bytes, "
        "inefficient files) beside sizebot's (compressed size, corrected waste, duplicates). With two sources, "
        "show what changed.",
    )
    p.add_argument("source", metavar="SOURCE", help="archive file, OCI layout directory, or image reference")
    p.add_argument("source2", metavar="SOURCE2", nargs="?", help="a second image: show the diff SOURCE -> SOURCE2")
    p.add_argument("--format", choices=[f for f in FORMATS if f != "html"], default="text")
    p.add_argument("--platform", metavar="OS/ARCH[/VARIANT]", help="pick one image of a multi-platform index")
    p.add_argument("--ci", action="store_true", help="evaluate .dive-ci rules; exit 1 when one fails")
    p.add_argument("--ci-config", metavar="FILE", help="the rules file (default: .dive-ci in the current directory)")
    p.add_argument("--top", type=int, default=20, metavar="N", help="rows in the file lists (default 20)")
    p.add_argument("--all-files", action="store_true", help="JSON: include the whole final filesystem")
    p.add_argument("--output", "-o", metavar="FILE", help="write there instead of stdout")
    return p


def run(args: argparse.Namespace) -> int:
    if args.top < 0:
        raise SizebotError("--top must be 0 or more")
    with tempfile.TemporaryDirectory(prefix="sizebot-image-") as tmp:
        old = _analyze(args.source, args, Path(tmp) / "a")
        if args.source2 is None:
            subject: Any = old
            new = old
        else:
            new = _analyze(args.source2, args, Path(tmp) / "b")
            subject = _diff(old, new, args.top)
    options: dict[str, Any] = {"top": args.top}
    if args.format == "json" and isinstance(subject, ImageReport):
        options["files"] = args.all_files
    text = render(subject, args.format, **options)
    status = 0
    if args.ci:
        ci_text, status = _ci(new, args)
        text = text + ci_text if args.format == "text" else text
        if args.format != "text":
            sys.stderr.write(ci_text)
    emit(text, args.output)
    return status


def _looks_like_path(source: str) -> bool:
    return source.startswith(("/", "./", "../", "~")) or source.endswith((".tar", ".tar.gz", ".tgz", ".oci"))


def _analyze(source: str, args: argparse.Namespace, scratch: Path) -> ImageReport:
    if os.path.exists(source):
        return analyze_image(source, platform=args.platform, top=args.top)
    if _looks_like_path(source):
        raise ImageError(f"{source}: no such file or directory")
    # An image reference: docker save it first (the image-diff helper's Docker module).
    from sizebot.image.docker import save_image

    scratch.mkdir(parents=True, exist_ok=True)
    path = save_image(source, str(scratch), docker_host=os.environ.get("DOCKER_HOST"))
    report = analyze_image(str(path), platform=args.platform, top=args.top)
    return dataclasses.replace(report, source=source)


def _diff(old: ImageReport, new: ImageReport, top: int) -> Any:
    from sizebot.image.diff import diff_images

    return diff_images(old, new, top)


def _ci(report: ImageReport, args: argparse.Namespace) -> tuple[str, int]:
    """dive's CI rules (sizebot.image.ci_rules) on the (new) image: dive's text layout, exit 1 on a failure."""
    from sizebot.image import ci_rules

    config = args.ci_config
    if config is None and Path(".dive-ci").is_file():
        config = ".dive-ci"  # dive's default, read from the current directory
    rules = ci_rules.load_dive_ci(config) if config else ci_rules.default_rules()
    results = ci_rules.evaluate_rules(report, rules)
    return ci_rules.format_results(results), 1 if ci_rules.any_failed(results) else 0
