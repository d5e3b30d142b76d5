"""Titles: each format's own title read from files built here (invented text, no model),
junk metadata ignored, and display titles that always tell documents apart."""

from __future__ import annotations

import io
import re

import docx
import pytest
from reportlab.pdfgen import canvas

from rag.ingest.loaders import load_document
from rag.ingest.titles import distinct_titles, extract_title


def _title(name: str, data: bytes) -> str:
    doc = load_document(name, data)
    return extract_title(doc.kind, data, doc.text)


# ---- markdown and text ----------------------------------------------------------


def test_markdown_first_top_level_heading_without_markup():
    md = (
        "<!-- # a commented-out heading -->\n"
        "```sh\n# install the tools first\n```\n"
        "## Not the top level\n\n"
        "#   **Quarterly** Kelp *Harvest* Ledger<sup>2</sup>  ##\n\n"
        "# A second top-level heading\n\nBody text.\n"
    )
    assert _title("ledger.md", md.encode()) == "Quarterly Kelp Harvest Ledger2"


def test_markdown_front_matter_title_when_there_is_no_heading():
    md = '---\nlayout: note\n# a YAML comment\ntitle: "Tidal Survey Notes"\n---\n\nProse only.\n'
    assert _title("survey.md", md.encode()) == "Tidal Survey Notes"
    folded = "---\ntitle: >\n  Lichen Growth on\n  Northern Walls\ndate: 2031-02-03\n---\nText.\n"
    assert _title("lichen.md", folded.encode()) == "Lichen Growth on Northern Walls"
    # a heading, when there is one, is the title the reader sees
    both = "---\ntitle: Meta Name\n---\n\n# Visible Heading\n\nText.\n"
    assert _title("both.md", both.encode()) == "Visible Heading"


@pytest.mark.parametrize(
    "md",
    [
        '<!-- --- title: "Old Provisional Name" --- -->\nPlain prose without any heading.\n',
        '<!--\n---\ntitle: "Old Provisional Name"\n---\n-->\nPlain prose without any heading.\n',
    ],
)
def test_front_matter_inside_an_html_comment_is_not_a_title(md: str):
    assert _title("draft.md", md.encode()) == ""


def test_plain_text_without_heading_has_no_title():
    assert _title("notes.txt", b"Just a few lines of notes.\nNothing more.\n") == ""


def test_long_title_is_cut_at_a_word_boundary():
    words = " ".join(f"word{i}" for i in range(40))
    got = extract_title("markdown", b"", f"# {words}\n")
    assert len(got) <= 120 and got.endswith("…")
    assert got[:-1].split()[-1] in words.split()


# ---- HTML -------------------------------------------------------------------------


def test_html_title_element_wins_over_h1():
    page = (
        "<!doctype html><html><head><title> Moth  Census\n2031 </title></head>"
        "<body><h1>Welcome</h1><p>Counts by night.</p></body></html>"
    )
    assert _title("moths.html", page.encode()) == "Moth Census 2031"


def test_html_without_title_uses_the_first_h1():
    page = (
        "<html><body><svg><title>an icon</title></svg>"
        "<h1>Reed Bed Restoration</h1><p>Work done.</p><h1>Later</h1></body></html>"
    )
    assert _title("reeds.html", page.encode()) == "Reed Bed Restoration"


def test_html_junk_title_falls_back_to_h1():
    page = "<html><head><title>Untitled</title></head><body><h1>Dune Erosion</h1></body></html>"
    assert _title("dunes.html", page.encode()) == "Dune Erosion"


# ---- Word -------------------------------------------------------------------------


def _docx(core_title: str, paragraphs: list[tuple[str, str | None]]) -> bytes:
    document = docx.Document()
    document.core_properties.title = core_title
    for text, style in paragraphs:
        document.add_paragraph(text, style=style)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_docx_core_properties_title():
    data = _docx("Canal Lock Inventory", [("Other Heading", "Title"), ("Body text.", None)])
    assert _title("locks.docx", data) == "Canal Lock Inventory"


def test_docx_without_core_title_uses_the_title_paragraph():
    data = _docx("", [("Intro words.", None), ("Glacier Melt Diary", "Title")])
    assert _title("glacier.docx", data) == "Glacier Melt Diary"


def test_docx_junk_core_title_falls_back_to_heading_1():
    data = _docx("draft-v2.docx", [("Seed Vault Ledger", "Heading 1"), ("Body.", None)])
    assert _title("seeds.docx", data) == "Seed Vault Ledger"


# ---- PDF --------------------------------------------------------------------------


def _pdf(title: str | None, outline: str | None = None) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    if title is not None:
        c.setTitle(title)
    if outline:
        c.bookmarkPage("p1")
        c.addOutlineEntry(outline, "p1", level=0)
        c.drawString(72, 760, outline)
    c.drawString(72, 720, "Measurements were taken every morning at the pier.")
    c.showPage()
    c.save()
    return buf.getvalue()


def test_pdf_metadata_title():
    assert _title("orchard.pdf", _pdf("Orchard Yield Study")) == "Orchard Yield Study"


