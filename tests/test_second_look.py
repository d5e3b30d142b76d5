"""A compound question whose answer left a part out: the part is asked again on its own
(``Settings.second_looks``). Drafts are hand-written here, so the composition is
checked exactly: which sentences join the answer, how their citations are numbered,
and which parts are still reported missing. Verification is the real one (MiniLM)."""

from __future__ import annotations

import pytest

from rag.answer.drafts import Drafts
from rag.serving.pipeline import Pipeline
from rag.types import Chunk, Hit

PORTS = "## Harbour\nThe Velmar harbour handles 2.4 million containers a year.\n"
CRANES = "## Cranes\nThe Velmar cranes were built by Ostrander Heavy Works in 2019.\n"
WEATHER = "## Weather\nFog closes the Velmar harbour on about twelve days a year.\n"
TEXT = PORTS + CRANES + WEATHER


def _hit(section: str, rank: int) -> Hit:
    start = TEXT.index(section)
    end = TEXT.find("\n## ", start + 1) + 1 or len(TEXT)
    return Hit(
        Chunk("velmar.md", ("Velmar", section[3:].split("\n")[0]), TEXT[start:end], start, end),
        0.5,
        rank,
    )


@pytest.fixture(scope="module")
def velmar(tmp_path_factory, embedder):
    from rag.config import Settings
    from rag.ingest.indexing import build_index
    from rag.serving.loading import load_retriever

    docs = tmp_path_factory.mktemp("docs")
    (docs / "velmar.md").write_text("# Velmar\n" + TEXT, encoding="utf-8")
    s = Settings(seeds_dir=docs, index_dir=tmp_path_factory.mktemp("idx"))
    build_index(s.seeds_path, s.index_path, embedder)
    return Pipeline(s, load_retriever(s, embedder), None)  # type: ignore[arg-type]


QUESTION = "How many containers does the Velmar harbour handle, and who built its cranes?"


def test_the_missing_part_is_found_and_its_answer_joins_with_renumbered_citations(velmar):
    retriever = velmar.current()
    first = Drafts(velmar.verifier, retriever.store, QUESTION, QUESTION, [_hit("## Harbour", 1)])
    shown = "".join(first.feed("The harbour handles 2.4 million containers a year [1].", True))
    assert "2.4 million" in shown
    assert first.missing_parts() == [1]  # nobody said who built the cranes

    focus = first.parts[1]
    look = Drafts(
        velmar.verifier, retriever.store, focus, first.part_queries[1], [_hit("## Cranes", 1)]
    )
    look.multipart = False
    draft = (
        "The harbour handles 2.4 million containers a year [1]. "
        "The cranes were built by Ostrander Heavy Works [1]."
    )
    list(look.feed(draft, final=True))
    added = "".join(first.absorb(look, 1))
    assert "Ostrander Heavy Works [2]" in added  # the cranes passage is passage 2 now
    assert "2.4 million" not in added  # the part answered before is not repeated
    assert [h.chunk.section for h in first.hits] == ["Velmar > Harbour", "Velmar > Cranes"]
    assert first.missing_parts() == [] and list(first.gap_notes()) == []
    assert [c.n for c in first.citations()] == [1, 2]
    for c in first.citations():
        assert TEXT[c.start : c.end] == c.quote  # exact offsets (of this text)


def test_an_unsupported_second_look_leaves_the_gap_named(velmar):
    retriever = velmar.current()
    first = Drafts(velmar.verifier, retriever.store, QUESTION, QUESTION, [_hit("## Harbour", 1)])
    list(first.feed("The harbour handles 2.4 million containers a year [1].", True))
    look = Drafts(
        velmar.verifier,
        retriever.store,
        first.parts[1],
        first.part_queries[1],
        [_hit("## Weather", 1)],
    )
    look.multipart = False
    list(look.feed("The cranes were built by Pimtendyar Marine [1].", final=True))
    assert look.refusal_reason  # the invented builder is not in the passage
    notes = "".join(first.gap_notes())
    assert "who built its cranes" in notes.lower()


