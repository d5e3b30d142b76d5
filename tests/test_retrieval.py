from __future__ import annotations

import pytest

CASES = [
    ("How does Riptide make binarized multiplication fast?", "001_561db33d66e26b4e.txt"),
    ("What does FrugalML do when the base API is not confident?", "002_e83699b88746142b.txt"),
    (
        "Which tracing system did Facebook present for end-to-end performance analysis?",
        "003_b0b85c14b122427e.txt",
    ),
    ("What did Dave Patterson say about carbon emissions of training?", "000_9719e1315226662f.txt"),
    (
        "How many papers were submitted to MLSys 2022 and what was the acceptance rate?",
        "004_9b10ea87354c9c7a.txt",
    ),
]


@pytest.mark.parametrize(("question", "source"), CASES)
def test_distinctive_question_ranks_its_report_first(retriever, question, source):
    hits = retriever.search(question, 5)
    assert hits[0].chunk.source == source, [(h.chunk.source, h.chunk.section) for h in hits]
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert hits[0].score >= hits[-1].score


def test_section_is_the_right_one(retriever):
    hit = retriever.search("binarized neural networks Riptide", 1)[0]
    assert "Riptide" in hit.chunk.section
    hit = retriever.search("FrugalML prediction APIs", 1)[0]
    assert "FrugalML" in hit.chunk.section
