"""Files that expand without bound are refused before they can hurt the service: a Word
decompression bomb, HTML nested past any reader's recursion, a PDF of thousands of
pages, a text far longer than any report. Real files, built here by real writers; each
is loaded in a child process whose peak memory is measured."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from rag.errors import DocumentTooLarge
from rag.ingest.loaders import LIMITS, load_document
from tests.report_files import make_blank_pdf, make_docx

_MAX_EXTRA_RSS_MB = 500

_CHILD = """
import json, resource, sys
from pathlib import Path
import bs4, docx, pypdf  # imported before measuring: their size is not the file's cost
from rag.errors import DocumentTooLarge
from rag.ingest.loaders import load_document
path = Path(sys.argv[1])
data = path.read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load_document(path.name, data)
    error = None
except DocumentTooLarge as exc:
    error = str(exc)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"error": error, "extra_mb": (peak - before) / 1024}))
"""


def _load_in_child(path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard, not a speed check
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _docx_bomb(path: Path, inflated_mb: int) -> Path:
    """A real Word file (python-docx) whose ``word/document.xml`` is rewritten to hold
    about ``inflated_mb`` MB of paragraphs: a few hundred KB once deflated."""
    template = make_docx(path.with_name("template.docx")).read_bytes()
    paragraph = b"<w:p><w:r><w:t>Quarterly figures were unchanged.</w:t></w:r></w:p>"
    with zipfile.ZipFile(io.BytesIO(template)) as src:
        xml = src.read("word/document.xml")
        head, tail = xml.split(b"<w:body>", 1)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
            for item in src.infolist():
                if item.filename != "word/document.xml":
                    out.writestr(item, src.read(item.filename))
            with out.open("word/document.xml", "w", force_zip64=True) as f:
                f.write(head + b"<w:body>")
                block = paragraph * (2**20 // len(paragraph))
                for _ in range(inflated_mb):
                    f.write(block)
                f.write(tail)
    return path


def test_a_word_decompression_bomb_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    bomb = _docx_bomb(tmp_path / "bomb.docx", inflated_mb=256)
    assert bomb.stat().st_size < 2 * 2**20  # small on the wire
    result = _load_in_child(bomb)
    assert result["error"] and "unpacks to" in result["error"]
    assert str(LIMITS.unpacked_bytes) in result["error"]
    assert result["extra_mb"] < _MAX_EXTRA_RSS_MB


def test_html_nested_past_the_limit_is_refused(tmp_path: Path) -> None:
    depth = 100_000
    page = tmp_path / "nested.html"
    page.write_text(
        "<!doctype html><html><body>" + "<div>" * depth + "deep" + "</div>" * depth + "</body>"
    )
    result = _load_in_child(page)
    assert result["error"] and "nested more than 256" in result["error"]
    assert result["extra_mb"] < _MAX_EXTRA_RSS_MB


def test_unclosed_paragraphs_and_list_items_are_not_nesting() -> None:
    """End tags HTML lets one leave out (p, li, td) do not count as depth."""
    rows = "".join(f"<p>Paragraph {n}<li>item {n}" for n in range(2000))
    doc = load_document("flat.html", f"<html><body><ul>{rows}</ul></body></html>".encode())
    assert "Paragraph 1999" in doc.text


def test_a_pdf_of_thousands_of_empty_pages_is_refused_by_its_page_count(tmp_path: Path) -> None:
    pdf = make_blank_pdf(tmp_path / "blank.pdf", pages=3000)
    result = _load_in_child(pdf)
    assert result["error"] and "3000 pages; the limit is 1000" in result["error"]
    assert result["extra_mb"] < _MAX_EXTRA_RSS_MB


def test_text_longer_than_any_report_is_refused() -> None:
    data = b"The archive was reindexed overnight. " * (LIMITS.chars // 30)
    with pytest.raises(DocumentTooLarge, match="characters of text; the limit is"):
        load_document("long.txt", data)
    load_document("fine.txt", data[: LIMITS.chars // 2])  # half the limit is a report