def test_when_nothing_was_supported_each_part_is_asked_and_a_partial_answer_stands(velmar):
    retriever = velmar.current()
    first = Drafts(velmar.verifier, retriever.store, QUESTION, QUESTION, [_hit("## Harbour", 1)])
    list(first.feed("The harbour handles 9 million containers, built by Pimtendyar [1].", True))
    assert first.refusal_reason and first.missing_parts() == [0, 1]
    look = Drafts(
        velmar.verifier,
        retriever.store,
        first.parts[1],
        first.part_queries[1],
        [_hit("## Cranes", 1)],
    )
    look.multipart = False
    list(look.feed("Ostrander Heavy Works built the Velmar cranes in 2019 [1].", final=True))
    added = "".join(first.absorb(look, 1))
    assert "Ostrander Heavy Works" in added and not first.refusal_reason
    notes = "".join(first.gap_notes())  # the containers part is named, not answered
    assert "How many containers" in notes


# A question about two reports is asked of each report it names that the answer left
# out, from that report's passages alone (``Pipeline._report_look``).
FERRY = (
    "# Tarnby Ferry Review\n## Terminal\n"
    "The ferry terminal was shut for 19 days while its ramp was rebuilt.\n"
)
GRID = (
    "# Ostrand Grid Review\n## Flood\n"
    "The Brackley substation was out of service for 26 days after the flood.\n"
)
TWO = (
    "How long were the Tarnby ferry terminal while its ramp was rebuilt and the Ostrand "
    "Grid's Brackley substation after the flood out of action?"
)
COMPARED = (
    "Which was shut longer: the Tarnby ferry terminal while its ramp was rebuilt, "
    "or the Ostrand Grid's Brackley substation after the flood?"
)


@pytest.fixture(scope="module")
def two_reports(tmp_path_factory, invented):
    docs = {"ferry.md": FERRY, "grid.md": GRID}
    s, retriever = invented(tmp_path_factory.mktemp("two"), docs)
    return Pipeline(s, retriever, None)  # type: ignore[arg-type]


def _report_hit(pipeline, source: str, rank: int) -> Hit:
    chunk = next(c for c in pipeline.current().store.chunks if c.source == source)
    return Hit(chunk, 0.5, rank)


def _named(pipeline, hits):
    from rag.answer.asks import named_reports

    return named_reports(TWO, hits, pipeline.current().store.owners)


def test_a_report_the_answer_left_out_is_asked_on_its_own(two_reports):
    retriever = two_reports.current()
    hits = [_report_hit(two_reports, "ferry.md", 1), _report_hit(two_reports, "grid.md", 2)]
    named = _named(two_reports, hits)
    assert list(named) == ["ferry.md", "grid.md"]
    first = Drafts(two_reports.verifier, retriever.store, TWO, TWO, hits[:1])
    assert list(first.feed("The ferry terminal was shut for 19 days [1].", True)) == []
    assert first.refusal_reason  # its passage never names the grid: held back
    # taken report by report, the ferry's answer stands; the grid is asked on its own
    assert "19 days [1]" in "".join(first.by_reports(named))
    assert not first.refusal_reason
    missing = first.missing_reports()
    assert missing == [
        ("grid.md", "the Ostrand Grid's Brackley substation after the flood out of action")
    ]

    source, clause = missing[0]
    look = Drafts(
        two_reports.verifier, retriever.store, clause, TWO, [_report_hit(two_reports, source, 1)]
    )
    look.multipart = False
    list(look.feed("The Brackley substation was out of service for 26 days [1].", final=True))
    added = "".join(first.absorb(look))
    assert "26 days [2]" in added  # the grid's passage is passage 2 of the answer
    assert not first.refusal_reason and first.missing_reports() == []
    assert list(first.gap_notes()) == []
    assert {c.source for c in first.citations()} == {"ferry.md", "grid.md"}


