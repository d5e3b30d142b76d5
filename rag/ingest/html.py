"""HTML reports: the body text as a reader sees it, without navigation, scripts or
forms; headings kept as Markdown headings (the section path), tables as rows."""

from __future__ import annotations

import re

from rag.errors import DocumentTooLarge
from rag.ingest.blocks import join_blocks, table_rows
from rag.ingest.limits import Limits, too_deep

__all__ = ["html_text"]


_DROP = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form")


_DROP_ROLES = {"navigation", "banner", "contentinfo", "search", "complementary"}


_TEXT_BLOCKS = {"p", "pre", "blockquote", "dt", "dd", "figcaption", "caption", "address"}


_INLINE = {
    "a",
    "abbr",
    "b",
    "br",
    "cite",
    "code",
    "em",
    "i",
    "kbd",
    "mark",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "time",
    "u",
    "var",
    "img",
    "label",
}


def html_text(name: str, html: str, limits: Limits) -> str:
    """The page's content: navigation, headers, footers, scripts and forms dropped; the
    ``main`` or ``article`` element when there is one, else the body. Nesting is
    measured first: the walk below recurses once per level."""
    if too_deep(html, limits.html_depth):
        raise DocumentTooLarge(
            f"{name}: HTML nested more than {limits.html_depth} elements deep; "
            f"the limit is {limits.html_depth}"
        )
    try:
        return _body_text(html)
    except RecursionError as exc:  # nesting the depth scan does not count (unclosed lists)
        raise DocumentTooLarge(f"{name}: HTML nested too deep to read") from exc


def _body_text(html: str) -> str:
    from bs4 import BeautifulSoup, NavigableString, Tag

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for tag in soup.find_all(role=True):
        if not tag.decomposed and str(tag.get("role", "")).lower() in _DROP_ROLES:
            tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    lines: list[str] = []
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if title and not root.find("h1"):
        lines += ["# " + title, ""]

    def text_of(node: Tag) -> str:
        return re.sub(r"\s+", " ", node.get_text("")).strip()

    def walk(node: Tag) -> None:
        inline: list[str] = []  # text and inline elements, written as one line

        def flush() -> None:
            s = re.sub(r"\s+", " ", "".join(inline)).strip()
            if s:
                lines.append(s)
            inline.clear()

        for child in node.children:
            if isinstance(child, NavigableString):
                if child.__class__ is NavigableString:  # not a comment or doctype
                    inline.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in _INLINE:
                inline.append(" " if name == "br" else child.get_text(""))
                continue
            flush()
            if re.fullmatch(r"h[1-6]", name):
                lines.extend(["", "#" * min(int(name[1]), 4) + " " + text_of(child), ""])
            elif name == "table":
                rows = [
                    [text_of(c) for c in tr.find_all(["th", "td"])] for tr in child.find_all("tr")
                ]
                lines.extend(["", *table_rows(rows), ""])
            elif name == "li":
                nested = child.find(["ul", "ol"])
                if nested is None:
                    lines.append("- " + text_of(child))
                else:
                    own = [str(s) for s in child.children if isinstance(s, NavigableString)]
                    if "".join(own).strip():
                        lines.append("- " + re.sub(r"\s+", " ", "".join(own)).strip())
                    walk(nested)
            elif name in _TEXT_BLOCKS:
                lines.extend([text_of(child), ""])
            else:
                walk(child)
                lines.append("")
        flush()

    walk(root)
    return join_blocks(lines)
