"""The command line: the only place (with ``sizebot action``) that reads argv and the
environment, prints, and chooses the exit status.

Each subcommand lives in its own module here and exposes ``register(subparsers)`` and
``run(args) -> int``. Exit status: 0 pass (warnings allowed), 1 a fail budget was
exceeded, 2 an error the user can fix (one line on stderr; ``--debug`` for the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

from sizebot import __version__
from sizebot.errors import SizebotError

# Each command's one-line help, as its module registers it (a test keeps them equal): ``sizebot --help``
# lists the commands without importing their modules, which pull in PyGithub, jsonschema, zstandard ...
COMMANDS = {
    "analyze": "where every byte of a Go binary goes",
    "diff": "what changed between two Go binaries",
    "image": "analyse a container image (dive-compatible), or diff two",
    "report": "build base and head of a Go repository, compare them, judge against budgets",
    "measure": "build and measure one commit; write its baseline for later reports",
    "render": "render a saved JSON document again, in another format",
    "demo": "the report on a built-in example repository",
    "action": "the GitHub Action entry point (reads INPUT_* and GITHUB_* env)",
}


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; when ``argv`` names a command, only that command's module is imported (the others
    pull in PyGithub, rich, jinja2 ... and a run should pay only for what it uses); else none is."""
    parser = argparse.ArgumentParser(
        prog="sizebot",
        description="Where every byte of your Go binaries and images goes, and what a change does to it.",
    )
    parser.add_argument("--version", action="version", version=f"sizebot {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _command_in(argv)
    if chosen is None:  # no command to run: only listed (--help, --version, a usage error)
        for name, text in COMMANDS.items():
            sub.add_parser(name, help=text)
        return parser
    module = importlib.import_module(f"sizebot.cli.{chosen}")
    p = module.register(sub)
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback of errors")
    p.set_defaults(_run=module.run)
    return parser


def _command_in(argv: list[str] | None) -> str | None:
    first = next((a for a in argv or () if not a.startswith("-")), None)
    return first if first in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    """Run one command. A crash never looks like a verdict: 1 is only ever a failing budget, and
    any exception that is not a SizebotError is one line naming what failed and exit 2."""
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    command = _command_in(argv) or "sizebot"
    try:
        parser = build_parser(argv)
        args = parser.parse_args(argv)
        debug = bool(getattr(args, "debug", False))
        command = str(getattr(args, "command", command))
        with _interruptible():
            return int(args._run(args))
    except SizebotError as err:
        if debug:
            traceback.print_exc()
        print(f"sizebot: error: {one_line(str(err))}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt as err:
        # 128 + the signal, as a shell reports it: a cancelled run is neither a verdict nor an error
        signum = err.signum if isinstance(err, Interrupted) else signal.SIGINT
        print(f"sizebot: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        return 0
    except SystemExit:  # argparse's usage errors (2), --help and --version (0)
        raise
    except BaseException as err:  # noqa: BLE001 - the one place that turns any crash into exit 2
        if debug:
            traceback.print_exc()
        print(f"sizebot: error: {command} failed unexpectedly: {describe_crash(err)}"
              + ("" if debug else " (--debug shows the traceback)"), file=sys.stderr)
        return 2


def entry() -> None:
    """The ``sizebot`` command: ``main``, then, once the output is flushed and no other thread runs, an
    exit that skips the interpreter's teardown (freeing every module and object of a process about to
    end: tens of milliseconds after a report, all of it after the work is done)."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed or broken stream: the interpreter's own exit says so
        sys.exit(code)
    if threading.active_count() == 1:
        os._exit(code)
    sys.exit(code)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM (what a CI runner sends on cancel) arrived; cleanup runs as it unwinds."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM handled like SIGINT: the builds' process groups are killed at once (a build step is
    not waited for) and the command unwinds, so worktrees and temporary directories are removed.
    A second signal during that cleanup is ignored rather than cutting it short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from sizebot import processes

    processes.reset()
    fired: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        processes.end_all()
        if not fired:
            fired.append(signum)
            raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def one_line(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_crash(err: BaseException) -> str:
    """``ValueError: message`` on one line, and where it was raised (file:line in sizebot)."""
    where = ""
    tb = err.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if "sizebot" in name:
            where = f" at sizebot/{name.rsplit('sizebot/', 1)[-1]}:{tb.tb_lineno}"
        tb = tb.tb_next
    message = str(err) if not isinstance(err, RecursionError) else "input nested too deeply"
    return one_line(f"{type(err).__name__}: {message}" if message else type(err).__name__, 300) + where
