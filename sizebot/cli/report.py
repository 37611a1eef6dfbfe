"""``sizebot report``: build base and head of a Go repository, compare, judge against the budgets.

Progress goes to stderr (a live line on a terminal, plain lines in CI logs); the report goes to
stdout or --output, with --json/--markdown writing extra copies. Exit status: 0 pass (warnings
allowed), 1 a fail budget was exceeded, 2 an error the user can fix.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sizebot.cli.output import check_output, emit
from sizebot.documents.verdict import Verdict
from sizebot.errors import SizebotError
from sizebot.render import FORMATS

if TYPE_CHECKING:
    from sizebot.documents.report import Report

TEXT_WIDTH = 100
COMMENT_CHARS = 65536  # GitHub's limit on a comment, which the markdown is made for
REST_IN_JSON = "every figure is in the JSON report (--format json)"  # text written to a file or a pipe
EARLY_BUILDS_WAIT = 1.0  # seconds the report waits at most for the builds its early thread starts


def register(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "report",
        help="build base and head of a Go repository, compare them, judge against budgets",
        description="Check out BASE and HEAD in worktrees (your checkout is not touched), build every target "
        "for every platform with every strategy of sizebot.toml (or the defaults), measure each binary per "
        "section, package and module, and judge the change against the budgets. Exit status: 0 pass, "
        "1 a fail budget was exceeded, 2 an error.",
    )
    p.add_argument("--repo", metavar="DIR", default=".", help="the git repository (default: .)")
    p.add_argument("--base", metavar="REF",
                   help="the commit to compare with (default: the merge-base of HEAD with origin/HEAD, main or "
                   "master, the first that exists)")
    p.add_argument("--head", metavar="REF", default="HEAD", help="the commit to measure (default: HEAD)")
    p.add_argument("--config", metavar="FILE", help="sizebot.toml to use (default: the head's sizebot.toml or "
                   ".github/sizebot.toml, else built-in defaults)")
    p.add_argument("--label", metavar="NAME", action="append", default=[],
                   help="a pull request label (repeatable): the override label grants budget overrides")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report there instead of stdout")
    p.add_argument("--json", metavar="FILE", dest="json_file", help="also write the JSON report there")
    p.add_argument("--markdown", metavar="FILE", dest="markdown_file",
                   help="also write the markdown report there")
    p.add_argument("--max-chars", type=int, default=COMMENT_CHARS, metavar="N",
                   help="markdown output: shorten it, as the action shortens its comment, to at most N characters "
                   f"(default {COMMENT_CHARS}, GitHub's comment limit; 0: no limit)")
    p.add_argument("--top", type=int, default=20, metavar="N",
                   help="rows kept per table: largest packages, changed functions, new dependencies (default 20)")
    p.add_argument("--docker-host", metavar="URL", help="the Docker engine for the [image] section "
                   "(default: $DOCKER_HOST, else the default socket)")
    p.add_argument("--work-dir", metavar="DIR", help="where worktrees and binaries go, the binaries in DIR/out, all "
                   "kept (default: the binaries in a temporary directory, removed afterwards; base and head checked "
                   "out in turn in one git worktree at TMPDIR/sizebot-UID/REPO-NAME/src, kept for the next run, "
                   "which checks out only the files that differ)")
    p.add_argument("--go-version", metavar="VERSION",
                   help="the Go release that builds base and head (e.g. 1.27.3; local: the installed Go); "
                        "default: what each commit's go.mod asks for (its toolchain line, else its go line), "
                        "a newer Go than the installed one fetched from the module proxy as the go command does")
    p.add_argument("--baseline", metavar="FILE",
                   help="the base measured by `sizebot measure`: used instead of building the base when it was "
                        "measured at the base commit with the same builds, Go and sizebot (else the base is built "
                        "and a note says why); its history gives the trend")
    p.add_argument("--cache-dir", metavar="DIR", help="where analyses of binaries are kept by their content, so a "
                   "binary built again is not analysed again (default: $XDG_CACHE_HOME/sizebot, else ~/.cache/sizebot)")
    p.add_argument("--no-cache", action="store_true", help="analyse every binary, keep nothing")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    return p


def run(args: argparse.Namespace) -> int:
    if args.top < 0:
        raise SizebotError("--top must be 0 or more")
    if args.max_chars < 0 or 0 < args.max_chars < 2000:
        raise SizebotError("--max-chars must be 0 (no limit) or at least 2000")
    for option, output in (("--output", args.output), ("--json", args.json_file), ("--markdown", args.markdown_file)):
        check_output(output, option)
    repo = Path(args.repo)
    if args.work_dir and os.path.lexists(args.work_dir) and not os.path.isdir(args.work_dir):
        raise SizebotError(f"--work-dir {args.work_dir}: not a directory")
    work_dir = Path(args.work_dir) if args.work_dir else None
    with progress_display(quiet=args.quiet) as progress:
        early = None
        if args.base is not None:
            from sizebot.builds.toolchain import toolchain_environ
            from sizebot.builds.workpath import EarlyCheckout, HeadListing, build_path

            # git resolves both refs and checks out the head while the report's modules load (what it says
            # waits, with a baseline, for the baseline to be read: a bad one is all that is said); a head
            # without a sizebot.toml is listed too, or its listing read back, and the base checked out
            listing = HeadListing("go", toolchain_environ(None, args.go_version), cache_dir(args.cache_dir)) \
                if args.config is None and not args.baseline and not args.no_cache else None
            early = EarlyCheckout(repo, args.base, args.head, build_path(repo, work_dir),
                                  waiting=None if args.baseline else progress, listing=listing, keep=work_dir is None,
                                  work_dir=work_dir)
            early.wait_for_builds(EARLY_BUILDS_WAIT)  # the report's modules load while they run
        try:
            from sizebot.compare.run import default_base, run_report_doc

            baseline = None
            if args.baseline:
                from sizebot.documents.saved import load_baseline

                # read while the head is checked out; a corrupt or hostile file: one line, exit 2, nothing built
                baseline = partial(load_baseline, args.baseline)
            base, base_label = args.base, None
            if base is None:
                base, base_label = default_base(repo, args.head)
            report = run_report_doc(repo=repo, base=base, head=args.head, config=args.config,
                                    labels=tuple(args.label),
                                    docker_host=args.docker_host or os.environ.get("DOCKER_HOST") or None,
                                    progress=progress, top=args.top, base_label=base_label, work_dir=work_dir,
                                    go_version=args.go_version, baseline=baseline,
                                    analysis_cache=None if args.no_cache else cache_dir(args.cache_dir), begun=early,
                                    keep_checkout=work_dir is None)
        finally:
            if early is not None:
                early.close()  # taken over by then, unless the run ended before: then removed here
    write_report(report, args.format, args.output, max_chars=args.max_chars)
    if args.json_file:
        write_report(report, "json", args.json_file)
    if args.markdown_file:
        write_report(report, "markdown", args.markdown_file, max_chars=args.max_chars)
    return Verdict(report.verdict).exit_code


def cache_dir(chosen: str | None) -> Path:
    if chosen:
        return Path(chosen)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache") / "sizebot"


def render_doc(report: Report, fmt: str, *, width: int = TEXT_WIDTH, max_chars: int = 0) -> str:
    """The report in ``fmt``; markdown shortened to ``max_chars`` (as GitHub counts them; 0: in full)."""
    from sizebot.render import render

    if fmt == "markdown" and max_chars:
        from sizebot.render.comment import comment_body

        return comment_body(report, limit=max_chars, rest_text=REST_IN_JSON)
    return render(report, fmt, width=width) if fmt == "text" else render(report, fmt)


def write_report(report: Report, fmt: str, output: str | None, *, max_chars: int = 0) -> None:
    """To a file as plain text; to a terminal in colour (text format); else plain to stdout."""
    if fmt == "text" and (not output or output == "-") and sys.stdout.isatty():
        from rich.console import Console

        from sizebot.render.report_text import report_renderables

        console = Console(highlight=False)
        for i, part in enumerate(report_renderables(report)):
            if i:
                console.print()
            console.print(part)
        return
    emit(render_doc(report, fmt, max_chars=max_chars), output)


@contextmanager
def progress_display(*, quiet: bool = False) -> Iterator[Callable[[str], None]]:
    """A progress callback for run_report_doc: a spinner with the current step and a log of finished
    steps on a terminal, ``sizebot: step`` lines otherwise (CI logs)."""
    if quiet:
        yield lambda _message: None
        return

    def plain(message: str) -> None:
        print(f"sizebot: {message}", file=sys.stderr, flush=True)

    if not _may_be_terminal(sys.stderr):  # rich would say so too: not loaded for a CI log
        yield plain
        return
    from rich.console import Console

    console = Console(stderr=True, highlight=False)
    if not console.is_terminal:
        yield plain
        return
    from rich.text import Text

    with console.status("starting", spinner="dots") as status:
        def live(message: str) -> None:
            status.update(Text(message))
            console.print(Text(message, style="dim"))
        yield live


def _may_be_terminal(stream: Any) -> bool:
    """False where rich's Console would not take ``stream`` for a terminal either: not a tty, and no
    TTY_COMPATIBLE or FORCE_COLOR in the environment to say otherwise."""
    if "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ:
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
