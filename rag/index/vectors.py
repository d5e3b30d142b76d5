"""The vector index: dense and lexical search over chunk ids, behind one protocol.

Two implementations, chosen by ``RAG_VECTOR_STORE``:

- ``FaissVectors`` (this module, the embedded default): FAISS for the dense side,
  bm25s for the lexical side, fused here by reciprocal rank fusion. Exact search
  (``IndexFlatIP``) up to ``HNSW_ABOVE`` chunks, HNSW above (see ``bench/scale.py``
  and the README for the measurements that set the threshold).
- ``QdrantVectors`` (``rag/index/qdrant.py``): dense and sparse BM25-style vectors in one
  Qdrant collection, fused server-side.

The chunk catalogue (texts, sections, documents) and build management are not here:
they are ``Store``'s. A vector index only knows ids, vectors, lexical text and the
document each id belongs to (for ``delete_document``, and for ``within``: a search
restricted to some documents is restricted inside the index, so it still finds its
full ``k`` among them; BM25's statistics stay the whole collection's).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

import faiss
import numpy as np

from rag.index.lexical import Bm25Index

__all__ = ["HNSW_ABOVE", "FaissVectors", "VectorIndex", "Within", "rrf"]

# the documents (source names) a search is restricted to; None: the whole collection
Within = Collection[str] | None

# Exact search costs linear time (60-75 ns a chunk on one core): above this many
# chunks it passes ~15 ms a query, while HNSW stays near 1 ms at recall@10 >= 0.95
# (bench/scale.py; the README has the numbers).
HNSW_ABOVE = 200_000
_HNSW_M = 32
_HNSW_EF_SEARCH = 256
_HNSW_EF_CONSTRUCTION = 80
# a search within documents of at most this many chunks scans them exactly (HNSW only)
_EXACT_WITHIN = 100_000


class VectorIndex(Protocol):
    """What retrieval and builds need of a vector index; ids are chunk positions."""

    @property
    def dim(self) -> int: ...

    def __len__(self) -> int: ...

    def upsert(
        self, ids: Sequence[int], vectors: np.ndarray, texts: Sequence[str], sources: Sequence[str]
    ) -> None:
        """Add or replace the points ``ids``: a dense vector, the text BM25 indexes and
        the document each belongs to."""

    def delete_document(self, source: str) -> None:
        """Remove every point of document ``source``."""

    def search(self, query: np.ndarray, k: int, within: Within = None) -> list[tuple[int, float]]:
        """Top-``k`` (id, cosine) by the dense vector, best first; only points of the
        documents ``within`` when it is given."""

    def search_lexical(self, query: str, k: int, within: Within = None) -> list[tuple[int, float]]:
        """Top-``k`` (id, BM25 score > 0) for the query's terms, best first."""

    def search_hybrid(
        self,
        query: str,
        vector: np.ndarray,
        k: int,
        rrf_k: float,
        lexical_weight: float,
        within: Within = None,
    ) -> list[tuple[int, float]]:
        """Top-``k`` (id, fused score): dense and lexical rankings of ``k`` each fused
        by reciprocal rank fusion."""

    def cosines(self, vector: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        """The dense cosine of each of ``ids`` to ``vector``."""

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        """The dense vectors of ``ids``, one row each (reused by later builds)."""


def rrf(
    rankings: list[list[int]], k: float = 60.0, weights: list[float] | None = None
) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: each id scores sum(w / (k + rank)) over the lists."""
    scores: dict[int, float] = {}
    for ranking, w in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda t: (-t[1], t[0]))


def new_faiss_index(dim: int, size: int) -> faiss.Index:
    """The index type for ``size`` vectors: exact below ``HNSW_ABOVE``, HNSW above,
    each under an id map so ids survive deletes."""
    inner: faiss.Index
    if size > HNSW_ABOVE:
        hnsw = faiss.IndexHNSWFlat(dim, _HNSW_M, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = _HNSW_EF_CONSTRUCTION
        hnsw.hnsw.efSearch = _HNSW_EF_SEARCH
        inner = hnsw
    else:
        inner = faiss.IndexFlatIP(dim)
    return faiss.IndexIDMap2(inner)


def _selecting(index: faiss.Index, ids: np.ndarray, k: int) -> faiss.SearchParameters:
    """FAISS search parameters that skip every id but ``ids`` (HNSW keeps its depth,
    at least ``k``). faiss's type stubs know neither keyword."""
    selector = faiss.IDSelectorBatch(ids)  # type: ignore[arg-type]
    inner = faiss.downcast_index(index.index) if hasattr(index, "index") else index
    if isinstance(inner, faiss.IndexHNSW):
        ef = max(_HNSW_EF_SEARCH, k)
        return faiss.SearchParametersHNSW(sel=selector, efSearch=ef)  # type: ignore[attr-defined]
    return faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]


