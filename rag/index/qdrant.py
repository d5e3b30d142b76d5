"""Qdrant as the vector store and catalogue: ``RAG_VECTOR_STORE=qdrant``.

One collection holds one complete build: each chunk is a point with a dense vector
(``dense``) and a sparse BM25-style vector (``bm25``, terms from our own tokenizer,
term frequency saturated as BM25 does, IDF applied by Qdrant), plus its catalogue
payload; each document's text and record, and the build's manifest, are points
without vectors. Hybrid search is one Query API call: a dense and a sparse prefetch
fused by reciprocal rank fusion in Qdrant.

A build goes into a new collection; the alias (``RAG_QDRANT_COLLECTION``) is moved
to it in one alias operation, so readers see the old build or the new one, never a
part. Because the catalogue lives in Qdrant, an API replica keeps no state another
needs: any replica can load the current build, and add or remove a document.

``RAG_QDRANT_URL`` names a server or cluster; ``RAG_QDRANT_PATH`` Qdrant's embedded
local mode (one process at a time; used by the tests).
"""

from __future__ import annotations

import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.errors import IndexNotFound
from rag.index.lexical import tokenize
from rag.index.qdrant_clients import client_for, guarded
from rag.index.store import Store, check_manifest, check_parent
from rag.index.vectors import Within
from rag.types import Chunk

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from rag.config import Settings

__all__ = ["QdrantLocation", "QdrantVectors", "sparse_terms"]

