"""Compact evidence on text that is not from the seeds: the lines that bear on the
question, exact spans of the report, lists kept whole, unrelated passages dropped."""

from __future__ import annotations

from rag.answer.asks import evidence_budget, named_reports
from rag.answer.evidence import select_evidence
from rag.types import Chunk, Hit

REPORT = (
    "## 3. Merganser gateway\n"
    "The gateway was rebuilt in 2024 by Chloë Mercière's team.\n"
    "It terminates TLS for every public endpoint.\n"
    "The admin listener has three safeguards:\n"
    "- a separate port bound to loopback\n"
    "- mutual TLS with short-lived certificates\n"
    "- a rate limit of 5 requests per second\n"
    "Dashboards were moved to the new observability stack.\n"
    "The team also replaced the office coffee machine in May.\n"
    "## 4. Office moves\n"
    "The Fennmarsh office moved to the fourth floor in June.\n"
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
    hits = [_hit("3. Merganser gateway", 1), _hit("4. Office moves", 2)]
    q = "What safeguards does the Merganser admin listener have?"
    ev = select_evidence(q, hits, embedder.encode, _words, budget=40)
    text = "\n".join(h.chunk.text for h in ev)
    for item in ("separate port", "mutual TLS", "rate limit"):
        assert item in text  # the lead-in brought its whole list
    assert "coffee" not in text and "Parking" not in text
    assert "## 3." not in text  # the heading is in the passage header already
    for h in ev:
        assert REPORT[h.chunk.start : h.chunk.end] == h.chunk.text
        assert h.chunk.heading_path == ("Review", "3. Merganser gateway")
    assert [h.rank for h in ev] == list(range(1, len(ev) + 1))
    assert sum(_words(h.chunk.text) for h in ev) < 0.6 * sum(_words(h.chunk.text) for h in hits)


TABLE_REPORT = (
    "## Fleet results\n"
    "We measured every gateway of the fleet during the spring audit.\n"
    "| Gateway | p99 latency (ms) | Error rate |\n"
    "| --- | --- | --- |\n"
    "| Merganser | 12.5 | 0.2% |\n"
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
    assert "Budgets" not in text and "Merganser" not in text  # not the whole table
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
    "  - Gostvelmarn Systems, Pellucid AI\n"
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
    assert "Gostvelmarn Systems, Pellucid AI" in text and "Quorra" in text
    assert "Catering" not in text  # not the whole passage
    for h in ev:
        if h.chunk.source == "summit.md" and h.chunk.section.endswith("Sponsors"):
            assert OUTLINE_REPORT[h.chunk.start : h.chunk.end] == h.chunk.text


def test_words_every_passage_shares_do_not_decide_which_lines_are_read(embedder):
    """All passages come from one report titled with the question's words ("Fenquamulk
    Tidal Array Winter Review"): those words match every line through its heading and
    tell nothing apart. The line with the word only it holds ("availability") wins."""
    title = "Fenquamulk Tidal Array Winter Review"
    texts = [
        (
            "Turbines",
            "The array has twelve turbines on the Fenquamulk tidal site.\n"
            "Winter storms delayed two inspections of the array.\n",
        ),
        (
            "Costs",
            "Winter repairs on the tidal array cost 84,000 euros.\n"
            "Fenquamulk's crew worked double shifts through the winter.\n",
        ),
        ("Output", "Array availability was 91.7% over the winter.\nThe crew logged 40 dives.\n"),
    ]
    hits, pos = [], 0
    for rank, (section, body) in enumerate(texts, start=1):
        hits.append(Hit(Chunk("h.txt", (title, section), body, pos, pos + len(body)), 0.5, rank))
        pos += len(body)
    q = "What was the availability of the Fenquamulk tidal array over the winter?"
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


STORM = (
    "## Timeline\n"
    "Gales started on 6 March and the harbour closed the next morning.\n"
    "The storm reached its peak on 9 March, when no Kelso Sound ferry left port.\n"
    "Gusts of 41 m/s were recorded at the pier head that night.\n"
    "Crew rosters were changed twice during the week.\n"
)
GRID = (
    "## Daily peak load\n"
    "The control room logs the highest load of each day of the winter.\n"
    "| Date | Peak load (MW) | Reserve margin |\n"
    "| --- | --- | --- |\n"
    + "".join(f"| {d} March | {500 + 7 * d} | {20 - d}% |\n" for d in range(2, 9))
    + "| 9 March | 611 | 6% |\n"
    + "".join(f"| {d} March | {540 - 3 * d} | {d}% |\n" for d in range(10, 16))
    + "Loads fell once the cold spell ended.\n"
)


def _passage(source: str, title: str, text: str, rank: int) -> Hit:
    return Hit(Chunk(source, ("Log", title), text, 0, len(text)), 0.5, rank)


def test_a_line_of_another_report_naming_the_best_lines_date_is_read(embedder):
    # the question reaches the grid log only through the storm report: the day the
    # storm peaked is 9 March there, and only the grid's 9 March row holds the load
    hits = [_passage("storm.md", "Timeline", STORM, 1), _passage("grid.md", "Daily", GRID, 2)]
    q = "What peak load did the grid carry on the day the storm reached its peak?"
    ev = select_evidence(q, hits, embedder.encode, _words, budget=45)
    text = "\n".join(h.chunk.text for h in ev)
    assert "on 9 March" in text
    assert "| 9 March | 611 | 6% |" in text
    assert "| Date | Peak load (MW) |" in text  # the row's labels come with it
    for h in ev:
        whole = STORM if h.chunk.source == "storm.md" else GRID
        assert whole[h.chunk.start : h.chunk.end] == h.chunk.text


FORUM = (
    "Tarnby Cycling Forum annual note\n\n"
    "Velquambrix\n\n"
    "The Forum met four times this year and is chaired by Inès Valtonen.\n"
    "Its members walked the proposed quiet routes in April.\n"
)
OSTRAND = (
    "Ostrand Grid yearly review\n\n"
    "Daily peak load\n\n"
    "The winter peak was 611 MW on 9 March, during the storm.\n\n"
    "Network planning\n\n"
    "The substation renewal programme covered eleven sites.\n"
    "The programme was led by Inès Valtonen, Head of Route Planning, since 2021.\n"
    "Two of the sites were finished early.\n\n"
    "Staff\n\n"
    "Headcount rose to 212 by the end of the year.\n"
)


def test_a_name_the_other_reports_passages_lack_is_looked_up_in_them(tmp_path, invented, embedder):
    # the Forum's chair is named only in the Forum's note; her post is in the grid's
    # review, in a section the question shares almost no word with
    _, retriever = invented(tmp_path, {"forum.txt": FORUM, "ostrand.txt": OSTRAND})
    q = "What post does the chair of the Tarnby Cycling Forum hold at Ostrand Grid?"
    forum = next(c for c in retriever.store.chunks if "chaired by" in c.text)
    other = next(c for c in retriever.store.chunks if "Headcount" in c.text)
    hits = [Hit(forum, 0.5, 1), Hit(other, 0.4, 2)]

    def lookup(term: str, sources: set[str]) -> Hit | None:
        return retriever.passage_stating(q, term, sources)

    alone = select_evidence(q, hits, embedder.encode, _words, 60)
    assert "Head of Route Planning" not in "\n".join(h.chunk.text for h in alone)
    ev = select_evidence(q, hits, embedder.encode, _words, 60, lookup=lookup)
    text = "\n".join(h.chunk.text for h in ev)
    assert "Inès Valtonen, Head of Route Planning" in text
    assert "substation renewal programme" in text  # the line before says which programme
    assert "chaired by Inès Valtonen" in text


def test_a_question_about_two_reports_gets_half_again_the_budget(tmp_path, invented):
    # "Cycling" (a name only the Forum's note holds) and "substation ... sites" (two
    # words only the grid's review holds) name both reports: one budget spent on the
    # lines most like the whole question goes mostly to one
    _, retriever = invented(tmp_path, {"forum.txt": FORUM, "ostrand.txt": OSTRAND})
    owners = retriever.store.owners
    assert owners["cycling"] == "forum.txt"
    assert owners["substation"] == "ostrand.txt"
    assert "inès" not in owners  # both reports name her
    hits = [Hit(c, 0.5, r) for r, c in enumerate(retriever.store.chunks, start=1)]
    both = "Which is larger: how often the Cycling Forum met, or the substation sites renewed?"
    named = named_reports(both, hits, owners)
    assert list(named) == ["forum.txt", "ostrand.txt"]
    assert {"substation", "site"} <= set(named["ostrand.txt"])
    assert evidence_budget(named, 100) == 150
    one = "How many sites did the substation renewal programme cover?"
    assert list(named_reports(one, hits, owners)) == ["ostrand.txt"]
    assert evidence_budget(named_reports(one, hits, owners), 100) == 100
    # both named, but only one report retrieved: nothing to share the budget with
    ostrand = [h for h in hits if h.chunk.source == "ostrand.txt"]
    assert list(named_reports(both, ostrand, owners)) == ["ostrand.txt"]


def test_one_plain_word_only_a_report_holds_does_not_name_it(tmp_path, invented):
    # "walked" occurs only in the Forum's note, but a question about the grid's peak
    # that happens to use it is not about the Forum: a plain word is a coincidence,
    # a name ("Tarnby") or two such words are a subject
    _, retriever = invented(tmp_path, {"forum.txt": FORUM, "ostrand.txt": OSTRAND})
    hits = [Hit(c, 0.5, r) for r, c in enumerate(retriever.store.chunks, start=1)]
    owners = retriever.store.owners
    assert owners["walked"] == "forum.txt"
    q = "Which storm walked the Ostrand Grid winter peak up to its highest load?"
    assert list(named_reports(q, hits, owners)) == ["ostrand.txt"]
    q = "Which storm walked the Ostrand Grid peak up, and who chairs the Tarnby forum?"
    assert list(named_reports(q, hits, owners)) == ["ostrand.txt", "forum.txt"]
    # the same plain word twice is still one word: "how many ... how many"
    q = "Which storm walked the Ostrand Grid peak up, and who walked it down?"
    assert list(named_reports(q, hits, owners)) == ["ostrand.txt"]


def test_a_word_of_one_title_names_that_report_though_others_mention_it(tmp_path, invented):
    # both documents mention the Ostrand Grid; only one is titled with it
    forum = FORUM.replace("quiet routes", "quiet routes past the Ostrand Grid depot")
    _, retriever = invented(tmp_path, {"forum.txt": forum, "ostrand.txt": OSTRAND})
    store = retriever.store
    assert store.titled["ostrand"] == "ostrand.txt"
    assert store.owners["ostrand"] == "ostrand.txt"
    assert store.titled["tarnby"] == "forum.txt"
    assert "yearly" in store.titled and "2021" not in store.titled


RECOMMENDATIONS = (
    "The pumps ran 4,100 hours this year, 300 more than planned.\n"
    "Two seals were replaced in March after a leak at the Osterby station.\n"
    "The crew recommends, with estimated costs:\n"
    "- replace the impellers of the two oldest Vandrell pumps in autumn (about 82,000 euros);\n"
    "- fit a spare-parts cage at Osterby holding one Vandrell impeller and seals "
    "(about 19,000 euros of stock);\n"
    "- repaint the intake screens (about 6,000 euros).\n"
    "The board will decide on the list in November.\n"
)


def test_a_chosen_list_item_brings_its_lead_in_and_siblings(embedder):
    """The item most like the question ("one Vandrell impeller", in a stock item) is
    not always the answer: the list it stands in comes with it, so the model sees the
    replacement item beside it."""
    chunk = Chunk(
        "pumps.txt", ("Pump review", "Recommendations"), RECOMMENDATIONS, 0, len(RECOMMENDATIONS)
    )
    q = "What would replacing the Vandrell pump impellers cost?"
    ev = select_evidence(q, [Hit(chunk, 0.5, 1)], embedder.encode, _words, budget=30)
    text = "\n".join(h.chunk.text for h in ev)
    assert "The crew recommends, with estimated costs:" in text
    assert "82,000 euros" in text and "19,000 euros" in text
    assert "4,100 hours" not in text  # not the whole passage
