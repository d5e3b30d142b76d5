from __future__ import annotations

import pytest

from rag.ingest.chunking import chunk_report, split_sections


@pytest.fixture(scope="module")
def seed_chunks(seed_texts, embedder):
    return {
        name: chunk_report(name, text, embedder.count_tokens, embedder.max_tokens, 24)
        for name, text in seed_texts.items()
    }


def test_chunk_text_is_exact_source_span(seed_texts, seed_chunks):
    for name, chunks in seed_chunks.items():
        assert chunks, name
        for c in chunks:
            assert seed_texts[name][c.start : c.end] == c.text
            assert c.source == name


def test_chunks_cover_every_non_blank_line(seed_texts, seed_chunks):
    """... but a table of contents' (``is_contents``)."""
    for name, text in seed_texts.items():
        covered = [False] * len(text)
        for c in seed_chunks[name]:
            covered[c.start : c.end] = [True] * (c.end - c.start)
        contents = [False] * len(text)
        for sec in split_sections(text):
            if sec.heading_path and sec.heading_path[-1] == "Contents":
                contents[sec.start : sec.end] = [True] * (sec.end - sec.start)
        pos = 0
        for line in text.split("\n"):
            if line.strip() and not contents[pos]:
                first = pos + (len(line) - len(line.lstrip()))
                last = pos + len(line.rstrip()) - 1
                assert covered[first] and covered[last], f"{name}: uncovered line {line[:60]!r}"
            pos += len(line) + 1


def test_no_embedded_text_exceeds_the_window(seed_chunks, embedder):
    assert embedder.max_tokens == 254  # MiniLM: 256 word pieces minus [CLS]/[SEP]
    for chunks in seed_chunks.values():
        for c in chunks:
            assert embedder.count_tokens(c.embedding_text()) <= embedder.max_tokens


def test_heading_path_keeps_document_title_and_session(seed_chunks):
    plink = [c for c in seed_chunks["001_561db33d66e26b4e.txt"] if "PLink" in c.section]
    assert plink
    assert plink[0].heading_path[0] == "MLSys 2020"
    assert plink[0].heading_path[1].startswith("Session 1")
    assert plink[0].heading_path[2].startswith("PLink")
    assert plink[0].embedding_text().startswith("MLSys 2020 > Session 1")


def test_empty_section_folds_into_next_chunk():
    text = "# Report\n\n# Session A\n\n## Talk one\nBody of talk one.\n\n## Talk two\nMore."
    chunks = chunk_report("r.md", text, lambda s: len(s.split()), 200)
    assert [c.heading_path for c in chunks] == [
        ("Report", "Session A", "Talk one"),
        ("Report", "Session A", "Talk two"),
    ]
    assert chunks[0].start == 0 and chunks[0].text.startswith("# Report")


def test_preamble_before_first_heading_is_kept():
    text = "Intro line.\n\n# Title\nBody."
    chunks = chunk_report("r.md", text, lambda s: len(s.split()), 200)
    assert chunks[0].text == "Intro line." and chunks[0].heading_path == ()


def test_long_section_splits_with_overlap_within_budget():
    sentences = [f"Sentence number {i} talks about topic {i}." for i in range(60)]
    text = "# Big\n" + " ".join(sentences)  # run together on one line: no paragraphs
    count = lambda s: len(s.split())  # noqa: E731
    chunks = chunk_report("r.md", text, count, 40, overlap_tokens=8)
    assert len(chunks) > 3
    for c in chunks:
        assert count(c.embedding_text()) <= 40
        assert text[c.start : c.end] == c.text
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start < a.end, "consecutive pieces should overlap"


def test_unbroken_text_falls_back_to_words():
    text = "# T\n" + " ".join(f"w{i}" for i in range(500))
    chunks = chunk_report("r.md", text, lambda s: len(s.split()), 50, overlap_tokens=0)
    assert all(len(c.embedding_text().split()) <= 50 for c in chunks)
    assert chunks[-1].text.endswith("w499")


def test_split_sections_ignores_deeper_and_non_headings():
    text = "#hashtag\n##### too deep\n#### Four\nx"
    assert [s.heading_path for s in split_sections(text)] == [(), ("Four",)]


