"""A local HTML preview of a comment: GFM rendered by cmark-gfm (GitHub's own parser), then a
whitelist of tags as GitHub's sanitizer keeps them, in a page styled like a GitHub comment.

Mermaid blocks stay ``<pre lang="mermaid">`` blocks (no network, no script): GitHub draws them.
"""

from __future__ import annotations

import html
import re

import cmarkgfm
from cmarkgfm.cmark import Options

GFM_EXTENSIONS = ("table", "autolink", "strikethrough", "tagfilter", "tasklist")
# As GitHub: raw HTML is kept by the parser (then sanitized), ```lang becomes <pre lang="...">.
GFM_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG

# Tags GitHub's comment sanitizer keeps (the subset comments use); anything else is shown as text.
_ALLOWED = {
    "a", "b", "blockquote", "br", "code", "del", "details", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "input", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}
_ATTRS = {"a": ("href",), "pre": ("lang",), "td": ("align",), "th": ("align",), "details": ("open",),
          "input": ("type", "checked", "disabled"), "ol": ("start",)}
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)((?:\s+[^<>]*?)?)(/?)>|<!--.*?-->", re.DOTALL)
_ATTR = re.compile(r'([A-Za-z-]+)(?:="([^"]*)")?')


def gfm_to_html(markdown: str) -> str:
    """cmark-gfm with GitHub's extensions and options (before GitHub's sanitizer)."""
    return cmarkgfm.markdown_to_html_with_extensions(markdown, options=GFM_OPTIONS, extensions=list(GFM_EXTENSIONS))


def _clean_tag(m: re.Match[str]) -> str:
    if m.group(0).startswith("<!--"):
        return ""  # comments (our marker included) are invisible on GitHub
    closing, name, attrs, selfclose = m.group(1), m.group(2).lower(), m.group(3) or "", m.group(4)
    if name not in _ALLOWED:
        return html.escape(m.group(0))
    if closing:
        return f"</{name}>"
    kept = []
    for a in _ATTR.finditer(attrs):
        key, value = a.group(1).lower(), a.group(2)
        if key not in _ATTRS.get(name, ()):
            continue
        if key == "href" and not re.match(r"(?i)https?://", html.unescape(value or "")):
            continue
        kept.append(key if value is None else f'{key}="{value}"')
    return f"<{name}{''.join(' ' + k for k in kept)}{selfclose}>"


def sanitize_html(fragment: str) -> str:
    """Keep whitelisted tags and attributes (http(s) links only); escape every other tag."""
    return _TAG.sub(_clean_tag, fragment)


_CSS = """
body { margin: 0; background: #f6f8fa; color: #1f2328;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif,
  "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji"; font-size: 14px; line-height: 1.5; }
.comment { max-width: 920px; margin: 16px auto; background: #fff; border: 1px solid #d0d7de; border-radius: 6px; }
.comment-header { background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: 8px 16px; color: #59636e;
  border-radius: 6px 6px 0 0; }
.comment-header strong { color: #1f2328; }
.markdown-body { padding: 16px; overflow-wrap: break-word; }
.markdown-body > :first-child { margin-top: 0; }
.markdown-body p, .markdown-body ul, .markdown-body table, .markdown-body pre,
.markdown-body details { margin: 0 0 12px; }
.markdown-body h4 { font-size: 1em; font-weight: 600; margin: 20px 0 8px; }
.markdown-body table { border-collapse: collapse; display: block; width: max-content; max-width: 100%; overflow: auto; }
.markdown-body th, .markdown-body td { border: 1px solid #d0d7de; padding: 4px 10px; }
.markdown-body th { font-weight: 600; background: #f6f8fa; }
.markdown-body td[align="right"], .markdown-body th[align="right"] { white-space: nowrap; }
.markdown-body tr:nth-child(2n) td { background: #f6f8fa; }
.markdown-body code {
  font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 85%; background: rgba(175, 184, 193, 0.2); border-radius: 6px; padding: 0.15em 0.35em; }
.markdown-body pre { background: #f6f8fa; border-radius: 6px; padding: 12px 16px; overflow: auto; font-size: 85%; }
.markdown-body pre code { background: none; padding: 0; font-size: 100%; }
.markdown-body pre[lang="mermaid"]::before { content: "mermaid chart (GitHub draws it)"; display: block;
  color: #59636e; font-family: inherit; margin-bottom: 4px; }
.markdown-body details summary { cursor: pointer; }
.markdown-body details[open] > summary { margin-bottom: 8px; }
.markdown-body sub { color: #59636e; }
.markdown-body a { color: #0969da; }
"""


def render_html_preview(markdown: str, title: str, *, expand: bool = False) -> str:
    """A standalone HTML page showing ``markdown`` as a GitHub comment body. ``expand`` opens every
    ``<details>`` (for screenshots)."""
    body = sanitize_html(gfm_to_html(markdown))
    if expand:
        body = body.replace("<details>", "<details open>")
    safe_title = html.escape(title)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{safe_title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        "<div class=\"comment\">\n"
        f"<div class=\"comment-header\"><strong>sizebot</strong> commented · {safe_title}</div>\n"
        f"<div class=\"markdown-body\">\n{body}</div>\n</div>\n</body>\n</html>\n"
    )
