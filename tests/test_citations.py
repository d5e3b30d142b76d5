from __future__ import annotations

from rag.citations import (
    attribute_uncited,
    build_citations,
    cited_numbers,
    is_refusal,
    sentence_spans,
    strip_unknown_markers,
)
from rag.types import Chunk, Hit

SOURCE = (
    "Intro text.\n## FrugalML\nFrugalML calls a cheap API first. "
    "If it is not confident, it calls a better API. Costs drop by 90%."
)


def _hit(text: str, source: str = "r.txt", start: int | None = None, score: float = 0.5) -> Hit:
    s = SOURCE.index(text) if start is None else start
    return Hit(Chunk(source, ("FrugalML",), text, s, s + len(text)), score, 1)


def test_cited_numbers_in_all_forms():
    assert cited_numbers("A [2]. B [1, 3][2]. C [4;5]") == [2, 1, 3, 4, 5]


def test_invented_numbers_are_removed_from_text():
    assert strip_unknown_markers("Fact [1][7]. Other [2, 9] .", {1, 2}) == "Fact [1]. Other [2]."


def test_quote_is_the_supporting_sentence_with_source_offsets():
    passage = SOURCE[SOURCE.index("## FrugalML") :]
    hits = [_hit(passage)]
    cits = build_citations("When unsure, FrugalML calls a better API [1].", hits)
    assert len(cits) == 1
    c = cits[0]
    assert c.quote == "If it is not confident, it calls a better API."
    assert SOURCE[c.start : c.end] == c.quote
    assert (c.n, c.source, c.section, c.score) == (1, "r.txt", "FrugalML", 0.5)


def test_citation_after_the_full_stop_counts_for_that_sentence():
    passage = SOURCE[SOURCE.index("## FrugalML") :]
    cits = build_citations("Costs drop by 90%. [1]", [_hit(passage)])
    assert cits[0].quote == "Costs drop by 90%."


def test_out_of_range_citation_is_dropped():
    passage = SOURCE[SOURCE.index("## FrugalML") :]
    assert [c.n for c in build_citations("X [1] and Y [3].", [_hit(passage)])] == [1]


def test_refusal_detection():
    assert is_refusal("The reports don't cover this.")
    assert is_refusal("The passages do not mention the 2019 budget.")
    assert not is_refusal("FrugalML calls a better API [1].")


def test_sentence_spans_trim_and_split_lines():
    text = "  One. Two!\n- three"
    assert [text[s:e] for s, e in sentence_spans(text)] == ["One.", "Two!", "- three"]


def test_uncited_sentence_gets_the_passage_that_supports_it():
    passage = SOURCE[SOURCE.index("## FrugalML") :]
    other = _hit("Intro text.", start=0)
    text = attribute_uncited(
        "FrugalML calls a better API when not confident.", [other, _hit(passage)]
    )
    assert text == "FrugalML calls a better API when not confident [2]."
    assert attribute_uncited("Bananas are yellow.", [other, _hit(passage)]) == "Bananas are yellow."
