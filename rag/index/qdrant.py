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
local mode (one process at a time; used by the tests). One build's collection as a
``VectorIndex`` is ``rag/index/qdrant_vectors.py``'s.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import IndexNotFound
from rag.index.qdrant_clients import client_for, guarded
from rag.index.qdrant_vectors import (
    DENSE,
    SPARSE,
    QdrantVectors,
    batches,
    sparse_terms,
)
from rag.index.store import Store, check_manifest, check_parent
from rag.types import Chunk

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from rag.config import Settings

__all__ = ["QdrantLocation", "QdrantVectors", "sparse_terms"]  # the last two: qdrant_vectors.py

_DOCUMENTS_BASE = 1 << 40  # point ids of document records: base + i
_MANIFEST_ID = 1 << 41
_KEEP_OLD_S = 3600.0  # a collection this young may be another replica's build in progress
_RUN_INDEX = "run `rag index` to build it"


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
                vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.DOT)},
                sparse_vectors_config={
                    SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)
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
        for batch in batches(ops):
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
