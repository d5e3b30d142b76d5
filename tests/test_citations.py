from __future__ import annotations

from rag.grounding.citations import (
    cited_numbers,
    sentence_spans,
    strip_unknown_markers,
)


def test_cited_numbers_in_all_forms():
    assert cited_numbers("A [2]. B [1, 3][2]. C [4;5]") == [2, 1, 3, 4, 5]


def test_invented_numbers_are_removed_from_text():
    assert strip_unknown_markers("Fact [1][7]. Other [2, 9] .", {1, 2}) == "Fact [1]. Other [2]."


def test_sentence_spans_trim_and_split_lines():
    text = "  One. Two!\n- three"
    assert [text[s:e] for s, e in sentence_spans(text)] == ["One.", "Two!", "- three"]


def test_sentence_spans_keep_abbreviations_and_initials():
    text = (
        "Dr. Łucjan Wójcik et al. report 3× gains, e.g. on ResNet-50 (see Fig. 3). "
        "J. Smith disagreed. Chloë Mercière measured 1,450 req/s, i.e. approx. 2× more!"
        " Next."
    )
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Dr. Łucjan Wójcik et al. report 3× gains, e.g. on ResNet-50 (see Fig. 3).",
        "J. Smith disagreed.",
        "Chloë Mercière measured 1,450 req/s, i.e. approx. 2× more!",
        "Next.",
    ]
