from __future__ import annotations

from rag.citations import (
    cited_numbers,
    is_refusal,
    sentence_spans,
    strip_unknown_markers,
)


def test_cited_numbers_in_all_forms():
    assert cited_numbers("A [2]. B [1, 3][2]. C [4;5]") == [2, 1, 3, 4, 5]


def test_invented_numbers_are_removed_from_text():
    assert strip_unknown_markers("Fact [1][7]. Other [2, 9] .", {1, 2}) == "Fact [1]. Other [2]."


def test_refusal_detection():
    assert is_refusal("The reports don't cover this.")
    assert is_refusal("The passages do not mention the 2019 budget.")
    assert not is_refusal("FrugalML calls a better API [1].")


def test_sentence_spans_trim_and_split_lines():
    text = "  One. Two!\n- three"
    assert [text[s:e] for s, e in sentence_spans(text)] == ["One.", "Two!", "- three"]