class FaissVectors:
    """FAISS (dense) + bm25s (lexical), fused client-side."""

    def __init__(
        self,
        index: faiss.Index,
        lexical: Bm25Index | None = None,
        texts: dict[int, str] | None = None,
        sources: dict[int, str] | None = None,
    ) -> None:
        self.index = index
        self._texts = texts if texts is not None else {}
        self._sources = sources if sources is not None else {}
        self._lexical = lexical
        # chunk id of each BM25 position, as an array: a masked search maps ids to positions
        self._lexical_ids = np.asarray(sorted(self._texts), dtype=np.int64)
        self._of_source: dict[str, list[int]] | None = None  # ids by document, for ``within``
        self._positions: tuple[np.ndarray, np.ndarray] | None = None  # id map, its order

    @classmethod
    def empty(cls, dim: int, expected: int = 0) -> FaissVectors:
        return cls(new_faiss_index(dim, expected), texts={}, sources={})

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def lexical(self) -> Bm25Index:
        """The BM25 index, rebuilt after points changed (bm25s indexes in one pass)."""
        if self._lexical is None:
            self._lexical_ids = np.asarray(sorted(self._texts), dtype=np.int64)
            self._lexical = Bm25Index.build([self._texts[int(i)] for i in self._lexical_ids])
        return self._lexical

    @property
    def vocabulary(self) -> frozenset[str]:
        return self.lexical.vocabulary

    def upsert(
        self, ids: Sequence[int], vectors: np.ndarray, texts: Sequence[str], sources: Sequence[str]
    ) -> None:
        present = [i for i in ids if i in self._sources]
        if present:
            self._remove(present)
        if len(ids):
            vecs = np.ascontiguousarray(vectors, dtype=np.float32)
            self.index.add_with_ids(vecs, np.asarray(ids, dtype=np.int64))
        for i, text, source in zip(ids, texts, sources, strict=True):
            self._texts[i] = text
            self._sources[i] = source
        self._lexical = None
        self._of_source = None
        self._positions = None

    def delete_document(self, source: str) -> None:
        self._remove([i for i, s in self._sources.items() if s == source])

    def _remove(self, ids: list[int]) -> None:
        if not ids:
            return
        gone = np.asarray(ids, dtype=np.int64)
        try:
            self.index.remove_ids(gone)  # type: ignore[arg-type]  # faiss wraps arrays
        except RuntimeError:  # HNSW cannot remove: rebuild it from the remaining vectors
            keep = [i for i in self._sources if i not in set(ids)]
            vecs = np.stack([self.index.reconstruct(i) for i in keep]) if keep else None
            self.index = new_faiss_index(self.dim, len(keep))
            if vecs is not None:
                self.index.add_with_ids(vecs, np.asarray(keep, dtype=np.int64))
        for i in ids:
            self._sources.pop(i, None)
            self._texts.pop(i, None)
        self._lexical = None
        self._of_source = None
        self._positions = None

    def _ids_within(self, within: Collection[str]) -> np.ndarray:
        """The ids of the points of documents ``within``, sorted."""
        if self._of_source is None:
            of_source: dict[str, list[int]] = {}
            for i, source in self._sources.items():
                of_source.setdefault(source, []).append(i)
            self._of_source = of_source
        ids = [i for source in set(within) for i in self._of_source.get(source, ())]
        return np.asarray(sorted(ids), dtype=np.int64)

    def search(self, query: np.ndarray, k: int, within: Within = None) -> list[tuple[int, float]]:
        params: faiss.SearchParameters | None = None
        size = len(self)
        if within is not None:  # FAISS skips other ids while it searches (an ID selector)
            allowed = self._ids_within(within)
            size = len(allowed)
            inner = faiss.downcast_index(self.index.index)  # type: ignore[attr-defined]
            if isinstance(inner, faiss.IndexHNSW) and size <= _EXACT_WITHIN:
                return self._exact(inner, allowed, query, k)
            params = _selecting(self.index, allowed, k)
        k = min(k, size)
        if k <= 0:
            return []
        vec = query.reshape(1, -1).astype(np.float32)
        scores, ids = self.index.search(vec, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _exact(
        self, hnsw: faiss.IndexHNSW, ids: np.ndarray, query: np.ndarray, k: int
    ) -> list[tuple[int, float]]:
        """Exact top-``k`` among ``ids`` from the HNSW graph's stored vectors. A graph walk
        filtered to a few documents stops after ``efSearch`` steps among the others and
        can return fewer than k; their own vectors, scanned, cannot."""
        if not len(ids):
            return []
        storage = faiss.downcast_index(hnsw.storage)
        n, d = int(storage.ntotal), int(storage.d)
        xb = storage.get_xb()  # type: ignore[attr-defined]  # an IndexFlat
        rows = faiss.rev_swig_ptr(xb, n * d).reshape(n, d)  # a view, no copy
        if self._positions is None:  # once per change of the points, not per query
            external = faiss.vector_to_array(self.index.id_map)  # type: ignore[attr-defined]
            self._positions = (external, np.argsort(external))
        external, order = self._positions
        positions = order[np.searchsorted(external, ids, sorter=order)]
        q = query.reshape(-1).astype(np.float32)
        scores = np.concatenate(
            [rows[positions[i : i + 8192]] @ q for i in range(0, len(positions), 8192)]
        )
        top = np.argsort(-scores, kind="stable")[:k]
        return [(int(ids[i]), float(scores[i])) for i in top]

    def search_lexical(self, query: str, k: int, within: Within = None) -> list[tuple[int, float]]:
        lexical = self.lexical
        mask = None
        if within is not None:  # bm25s scores only the chunks the mask weighs
            positions = np.searchsorted(self._lexical_ids, self._ids_within(within))
            mask = np.zeros(lexical.n_docs, dtype=np.float32)
            mask[positions] = 1.0
        return [(int(self._lexical_ids[p]), s) for p, s in lexical.search(query, k, mask)]

    def search_hybrid(
        self,
        query: str,
        vector: np.ndarray,
        k: int,
        rrf_k: float,
        lexical_weight: float,
        within: Within = None,
    ) -> list[tuple[int, float]]:
        dense = [i for i, _ in self.search(vector, k, within)]
        lexical = [i for i, _ in self.search_lexical(query, k, within)]
        return rrf([dense, lexical], rrf_k, [1.0, lexical_weight])

    def cosines(self, vector: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        return {i: float(self.index.reconstruct(int(i)) @ vector) for i in ids}

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        if not len(ids):
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.index.reconstruct(int(i)) for i in ids])