@pytest.mark.parametrize("junk", ["Microsoft Word - notes.docx", "untitled", "scan_0042.PDF", " "])
def test_pdf_junk_metadata_title_falls_back_to_the_outline(junk: str):
    assert _title("bees.pdf", _pdf(junk, outline="Beekeeping Field Log")) == "Beekeeping Field Log"


def test_pdf_junk_title_and_no_outline_means_no_title():
    assert _title("pier.pdf", _pdf(None)) == ""  # reportlab writes "untitled"


def test_unreadable_metadata_falls_back_to_the_text_and_never_raises():
    for kind in ("pdf", "docx", "html"):
        assert extract_title(kind, b"\x00garbage", "# Fallback Heading\n\nText.\n") == (
            "Fallback Heading"
        )


# ---- distinct titles --------------------------------------------------------------


def _alike(a: str, b: str) -> bool:
    ta, tb = re.findall(r"\w+", a.casefold()), re.findall(r"\w+", b.casefold())
    return ta[: len(tb)] == tb or tb[: len(ta)] == ta


def test_equal_titles_told_apart_by_year():
    got = distinct_titles(
        {
            "r/a.txt": ("Annual Report", "The lighthouse board met in 2019 and again later."),
            "r/b.txt": ("annual  report", "In 2020 the board met once."),
        }
    )
    assert got == {"r/a.txt": "Annual Report (2019)", "r/b.txt": "annual report (2020)"}


def test_equal_titles_same_year_told_apart_by_first_sentence():
    got = distinct_titles(
        {
            "a.md": ("Field Notes", "# Field Notes\n\nOtters were seen in 2030. More."),
            "b.md": ("Field Notes", "<!-- draft -->\nHerons nested early in 2030. More."),
        }
    )
    assert got == {
        "a.md": "Field Notes — Otters were seen in 2030",
        "b.md": "Field Notes — Herons nested early in 2030",
    }


def test_equal_titles_with_nothing_else_told_apart_by_file_name():
    same = ("Field Notes", "Identical words in both files.")
    got = distinct_titles({"x/one.md": same, "x/two.md": same, "y/one.md": same})
    assert got == {
        "x/one.md": "Field Notes (x/one.md)",
        "x/two.md": "Field Notes (two.md)",
        "y/one.md": "Field Notes (y/one.md)",
    }


def test_prefix_pair_only_the_shorter_title_changes():
    got = distinct_titles(
        {
            "old.txt": ("Harbour Review", "Dredging in 2019 deepened the channel."),
            "new.txt": ("Harbour Review 2021", "Dredging in 2021 finished."),
        }
    )
    assert got == {"old.txt": "Harbour Review (2019)", "new.txt": "Harbour Review 2021"}
    # the shorter one's year would read like the longer title: its first sentence instead
    got = distinct_titles(
        {
            "old.txt": ("Harbour Review", "Silt returned in 2021 after the storms."),
            "new.txt": ("Harbour Review 2021", "Dredging in 2021 finished."),
        }
    )
    assert got["old.txt"] == "Harbour Review — Silt returned in 2021 after the storms"
    assert got["new.txt"] == "Harbour Review 2021"


def test_untitled_document_gets_its_first_sentence():
    text = (
        "---\ntitle:\n---\n# Heading Only\n\n![a chart](chart.png)\n| a | b |\n"
        "The ferry timetable changed twice in spring, e.g. in April. It changed again.\n"
    )
    got = distinct_titles({"ferry.md": ("", text)})
    assert got == {"ferry.md": "The ferry timetable changed twice in spring, e.g. in April"}
    long = "Word " * 40 + "end."
    cut = distinct_titles({"long.txt": ("", long)})["long.txt"]
    assert len(cut) <= 70 and cut.endswith("…") and cut[:-1].strip().endswith("Word")


def test_document_without_prose_gets_its_file_name_stem():
    got = distinct_titles({"data/tide_gauge-readings.txt": ("", "| 1 | 2 |\n| 3 | 4 |\n# Tides\n")})
    assert got == {"data/tide_gauge-readings.txt": "tide gauge readings"}


def test_six_documents_always_get_unique_titles():
    docs = {
        "a/report.txt": ("Gravelpit Report", "Blasting stopped in 2028. Dust fell."),
        "b/report.txt": ("QUARRY report", "Blasting stopped in 2028. Dust fell."),
        "c.txt": ("Gravelpit Report 2028", "A new permit was issued."),
        "d.txt": ("", "A new permit was issued."),
        "e.txt": ("", "A new permit was issued."),
        "f_g.txt": ("", "| 12 | 13 |"),
    }
    got = distinct_titles(docs)
    assert set(got) == set(docs)
    assert len({t.casefold() for t in got.values()}) == len(docs)
    titles = sorted(got.values())
    assert not any(_alike(a, b) for i, a in enumerate(titles) for b in titles[i + 1 :])
    assert got["c.txt"] == "Gravelpit Report 2028" and got["f_g.txt"] == "f g"
    # deterministic: the same answer whatever order the mapping is in
    assert distinct_titles(dict(reversed(list(docs.items())))) == got
