"""Question -> ranked passages: embed the query, search the store."""

from __future__ import annotations

import time

from rag.embedding import Embedder
from rag.store import Store
from rag.types import Hit

__all__ = ["Retriever"]


class Retriever:
    """Dense retrieval over a loaded ``Store``; reports its own stage timings."""

    def __init__(self, embedder: Embedder, store: Store) -> None:
        self.embedder = embedder
        self.store = store

    def search(self, query: str, k: int) -> list[Hit]:
        """The ``k`` chunks most similar to ``query``, best first, ranks from 1."""
        return self.search_timed(query, k)[0]

    def search_timed(self, query: str, k: int) -> tuple[list[Hit], float, float]:
        """``search`` plus the seconds spent embedding the query and searching."""
        t0 = time.perf_counter()
        vec = self.embedder.encode([query])[0]
        t1 = time.perf_counter()
        found = self.store.search(vec, k)
        t2 = time.perf_counter()
        hits = [
            Hit(self.store.chunks[i], score, rank) for rank, (i, score) in enumerate(found, start=1)
        ]
        return hits, t1 - t0, t2 - t1
