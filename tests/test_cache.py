"""The answer cache: repeats are served from memory, never across index builds."""

from __future__ import annotations

import pytest

from rag.serving.cache import AnswerCache, normalize_question
from rag.types import Answer


def _answer(text: str) -> Answer:
    return Answer("q", text, [], False, [])


def test_questions_differing_in_case_spacing_and_final_mark_share_a_key():
    assert normalize_question("  What is  Canopy? ") == normalize_question("what is canopy")
    assert AnswerCache.key("b1", "What is Canopy?", [3]) == AnswerCache.key(
        "b1", "what is canopy", [3]
    )
    assert AnswerCache.key("b1", "What is Canopy?", [3]) != AnswerCache.key(
        "b2", "What is Canopy?", [3]
    )
    assert AnswerCache.key("b1", "What is Canopy?", [3]) != AnswerCache.key(
        "b1", "What is Canopy?", [5]
    )


def test_cache_is_bounded_least_recently_used_first():
    cache = AnswerCache(2)
    cache.put("a", _answer("A"))
    cache.put("b", _answer("B"))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", _answer("C"))
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 2
    assert (cache.hits, cache.misses) == (2, 1)


@pytest.fixture(scope="module")
def cached(counting):
    """The suite's pipeline (real index and model) with an answer cache."""
    from rag.serving.pipeline import Pipeline

    p, gen = counting
    return Pipeline(p.settings.model_copy(update={"answer_cache_size": 8}), p.retriever, gen), gen


def test_a_new_index_build_never_serves_the_old_answer(cached):
    p, gen = cached
    q = "What is the best sourdough recipe for a humid kitchen at altitude?"
    first = p.answer(q)
    again = p.answer(q.upper())
    assert not first.cached and again.cached and again.text == first.text
    manifest = p.retriever.store.manifest
    old = manifest["build_id"]
    try:
        manifest["build_id"] = "a-newer-build"  # what a hot reload swaps in
        assert not p.answer(q).cached
    finally:
        manifest["build_id"] = old


@pytest.mark.llm
def test_a_repeated_question_is_not_generated_again(cached):
    p, gen = cached
    q = "Which company presented the Canopy tracing system?"
    first = p.answer(q)
    calls = gen.calls
    again = p.answer(q)
    assert again.cached and gen.calls == calls
    assert again.text == first.text and again.citations == first.citations
    assert again.timings.prompt_tokens == first.timings.prompt_tokens  # usage as when made
