"""A compound question whose answer left a part out: the part is asked again on its own
(``Settings.second_looks``). Drafts are hand-written here, so the composition is
checked exactly: which sentences join the answer, how their citations are numbered,
and which parts are still reported missing. Verification is the real one (MiniLM)."""

from __future__ import annotations

import pytest

from rag.pipeline import Pipeline, _Drafts
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
def pipeline(tmp_path_factory, embedder):
    from rag.config import Settings
    from rag.indexing import build_index
    from rag.pipeline import load_retriever

    docs = tmp_path_factory.mktemp("docs")
    (docs / "velmar.md").write_text("# Velmar\n" + TEXT, encoding="utf-8")
    s = Settings(seeds_dir=docs, index_dir=tmp_path_factory.mktemp("idx"))
    build_index(s.seeds_path, s.index_path, embedder)
    return Pipeline(s, load_retriever(s, embedder), None)  # type: ignore[arg-type]


QUESTION = "How many containers does the Velmar harbour handle, and who built its cranes?"


def test_the_missing_part_is_found_and_its_answer_joins_with_renumbered_citations(pipeline):
    retriever = pipeline.current()
    first = _Drafts(pipeline, retriever, QUESTION, QUESTION, [_hit("## Harbour", 1)])
    shown = "".join(first.feed("The harbour handles 2.4 million containers a year [1].", True))
    assert "2.4 million" in shown
    assert first.missing_parts() == [1]  # nobody said who built the cranes

    focus = first.parts[1]
    look = _Drafts(pipeline, retriever, focus, first.part_queries[1], [_hit("## Cranes", 1)])
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


def test_an_unsupported_second_look_leaves_the_gap_named(pipeline):
    retriever = pipeline.current()
    first = _Drafts(pipeline, retriever, QUESTION, QUESTION, [_hit("## Harbour", 1)])
    list(first.feed("The harbour handles 2.4 million containers a year [1].", True))
    look = _Drafts(
        pipeline, retriever, first.parts[1], first.part_queries[1], [_hit("## Weather", 1)]
    )
    look.multipart = False
    list(look.feed("The cranes were built by Brightwater Marine [1].", final=True))
    assert look.refusal_reason  # the invented builder is not in the passage
    notes = "".join(first.gap_notes())
    assert "who built its cranes" in notes.lower()


def test_when_nothing_was_supported_each_part_is_asked_and_a_partial_answer_stands(pipeline):
    retriever = pipeline.current()
    first = _Drafts(pipeline, retriever, QUESTION, QUESTION, [_hit("## Harbour", 1)])
    list(first.feed("The harbour handles 9 million containers, built by Brightwater [1].", True))
    assert first.refusal_reason and first.missing_parts() == [0, 1]
    look = _Drafts(
        pipeline, retriever, first.parts[1], first.part_queries[1], [_hit("## Cranes", 1)]
    )
    look.multipart = False
    list(look.feed("Ostrander Heavy Works built the Velmar cranes in 2019 [1].", final=True))
    added = "".join(first.absorb(look, 1))
    assert "Ostrander Heavy Works" in added and not first.refusal_reason
    notes = "".join(first.gap_notes())  # the containers part is named, not answered
    assert "How many containers" in notes