_DENSE = "dense"
_SPARSE = "bm25"
_K1, _B = 1.2, 0.75  # bm25s's constants and its Lucene form (no k1 + 1 factor)
_DOCUMENTS_BASE = 1 << 40  # point ids of document records: base + i
_MANIFEST_ID = 1 << 41
_KEEP_OLD_S = 3600.0  # a collection this young may be another replica's build in progress
_BATCH = 256
_RUN_INDEX = "run `rag index` to build it"


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
            return self.client.count(self.collection, count_filter=_kind("chunk"), exact=True).count

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
                    vector={_DENSE: [float(x) for x in vec], _SPARSE: sparse},
                    payload={"kind": "chunk", "source": source},
                )
            )
        for batch in _batches(points):
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
                self.collection, query=vec, using=_DENSE, limit=k, query_filter=_of(within)
            )
        return [(int(p.id), float(p.score)) for p in found.points]

    def search_lexical(self, query: str, k: int, within: Within = None) -> list[tuple[int, float]]:
        sparse = self._sparse_query(query)
        if sparse is None or k <= 0:
            return []
        with self._locked():
            found = self.client.query_points(
                self.collection, query=sparse, using=_SPARSE, limit=k, query_filter=_of(within)
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
        prefetch = [models.Prefetch(query=vec, using=_DENSE, limit=k, filter=only)]
        weights = [1.0]
        sparse = self._sparse_query(query)
        if sparse is not None and lexical_weight > 0:
            prefetch.append(models.Prefetch(query=sparse, using=_SPARSE, limit=k, filter=only))
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
        for batch in _batches([int(i) for i in ids]):
            with self._locked():
                records = self.client.retrieve(self.collection, ids=batch, with_vectors=[_DENSE])
            by_id = {int(r.id): r.vector[_DENSE] for r in records if isinstance(r.vector, dict)}
            out.extend(by_id[i] for i in batch)
        return np.asarray(out, dtype=np.float32).reshape(len(out), self._dim)

    def _sparse_query(self, query: str) -> Any:
        from qdrant_client import models

        terms = sparse_terms(query)
        if not terms:
            return None
        return models.SparseVector(indices=list(terms), values=list(terms.values()))


class QdrantLocation:
    """Builds as Qdrant collections ``<name>-<build id>`` behind the alias ``<name>``."""

    def __init__(
        self,
        client: QdrantClient,
        name: str,
        cache_root: Path,
        lock: threading.Lock | None = None,
        server: bool = False,
    ) -> None:
        self.client = client
        self.name = name
        self._cache_root = cache_root
        self._lock = lock
        self._server = server

    @classmethod
    def from_settings(cls, settings: Settings) -> QdrantLocation:
        path = settings.resolve(settings.qdrant_path) if settings.qdrant_path else None
        client, lock = client_for(settings.qdrant_url, path, settings.qdrant_api_key)
        cache = settings.index_path / "docs"
        return cls(client, settings.qdrant_collection, cache, lock, bool(settings.qdrant_url))

    def _locked(self) -> AbstractContextManager[Any]:
        return guarded(self._lock)

    @property
    def cache_root(self) -> Path:
        return self._cache_root

    def current_build(self) -> str | None:
        """The collection the alias names now, or None."""
        with self._locked():
            aliases = self.client.get_aliases().aliases
        return next((a.collection_name for a in aliases if a.alias_name == self.name), None)

    def current_manifest(self, collection: str | None = None) -> dict[str, Any] | None:
        collection = collection or self.current_build()
        if collection is None:
            return None
        with self._locked():
            found = self.client.retrieve(collection, ids=[_MANIFEST_ID], with_payload=True)
        return dict(found[0].payload or {}) if found else None

    def new_index(self, dim: int, size: int) -> QdrantVectors:
        """A new, empty collection for a build (not yet behind the alias)."""
        from qdrant_client import models

        collection = f"{self.name}-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        with self._locked():
            self.client.create_collection(
                collection,
                vectors_config={
                    _DENSE: models.VectorParams(size=dim, distance=models.Distance.DOT)
                },
                sparse_vectors_config={
                    _SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)
                },
            )
            if self._server:  # a server filters on these; local mode has no payload indexes
                for key in ("kind", "source"):
                    self.client.create_payload_index(
                        collection, key, models.PayloadSchemaType.KEYWORD
                    )
        return QdrantVectors(self.client, collection, dim, self._lock)

    def save(self, store: Store) -> str:
        """Write the catalogue beside ``store``'s vectors, then move the alias to it."""
        from qdrant_client import models

        vectors = store.vectors
        if not isinstance(vectors, QdrantVectors) or vectors.client is not self.client:
            raise TypeError("a Qdrant build is made with QdrantLocation.new_index")
        collection = vectors.collection
        check_parent(store.manifest, self.current_build())
        ops: list[Any] = [
            models.SetPayloadOperation(
                set_payload=models.SetPayload(
                    payload={
                        "heading_path": list(c.heading_path),
                        "text": c.text,
                        "start": c.start,
                        "end": c.end,
                    },
                    points=[i],
                )
            )
            for i, c in enumerate(store.chunks)
        ]
        for i, (name, (text, pages)) in enumerate(sorted(store.texts.items())):
            payload = {"kind": "document", "name": name, "text": text, "page_starts": pages}
            ops.append(_record(_DOCUMENTS_BASE + i, payload))
        manifest = dict(store.manifest, build_id=collection, built_at=time.time())
        ops.append(_record(_MANIFEST_ID, dict(manifest, kind="manifest")))
        for batch in _batches(ops):
            with self._locked():
                self.client.batch_update_points(collection, batch, wait=True)
        # checked again just before the switch: the window left is one alias request
        check_parent(store.manifest, self.current_build())
        self._switch(collection)
        store.manifest = manifest
        self._prune(keep=collection)
        return collection

    def _switch(self, collection: str) -> None:
        """Point the alias at ``collection`` in one alias request (atomic in Qdrant)."""
        from qdrant_client import models

        ops: list[Any] = []
        if self.current_build() is not None:
            ops.append(
                models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=self.name))
            )
        ops.append(
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=collection, alias_name=self.name)
            )
        )
        with self._locked():
            self.client.update_collection_aliases(change_aliases_operations=ops)

    def _prune(self, keep: str) -> None:
        """Drop builds older than the current and the one before it (that one stays so a
        request that began on it can finish), sparing any young enough to be in progress."""
        with self._locked():
            names = [c.name for c in self.client.get_collections().collections]
        ours = sorted(
            (n for n in names if n.startswith(self.name + "-") and n != keep), reverse=True
        )
        for old in ours[1:]:
            if time.time() - _created(old) > _KEEP_OLD_S:
                with self._locked():
                    self.client.delete_collection(old)

    def drop_unfinished(self, vectors: QdrantVectors) -> None:
        """Remove a build's collection that will never be made current."""
        with self._locked():
            self.client.delete_collection(vectors.collection)

    def load(self, embedding_model: str | None = None, dim: int | None = None) -> Store:
        """The current build: its catalogue read from the collection the alias names."""
        collection = self.current_build()
        if collection is None:
            raise IndexNotFound(f"no Qdrant collection behind alias {self.name!r}: {_RUN_INDEX}")
        manifest = self.current_manifest(collection) or {}
        check_manifest(manifest, embedding_model, dim)
        chunks: dict[int, Chunk] = {}
        texts: dict[str, tuple[str, list[int]]] = {}
        for point in self._scroll(collection):
            p = point.payload or {}
            if p.get("kind") == "chunk":
                chunks[int(point.id)] = Chunk(
                    p["source"], tuple(p["heading_path"]), p["text"], p["start"], p["end"]
                )
            elif p.get("kind") == "document":
                texts[p["name"]] = (p["text"], list(p["page_starts"]))
        ordered = [chunks[i] for i in range(len(chunks))]
        vectors = QdrantVectors(self.client, collection, int(manifest.get("dim") or 0), self._lock)
        return Store(ordered, vectors, manifest, texts)

    def _scroll(self, collection: str) -> Iterator[Any]:
        offset = None
        while True:
            with self._locked():
                points, offset = self.client.scroll(
                    collection, limit=1024, offset=offset, with_payload=True, with_vectors=False
                )
            yield from points
            if offset is None:
                return

    def __repr__(self) -> str:
        return f"QdrantLocation({self.name!r})"


def _of(within: Within) -> Any:
    """The filter to the chunks of documents ``within`` (None: no filter)."""
    from qdrant_client import models

    if within is None:
        return None
    sources = sorted(within)
    return models.Filter(
        must=[models.FieldCondition(key="source", match=models.MatchAny(any=sources))]
    )


def _kind(kind: str) -> Any:
    from qdrant_client import models

    return models.Filter(
        must=[models.FieldCondition(key="kind", match=models.MatchValue(value=kind))]
    )


def _record(point_id: int, payload: dict[str, Any]) -> Any:
    from qdrant_client import models

    return models.UpsertOperation(
        upsert=models.PointsList(
            points=[models.PointStruct(id=point_id, vector={}, payload=payload)]
        )
    )


def _created(collection: str) -> float:
    """When a build collection was made, from its name (0 when it has no date)."""
    try:
        stamp = collection.rsplit("-", 2)[-2]
        return time.mktime(time.strptime(stamp, "%Y%m%dT%H%M%S"))
    except (IndexError, ValueError):
        return 0.0


def _batches(items: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(items), _BATCH):
        yield items[i : i + _BATCH]
