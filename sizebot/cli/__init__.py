"""The command line: the only place (with ``sizebot action``) that reads argv and the
environment, prints, and chooses the exit status.

Each subcommand lives in its own module here and exposes ``register(subparsers)`` and
``run(args) -> int``. Exit status: 0 pass (warnings allowed), 1 a fail budget was
exceeded, 2 an error the user can fix (one line on stderr; ``--debug`` for the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from sizebot import __version__
from sizebot.errors import SizebotError

COMMANDS = ("analyze", "diff", "image", "report", "measure", "render", "demo", "action")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; when ``argv`` names a command, only that command's module is imported (the others
    pull in PyGithub, rich, jinja2 ... and a run should pay only for what it uses)."""
    parser = argparse.ArgumentParser(
        prog="sizebot",
        description="Where every byte of your Go binaries and images goes, and what a change does to it.",
    )
    parser.add_argument("--version", action="version", version=f"sizebot {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _command_in(argv)
    for name in (chosen,) if chosen else COMMANDS:
        module = importlib.import_module(f"sizebot.cli.{name}")
        p = module.register(sub)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback of errors")
        p.set_defaults(_run=module.run)
    return parser


def _command_in(argv: list[str] | None) -> str | None:
    first = next((a for a in argv or () if not a.startswith("-")), None)
    return first if first in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False)
    try:
        return int(args._run(args))
    except SizebotError as err:
        if debug:
            traceback.print_exc()
        print(f"sizebot: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("sizebot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
