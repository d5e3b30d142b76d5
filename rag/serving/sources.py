"""A cited section as a reader would see it: Markdown rendered to HTML, made safe.

Reports arrive from anyone who can upload, so their text is hostile until proven
otherwise. The section is rendered on the server with markdown-it-py (CommonMark plus
tables) and the result passes nh3 (the Ammonia sanitizer) with an allow-list of
tags and attributes: scripts, styles, event-handler attributes and every URL scheme
but http, https and mailto are dropped, and raw HTML never reaches the page as
markup it runs or as tags it shows. An image, inline or in Markdown, becomes its alt
text: the page loads nothing from elsewhere (its CSP forbids it) and the words are
what a reader of a citation needs.

The quote is marked in the source text before rendering, with two private-use
characters (any already in the report are replaced first), and those become ``<mark>``
once the HTML is safe; a quote that crosses a block (two list items) is marked in each
piece. Plain-text reports are rendered with raw HTML off (their "<" is text), and a quote
the rendering hides (inside an HTML comment, say) falls back to the plain text with the
quote marked: the panel always shows what was cited.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

__all__ = ["SECTION_LIMIT", "render_section", "section_around"]

SECTION_LIMIT = 6000  # characters of a long section shown around a quote

_OPEN, _CLOSE = "\ue000", "\ue001"  # the quote's ends, in the source text
_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote",
    "pre", "code", "em", "strong", "del", "sup", "sub", "a", "table", "thead", "tbody",
    "tr", "th", "td", "mark", "span",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ALT = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_EMPTY_MARK = re.compile(r'<mark class="quote">(\s*)</mark>')
# a line's block markup: the quote mark goes after it, or the block would not parse
_HEADING = re.compile(r"^#{1,6}[ \t]+\S", re.MULTILINE)
_BLOCK_START = re.compile(r"[ \t]*(?:#{1,6}[ \t]+|[-*+][ \t]+|\d{1,3}[.)][ \t]+|>[ \t]*|\|[ \t]*)*")


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    attributes=_ATTRIBUTES,
    url_schemes={"http", "https", "mailto"},
    url_relative="deny",  # no "/v1/..." or "//elsewhere": a report links out or not at all
    link_rel="noopener noreferrer nofollow",
    allowed_classes={"mark": {"quote"}, "span": {"image-alt"}},
)


@lru_cache(maxsize=2)
def _parser(html_blocks: bool) -> MarkdownIt:
    # breaks: the loaders write one paragraph or item a line, so a line break is kept
    md = MarkdownIt("commonmark", {"html": html_blocks, "breaks": True, "typographer": False})
    md.enable("table").enable("strikethrough")
    md.add_render_rule("image", _image_alt)
    # every link becomes <a>, so an unsafe one shows its words, not its source; nh3
    # then drops any href whose scheme is not allowed
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


def _image_alt(self: object, tokens: list, idx: int, options: object, env: object) -> str:
    """A Markdown image as its alt text (the page loads no image)."""
    alt = "".join(t.content for t in tokens[idx].children or [])
    return f'<span class="image-alt">[image: {html.escape(alt)}]</span>' if alt else ""


def _html_image_alt(match: re.Match[str]) -> str:
    alt = _ALT.search(match.group(0))
    text = next((g for g in alt.groups() if g is not None), "") if alt else ""
    text = html.unescape(text).strip()
    return f'<span class="image-alt">[image: {html.escape(text)}]</span>' if text else ""


def render_section(text: str, quote: tuple[int, int] | None = None, raw_html: bool = True) -> str:
    """``text`` (Markdown as the loaders write it) as safe HTML, with ``text[a:b]``
    marked when ``quote`` is ``(a, b)``; ``raw_html`` False for plain text, whose tags
    are words."""
    text = text.replace(_OPEN, "\ufffd").replace(_CLOSE, "\ufffd")  # same length
    marked = text
    if quote is not None:
        a, b = _after_markup(text, quote[0]), quote[1]
        if a < b:
            marked = text[:a] + _OPEN + text[a:b] + _CLOSE + text[b:]
    out = _IMG.sub(_html_image_alt, _parser(raw_html).render(marked))
    safe = _CLEANER.clean(_mark_quote(out))
    if quote is not None and marked is not text and '<mark class="quote">' not in safe:
        return _plain(text, quote)
    return safe


def _plain(text: str, quote: tuple[int, int]) -> str:
    """The text escaped, line by line, with the quote marked: when rendering hid it."""
    a, b = quote
    body = (
        html.escape(text[:a])
        + '<mark class="quote">'
        + html.escape(text[a:b])
        + "</mark>"
        + html.escape(text[b:])
    )
    return "<p>" + body.replace("\n", "<br>\n") + "</p>"


def _after_markup(text: str, at: int) -> int:
    """``at`` moved past a heading's hashes or a list bullet when it is at a line start."""
    line = text.rfind("\n", 0, at) + 1
    head = _BLOCK_START.match(text, line)
    return max(at, head.end()) if head and at <= head.end() else at


def _mark_quote(out: str) -> str:
    """The quote's ends as ``<mark class="quote">``, closed and reopened around every tag
    between them so each block holds its own well-nested piece."""
    start, end = out.find(_OPEN), out.find(_CLOSE)
    if start < 0 or end < start:
        return out.replace(_OPEN, "").replace(_CLOSE, "")
    inner = out[start + 1 : end]
    inner = _TAG.sub(lambda m: f'</mark>{m.group(0)}<mark class="quote">', inner)
    marked = f'{out[:start]}<mark class="quote">{inner}</mark>{out[end + 1 :]}'
    return _EMPTY_MARK.sub(r"\1", marked)


def section_around(text: str, start: int, end: int, limit: int = SECTION_LIMIT) -> tuple[int, int]:
    """The span of ``text`` to show for a quote at ``[start, end)``: from the heading
    above it to the next heading after it, cut to about ``limit`` characters around the
    quote (at line ends) when the section is longer."""
    heads = [m.start() for m in _HEADING.finditer(text)]
    a = max((h for h in heads if h <= start), default=0)
    b = min((h for h in heads if h >= max(end, a + 1)), default=len(text))
    if b - a > limit:
        half = max(0, limit - (end - start)) // 2
        if start - a > half:
            a = text.rfind("\n", 0, start - half) + 1
        if b - end > half:
            cut = text.find("\n", end + half)
            b = len(text) if cut < 0 else cut
    return a, b
