"""How far one document may expand, and the checks that read it before extraction.

A small file may expand without bound (a Word zip inflating to gigabytes, thousands of
PDF pages, HTML nested past the reader's recursion); ``rag.ingest.loaders`` refuses such a file
with ``DocumentTooLarge`` naming the limit, checked before the expensive step.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from rag.errors import DocumentTooLarge, UnreadableDocument

__all__ = ["LIMITS", "Limits", "check_unpacked", "too_deep"]


@dataclass(frozen=True)
class Limits:
    """How far one document may expand. A thousand-page report extracts to about 3M
    characters and its Word file to a few MB of XML; the limits sit above that."""

    unpacked_bytes: int = 64 * 2**20  # a Word zip: all its members, uncompressed
    xml_bytes: int = 16 * 2**20  # a Word zip: the XML parts the parser builds a tree of
    pages: int = 1000  # a PDF
    chars: int = 4_000_000  # extracted text, any format
    html_depth: int = 256  # open elements (void and optional-end elements not counted)


LIMITS = Limits()


def check_unpacked(name: str, data: bytes, limits: Limits) -> None:
    """Refuse a Word zip whose members inflate past the limits, from the sizes its
    directory declares (a member cannot inflate past its declared size: zipfile stops
    there and fails its CRC), before anything is inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = z.infolist()
    except zipfile.BadZipFile as exc:
        raise UnreadableDocument(f"{name}: corrupt Word file ({exc})") from exc
    total = sum(m.file_size for m in members)
    xml = sum(m.file_size for m in members if m.filename.endswith((".xml", ".rels")))
    if total > limits.unpacked_bytes:
        raise DocumentTooLarge(
            f"{name}: the Word file unpacks to {total} bytes; the limit is {limits.unpacked_bytes}"
        )
    if xml > limits.xml_bytes:
        raise DocumentTooLarge(
            f"{name}: the Word file holds {xml} bytes of XML; the limit is {limits.xml_bytes}"
        )


# Elements that never hold others, or whose end tag may be left out (HTML's optional
# end tags): an unclosed <p> or <li> is not nesting.
_NO_DEPTH = frozenset(
    "area base br col embed hr img input link meta param source track wbr "
    "p li dt dd rt rp optgroup option colgroup caption thead tbody tfoot tr td th "
    "html head body".split()
)


class _TooDeep(Exception):
    pass


class _Depth(HTMLParser):
    """Tracks open elements without building a tree; raises ``_TooDeep`` past ``limit``
    (so the scan costs at most ``limit`` per tag)."""

    def __init__(self, limit: int) -> None:
        super().__init__(convert_charrefs=False)
        self.limit = limit
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in _NO_DEPTH:
            self.open.append(tag)
            if len(self.open) > self.limit:
                raise _TooDeep

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:  # close it and whatever was left open inside it
            del self.open[len(self.open) - 1 - self.open[::-1].index(tag) :]


def too_deep(html: str, limit: int) -> bool:
    parser = _Depth(limit)
    try:
        parser.feed(html)
        parser.close()
    except _TooDeep:
        return True
    return False
