"""Sources on disk -> chunks -> vectors -> a saved ``Store``; skipped when nothing changed."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.chunking import chunk_report
from rag.embedding import Embedder
from rag.store import FORMAT_VERSION, Store
from rag.types import Chunk

__all__ = ["CHUNKER_VERSION", "IndexResult", "build_index", "read_sources"]

log = logging.getLogger(__name__)

CHUNKER_VERSION = 3  # bump when chunking changes in a way that needs re-embedding
_SUFFIXES = {".txt", ".md", ".markdown"}


@dataclass(frozen=True)
class IndexResult:
    """What ``build_index`` did: ``rebuilt`` is False when the index was already current."""

    rebuilt: bool
    chunks: int
    sources: int
    skipped: list[str]
    path: Path


def read_sources(folder: Path) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Texts and sha256s of the readable reports in ``folder``, plus skipped names.

    A file that is empty, binary, not UTF-8, unreadable or a dangling link is skipped
    with a warning naming it, so one odd file never stops the others from being indexed.
    """
    texts: dict[str, str] = {}
    hashes: dict[str, str] = {}
    skipped: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_dir() or path.suffix.lower() not in _SUFFIXES:
            continue  # a dangling link or an unreadable file is named below, not ignored
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("skipping %s: %s", path.name, exc)
            skipped.append(path.name)
            continue
        if not text.strip() or "\x00" in text:
            log.warning("skipping %s: empty or binary", path.name)
            skipped.append(path.name)
            continue
        texts[path.name] = text
        hashes[path.name] = hashlib.sha256(raw).hexdigest()
    return texts, hashes, skipped


def _identity(embedder: Embedder, overlap: int, hashes: dict[str, str]) -> dict[str, Any]:
    """The manifest fields that decide whether an existing index is still valid."""
    return {
        "format": FORMAT_VERSION,
        "embedding_model": embedder.name,
        "dim": embedder.dim,
        "chunker": {
            "version": CHUNKER_VERSION,
            "max_tokens": embedder.max_tokens,
            "overlap_tokens": overlap,
        },
        "sources": hashes,
    }


def build_index(
    seeds: Path,
    index_root: Path,
    embedder: Embedder,
    overlap_tokens: int = 24,
    force: bool = False,
    progress: bool = False,
) -> IndexResult:
    """Chunk and embed every report in ``seeds`` into ``index_root``.

    Re-embeds only when a source, the embedding model or the chunker settings
    changed since the current build (or ``force``); writes atomically.
    """
    texts, hashes, skipped = read_sources(seeds)
    identity = _identity(embedder, overlap_tokens, hashes)
    current = Store.current_manifest(index_root)
    if not force and current and {k: current.get(k) for k in identity} == identity:
        return IndexResult(False, int(current.get("chunks", 0)), len(texts), skipped, index_root)
    chunks: list[Chunk] = []
    for name, text in texts.items():
        chunks.extend(
            chunk_report(name, text, embedder.count_tokens, embedder.max_tokens, overlap_tokens)
        )
    if chunks:
        vectors = embedder.encode([c.embedding_text() for c in chunks], progress=progress)
    else:
        vectors = np.zeros((0, embedder.dim), dtype=np.float32)
    manifest = dict(identity, chunks=len(chunks))
    Store.from_vectors(chunks, vectors, manifest).save(index_root)
    return IndexResult(True, len(chunks), len(texts), skipped, index_root)
