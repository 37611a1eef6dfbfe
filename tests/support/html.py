"""GitHub's view of rendered markdown for the tests: what a reader sees, and what is structure."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from sizebot.render.common import ZWSP


class Html(HTMLParser):
    """What a reader sees and what is structure: text, tags, tables as rows of cell counts."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []
        self.details_depth = 0
        self.max_details_unbalanced = 0
        self.tables: list[list[int]] = []
        self._row: int | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "details":
            self.details_depth += 1
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = 0
        elif tag in ("td", "th") and self._row is not None:
            self._row += 1

    def handle_endtag(self, tag):
        if tag == "details":
            self.details_depth -= 1
            assert self.details_depth >= 0, "a </details> without its <details>"
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        self.text.append(data)

    def handle_comment(self, data):
        self.tags.append("!--")

    @property
    def visible(self) -> str:
        return "".join(self.text).replace(ZWSP, "")


def visible(original: str) -> str:
    """What the reader must see: the original with control characters as spaces and bidirectional
    controls by name (<U+202E>)."""
    text = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", original)
    return re.sub(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", lambda m: f"<U+{ord(m.group()):04X}>", text)


def assert_well_formed(html: str) -> Html:
    page = Html(html)
    assert page.details_depth == 0, "every <details> closes"
    for rows in page.tables:
        assert rows and len(set(rows)) == 1, f"every row of a table has the header's cell count: {rows}"
    return page