def test_a_refused_answer_is_replaced_by_what_one_report_supports(two_reports):
    retriever = two_reports.current()
    hits = [_report_hit(two_reports, "ferry.md", 1), _report_hit(two_reports, "grid.md", 2)]
    named = _named(two_reports, hits)
    first = Drafts(two_reports.verifier, retriever.store, TWO, TWO, hits)
    list(first.feed("The Brackley substation was shut longer, 40 days against 19 [2].", True))
    assert first.refusal_reason  # the invented 40 days is not supported
    assert list(first.by_reports(named)) == []
    missing = first.missing_reports()
    assert [s for s, _ in missing] == ["ferry.md", "grid.md"]  # both, in question order

    # the ferry's look finds nothing it can support; the grid's look answers
    (ferry, ferry_clause), (grid, grid_clause) = missing
    look = Drafts(
        two_reports.verifier,
        retriever.store,
        ferry_clause,
        TWO,
        [_report_hit(two_reports, ferry, 1)],
    )
    look.multipart = False
    list(look.feed("The ferry terminal was shut for 45 days [1].", final=True))
    assert look.refusal_reason
    first.report_gaps.append(ferry_clause)
    look = Drafts(
        two_reports.verifier, retriever.store, grid_clause, TWO, [_report_hit(two_reports, grid, 1)]
    )
    look.multipart = False
    list(look.feed("The Brackley substation was out of service for 26 days [1].", final=True))
    added = "".join(first.absorb(look))
    assert "26 days" in added
    # a partial answer stands, and says which part the reports' passages left open
    assert not first.refusal_reason
    notes = "".join(first.gap_notes())
    assert "the Tarnby ferry terminal while its ramp was rebuilt" in notes
    assert "40 days" not in first.text()


def test_each_side_of_a_comparison_is_asked_alone_and_the_service_compares(two_reports):
    retriever = two_reports.current()
    hits = [_report_hit(two_reports, "ferry.md", 1), _report_hit(two_reports, "grid.md", 2)]
    first = Drafts(two_reports.verifier, retriever.store, COMPARED, COMPARED, hits[:1])
    assert first.sides and first.parts == [
        "How long was it shut: the Tarnby ferry terminal while its ramp was rebuilt?",
        "How long was it shut: the Ostrand Grid's Brackley substation after the flood?",
    ]
    list(first.feed("The ferry terminal was shut for 19 days [1].", True))
    assert first.missing_parts() == [1]
    part = first.parts[1]
    look = Drafts(
        two_reports.verifier, retriever.store, part, part, [_report_hit(two_reports, "grid.md", 1)]
    )
    look.multipart = False
    list(look.feed("26 days [1].", final=True))  # asked alone, a bare figure answers it
    assert "26 days [2]" in "".join(first.absorb(look, 1))
    notes = "".join(first.gap_notes())
    assert notes == " (Compared by the service: 26 days is more than 19 days, by 7 days.)"
    assert first.text().endswith(notes)


def test_one_thing_asked_of_two_reports_is_not_split(two_reports):
    retriever = two_reports.current()
    hits = [_report_hit(two_reports, "ferry.md", 1), _report_hit(two_reports, "grid.md", 2)]
    q = "How many days did the Tarnby ferry ramp works shut the Ostrand Grid substation?"
    from rag.answer.asks import named_reports

    named = named_reports(q, hits, retriever.store.owners)
    assert len(named) == 2  # both named, in one breath
    first = Drafts(two_reports.verifier, retriever.store, q, q, hits)
    list(first.feed("The works shut it for 26 days [2].", True))
    assert list(first.by_reports(named)) == [] and first.missing_reports() == []


FERRY_REPORT = (
    "# Tarnby Ferry Review 2024\n"
    "## Passengers\nThe ferry carried 412,000 passengers, 6 % more than the year before.\n"
    "## Terminal works\nThe ferry terminal was shut for 19 days in March while its ramp "
    "was rebuilt by Kallvik Marine.\nPassengers were carried by replacement coaches.\n"
    "## Staff\nTwo new deckhands joined in May.\n"
)
GRID_REPORT = (
    "# Ostrand Grid Yearly Review 2024\n"
    "## Peak load\nThe winter peak was 611 MW on 9 March.\n"
    "## Flood damage\nThe Brackley substation was out of service for 26 days after the "
    "October flood.\nIts switchgear was replaced and raised by one metre.\n"
    "## Headcount\nHeadcount rose to 212 by the end of the year.\n"
)


