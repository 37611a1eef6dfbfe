"""Helpers shared by every renderer: escaping untrusted names, the jinja2 environment,
rich-to-string, and dataclass-to-JSON. All pure."""

from __future__ import annotations

import io
import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sizebot.units import format_delta, format_percent, format_size

if TYPE_CHECKING:
    import jinja2

ZWSP = "\u200b"

# Characters that change meaning in GFM inline text or table cells; `$` opens math on GitHub ($x$,
# $$x$$): a commit subject "costs $5 or $10" would render as a formula.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~$])")
# C0/C1 controls (newlines included) and Unicode line/paragraph separators: one line, no surprises.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Bidirectional controls (embeddings, overrides, isolates, marks) reorder what a reviewer sees
# ("Trojan Source"): each is shown by name, e.g. <U+202E>, instead of acting.
_BIDI = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def name_bidi(text: str) -> str:
    """Bidirectional controls shown by name (<U+202E>) instead of reordering what follows them."""
    return _BIDI.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def plain_text(text: Any) -> str:
    """Untrusted text for a terminal or a log: one line (controls, escape sequences included, shown as
    spaces), bidirectional controls by name."""
    return name_bidi(_CONTROLS.sub(" ", str(text)))


def escape_md(text: Any) -> str:
    """Make an untrusted string (package, file path, commit text, layer command) inert in a
    GitHub comment: no table break, no tag, no link, no mention, no issue reference (#12,
    GH-12), no emphasis, no bidirectional reordering, one line. The visible text is the original
    with control characters (newlines, tabs) shown as spaces and bidirectional controls by name
    (<U+202E>); the zero-width spaces that break links/mentions are invisible."""
    s = plain_text(text)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    s = _MD_SPECIAL.sub(r"\\\1", s)
    # Break autolinks, @mentions and #123 references (GitHub links those after rendering,
    # backslashes do not stop it) with a zero-width space GitHub leaves alone.
    s = s.replace("@", "@" + ZWSP)
    s = re.sub(r"(\\#)(?=\w)", r"\1" + ZWSP, s)
    s = re.sub(r"(?i)\b(gh)(-)(?=\d)", r"\1" + ZWSP + r"\2", s)  # GH-123 is an issue reference too
    s = re.sub(r"(?i)(https?|ftp|javascript|data|vbscript|mailto|file)(:)", r"\1" + ZWSP + r"\2", s)
    s = re.sub(r"(?i)\b(www)\.", r"\1" + ZWSP + ".", s)  # the case as written: WWW. stays WWW.
    return s


def code_md(text: Any) -> str:
    """Untrusted text shown as code (a table cell included): ``<code>`` around escape_md's text.
    Not a backtick code span: GFM tables split code spans on ``|`` and GitHub autolinks inside
    raw ``<code>``, so the content is escaped exactly as plain text is."""
    return f"<code>{escape_md(text)}</code>"


def embed_label(name: str, kind: str = "file") -> str:
    """How an embed is named in a table: a file by its path in the embed.FS, a string/[]byte
    variable as ``var NAME TYPE`` (its name "#N" when the binary has no symbol table)."""
    return name if kind == "file" else f"var {name} {kind}"


ESTIMATED_MARK = "\u2020"  # a dagger beside a data figure that holds estimated bytes


def estimated_note(amount: str) -> str:
    """The footnote of the estimated data figures (``amount``: their estimated bytes, formatted)."""
    return (f"data partly estimated: {amount} found through the references of code and data to it, without "
            "symbols (each object runs to the next referenced address)")


def marked(figure: str, estimated: bool) -> str:
    """``figure`` with the estimated mark when it holds estimated bytes."""
    return figure + ESTIMATED_MARK if estimated else figure


def estimated_legend(old: int, new: int, sides: tuple[str, str] = ("base", "head")) -> str:
    """The one-line legend under a table of changes whose figures hold ``old`` and ``new`` estimated
    bytes (named by ``sides``); "" when neither does."""
    amounts = [f"{format_size(n)} ({side})" for side, n in zip(sides, (old, new), strict=True) if n]
    return f"{ESTIMATED_MARK} {estimated_note(', '.join(amounts))}" if amounts else ""


def dump_json(payload: Any) -> str:
    return json.dumps(payload, indent=2, sort_keys=False) + "\n"


def templates_dir() -> Path:
    """templates/ at the repository root in a checkout; sizebot/templates in a wheel."""
    packaged = resources.files("sizebot") / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "templates"


@lru_cache(maxsize=1)
def jinja_env() -> jinja2.Environment:
    import jinja2  # only markdown output needs it

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=False,  # markdown, not HTML: untrusted values go through |md or |code explicitly
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=escape_md, code=code_md, size=format_size, delta=format_delta)
    env.globals.update(percent=format_percent, embed_label=embed_label, estimated_mark=ESTIMATED_MARK,
                       estimated_note=estimated_note, marked=marked)
    return env


def render_template(name: str, **context: Any) -> str:
    return jinja_env().get_template(name).render(**context)


def rich_to_text(*renderables: Any, width: int = 100) -> str:
    """Render rich tables/text to plain text (no colour codes): deterministic for tests."""
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False, legacy_windows=False)
    for r in renderables:
        console.print(r)
    return buf.getvalue()
