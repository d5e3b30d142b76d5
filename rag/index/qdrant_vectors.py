"""One Qdrant build collection as a ``VectorIndex``: dense vectors, sparse BM25-style
vectors (terms from our own tokenizer, term frequency saturated as BM25 does, IDF
applied by Qdrant), and both fused by reciprocal rank fusion in one Query API call; a
search within documents filters on each point's ``source`` in the query. The builds
themselves (collections, alias, catalogue) are ``rag/index/qdrant.py``'s."""

from __future__ import annotations

import threading
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.index.lexical import tokenize
from rag.index.qdrant_clients import guarded
from rag.index.vectors import Within

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

__all__ = ["DENSE", "SPARSE", "QdrantVectors", "batches", "of_kind", "sparse_terms"]

DENSE = "dense"
SPARSE = "bm25"
_K1, _B = 1.2, 0.75  # bm25s's constants and its Lucene form (no k1 + 1 factor)
_BATCH = 256


def sparse_terms(text: str) -> dict[int, float]:
    """Term id -> count for ``text`` (ids: crc32 of our tokenizer's terms, so every
    build and replica agrees without a shared vocabulary)."""
    return {zlib.crc32(t.encode()): float(n) for t, n in Counter(tokenize(text)).items()}


class QdrantVectors:
    """The ``VectorIndex`` protocol over one Qdrant collection."""

    def __init__(
        self, client: QdrantClient, collection: str, dim: int, lock: threading.Lock | None
    ):
        self.client = client
        self.collection = collection
        self._dim = dim
        self._lock = lock
        self._avgdl: float | None = None

    def _locked(self) -> AbstractContextManager[Any]:
        return guarded(self._lock)

    @property
    def dim(self) -> int:
        return self._dim

    def __len__(self) -> int:
        with self._locked():
            return self.client.count(
                self.collection, count_filter=of_kind("chunk"), exact=True
            ).count

    def upsert(
        self, ids: Sequence[int], vectors: np.ndarray, texts: Sequence[str], sources: Sequence[str]
    ) -> None:
        from qdrant_client import models

        terms = [sparse_terms(t) for t in texts]
        # BM25's average length: a build upserts all its chunks at once, so it is the
        # collection's; later upserts (the protocol allows them) reuse it
        if self._avgdl is None:
            self._avgdl = max(1.0, float(np.mean([sum(t.values()) for t in terms] or [1.0])))
        points = []
        for i, vec, tf, source in zip(ids, vectors, terms, sources, strict=True):
            dl = sum(tf.values())
            norm = _K1 * (1 - _B + _B * dl / self._avgdl)
            sparse = models.SparseVector(
                indices=list(tf), values=[f / (f + norm) for f in tf.values()]
            )
            points.append(
                models.PointStruct(
                    id=int(i),
                    vector={DENSE: [float(x) for x in vec], SPARSE: sparse},
                    payload={"kind": "chunk", "source": source},
                )
            )
        for batch in batches(points):
            with self._locked():
                self.client.upsert(self.collection, batch, wait=True)

    def delete_document(self, source: str) -> None:
        from qdrant_client import models

        of_source = models.FieldCondition(key="source", match=models.MatchValue(value=source))
        chunks = models.FieldCondition(key="kind", match=models.MatchValue(value="chunk"))
        selector = models.FilterSelector(filter=models.Filter(must=[chunks, of_source]))
        with self._locked():
            self.client.delete(self.collection, points_selector=selector, wait=True)

    def search(self, query: np.ndarray, k: int, within: Within = None) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        vec = [float(x) for x in query]
        with self._locked():
            found = self.client.query_points(
                self.collection, query=vec, using=DENSE, limit=k, query_filter=_of(within)
            )
        return [(int(p.id), float(p.score)) for p in found.points]

    def search_lexical(self, query: str, k: int, within: Within = None) -> list[tuple[int, float]]:
        sparse = self._sparse_query(query)
        if sparse is None or k <= 0:
            return []
        with self._locked():
            found = self.client.query_points(
                self.collection, query=sparse, using=SPARSE, limit=k, query_filter=_of(within)
            )
        return [(int(p.id), float(p.score)) for p in found.points if p.score > 0]

    def search_hybrid(
        self,
        query: str,
        vector: np.ndarray,
        k: int,
        rrf_k: float,
        lexical_weight: float,
        within: Within = None,
    ) -> list[tuple[int, float]]:
        """One call: dense and sparse prefetches fused by RRF in Qdrant.

        Qdrant's weighted RRF scores rank ``r`` of a list with weight ``w`` as
        ``1 / (k - 1 + r / w)`` (a weight stretches ranks; ours scales scores, see
        ``rag.index.vectors.rrf``), so its ``k`` is a setting of its own,
        ``RAG_QDRANT_RRF_K``, chosen on the dev split (an integer in Qdrant)."""
        from qdrant_client import models

        if k <= 0:
            return []
        only = _of(within)  # each prefetch filtered: the fusion sees only these documents
        vec = [float(x) for x in vector]
        prefetch = [models.Prefetch(query=vec, using=DENSE, limit=k, filter=only)]
        weights = [1.0]
        sparse = self._sparse_query(query)
        if sparse is not None and lexical_weight > 0:
            prefetch.append(models.Prefetch(query=sparse, using=SPARSE, limit=k, filter=only))
            weights.append(lexical_weight)
        fusion = models.RrfQuery(rrf=models.Rrf(k=max(1, round(rrf_k)), weights=weights))
        with self._locked():
            found = self.client.query_points(
                self.collection, prefetch=prefetch, query=fusion, limit=k
            )
        return [(int(p.id), float(p.score)) for p in found.points]

    def cosines(self, vector: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        return {int(i): float(v @ vector) for i, v in zip(ids, self.vectors(ids), strict=True)}

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        out: list[Any] = []
        for batch in batches([int(i) for i in ids]):
            with self._locked():
                records = self.client.retrieve(self.collection, ids=batch, with_vectors=[DENSE])
            by_id = {int(r.id): r.vector[DENSE] for r in records if isinstance(r.vector, dict)}
            out.extend(by_id[i] for i in batch)
        return np.asarray(out, dtype=np.float32).reshape(len(out), self._dim)

    def _sparse_query(self, query: str) -> Any:
        from qdrant_client import models

        terms = sparse_terms(query)
        if not terms:
            return None
        return models.SparseVector(indices=list(terms), values=list(terms.values()))


def _of(within: Within) -> Any:
    """The filter to the chunks of documents ``within`` (None: no filter)."""
    from qdrant_client import models

    if within is None:
        return None
    sources = sorted(within)
    return models.Filter(
        must=[models.FieldCondition(key="source", match=models.MatchAny(any=sources))]
    )


def of_kind(kind: str) -> Any:
    from qdrant_client import models

    return models.Filter(
        must=[models.FieldCondition(key="kind", match=models.MatchValue(value=kind))]
    )


def batches(items: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(items), _BATCH):
        yield items[i : i + _BATCH]
