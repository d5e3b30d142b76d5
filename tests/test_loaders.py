"""Loaders on real files made by real writers (no seeds): structure, pages, tables,
boilerplate, and clear errors for what cannot be read."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rag.errors import UnreadableDocument, UnsupportedDocument
from rag.ingest.chunking import split_sections
from rag.ingest.loaders import load_document, sniff
from tests.report_files import NAV_PHRASE, make_docx, make_html, make_pdf


def _load(path: Path):
    return load_document(path.name, path.read_bytes())


def test_pdf_pages_outline_headings_and_table_rows(tmp_path: Path):
    doc = _load(make_pdf(tmp_path / "harbor.pdf", pages=3))
    assert doc.kind == "pdf" and doc.pages == 3
    at = doc.text.index("The Merganser scheduler")
    assert doc.page_of(at) == 2 and doc.page_of(0) == 1
    paths = {s.heading_path for s in split_sections(doc.text)}
    assert ("Harbor Systems Review 2031", "Results") in paths
    assert ("Harbor Systems Review 2031", "Appendix 3") in paths
    # a table row keeps its cells on one line, beside the header row
    lines = doc.text.splitlines()
    row = next(i for i, line in enumerate(lines) if "Merganser" in line and "12.5" in line)
    assert "1,450 req/s" in lines[row]
    assert "Latency (ms)" in lines[row - 1]


def test_docx_heading_styles_become_the_section_path(tmp_path: Path):
    doc = _load(make_docx(tmp_path / "ferris.docx"))
    assert doc.kind == "docx" and doc.pages is None
    sections = {s.heading_path: doc.text[s.body_start : s.end] for s in split_sections(doc.text)}
    wren = ("Ferris Lab Annual Report 2030", "Projects", "Project Wren")
    assert "compiler for sparse tensors named Tern" in sections[wren]
    assert "| Speedup | 3.2x |" in doc.text


def test_html_drops_navigation_and_keeps_the_body(tmp_path: Path):
    doc = _load(make_html(tmp_path / "gull.html"))
    assert doc.kind == "html"
    assert "The Gull engine runs at 40 MHz on the Pelican test board." in doc.text
    assert NAV_PHRASE not in doc.text and "tracking" not in doc.text
    assert "intranet" not in doc.text
    paths = {s.heading_path for s in split_sections(doc.text)}
    assert ("Gull Engine Notes", "Cooling") in paths


def test_format_is_chosen_by_content(tmp_path: Path):
    pdf = make_pdf(tmp_path / "harbor.pdf").read_bytes()
    assert sniff("misnamed.txt", pdf) == "pdf"
    assert sniff("page", b"<!DOCTYPE html><html><body><p>x</p></body></html>") == "html"
    assert sniff("notes", b"# Title\n\nbody\n") == "markdown"
    assert sniff("notes.txt", b"Plain words.\n") == "text"


def test_encrypted_pdf_is_unreadable_with_a_reason(tmp_path: Path):
    import pypdf

    writer = pypdf.PdfWriter(clone_from=str(make_pdf(tmp_path / "harbor.pdf")))
    writer.encrypt("secret")
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(UnreadableDocument, match="encrypted"):
        load_document("locked.pdf", buf.getvalue())


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog", UnreadableDocument),
        ("fake.pdf", b"just some words", UnreadableDocument),
        ("broken.docx", b"PK\x03\x04 truncated zip", UnreadableDocument),
        ("legacy.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, UnreadableDocument),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, UnsupportedDocument),
        ("blank.txt", b"   \n\n", UnreadableDocument),
        ("nul.txt", b"text\x00with nul", UnsupportedDocument),
    ],
)
def test_bad_files_raise_clear_errors(name: str, data: bytes, error: type[Exception]):
    with pytest.raises(error, match=name.split(".")[0]):
        load_document(name, data)
