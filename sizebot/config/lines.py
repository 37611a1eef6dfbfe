"""Where keys are in a sizebot.toml: tomllib gives values without positions, so a small scanner of
the (already valid) TOML text finds the line of every key path, and ``nesting_error`` refuses arrays
and inline tables nested deeper than any configuration needs before tomllib recurses into them."""

from __future__ import annotations

import re
import tomllib

KeyPath = tuple[str | int, ...]  # tomllib-shaped: ("budget", 1, "max_size")

MAX_NESTING = 32  # arrays and inline tables; sizebot.toml needs 3

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = ",]}\n#"
_KEY_PART = r"(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
_KEY_AT_LINE_START = re.compile(rf"\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")


class _Scanner:
    def __init__(self, text: str):
        self.s = text.replace("\r\n", "\n")
        self.i = 0
        self.line = 1
        self.lines: dict[KeyPath, int] = {}
        self.aot: dict[KeyPath, int] = {}  # array-of-tables path -> elements seen so far

    # -- low level -------------------------------------------------------------------
    def peek(self, n: int = 1) -> str:
        return self.s[self.i:self.i + n]

    def advance(self, n: int = 1) -> None:
        self.line += self.s.count("\n", self.i, self.i + n)
        self.i += n

    def eof_check(self) -> None:
        if self.i >= len(self.s):
            raise IndexError("unterminated string")

    def skip_blanks(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def skip_ws_comments(self, newlines: bool) -> None:
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t" or (newlines and c == "\n"):
                self.advance()
            elif c == "#":
                end = self.s.find("\n", self.i)
                self.i = len(self.s) if end < 0 else end
            else:
                break

    def record(self, path: KeyPath, line: int) -> None:
        for n in range(1, len(path) + 1):
            self.lines.setdefault(path[:n], line)

    # -- keys ------------------------------------------------------------------------
    def key_part(self) -> str:
        c = self.peek()
        if c in "\"'":
            start = self.i
            self.advance()
            while self.s[self.i] != c:
                self.advance(2 if c == '"' and self.s[self.i] == "\\" else 1)
            self.advance()
            return tomllib.loads(f"k = {self.s[start:self.i]}")["k"]
        m = _BARE.match(self.s, self.i)
        assert m, f"bad key at line {self.line}"
        self.i = m.end()
        return m.group(0)

    def dotted_key(self) -> list[str]:
        parts = [self.key_part()]
        self.skip_blanks()
        while self.peek() == ".":
            self.advance()
            self.skip_blanks()
            parts.append(self.key_part())
            self.skip_blanks()
        return parts

    # -- values ----------------------------------------------------------------------
    def string(self) -> None:
        for quote in ('"""', "'''"):
            if self.peek(3) == quote:
                self.advance(3)
                while self.peek(3) != quote:
                    self.eof_check()
                    self.advance(2 if quote[0] == '"' and self.peek() == "\\" else 1)
                self.advance(3)
                while self.peek() == quote[0]:  # up to two quotes may end the content
                    self.advance()
                return
        q = self.peek()
        self.advance()
        while self.peek() != q:
            self.eof_check()
            self.advance(2 if q == '"' and self.peek() == "\\" else 1)
        self.advance()

    def value(self, path: KeyPath) -> None:
        c = self.peek()
        if c in "\"'":
            self.string()
        elif c == "[":
            self.advance()
            index = 0
            while True:
                self.skip_ws_comments(newlines=True)
                if self.peek() == "]":
                    self.advance()
                    return
                self.record(path + (index,), self.line)
                start = self.i
                self.value(path + (index,))
                index += 1
                self.skip_ws_comments(newlines=True)
                if self.peek() == ",":
                    self.advance()
                elif self.i == start or self.peek() != "]":
                    raise AssertionError(f"unexpected text in an array at line {self.line}")
        elif c == "{":
            self.advance()
            while True:
                self.skip_blanks()
                if self.peek() == "}":
                    self.advance()
                    return
                line = self.line
                key = path + tuple(self.dotted_key())
                self.record(key, line)
                self.skip_blanks()
                self.advance()  # '='
                self.skip_blanks()
                self.value(key)
                self.skip_blanks()
                if self.peek() == ",":
                    self.advance()
                elif self.peek() != "}":
                    raise AssertionError(f"unexpected text in an inline table at line {self.line}")
        else:
            while self.i < len(self.s) and self.s[self.i] not in _SCALAR_END:
                self.i += 1

    # -- document --------------------------------------------------------------------
    def resolve(self, parts: list[str]) -> KeyPath:
        """A header's key parts -> the path, with the current index after every array of tables."""
        path: KeyPath = ()
        for part in parts:
            path += (part,)
            if path in self.aot:
                path += (self.aot[path] - 1,)
        return path

    def document(self) -> dict[KeyPath, int]:
        current: KeyPath = ()
        while True:
            self.skip_ws_comments(newlines=True)
            if self.i >= len(self.s):
                return self.lines
            line = self.line
            if self.peek(2) == "[[":
                self.advance(2)
                self.skip_blanks()
                parts = self.dotted_key()
                array = self.resolve(parts[:-1]) + (parts[-1],)
                self.aot[array] = self.aot.get(array, 0) + 1
                current = array + (self.aot[array] - 1,)
                self.record(current, line)
                self.advance(2)
            elif self.peek() == "[":
                self.advance()
                self.skip_blanks()
                current = self.resolve(self.dotted_key())
                self.record(current, line)
                self.advance()
            else:
                key = current + tuple(self.dotted_key())
                self.record(key, line)
                self.skip_blanks()
                self.advance()  # '='
                self.skip_blanks()
                self.value(key)
            # rest of the line: blanks and a comment
            self.skip_ws_comments(newlines=False)


def key_lines(text: str) -> dict[KeyPath, int]:
    """Every key path of a valid TOML document -> its 1-based line (first definition wins)."""
    return _Scanner(text).document()


def line_of(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one (for a missing key: its table)."""
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


def format_path(path: KeyPath) -> str:
    """("budget", 1, "max_size") -> "budget[1].max_size"; keys that are not bare are quoted."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = part if _BARE.fullmatch(part) else '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out += f".{text}" if out else text
    return out


def nesting_error(text: str) -> tuple[int, str] | None:
    """(line, key as written) of the first value nested deeper than MAX_NESTING, else None.

    Counts brackets and braces outside strings and comments; headers such as ``[[budget]]`` open and
    close on their own line and never come near the limit."""
    depth = 0
    line = 1
    opened_at = 1  # the line where the current outermost value began
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif c in "\"'":
            quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else c
            j = i + len(quote)
            while j < n and text[j:j + len(quote)] != quote:
                if c == '"' and text[j] == "\\":
                    j += 1
                elif len(quote) == 1 and text[j] == "\n":  # unterminated: tomllib reports it
                    break
                j += 1
            line += text.count("\n", i, j)
            i = j + len(quote)
            continue
        elif c in "[{":
            if depth == 0:
                opened_at = line
            depth += 1
            if depth > MAX_NESTING:
                m = _KEY_AT_LINE_START.match(text, _line_start(text, opened_at))
                return opened_at, (m.group(1).replace(" ", "") if m else "")
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return None


def _line_start(text: str, line: int) -> int:
    pos = 0
    for _ in range(line - 1):
        pos = text.index("\n", pos) + 1
    return pos