@pytest.mark.llm
def test_a_question_about_two_reports_is_answered_for_each(tmp_path, invented, counting):
    """Asked for a sum of two reports' figures, the model adds them in one line citing
    both ("19 days [2] + 26 days [1] = 45 days"), which no passage supports, so the
    first answer is refused; asked of each report on its own, each figure is read and
    cited to its own report (without the looks, ``second_looks=0``, this is refused)."""
    docs = {"ferry.md": FERRY_REPORT, "grid.md": GRID_REPORT}
    s, retriever = invented(tmp_path, docs, answer_cache_size=0)
    p = Pipeline(s, retriever, counting[0].generator)
    a = p.answer(
        "Adding the days the Tarnby ferry terminal was shut for its ramp and the days the "
        "Ostrand Grid's Brackley substation was out after the flood, how many days is that?"
    )
    assert not a.refused, a.to_dict()
    assert a.timings.generations <= 3
    assert "19 days" in a.text and "26 days" in a.text, a.to_dict()
    assert {c.source for c in a.citations} == {"ferry.md", "grid.md"}
    texts = {"ferry.md": FERRY_REPORT, "grid.md": GRID_REPORT}
    for c in a.citations:
        assert texts[c.source][c.start : c.end] == c.quote


@pytest.mark.llm
def test_a_comparison_is_answered_side_by_side_and_compared_by_the_service(
    tmp_path, invented, counting
):
    """Asked which was shut longer, the model names a winner from figures it misreads;
    each side asked on its own is read and cited to its own report, and the service,
    not the model, says which figure is larger and by how much."""
    docs = {"ferry.md": FERRY_REPORT, "grid.md": GRID_REPORT}
    s, retriever = invented(tmp_path, docs, answer_cache_size=0)
    a = Pipeline(s, retriever, counting[0].generator).answer(COMPARED)
    assert not a.refused, a.to_dict()
    assert a.timings.generations <= 3
    assert "19 days" in a.text and "26 days" in a.text, a.to_dict()
    assert "26 days is more than 19 days, by 7 days" in a.text, a.to_dict()
    assert {c.source for c in a.citations} == {"ferry.md", "grid.md"}


class _Scripted:
    """The real model's tokenizer with drafts written here, one per generation (the
    last repeated), and the temperature each was asked at. It stands in for the model
    only where the test needs a given reading: verification, evidence and looks are
    the real ones."""

    def __init__(self, inner, *drafts: str) -> None:
        self.name, self.n_ctx, self.concurrency = inner.name, inner.n_ctx, inner.concurrency
        self.lock, self.inner, self.drafts = inner.lock, inner, drafts
        self.temperatures: list[float] = []

    def count_prompt(self, messages):
        return self.inner.count_prompt(messages)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def stream(self, messages, max_tokens, temperature, *args, **kwargs):
        self.temperatures.append(temperature)
        yield self.drafts[min(len(self.temperatures), len(self.drafts)) - 1]


MISREAD = "The cranes were built by Pimtendyar Marine [1]."


@pytest.mark.llm
def test_a_question_takes_at_most_three_generations(tmp_path, invented, counting):
    """Three parts, each refused, with looks to spare (``second_looks=4``): the first
    draft and two looks are all a question gets, and the part left is named."""
    from rag.serving.reading import MAX_GENERATIONS

    s, retriever = invented(
        tmp_path, {"velmar.md": "# Velmar\n" + TEXT}, answer_cache_size=0, second_looks=4
    )
    gen = _Scripted(counting[0].generator, MISREAD)  # a reader that keeps misreading
    a = Pipeline(s, retriever, gen).answer(  # type: ignore[arg-type]
        "How many containers does the Velmar harbour handle? Who built its cranes? "
        "On how many days a year does fog close it?"
    )
    assert len(gen.temperatures) == a.timings.generations == MAX_GENERATIONS == 3
    assert a.refused  # no look was supported
