"""Question -> ranked passages: dense (MiniLM + FAISS), lexical (BM25) or both fused.

Hybrid is the default because each side misses different questions: dense matches
paraphrases, BM25 matches exact names, numbers and acronyms that MiniLM blurs.
Reciprocal rank fusion needs no score calibration between the two.
"""

from __future__ import annotations

import time
from typing import Literal

import numpy as np

from rag.embedding import Embedder
from rag.store import Store
from rag.types import Hit

__all__ = ["Mode", "Retriever", "rrf"]

Mode = Literal["hybrid", "dense", "bm25"]


def rrf(
    rankings: list[list[int]], k: float = 60.0, weights: list[float] | None = None
) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: each id scores sum(w / (k + rank)) over the lists."""
    scores: dict[int, float] = {}
    for ranking, w in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda t: (-t[1], t[0]))


class Retriever:
    """Searches a loaded ``Store``; reports its own stage timings."""

    def __init__(
        self,
        embedder: Embedder,
        store: Store,
        mode: Mode = "hybrid",
        rrf_k: float = 60.0,
        candidates: int = 20,
        lexical_weight: float = 1.0,
    ) -> None:
        self.embedder = embedder
        self.store = store
        self.mode: Mode = mode
        self.rrf_k = rrf_k
        self.candidates = candidates
        self.lexical_weight = lexical_weight

    def search(self, query: str, k: int, mode: Mode | None = None) -> list[Hit]:
        """The ``k`` best chunks for ``query``, best first, ranks from 1."""
        return self.search_timed(query, k, mode)[0]

    def search_timed(
        self, query: str, k: int, mode: Mode | None = None
    ) -> tuple[list[Hit], float, float]:
        """``search`` plus the seconds spent embedding the query and searching."""
        mode = mode or self.mode
        n = max(k, self.candidates)
        t0 = time.perf_counter()
        dense: dict[int, float] = {}
        if mode != "bm25":
            vec = self.embedder.encode([query])[0]
        t1 = time.perf_counter()
        if mode != "bm25":
            dense = dict(self.store.search(vec, n))
        lexical = dict(self.store.search_lexical(query, n)) if mode != "dense" else {}
        if mode == "dense":
            ranked = sorted(dense.items(), key=lambda t: -t[1])
        elif mode == "bm25":
            ranked = sorted(lexical.items(), key=lambda t: -t[1])
        else:
            ranked = rrf([list(dense), list(lexical)], self.rrf_k, [1.0, self.lexical_weight])
            missing = [i for i, _ in ranked[:k] if i not in dense]
            if missing:  # cosine for BM25-only finds, so every hit has a dense score
                dense.update(self._cosines(vec, missing))
        t2 = time.perf_counter()
        hits = [
            Hit(self.store.chunks[i], score, rank, dense.get(i), lexical.get(i))
            for rank, (i, score) in enumerate(ranked[:k], start=1)
        ]
        return hits, t1 - t0, t2 - t1

    def _cosines(self, vec: np.ndarray, ids: list[int]) -> dict[int, float]:
        return {i: float(self.store.index.reconstruct(i) @ vec) for i in ids}
