"""Report files -> ``Document``: the extracted text every chunk and citation indexes.

One loader per format behind one function, ``load_document``, which picks the loader
by what the bytes are (a ``%PDF`` header, a Word zip, an HTML tag), the file name only
breaking ties between plain text and Markdown. Every loader writes the same shape of
text: Markdown headings (``#`` .. ``####``) for the document's structure (PDF outline,
Word heading styles, HTML ``h1``-``h6``), one paragraph or list item per line and one
table row per line with its cells joined by `` | `` (a figure stays beside its label).
Citations quote this text and point into it with offsets; for a PDF, ``pages`` maps an
offset to its page.

A small file may expand without bound (a Word zip inflating to gigabytes, thousands of
PDF pages, HTML nested past the parser's recursion), so each loader checks what the
document expands to, before the expensive step where it can (``Limits``), and refuses
it with ``DocumentTooLarge`` naming the limit.
"""

from __future__ import annotations

import bisect
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from rag.errors import DocumentTooLarge, UnreadableDocument, UnsupportedDocument
from rag.ingest.blocks import join_blocks, table_rows
from rag.ingest.html import html_text
from rag.ingest.limits import LIMITS, Limits, check_unpacked
from rag.ingest.titles import extract_title

__all__ = [
    "LIMITS",
    "LOADER_VERSION",
    "SUFFIXES",
    "Document",
    "Limits",
    "load_document",
    "page_of",
    "sniff",
]

LOADER_VERSION = 2  # bump when extraction changes an existing document's text or title
SUFFIXES = frozenset({".txt", ".md", ".markdown", ".pdf", ".docx", ".html", ".htm"})
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc, and the wrapper of encrypted .docx
_MD_HEADING = re.compile(r"^#{1,4}[ \t]+\S", re.MULTILINE)
_CELL_GAP = re.compile(r"\S( {3,})\S")
_ITEM = re.compile(r"([-*•▪◦‣]|\(?\w{1,3}[.)])\s")  # a bullet or a numbered item


@dataclass(frozen=True)
class Document:
    """One report's extracted text, its format and (PDF) the offset where each page starts."""

    name: str
    text: str
    kind: str  # pdf | docx | html | markdown | text
    page_starts: tuple[int, ...] = ()
    title: str = ""  # its own title (metadata or first heading; ``rag.ingest.titles``)

    @property
    def pages(self) -> int | None:
        return len(self.page_starts) or None

    def page_of(self, offset: int) -> int | None:
        """1-based page holding character ``offset`` (None for formats without pages)."""
        return page_of(self.page_starts, offset)


def page_of(page_starts: tuple[int, ...] | list[int], offset: int) -> int | None:
    if not page_starts:
        return None
    return max(1, bisect.bisect_right(page_starts, offset))


def sniff(name: str, data: bytes) -> str:
    """The format of ``data``: pdf, docx, html, markdown or text.

    Raises ``UnsupportedDocument`` for anything else (images, archives, binaries), and
    ``UnreadableDocument`` when the name promises a format the bytes are not (a
    truncated PDF, a password-protected Word file).
    """
    suffix = PurePath(name).suffix.lower()
    if data[:5] == b"%PDF-":
        return "pdf"
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "word/document.xml" in z.namelist():
                    return "docx"
        except zipfile.BadZipFile as exc:
            if suffix == ".docx":
                raise UnreadableDocument(f"{name}: corrupt Word file ({exc})") from exc
        raise UnsupportedDocument(f"{name}: a zip archive, not a report")
    if data[:8] == _OLE:
        if suffix == ".docx":
            raise UnreadableDocument(f"{name}: encrypted (password-protected) Word file")
        raise UnsupportedDocument(f"{name}: legacy Office file; save it as .docx or PDF")
    if suffix in (".pdf", ".docx"):
        raise UnreadableDocument(f"{name}: corrupt file, not a {suffix[1:].upper()}")
    text = _decode(name, data)
    head = text.lstrip()[:512].lower()
    if suffix in (".html", ".htm") or head.startswith(("<!doctype html", "<html")):
        return "html"
    if suffix in (".md", ".markdown") or _MD_HEADING.search(text):
        return "markdown"
    return "text"


def load_document(name: str, data: bytes, limits: Limits = LIMITS) -> Document:
    """Extract ``data`` (the bytes of file ``name``) into a ``Document``.

    Raises ``UnsupportedDocument`` (not a report format), ``UnreadableDocument``
    (corrupt, encrypted, empty, or a PDF without a text layer) or ``DocumentTooLarge``
    (it expands past ``limits``).
    """
    kind = sniff(name, data)
    starts: tuple[int, ...] = ()
    if kind == "pdf":
        text, pages = _pdf(name, data, limits)
        starts = tuple(pages)
    elif kind == "docx":
        text = _docx(name, data, limits)
    elif kind == "html":
        text = html_text(name, _decode(name, data), limits)
    else:
        text = _decode(name, data)
    if len(text) > limits.chars:
        raise DocumentTooLarge(
            f"{name}: {len(text)} characters of text; the limit is {limits.chars}"
        )
    if not text.strip():
        what = "no text layer (a scanned PDF?)" if kind == "pdf" else "no text"
        raise UnreadableDocument(f"{name}: {what}")
    return Document(name, text, kind, starts, extract_title(kind, data, text))


