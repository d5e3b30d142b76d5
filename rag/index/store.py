"""The chunk catalogue over a vector index, and its builds on disk (the FAISS backend).

``Store`` is what retrieval and answering read: the chunks, each document's text and
record, sections and metadata, plus a ``VectorIndex`` (``rag/index/vectors.py``) to search.
Where a build lives is an ``IndexLocation``: ``FileLocation`` (this module: FAISS +
bm25s files) or ``QdrantLocation`` (``rag/index/qdrant.py``: one collection per build).

Layout under the index directory::

    CURRENT                 name of the active build (replaced with os.replace)
    builds/<id>/manifest.json
    builds/<id>/vectors.faiss
    builds/<id>/chunks.jsonl
    builds/<id>/documents.jsonl  each document's extracted text and page starts
    builds/<id>/bm25/...      the BM25 index over the same chunks

A build is written into a temporary directory, fsynced, renamed into ``builds/``
and only then named in ``CURRENT``. A crash at any point leaves ``CURRENT`` naming
the previous complete build, so readers never see a half-written or mixed index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import asdict
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np

from rag.errors import IndexConflict, IndexCorrupt, IndexMismatch, IndexNotFound
from rag.files import file_sha256, fsync_dir, write_atomic, write_synced
from rag.index.lexical import Bm25Index, tokenize
from rag.index.vectors import FaissVectors, VectorIndex, Within
from rag.ingest.loaders import page_of
from rag.types import Chunk

__all__ = [
    "FORMAT_VERSION",
    "FileLocation",
    "IndexLocation",
    "Store",
    "check_manifest",
    "check_parent",
]

FORMAT_VERSION = 4
_REQUIRED = ("vectors.faiss", "chunks.jsonl", "documents.jsonl", "bm25/n_docs.json")
_KEEP_BUILDS = 2  # the active build and the one before it
_DATED = re.compile(r"\b(19|20)\d\d\b")
_RUN_INDEX = "run `rag index` to rebuild it"


class Store:
    """The chunks of one build, their documents, and the vector index over them.

    Chunk ids in the vector index are positions in ``chunks``.
    """

    def __init__(
        self,
        chunks: list[Chunk],
        vectors: VectorIndex,
        manifest: dict[str, Any],
        texts: dict[str, tuple[str, list[int]]] | None = None,
    ) -> None:
        if len(vectors) != len(chunks):
            raise IndexCorrupt(f"index holds {len(vectors)} vectors for {len(chunks)} chunks")
        self.chunks = chunks
        self.vectors = vectors
        self.manifest = manifest
        # each document's extracted text (what citation offsets index) and page starts
        self.texts: dict[str, tuple[str, list[int]]] = texts or {}
        # Each report's opening (title, date, venue): context a passage inherits, so
        # "MLSys 2022" counts as said by every passage of the 2022 report.
        self.openings: dict[str, str] = {}
        # A whole section's text: a long section is split into several passages, and
        # the one retrieved may lack the speaker or system its first lines name.
        self.sections: dict[tuple[str, str], str] = {}
        for c in chunks:
            if c.source not in self.openings:
                self.openings[c.source] = c.section + "\n" + c.text[:400]
            key = (c.source, c.section)
            self.sections[key] = self.sections.get(key, c.section) + "\n" + c.text
        # What a document says of itself, which holds for every passage of it: its
        # opening (title, venue, year) and its dated headings ("Keynote (3/2/2020)").
        self.metadata: dict[str, str] = dict(self.openings)
        for source, section in self.sections:
            if _DATED.search(section) and section not in self.metadata[source]:
                self.metadata[source] += "\n" + section

    def section_text(self, chunk: Chunk) -> str:
        """The whole text of ``chunk``'s section, after a first line holding its path
        (its heading lines included)."""
        return self.sections[(chunk.source, chunk.section)]

    def context(self, chunk: Chunk) -> str:
        """What a passage may be taken to say: its whole section and its document's
        metadata."""
        return self.sections[(chunk.source, chunk.section)] + "\n" + self.metadata[chunk.source]

    @property
    def documents(self) -> dict[str, dict[str, Any]]:
        """Each indexed document's record (id, name, type, pages, chunks, sha256,
        indexed_at), by name."""
        return dict(self.manifest.get("documents", {}))

    def page_of(self, source: str, offset: int) -> int | None:
        """1-based page of ``offset`` in ``source`` (None when it has no pages)."""
        return page_of(self.texts.get(source, ("", []))[1], offset)

    @classmethod
    def from_vectors(
        cls,
        chunks: list[Chunk],
        vectors: np.ndarray,
        manifest: dict[str, Any],
        texts: dict[str, tuple[str, list[int]]] | None = None,
        index: VectorIndex | None = None,
    ) -> Store:
        """A store over ``chunks`` whose vectors are upserted into ``index`` (an empty
        FAISS index by default), ids = chunk positions."""
        if index is None:
            index = FaissVectors.empty(vectors.shape[1], len(chunks))
        if len(chunks):
            index.upsert(
                range(len(chunks)),
                vectors,
                [c.embedding_text() for c in chunks],
                [c.source for c in chunks],
            )
        return cls(chunks, index, manifest, texts=texts)

    @property
    def dim(self) -> int:
        return self.vectors.dim

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every term the lexical side knows (as ``tokenize`` makes them)."""
        vocabulary = getattr(self.vectors, "vocabulary", None)
        if isinstance(vocabulary, frozenset):
            return vocabulary
        return frozenset(t for c in self.chunks for t in tokenize(c.embedding_text()))

    @cached_property
    def names_by_id(self) -> dict[str, str]:
        """Each document's name by its id: a question within documents names them by id."""
        return {str(d.get("id")): name for name, d in self.documents.items()}

    @cached_property
    def owners(self) -> dict[str, str]:
        """The terms that name one document, each with that document: terms only it
        holds, and the words of its title no other title has (``titled``). A question
        using terms of two such documents asks about both."""
        where: dict[str, set[str]] = {}
        for c in self.chunks:
            for t in set(tokenize(c.text)) | set(tokenize(c.section)):
                where.setdefault(t, set()).add(c.source)
        only = {t: next(iter(s)) for t, s in where.items() if len(s) == 1}
        return only | self.titled

    @cached_property
    def titled(self) -> dict[str, str]:
        """The words of one document's title (its first heading) that no other title
        has, figures aside, each with that document: "Ashcombe Water" names the water
        company's annual report, though other reports mention the company."""
        titles: dict[str, str] = {}
        for c in self.chunks:
            if c.heading_path and c.source not in titles:
                titles[c.source] = c.heading_path[0]
        where: dict[str, set[str]] = {}
        for source, title in titles.items():
            for t in tokenize(title):
                where.setdefault(t, set()).add(source)
        return {t: next(iter(s)) for t, s in where.items() if len(s) == 1 and not t.isdigit()}

    def search_lexical(self, query: str, k: int, within: Within = None) -> list[tuple[int, float]]:
        """Top-``k`` (chunk position, BM25 score) pairs, best first (of the documents
        ``within`` only, when given)."""
        return self.vectors.search_lexical(query, k, within)

    def search(self, query: np.ndarray, k: int, within: Within = None) -> list[tuple[int, float]]:
        """Top-``k`` (chunk position, cosine score) pairs, best first."""
        return self.vectors.search(query, k, within)

    def search_hybrid(
        self,
        query: str,
        vector: np.ndarray,
        k: int,
        rrf_k: float,
        lexical_weight: float,
        within: Within = None,
    ) -> list[tuple[int, float]]:
        """Dense and lexical top-``k`` fused by reciprocal rank fusion, best first."""
        return self.vectors.search_hybrid(query, vector, k, rrf_k, lexical_weight, within)

    def cosines(self, vector: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Each chunk's dense cosine to ``vector``."""
        return self.vectors.cosines(vector, ids)

    # ---- on disk -------------------------------------------------------------------

    def save(self, root: Path) -> Path:
        """Write this store as a new build under ``root`` and make it current."""
        builds = root / "builds"
        builds.mkdir(parents=True, exist_ok=True)
        build_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=builds))
        try:
            if not isinstance(self.vectors, FaissVectors):
                raise TypeError("only a FAISS-backed store is saved to files")
            index = self.vectors.index
            write_synced(tmp / "vectors.faiss", faiss.serialize_index(index).tobytes())
            lines = (json.dumps(asdict(c), ensure_ascii=False) for c in self.chunks)
            write_synced(tmp / "chunks.jsonl", ("\n".join(lines) + "\n").encode())
            docs = (
                json.dumps({"name": n, "text": t, "page_starts": p}, ensure_ascii=False)
                for n, (t, p) in sorted(self.texts.items())
            )
            write_synced(tmp / "documents.jsonl", ("\n".join(docs) + "\n").encode())
            self.vectors.lexical.save(tmp / "bm25")
            files = sorted(p for p in tmp.rglob("*") if p.is_file())
            for path in files:  # bm25s writes without fsync
                with path.open("rb") as f:
                    os.fsync(f.fileno())
            fsync_dir(tmp / "bm25")
            checksums = {str(p.relative_to(tmp)): file_sha256(p) for p in files}
            manifest = dict(self.manifest, files=checksums)
            manifest["build_id"] = build_id
            manifest["built_at"] = time.time()
            write_synced(tmp / "manifest.json", json.dumps(manifest, indent=2).encode())
            fsync_dir(tmp)
            final = builds / build_id
            os.rename(tmp, final)
            fsync_dir(builds)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        write_atomic(root / "CURRENT", build_id.encode())
        self.manifest = manifest
        self._prune(builds, keep=build_id)
        return final

    @staticmethod
    def _prune(builds: Path, keep: str) -> None:
        done = sorted((p for p in builds.iterdir() if not p.name.startswith(".")), reverse=True)
        for old in [p for p in done if p.name != keep][_KEEP_BUILDS - 1 :]:
            shutil.rmtree(old, ignore_errors=True)
        for tmp in builds.glob(".tmp-*"):  # left behind by a killed build
            if time.time() - tmp.stat().st_mtime > 60:
                shutil.rmtree(tmp, ignore_errors=True)

    @staticmethod
    def current_build(root: Path) -> str | None:
        """The id of the active build, or None when there is none."""
        try:
            return (root / "CURRENT").read_text().strip() or None
        except OSError:
            return None

    @staticmethod
    def current_manifest(root: Path) -> dict[str, Any] | None:
        """The active build's manifest, or None when there is no readable one."""
        try:
            build = root / "builds" / (root / "CURRENT").read_text().strip()
            return json.loads((build / "manifest.json").read_text())
        except (OSError, ValueError):
            return None

    @classmethod
    def load(cls, root: Path, embedding_model: str | None = None, dim: int | None = None) -> Store:
        """Open the active build, checking every file against the manifest's sha256.

        Raises ``IndexNotFound``, ``IndexCorrupt`` or ``IndexMismatch`` (when the
        build's embedding model or dimension is not the one queries will use).
        """
        pointer = root / "CURRENT"
        if not pointer.is_file():
            raise IndexNotFound(f"no index in {root.name}/: {_RUN_INDEX}")
        build = root / "builds" / pointer.read_text().strip()
        try:
            manifest = json.loads((build / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"index manifest unreadable in {build.name}: {_RUN_INDEX}") from exc
        check_manifest(manifest, embedding_model, dim)
        files: dict[str, str] = manifest.get("files", {})
        for name in sorted(set(files) | set(_REQUIRED)):
            path = build / name
            if not path.is_file() or file_sha256(path) != files.get(name):
                raise IndexCorrupt(f"index file {name} is missing or corrupt: {_RUN_INDEX}")
        index = faiss.deserialize_index(np.fromfile(build / "vectors.faiss", dtype=np.uint8))
        with (build / "chunks.jsonl").open(encoding="utf-8") as f:
            chunks = [_chunk_from_json(line) for line in f if line.strip()]
        texts: dict[str, tuple[str, list[int]]] = {}
        with (build / "documents.jsonl").open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    texts[d["name"]] = (d["text"], d["page_starts"])
        vectors = FaissVectors(
            index,
            Bm25Index.load(build / "bm25"),
            {i: c.embedding_text() for i, c in enumerate(chunks)},
            {i: c.source for i, c in enumerate(chunks)},
        )
        return cls(chunks, vectors, manifest, texts)


class IndexLocation(Protocol):
    """Where builds live and which one is current: files (``FileLocation``) or a
    Qdrant collection alias (``rag.index.qdrant.QdrantLocation``)."""

    @property
    def cache_root(self) -> Path:
        """This machine's cache of per-document extraction and vectors."""

    def current_build(self) -> str | None: ...

    def current_manifest(self) -> dict[str, Any] | None: ...

    def load(self, embedding_model: str | None = None, dim: int | None = None) -> Store: ...

    def save(self, store: Store) -> str:
        """Write ``store`` as a new build and make it current (atomically); its id."""

    def new_index(self, dim: int, size: int) -> VectorIndex:
        """An empty vector index for a build of ``size`` chunks."""


class FileLocation:
    """Builds as files under ``root`` (the embedded default)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def cache_root(self) -> Path:
        return self.root / "docs"

    def current_build(self) -> str | None:
        return Store.current_build(self.root)

    def current_manifest(self) -> dict[str, Any] | None:
        return Store.current_manifest(self.root)

    def load(self, embedding_model: str | None = None, dim: int | None = None) -> Store:
        return Store.load(self.root, embedding_model, dim)

    def save(self, store: Store) -> str:
        check_parent(store.manifest, self.current_build())
        return store.save(self.root).name

    def new_index(self, dim: int, size: int) -> VectorIndex:
        return FaissVectors.empty(dim, size)

    def __repr__(self) -> str:
        return f"FileLocation({self.root.name!r})"


def check_manifest(
    manifest: dict[str, Any], embedding_model: str | None = None, dim: int | None = None
) -> None:
    """``IndexMismatch`` unless a build's manifest has this format and, when given, the
    embedding model and dimension queries will use (whatever backend holds the build)."""
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMismatch(
            f"index format {manifest.get('format')} is not {FORMAT_VERSION}: {_RUN_INDEX}"
        )
    if embedding_model is not None and manifest.get("embedding_model") != embedding_model:
        raise IndexMismatch(
            f"index built with embedding model {manifest.get('embedding_model')!r}, "
            f"but {embedding_model!r} is configured: {_RUN_INDEX}"
        )
    if dim is not None and manifest.get("dim") != dim:
        raise IndexMismatch(f"index dimension {manifest.get('dim')} is not {dim}: {_RUN_INDEX}")


def check_parent(manifest: dict[str, Any], current: str | None) -> None:
    """Refuse a build that extends another than the current one (``IndexConflict``):
    a writer elsewhere switched the index while it was built, and saving would drop
    that writer's change."""
    if "parent" in manifest and manifest["parent"] != current:
        raise IndexConflict("the index changed while this build was made; try again")


def _chunk_from_json(line: str) -> Chunk:
    d = json.loads(line)
    return Chunk(d["source"], tuple(d["heading_path"]), d["text"], d["start"], d["end"])
