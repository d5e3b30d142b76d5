"""Compact evidence on text that is not from the seeds: the lines that bear on the
question, exact spans of the report, lists kept whole, unrelated passages dropped."""

from __future__ import annotations

from rag.evidence import select_evidence
from rag.types import Chunk, Hit

REPORT = (
    "## 3. Kestrel gateway\n"
    "The gateway was rebuilt in 2024 by Zoë Lefèvre's team.\n"
    "It terminates TLS for every public endpoint.\n"
    "The admin listener has three safeguards:\n"
    "- a separate port bound to loopback\n"
    "- mutual TLS with short-lived certificates\n"
    "- a rate limit of 5 requests per second\n"
    "Dashboards were moved to the new observability stack.\n"
    "The team also replaced the office coffee machine in May.\n"
    "## 4. Office moves\n"
    "The Brenmoor office moved to the fourth floor in June.\n"
    "Parking permits are renewed every January.\n"
)


def _hit(title: str, rank: int) -> Hit:
    start = REPORT.index(title) - 3
    end = REPORT.find("\n## ", start + 1)
    end = len(REPORT) if end < 0 else end + 1
    return Hit(Chunk("k.txt", ("Review", title), REPORT[start:end], start, end), 0.5, rank)


def _words(text: str) -> int:
    return len(text.split())


def test_selects_the_lines_that_answer_with_exact_spans(embedder):
    hits = [_hit("3. Kestrel gateway", 1), _hit("4. Office moves", 2)]
    q = "What safeguards does the Kestrel admin listener have?"
    ev = select_evidence(q, hits, embedder.encode, _words, budget=40)
    text = "\n".join(h.chunk.text for h in ev)
    for item in ("separate port", "mutual TLS", "rate limit"):
        assert item in text  # the lead-in brought its whole list
    assert "coffee" not in text and "Parking" not in text
    assert "## 3." not in text  # the heading is in the passage header already
    for h in ev:
        assert REPORT[h.chunk.start : h.chunk.end] == h.chunk.text
        assert h.chunk.heading_path == ("Review", "3. Kestrel gateway")
    assert [h.rank for h in ev] == list(range(1, len(ev) + 1))
    assert sum(_words(h.chunk.text) for h in ev) < 0.6 * sum(_words(h.chunk.text) for h in hits)


TABLE_REPORT = (
    "## Fleet results\n"
    "We measured every gateway of the fleet during the spring audit.\n"
    "| Gateway | p99 latency (ms) | Error rate |\n"
    "| --- | --- | --- |\n"
    "| Kestrel | 12.5 | 0.2% |\n"
    "| Osprey | 19.0 | 0.9% |\n"
    "| Gannet | 22.7 | 0.4% |\n"
    "| Heron | 15.2 | 0.3% |\n"
    "| Avocet | 27.9 | 1.1% |\n"
    "| Plover | 31.4 | 1.7% |\n"
    "| Tern | 8.1 | 0.1% |\n"
    "The audit was signed off by the operations board in April.\n"
    "Budgets for the next year were approved without changes.\n"
    "Two new sites open in the north in autumn.\n"
)


def test_a_table_row_comes_with_its_header_row(embedder):
    chunk = Chunk("fleet.md", ("Fleet", "Fleet results"), TABLE_REPORT, 0, len(TABLE_REPORT))
    q = "What is the Plover gateway's p99 latency?"
    other = Chunk("fleet.md", ("Fleet", "Sites"), "Two sites open.", 900, 915)
    hits = [Hit(other, 0.6, 1), Hit(chunk, 0.5, 2)]  # the table is not read whole
    ev = select_evidence(q, hits, embedder.encode, _words, budget=50)
    text = "\n".join(h.chunk.text for h in ev)
    assert "| Plover | 31.4 | 1.7% |" in text
    assert "| Gateway | p99 latency (ms) | Error rate |" in text
    assert "Budgets" not in text and "Kestrel" not in text  # not the whole table
    for h in ev:
        if h.chunk.source == "fleet.md" and h.chunk.section.endswith("results"):
            assert TABLE_REPORT[h.chunk.start : h.chunk.end] == h.chunk.text