def _decode(name: str, data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnsupportedDocument(f"{name}: not UTF-8 text nor a PDF, Word or HTML file") from exc
    if "\x00" in text:
        raise UnsupportedDocument(f"{name}: binary data, not a report")
    return text


# ---- PDF -------------------------------------------------------------------------


def _pdf(name: str, data: bytes, limits: Limits) -> tuple[str, list[int]]:
    """Text of each page in reading layout (a table row stays one line), with the
    outline's entries marked as headings on the page they point to. The page count is
    checked before any page is read, the text's length after each page."""
    import pypdf
    from pypdf.errors import LimitReachedError, PdfReadError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocument(f"{name}: encrypted PDF (a password is needed)")
        if len(reader.pages) > limits.pages:
            raise DocumentTooLarge(
                f"{name}: {len(reader.pages)} pages; the limit is {limits.pages}"
            )
        pages: list[list[str]] = []
        chars = 0
        for pdf_page in reader.pages:
            pages.append(_pdf_lines(pdf_page.extract_text(extraction_mode="layout")))
            chars += sum(len(line) + 1 for line in pages[-1])
            if chars > limits.chars:
                raise DocumentTooLarge(
                    f"{name}: more than {limits.chars} characters of text by page "
                    f"{len(pages)}; the limit is {limits.chars}"
                )
        outline = list(_outline(reader, reader.outline, 1))
    except (UnreadableDocument, DocumentTooLarge):
        raise
    except LimitReachedError as exc:  # pypdf's own cap on what one stream may inflate to
        raise DocumentTooLarge(f"{name}: a PDF stream inflates past pypdf's limit ({exc})") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableDocument(f"{name}: corrupt PDF ({exc})") from exc
    if reader.is_encrypted and not any(pages):
        raise UnreadableDocument(f"{name}: encrypted PDF (a password is needed)")
    for title, level, page in outline:
        if 0 <= page < len(pages):
            _mark_heading(pages[page], title, level)
    starts: list[int] = []
    out = ""
    for lines in pages:
        starts.append(len(out))
        out += "\n".join(_unwrap(lines)).strip("\n") + "\n\n"
    return out, starts


def _outline(reader: Any, items: Iterable[Any], level: int) -> Iterator[tuple[str, int, int]]:
    for item in items:
        if isinstance(item, list):
            yield from _outline(reader, item, level + 1)
            continue
        try:
            page = reader.get_destination_page_number(item)
        except Exception:  # noqa: BLE001 - a broken bookmark is skipped, not fatal
            continue
        yield re.sub(r"\s+", " ", str(item.title)).strip(), level, page


def _pdf_lines(page: str) -> list[str]:
    """Layout text -> lines: common indentation removed, a line of cells separated by
    wide gaps written as a table row, other runs of spaces collapsed."""
    raw = [line.rstrip() for line in page.splitlines()]
    indent = min((len(x) - len(x.lstrip()) for x in raw if x.strip()), default=0)
    out: list[str] = []
    for line in raw:
        line = line[indent:]
        if not line.strip():
            if out and out[-1]:
                out.append("")
            continue
        body = line.strip()
        if _CELL_GAP.search(body):
            out.append("| " + " | ".join(re.split(r" {3,}", body)) + " |")
        else:
            out.append(re.sub(r"\s+", " ", body))
    return out


def _unwrap(lines: list[str]) -> list[str]:
    """Join the lines of a paragraph wrapped on the page into one line (a heading, a
    table row or a list item starts a line of its own)."""
    out: list[str] = []
    for line in lines:
        prev = out[-1] if out else ""
        if line and prev and prev[0] not in "|#" and line[0] not in "|#" and not _ITEM.match(line):
            out[-1] = prev + " " + line
        else:
            out.append(line)
    return out


def _mark_heading(lines: list[str], title: str, level: int) -> None:
    """Mark the line holding an outline entry's title as a heading (insert one at the
    top of its page when the page text does not hold the title)."""
    want = _squash(title)
    mark = "#" * min(level, 4) + " "
    for i, line in enumerate(lines):
        if _squash(line) == want and not line.startswith("#"):
            lines[i] = mark + line
            return
    lines.insert(0, mark + title)
    lines.insert(1, "")


def _squash(s: str) -> str:
    return re.sub(r"\W+", "", s).lower()


# ---- Word ------------------------------------------------------------------------


def _docx(name: str, data: bytes, limits: Limits) -> str:
    """Paragraphs and tables in body order; ``Title`` and ``Heading N`` styles become
    headings, list styles bullets."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    check_unpacked(name, data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
        # style names by id, read once: python-docx's ``Paragraph.style`` scans every
        # style for each paragraph (a minute for 30,000 paragraphs)
        names = {st.style_id: st.name or "" for st in document.styles}
        default_style = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
        default = default_style.style_id if default_style is not None else ""
    except Exception as exc:  # noqa: BLE001 - python-docx raises many types for bad files
        raise UnreadableDocument(f"{name}: corrupt Word file ({exc})") from exc
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Table):
            lines.append("")
            lines.extend(table_rows([[c.text for c in row.cells] for row in block.rows]))
            lines.append("")
        elif isinstance(block, Paragraph):
            text = re.sub(r"\s+", " ", block.text).strip()
            if not text:
                continue
            style = names.get(block._p.style or default, "")
            m = re.match(r"Heading (\d)", style)
            if style == "Title" or m:
                level = 1 if style == "Title" else int(m.group(1)) + 1 if m else 1
                lines += ["", "#" * min(level, 4) + " " + text, ""]
            elif style.startswith("List"):
                lines.append("- " + text)
            else:
                lines += [text, ""]
    return join_blocks(lines)
