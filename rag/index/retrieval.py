"""Question -> ranked passages: dense (MiniLM vectors), lexical (BM25) or both fused.

Hybrid is the default because each side misses different questions: dense matches
paraphrases, BM25 matches exact names, numbers and acronyms that MiniLM blurs.
Reciprocal rank fusion needs no score calibration between the two.

Two steps on top of the ranking, in every mode:

- **each part of a compound question is searched on its own** ("What does X do, and
  which system is it built on?") and the rankings interleaved, so one part's words
  cannot crowd the other's passage out;
- **every name the question asks about is looked for**: when no passage found holds a
  name (or acronym) of the question, the best passage that does is brought in. Generic
  words ("what problem does Checkmate solve") can outscore a rare name in a long
  section; the name is what the question is about.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Collection
from functools import cached_property
from itertools import zip_longest
from typing import Literal

import numpy as np

from rag.answer.asks import retrieval_queries
from rag.grounding.terms import contains_term, key_terms, written_as_name
from rag.index.embedding import Embedder
from rag.index.lexical import tokenize
from rag.index.store import Store
from rag.index.vectors import rrf
from rag.types import Chunk, Hit

__all__ = ["Mode", "Retriever", "rrf"]

Mode = Literal["hybrid", "dense", "bm25"]


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
        depth: int = 6,
    ) -> None:
        self.embedder = embedder
        self.store = store
        self.mode: Mode = mode
        self.rrf_k = rrf_k
        self.candidates = candidates
        self.lexical_weight = lexical_weight
        # names are looked for among the first ``depth`` passages (as many as an answer
        # reads), whatever ``k`` asks for: a longer ranking extends a shorter one
        self.depth = depth
        self.within: frozenset[str] | None = None  # only these documents (``scoped``)

    def scoped(self, within: Collection[str] | None) -> Retriever:
        """This retriever searching only the documents ``within`` (source names), inside
        the index: a question asked within two reports gets its full ``k`` passages from
        them, and every look-up (names, sections) stays within them too."""
        if within is None:
            return self
        _ = self._headings_with, self._sections  # built once here, shared by every view
        view = copy.copy(self)
        view.within = frozenset(within)
        return view

    def search(self, query: str, k: int, mode: Mode | None = None) -> list[Hit]:
        """The ``k`` best chunks for ``query``, best first, ranks from 1. The first
        ``depth`` of them are the same whatever ``k`` is: ``/v1/search`` with ``k=10``
        shows the passages an answer read, then more."""
        return self.search_timed(query, k, mode)[0]

    def search_timed(
        self, query: str, k: int, mode: Mode | None = None
    ) -> tuple[list[Hit], float, float]:
        """``search`` plus the seconds spent embedding the query and searching."""
        mode = mode or self.mode
        n = max(k, self.candidates)
        queries = retrieval_queries(query)
        t0 = time.perf_counter()
        vecs = self.embedder.encode([query, *queries[1:]] if len(queries) > 1 else [query])
        t1 = time.perf_counter()
        rankings = [
            self._rank(q, vec, n, mode)
            for q, vec in zip(queries, vecs if len(queries) > 1 else [vecs[0]], strict=True)
        ]
        ranked = _interleave(rankings)
        head = min(k, self.depth)
        ids = self._look_up_names(query, [i for i, _ in ranked], head)
        ids = self._look_up_section(query, ids, head)
        ids += [i for i, _ in ranked if i not in ids][: k - len(ids)]
        score = dict(ranked)
        dense = self._cosines(vecs[0], ids)  # every hit has one, whatever the mode
        lexical = dict(self.store.search_lexical(query, n, self.within)) if mode != "dense" else {}
        t2 = time.perf_counter()
        hits = [
            Hit(self.store.chunks[i], score.get(i, 0.0), rank, dense.get(i), lexical.get(i))
            for rank, i in enumerate(ids, start=1)
        ]
        return hits, t1 - t0, t2 - t1

    def _rank(self, query: str, vec: np.ndarray, n: int, mode: Mode) -> list[tuple[int, float]]:
        """(chunk id, score) best first for one query in ``mode``."""
        if mode == "dense":
            return self.store.search(vec, n, self.within)
        if mode == "bm25":
            return self.store.search_lexical(query, n, self.within)
        weight = self.lexical_weight
        return self.store.search_hybrid(query, vec, n, self.rrf_k, weight, self.within)

    def _look_up_names(self, query: str, ranked: list[int], k: int) -> list[int]:
        """The top ``k`` of ``ranked``, with a passage brought in for each name of the
        query that none of them holds (when the corpus has one that does)."""
        top = ranked[:k]
        names = [t for t in key_terms(query) if not t.replace(".", "").isdigit() and len(t) >= 3]
        for name in dict.fromkeys(names):
            if any(_states(self.store.chunks[i], name) for i in top):
                continue
            found = self._passage_naming(query, name)
            if found is None:
                continue
            # replace the lowest-ranked passage that holds none of the names
            spare = [i for i in top if not any(_states(self.store.chunks[i], t) for t in names)]
            if len(top) >= k and spare:
                top.remove(spare[-1])
            elif len(top) >= k:
                continue
            # first when no passage holds any name: the question is about this one
            held = any(_states(self.store.chunks[i], t) for i in top for t in names)
            top.insert(len(top) if held else 0, found)
        return top

    def _look_up_section(self, query: str, top: list[int], k: int) -> list[int]:
        """``top`` with the section the query names by its heading brought in: when
        every word of a heading of two or more words is in the query ("Which papers
        received Outstanding Paper Awards?") and none of that section's passages was
        found, its passage that best matches the query comes first (the question is about
        it) and the lowest-ranked passage makes room.
        A short section of names ("- QuadraLib: ...") shares no word with the question
        but its heading."""
        asked = set(tokenize(query))
        candidates = {
            key
            for word in asked
            for key in self._headings_with.get(word, ())
            if self.within is None or key[0] in self.within
        }
        named = [
            (len(words), key)
            for key in candidates
            if len(words := self._headings[key]) >= 2 and words <= asked
        ]
        if not named:
            return top
        key = max(named)[1]
        if any(_section_key(self.store.chunks[i]) == key for i in top):
            return top
        ids = self._sections[key]
        ranked = self.store.search_lexical(query, 200, self.within)
        order = {i: r for r, (i, _) in enumerate(ranked)}
        best = min(ids, key=lambda i: (order.get(i, len(order)), i))
        return [best, *top[: k - 1]]

    @cached_property
    def _sections(self) -> dict[tuple[str, tuple[str, ...]], list[int]]:
        """Chunk ids of each section, keyed by (document, heading path)."""
        out: dict[tuple[str, tuple[str, ...]], list[int]] = {}
        for i, chunk in enumerate(self.store.chunks):
            out.setdefault(_section_key(chunk), []).append(i)
        return out

    @cached_property
    def _headings(self) -> dict[tuple[str, tuple[str, ...]], frozenset[str]]:
        """The words of each section's own heading (the last of its path)."""
        return {key: frozenset(tokenize(key[1][-1])) for key in self._sections if key[1]}

    @cached_property
    def _headings_with(self) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
        """The sections whose heading holds each word: a query looks only at those."""
        out: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for key, words in self._headings.items():
            for word in words:
                out.setdefault(word, []).append(key)
        return out

    def _passage_naming(self, query: str, name: str) -> int | None:
        """The best-ranked passage (by BM25 on the query, then on the name alone) whose
        text or section states ``name``."""
        return self._first_lexical((query, name), lambda c: _states(c, name))

    def passage_stating(self, query: str, term: str, sources: set[str]) -> Hit | None:
        """The best passage (by BM25 on ``query`` with ``term``) of one of ``sources``
        whose text writes name, code or date ``term`` (``written_as_name``); None when
        none does."""
        i = self._first_lexical(
            (f"{query} {term}", term),
            lambda c: c.source in sources and written_as_name(c.text, term),
        )
        return None if i is None else Hit(self.store.chunks[i], 0.0, 0)

    def _first_lexical(
        self, queries: tuple[str, ...], accept: Callable[[Chunk], bool]
    ) -> int | None:
        """The first chunk ``accept`` takes among the BM25 top 50 of each query in turn."""
        for q in queries:
            for i, _ in self.store.search_lexical(q, 50, self.within):
                if accept(self.store.chunks[i]):
                    return i
        return None

    def _cosines(self, vec: np.ndarray, ids: list[int]) -> dict[int, float]:
        return self.store.cosines(vec, ids)


def _section_key(chunk: Chunk) -> tuple[str, tuple[str, ...]]:
    return chunk.source, chunk.heading_path


def _states(chunk: Chunk, name: str) -> bool:
    return contains_term(chunk.section + "\n" + chunk.text, name)


def _interleave(rankings: list[list[tuple[int, float]]]) -> list[tuple[int, float]]:
    """Round-robin merge of several rankings, each id once at its first place."""
    if len(rankings) == 1:
        return rankings[0]
    out: dict[int, float] = {}
    for row in zip_longest(*rankings):
        for item in row:
            if item is not None and item[0] not in out:
                out[item[0]] = item[1]
    return list(out.items())
