"""Sentence-level citation checks on hand-made cases, with the real MiniLM."""

from __future__ import annotations

import pytest

from rag.types import Chunk, Hit
from rag.verification import Verifier, contains_term, key_terms

REPORT = (
    "# Notes\n## FrugalML\n"
    "FrugalML learns a two-phase pipeline. It predicts with a base API to obtain a label "
    "and confidence. If the base API is not confident, it predicts with a 2nd API.\n"
    "## Riptide\n"
    "Riptide binarizes networks. It uses only two integer operations: add and right-shift.\n"
)


def _hit(title: str, rank: int) -> Hit:
    start = REPORT.index(f"## {title}")
    end = REPORT.find("\n## ", start + 1)
    end = len(REPORT) if end < 0 else end
    return Hit(Chunk("r.txt", ("Notes", title), REPORT[start:end], start, end), 0.5, rank)


@pytest.fixture(scope="module")
def verifier(embedder) -> Verifier:
    return Verifier(embedder, threshold=0.55)


@pytest.fixture(scope="module")
def hits() -> list[Hit]:
    return [_hit("Riptide", 1), _hit("FrugalML", 2)]


def test_supported_sentence_gets_exact_quote_and_offsets(verifier, hits):
    [check] = verifier.check(
        "When the base API is not confident, FrugalML calls a 2nd API [2].", hits
    )
    assert check.supported and check.citation is not None
    c = check.citation
    assert c.n == 2 and c.source == "r.txt" and c.section == "Notes > FrugalML"
    assert REPORT[c.start : c.end] == c.quote
    assert "not confident" in c.quote
    assert c.support is not None and c.support >= 0.55


def test_wrong_model_number_is_corrected(verifier, hits):
    [check] = verifier.check("Riptide uses add and right-shift operations [2].", hits)
    assert check.supported and check.citation is not None
    assert check.citation.n == 1  # the model wrote [2]; Riptide's passage is [1]
    assert "right-shift" in check.citation.quote


def test_fabricated_sentence_is_flagged(verifier, hits):
    checks = verifier.check(
        "Riptide uses add and right-shift [1]. It reached a 37% speedup on 128 TPUs at Google [1].",
        hits,
    )
    assert [c.supported for c in checks] == [True, False]
    assert checks[1].citation is None
    assert set(checks[1].missing_terms) >= {"37%", "128"}


def test_unrelated_sentence_is_unsupported(verifier, hits):
    [check] = verifier.check("The conference was held in a large hotel by the sea.", hits)
    assert not check.supported


def test_key_terms_and_matching():
    assert key_terms("It reached 3.48x on GPT-3 with TPUs at Google.") == [
        "3.48x",
        "GPT-3",
        "TPUs",
        "Google",
    ]
    assert contains_term("uses right shift", "right-shift")
    assert contains_term("two TPU pods", "TPUs")
    assert not contains_term("uses GPUs", "US")
    assert not contains_term("MLSys 2022", "2020")


def test_window_embedding_cache_is_bounded_and_stable(embedder, hits):
    small = Verifier(embedder, threshold=0.5, cache_size=3)
    first = small.check("Riptide uses add and right-shift [1].", hits)
    again = small.check("Riptide uses add and right-shift [1].", hits)
    assert first == again
    assert len(small._cache) <= 3