OUTLINE_REPORT = (
    "## Sponsors\n"
    "The summit was funded by eleven companies this year.\n"
    "- Platinum\n"
    "  - Orvane, Telquist\n"
    "- Gold\n"
    "  - Brightmoor, Kallisto Labs\n"
    "  - Venn Analytics\n"
    "- Silver\n"
    "  - Harrowgate Systems, Pellucid AI\n"
    "  - Quorra\n"
    "Travel grants went to forty students from nine countries.\n"
    "The venue was booked two years ahead.\n"
    "Catering was vegetarian by default.\n"
)


def test_a_chosen_line_brings_the_lines_indented_under_it(embedder):
    """ "- Silver" heads its own list: the one-word item "Quorra" is evidence, and the
    items under a chosen line come whole even when the budget is tight."""
    chunk = Chunk("summit.md", ("Summit", "Sponsors"), OUTLINE_REPORT, 0, len(OUTLINE_REPORT))
    other = Chunk("summit.md", ("Summit", "Venue"), "The venue seats 900 people.", 900, 927)
    hits = [Hit(other, 0.6, 1), Hit(chunk, 0.5, 2)]
    q = "Which companies were Silver sponsors of the summit?"
    ev = select_evidence(q, hits, embedder.encode, _words, budget=60)
    text = "\n".join(h.chunk.text for h in ev)
    assert "Harrowgate Systems, Pellucid AI" in text and "Quorra" in text
    assert "Catering" not in text  # not the whole passage
    for h in ev:
        if h.chunk.source == "summit.md" and h.chunk.section.endswith("Sponsors"):
            assert OUTLINE_REPORT[h.chunk.start : h.chunk.end] == h.chunk.text


def test_words_every_passage_shares_do_not_decide_which_lines_are_read(embedder):
    """All passages come from one report titled with the question's words ("Halvard
    Tidal Array Winter Review"): those words match every line through its heading and
    tell nothing apart. The line with the word only it holds ("availability") wins."""
    title = "Halvard Tidal Array Winter Review"
    texts = [
        (
            "Turbines",
            "The array has twelve turbines on the Halvard tidal site.\n"
            "Winter storms delayed two inspections of the array.\n",
        ),
        (
            "Costs",
            "Winter repairs on the tidal array cost 84,000 euros.\n"
            "Halvard's crew worked double shifts through the winter.\n",
        ),
        ("Output", "Array availability was 91.7% over the winter.\nThe crew logged 40 dives.\n"),
    ]
    hits, pos = [], 0
    for rank, (section, body) in enumerate(texts, start=1):
        hits.append(Hit(Chunk("h.txt", (title, section), body, pos, pos + len(body)), 0.5, rank))
        pos += len(body)
    q = "What was the availability of the Halvard tidal array over the winter?"
    ev = select_evidence(q, hits, embedder.encode, _words, budget=24)
    assert "91.7%" in "\n".join(h.chunk.text for h in ev)


def test_lines_of_two_overlapping_chunks_of_a_section_are_shown_once(embedder):
    """A long section is chunked with overlap, so both chunks may offer the shared
    lines. Shown as two passages, the model read "80 SM, 5120 cores, 640 tensor cores"
    in one and the lines after it again in another; joined, each line appears once, in
    report order, as one exact span."""
    body = (
        "Ferrow board\n"
        "12 lanes, 96 cores, 384 vector units\n"
        "shared cache of 48 MB\n"
        "vector units for dense algebra\n"
        "lower precision for inference\n"
        "Ferrow link\n"
        "220 GB/s per board\n"
    )
    cut_a, cut_b = body.index("lower"), body.index("shared")
    first = Chunk("f.txt", ("Chips", "Ferrow"), body[:cut_a], 0, cut_a)
    second = Chunk("f.txt", ("Chips", "Ferrow"), body[cut_b:], cut_b, len(body))
    hits = [Hit(second, 0.6, 1), Hit(first, 0.5, 2)]
    q = "How many vector units does the Ferrow board have, and what is its link speed?"
    ev = select_evidence(q, hits, embedder.encode, _words, budget=200)
    assert len(ev) == 1
    assert ev[0].chunk.text == body[ev[0].chunk.start : ev[0].chunk.end]
    assert "384 vector units" in ev[0].chunk.text and "220 GB/s" in ev[0].chunk.text
    assert ev[0].chunk.text.count("shared cache") == 1
