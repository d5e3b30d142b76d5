"""Follow-up retrieval: the latest message alone vs the heuristic standalone query vs an
LLM rewrite, on every follow-up turn of ``eval/chat.jsonl``.

    .venv/bin/python bench/rewrite.py

Prints, per strategy, gold-section hit@1/hit@5 (top 10 searched) and the median and
p95 time to build the query. The service uses the heuristic (``standalone_query``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from eval.runner import EVAL_DIR, load_chat, turns_for
from rag import (
    SentenceTransformerEmbedder,
    Settings,
    Turn,
    llm_rewrite,
    load_generator,
    load_retriever,
    standalone_query,
)


def section_rank(hits: list, question: dict) -> int | None:
    for h in hits:
        gold = question["section"].lower() in h.chunk.section.lower()
        if h.chunk.source in question["sources"] and gold:
            return h.rank
    return None


def main() -> None:
    settings = Settings()
    retriever = load_retriever(settings, SentenceTransformerEmbedder(settings.embedding_model))
    generator = load_generator(settings)
    questions = [q for q in load_chat(EVAL_DIR / "chat.jsonl") if q["kind"] == "follow-up"]
    strategies: dict[str, Callable[[list[Turn]], str]] = {
        "last message": lambda turns: turns[-1].content,
        "heuristic": standalone_query,
        "llm rewrite": lambda turns: llm_rewrite(turns, generator),
    }
    print(f"{len(questions)} follow-up turns\n")
    print(f"{'strategy':<14} {'hit@1':>6} {'hit@5':>6} {'p50 s':>7} {'p95 s':>7}")
    for name, build in strategies.items():
        ranks, seconds = [], []
        for q in questions:
            t0 = time.perf_counter()
            query = build(turns_for(q))
            seconds.append(time.perf_counter() - t0)
            ranks.append(section_rank(retriever.search(query, 10), q))
        hit1 = sum(r == 1 for r in ranks) / len(ranks)
        hit5 = sum(r is not None and r <= 5 for r in ranks) / len(ranks)
        p95 = sorted(seconds)[round(0.95 * (len(seconds) - 1))]
        med = statistics.median(seconds)
        print(f"{name:<14} {hit1:>6.3f} {hit5:>6.3f} {med:>7.3f} {p95:>7.3f}")


if __name__ == "__main__":
    main()
