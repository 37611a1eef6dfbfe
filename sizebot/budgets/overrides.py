"""Budget overrides granted on a pull request: a PR label, or a trailer on the head commit.

Pure: the GitHub client supplies the labels and the head commit's message. Trailers are
read the way ``git interpret-trailers`` reads them: only the last paragraph of the
message (never the subject paragraph), ``Token: value`` lines where the token is letters,
digits and '-', continuation lines starting with whitespace, and the paragraph counts as
a trailer block when every line is a trailer, or when at least 25% are and one of them is
git-generated (``Signed-off-by``, ``(cherry picked from commit ...)``) or the configured
override trailer. Token comparison is case-insensitive, as in git.
"""

from __future__ import annotations

import re

from sizebot.config import OverridePolicy
from sizebot.documents.report import Override

# git's find_separator(): token chars are alnum and '-', then optional blanks, then ':'.
_TRAILER_RE = re.compile(r"^([A-Za-z0-9-]+)[ \t]*:[ \t]*(.*?)\s*$")
_GIT_GENERATED = ("signed-off-by:",)  # plus "(cherry picked from commit ...)" lines




def parse_trailers(message: str, extra_known: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """The (token, value) trailers of a commit message per git's rules; continuation lines unfolded."""
    lines = message.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return ()
    start = len(lines)
    while start > 0 and lines[start - 1].strip():
        start -= 1
    if start == 0:  # the only paragraph is the title: never trailers
        return ()
    block = lines[start:]
    known = tuple(k.lower() + ":" for k in extra_known if k) + _GIT_GENERATED
    trailers: list[list[str]] = []
    trailer_lines = other_lines = 0
    has_known = False
    last_was_trailer = False
    for line in block:
        if line[:1] in (" ", "\t"):  # continuation: belongs to the line above
            if last_was_trailer:
                trailers[-1][1] = f"{trailers[-1][1]} {line.strip()}".strip()
            else:
                other_lines += 1
            continue
        if line.startswith("(cherry picked from commit "):
            trailer_lines += 1
            has_known = True
            last_was_trailer = False
            continue
        m = _TRAILER_RE.match(line)
        last_was_trailer = bool(m)
        if not m:
            other_lines += 1
            continue
        trailer_lines += 1
        trailers.append([m.group(1), m.group(2)])
        if f"{m.group(1).lower()}:" in known:
            has_known = True
    if not trailer_lines:
        return ()
    if other_lines and not (has_known and trailer_lines * 3 >= other_lines):
        return ()
    return tuple((k, v) for k, v in trailers)


def find_overrides(labels: list[str] | tuple[str, ...], head_commit_message: str,
                   policy: OverridePolicy) -> tuple[Override, ...]:
    """Overrides present on a PR: the policy's label among ``labels`` (case-insensitive, as GitHub
    compares labels) and every policy trailer of the head commit. Trailers come first: they carry reasons."""
    found: list[Override] = []
    if policy.trailer:
        for token, value in parse_trailers(head_commit_message or "", (policy.trailer,)):
            if token.lower() == policy.trailer.lower():
                found.append(Override("trailer", value or f"{policy.trailer} trailer (no reason given)"))
    if policy.label and any(label.lower() == policy.label.lower() for label in labels):
        found.append(Override("label", f"PR label {policy.label}"))
    return tuple(found)
