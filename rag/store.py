"""FAISS vectors + chunk metadata on disk, switched atomically, verified on load.

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
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag.errors import IndexCorrupt, IndexMismatch, IndexNotFound
from rag.files import file_sha256, fsync_dir, write_atomic, write_synced
from rag.lexical import Bm25Index
from rag.loaders import page_of
from rag.types import Chunk

__all__ = ["FORMAT_VERSION", "Store"]

FORMAT_VERSION = 3
_REQUIRED = ("vectors.faiss", "chunks.jsonl", "documents.jsonl", "bm25/n_docs.json")
_KEEP_BUILDS = 2  # the active build and the one before it
_DATED = re.compile(r"\b(19|20)\d\d\b")
_RUN_INDEX = "run `rag index` to rebuild it"


class Store:
    """Exact inner-product search (``IndexFlatIP``) over normalised chunk vectors.

    Exact search is the right choice at this scale: a few thousand chunks search in
    well under a millisecond, with no recall lost to approximation.
    """

    def __init__(
        self,
        chunks: list[Chunk],
        index: faiss.Index,
        manifest: dict[str, Any],
        lexical: Bm25Index | None = None,
        texts: dict[str, tuple[str, list[int]]] | None = None,
    ) -> None:
        if index.ntotal != len(chunks):
            raise IndexCorrupt(f"index holds {index.ntotal} vectors for {len(chunks)} chunks")
        self.chunks = chunks
        self.index = index
        self.manifest = manifest
        # each document's extracted text (what citation offsets index) and page starts
        self.texts: dict[str, tuple[str, list[int]]] = texts or {}
        self.lexical = lexical or Bm25Index.build([c.embedding_text() for c in chunks])
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
    ) -> Store:
        index = faiss.IndexFlatIP(vectors.shape[1])
        if len(chunks):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(chunks, index, manifest, texts=texts)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def search_lexical(self, query: str, k: int) -> list[tuple[int, float]]:
        """Top-``k`` (chunk position, BM25 score) pairs, best first."""
        return self.lexical.search(query, k)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Top-``k`` (chunk position, cosine score) pairs, best first."""
        k = min(k, len(self.chunks))
        if k <= 0:
            return []
        scores, ids = self.index.search(query.reshape(1, -1).astype(np.float32), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    # ---- on disk -------------------------------------------------------------------

    def save(self, root: Path) -> Path:
        """Write this store as a new build under ``root`` and make it current."""
        builds = root / "builds"
        builds.mkdir(parents=True, exist_ok=True)
        build_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=builds))
        try:
            write_synced(tmp / "vectors.faiss", faiss.serialize_index(self.index).tobytes())
            lines = (json.dumps(asdict(c), ensure_ascii=False) for c in self.chunks)
            write_synced(tmp / "chunks.jsonl", ("\n".join(lines) + "\n").encode())
            docs = (
                json.dumps({"name": n, "text": t, "page_starts": p}, ensure_ascii=False)
                for n, (t, p) in sorted(self.texts.items())
            )
            write_synced(tmp / "documents.jsonl", ("\n".join(docs) + "\n").encode())
            self.lexical.save(tmp / "bm25")
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
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexMismatch(
                f"index format {manifest.get('format')} is not {FORMAT_VERSION}: {_RUN_INDEX}"
            )
        files: dict[str, str] = manifest.get("files", {})
        for name in sorted(set(files) | set(_REQUIRED)):
            path = build / name
            if not path.is_file() or file_sha256(path) != files.get(name):
                raise IndexCorrupt(f"index file {name} is missing or corrupt: {_RUN_INDEX}")
        if embedding_model is not None and manifest.get("embedding_model") != embedding_model:
            raise IndexMismatch(
                f"index built with embedding model {manifest.get('embedding_model')!r}, "
                f"but {embedding_model!r} is configured: {_RUN_INDEX}"
            )
        if dim is not None and manifest.get("dim") != dim:
            raise IndexMismatch(f"index dimension {manifest.get('dim')} is not {dim}: {_RUN_INDEX}")
        index = faiss.deserialize_index(np.fromfile(build / "vectors.faiss", dtype=np.uint8))
        with (build / "chunks.jsonl").open(encoding="utf-8") as f:
            chunks = [_chunk_from_json(line) for line in f if line.strip()]
        texts: dict[str, tuple[str, list[int]]] = {}
        with (build / "documents.jsonl").open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    texts[d["name"]] = (d["text"], d["page_starts"])
        return cls(chunks, index, manifest, Bm25Index.load(build / "bm25"), texts)


def _chunk_from_json(line: str) -> Chunk:
    d = json.loads(line)
    return Chunk(d["source"], tuple(d["heading_path"]), d["text"], d["start"], d["end"])
