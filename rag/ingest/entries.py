"""Per-document cache entries: one document's extracted text, title, chunks and vectors,
kept on disk by its content hash and the identities of the loader, chunker and
embedder (``index/docs/<key>/``), so a build re-embeds only what changed.

An entry is written into a temporary folder and renamed into place: a crash leaves a
complete entry or none, and a damaged one is refused (rebuilt from the file).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.files import fsync_dir, write_synced
from rag.ingest.loaders import Document
from rag.types import Chunk

__all__ = ["Entry", "EntryCache"]


@dataclass(frozen=True)
class Entry:
    sha256: str
    kind: str
    text: str
    page_starts: tuple[int, ...]
    chunks: list[Chunk]
    vectors: np.ndarray
    indexed_at: float
    title: str = ""


class EntryCache:
    """Per-document chunks and vectors on disk, content-addressed and write-once."""

    def __init__(self, root: Path, identity: dict[str, Any]) -> None:
        self.root = root
        self.salt = json.dumps(identity, sort_keys=True)

    def key(self, sha256: str) -> str:
        return hashlib.sha256(f"{self.salt}\n{sha256}".encode()).hexdigest()[:32]

    def get(self, sha256: str) -> Entry | None:
        folder = self.root / self.key(sha256)
        try:
            meta = json.loads((folder / "document.json").read_text(encoding="utf-8"))
            vectors = np.load(folder / "vectors.npy")
            chunks = [Chunk("", tuple(c[0]), c[1], c[2], c[3]) for c in meta["chunks"]]
        except (OSError, ValueError, KeyError):
            return None  # absent or damaged: rebuilt from the file
        if len(chunks) != len(vectors) or meta.get("sha256") != sha256:
            return None
        starts = tuple(meta["page_starts"])
        return Entry(
            sha256,
            meta["kind"],
            meta["text"],
            starts,
            chunks,
            vectors,
            meta["indexed_at"],
            meta.get("title", ""),
        )

    def put(self, sha256: str, doc: Document, chunks: list[Chunk], vectors: np.ndarray) -> Entry:
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        entry = Entry(
            sha256, doc.kind, doc.text, doc.page_starts, chunks, vecs, time.time(), doc.title
        )
        meta = {
            "sha256": sha256,
            "kind": doc.kind,
            "text": doc.text,
            "page_starts": list(doc.page_starts),
            "indexed_at": entry.indexed_at,
            "title": doc.title,
            "chunks": [[list(c.heading_path), c.text, c.start, c.end] for c in chunks],
        }
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / self.key(sha256)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.root))
        try:
            write_synced(tmp / "document.json", json.dumps(meta, ensure_ascii=False).encode())
            with (tmp / "vectors.npy").open("wb") as f:
                np.save(f, entry.vectors)
                f.flush()
                os.fsync(f.fileno())
            fsync_dir(tmp)
            if final.exists():
                shutil.rmtree(final)  # a damaged entry (get() refused it)
            os.rename(tmp, final)
            fsync_dir(self.root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return entry

    def prune(self, keep: set[str]) -> None:
        """Drop entries no kept build uses (and temporaries of killed builds)."""
        if not self.root.is_dir():
            return
        keys = {self.key(sha) for sha in keep}
        for path in self.root.iterdir():
            stale_tmp = path.name.startswith(".tmp-") and time.time() - path.stat().st_mtime > 60
            if stale_tmp or (not path.name.startswith(".") and path.name not in keys):
                shutil.rmtree(path, ignore_errors=True)