PLAIN = """MERGANSER GATEWAY REVIEW, MARCH 2025
==================================

1. Summary

The gateway failed for 47 minutes.

2. Impact

2.1 Customer impact

About 1,450 requests failed.
  Time     Event
  09:14    Alert fired

Open Questions

(a) Why did the canary pass?
This line is a sentence, not a heading.
"""


def test_plain_text_headings_become_the_section_path(embedder):
    paths = [s.heading_path for s in split_sections(PLAIN)]
    title = "MERGANSER GATEWAY REVIEW, MARCH 2025"
    assert paths == [
        (title,),
        (title, "1. Summary"),
        (title, "2. Impact"),
        (title, "2. Impact", "2.1 Customer impact"),
        (title, "Open Questions"),
    ]
    chunks = chunk_report("k.txt", PLAIN, embedder.count_tokens, embedder.max_tokens)
    impact = [c for c in chunks if "1,450" in c.text]
    assert impact and impact[0].section.endswith("2.1 Customer impact")
    assert all(PLAIN[c.start : c.end] == c.text for c in chunks)


MINUTES = """HARBOUR BOARD — MINUTES OF THE MAY MEETING

Present: Åsa Sandqvist (chair); Agustín Muñoz; Nguyễn Thị Lan.

Item 1 — Crane refurbishment

The board heard the engineering case for refurbishing the two oldest cranes rather
than buying one new crane, and asked for a second quote.

Decision: refurbishment approved by four votes to one.

Item 2 — Shore power at the north quay

The feasibility study is late.

Actions summary
  Owner            Action                  Due
  Agustín Muñoz   Second quote            June
"""


def test_sentence_case_headings_that_stand_apart_split_minutes():
    """Minutes and memos head their parts in sentence case ("Item 2 — Shore power at
    the north quay", "Actions summary"); such a line is a heading when a blank line, a
    table or a list follows it. A hard-wrapped paragraph's short first line is not."""
    paths = [s.heading_path[1:] for s in split_sections(MINUTES)]
    assert paths == [
        (),
        ("Item 1 — Crane refurbishment",),
        ("Item 2 — Shore power at the north quay",),
        ("Actions summary",),
    ]
    wrapped = "REPORT\n\nThe board heard the case\nfor refurbishing two cranes.\n"
    assert [s.heading_path for s in split_sections(wrapped)] == [("REPORT",)]


def test_a_table_of_contents_is_not_indexed():
    """Its lines name other sections and state nothing; indexed, the contents line
    "Harbour Cranes" outranks the section it points at."""
    text = (
        "# Ålvik Harbour Review\n\n# Contents\n\n- Overview\n- Harbour Cranes\n- Dredging\n\n"
        "# Harbour Cranes\n\nK-5 and K-7 serve Ålvik Pier.\n\n"
        "# Dredging\n\nThe Velmar dredger cleared the basin in May.\n"
    )
    chunks = chunk_report("r.md", text, lambda s: len(s.split()), 200)
    assert [c.heading_path[-1] for c in chunks] == ["Harbour Cranes", "Dredging"]
    plain = (
        "Ålvik Harbour Review\n\n"
        "1. Harbour Cranes ........ 2\n2. Dredging ........ 3\n3. Finance ........ 4\n\n"
        "HARBOUR CRANES\n\nK-5 and K-7 serve Ålvik Pier.\n\n"
        "DREDGING\n\nThe Velmar dredger cleared the basin in May.\n\n"
        "FINANCE\n\nThe port made a profit.\n"
    )
    chunks = chunk_report("r.txt", plain, lambda s: len(s.split()), 200)
    assert not any("...." in c.text or "...." in c.section for c in chunks)
    assert any("K-5" in c.text for c in chunks)
    # a section titled "Contents" that names no section is kept: the ship's contents
    cargo = "# Cargo\n\n## Contents\n\n- 40 tonnes of grain\n- 12 tractors\n"
    chunks = chunk_report("c.md", cargo, lambda s: len(s.split()), 200)
    assert any("tractors" in c.text for c in chunks)
    # a list of bullets that are not headings is not a table of contents
    prose = "# Crew\n\n- Ane Berg\n- Ola Dahl\n- Kari Lund\n\n# Berg\n\nShe is the master.\n"
    assert any("Ola Dahl" in c.text for c in chunk_report("p.md", prose, lambda s: 1, 200))
