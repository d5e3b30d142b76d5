"""Report files -> documents -> chunks -> vectors -> a saved ``Store``, incrementally.

Each document's chunks and vectors are kept in a cache entry keyed by its content
hash and the loader, chunker and embedder identities (``index/docs/<key>/``), so a
build re-extracts and re-embeds only new or changed documents, drops deleted ones and
reassembles the rest. An entry is written into a temporary directory and renamed into
place, so a crash leaves either a complete entry or none. The build itself is then
written and switched atomically by the index location (``FileLocation`` writes files,
``QdrantLocation`` a new collection behind an alias).

A document with no local cache entry whose content the current build already holds
is taken from that build (catalogue and vectors), not re-embedded: an API replica with
an empty cache can add one report to a shared Qdrant index without embedding the rest.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ConfigError, DocumentError
from rag.index.embedding import Embedder
from rag.index.lexical import LEXICAL_VERSION
from rag.index.store import FORMAT_VERSION, FileLocation, IndexLocation, Store
from rag.ingest.chunking import chunk_report
from rag.ingest.entries import Entry, EntryCache
from rag.ingest.loaders import LOADER_VERSION, SUFFIXES, Document, load_document
from rag.ingest.titles import distinct_titles
from rag.types import Chunk

__all__ = [
    "CHUNKER_VERSION",
    "IndexResult",
    "SourceFile",
    "build_index",
    "document_id",
    "find_sources",
    "read_sources",
]

log = logging.getLogger(__name__)

CHUNKER_VERSION = 5  # bump when chunking changes in a way that needs re-embedding


@dataclass(frozen=True)
class SourceFile:
    """A report file: ``name`` is its path relative to the folder it was found in."""

    name: str
    path: Path


@dataclass(frozen=True)
class IndexResult:
    """What ``build_index`` did: ``rebuilt`` is False when the index was already current;
    ``embedded`` counts the documents (re-)extracted and embedded by this build."""

    rebuilt: bool
    chunks: int
    sources: int
    skipped: list[str]
    path: Path
    embedded: int = 0


def document_id(name: str) -> str:
    """A stable, URL-safe id for the document at relative path ``name``."""
    return hashlib.sha256(name.encode()).hexdigest()[:16]


def find_sources(paths: Path | Sequence[Path]) -> list[SourceFile]:
    """Every report file under ``paths`` (files, or folders searched recursively), by
    relative name. Hidden files and folders are left out, and so are files whose
    suffix is not a report format. A missing path raises ``ConfigError`` naming it."""
    roots = [paths] if isinstance(paths, Path) else list(paths)
    found: dict[str, SourceFile] = {}
    for root in roots:
        if not root.exists() and not root.is_symlink():
            raise ConfigError(f"corpus path not found: {root}")
        if root.is_dir():
            files = sorted(
                p
                for p in root.rglob("*")
                if not any(part.startswith(".") for part in p.relative_to(root).parts)
                and p.suffix.lower() in SUFFIXES
                and (p.is_file() or not p.exists())  # a dangling link is named, not hidden
            )
            pairs = [(p.relative_to(root).as_posix(), p) for p in files]
        else:
            pairs = [(root.name, root)]
        for name, path in pairs:
            if name in found and found[name].path != path:
                raise ConfigError(f"two files would both be named {name!r}: {found[name].path}")
            found[name] = SourceFile(name, path)
    return [found[n] for n in sorted(found)]


def read_sources(
    paths: Path | Sequence[Path],
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Extracted texts and sha256s of the readable reports under ``paths``, plus the
    names of skipped files.

    A file that is empty, binary, corrupt, encrypted, unreadable or a dangling link is
    skipped with a warning naming it, so one odd file never stops the others.
    """
    texts: dict[str, str] = {}
    hashes: dict[str, str] = {}
    skipped: list[str] = []
    for src in find_sources(paths):
        raw = _bytes(src)
        doc = None if raw is None else _load(src.name, raw)
        if raw is None or doc is None:
            skipped.append(src.name)
            continue
        texts[src.name] = doc.text
        hashes[src.name] = hashlib.sha256(raw).hexdigest()
    return texts, hashes, skipped


def _bytes(src: SourceFile) -> bytes | None:
    """The file's bytes, or None (with a warning naming it) when it cannot be read."""
    try:
        return src.path.read_bytes()
    except OSError as exc:
        log.warning("skipping %s: %s", src.name, exc)
        return None


def _load(name: str, raw: bytes) -> Document | None:
    """The extracted document, or None (with a warning naming it) when it is not one."""
    try:
        return load_document(name, raw)
    except DocumentError as exc:
        log.warning("skipping %s: %s", name, exc)
        return None


def _identity(embedder: Embedder, overlap: int) -> dict[str, Any]:
    """What, besides a document's bytes, decides its chunks and vectors."""
    return {
        "format": FORMAT_VERSION,
        "embedding_model": embedder.name,
        "dim": embedder.dim,
        "chunker": {
            "version": CHUNKER_VERSION,
            "max_tokens": embedder.max_tokens,
            "overlap_tokens": overlap,
        },
        "loader": LOADER_VERSION,
        "lexical": LEXICAL_VERSION,
    }


def build_index(
    paths: Path | Sequence[Path],
    index_root: Path | IndexLocation,
    embedder: Embedder,
    overlap_tokens: int = 24,
    force: bool = False,
    progress: bool = False,
    extra: Sequence[SourceFile] = (),
    keep_current: bool = False,
    drop: Sequence[str] = (),
    titles: Mapping[str, str | None] | None = None,
) -> IndexResult:
    """Index every report under ``paths`` (plus ``extra`` files) into ``index_root``.

    With ``keep_current`` the current build's documents are kept too (minus ``drop``),
    so a report is added or removed without the files of the others: how documents
    change on a shared index. Nothing is written when the result would match the
    current build (unless ``force``). Otherwise only documents without a cache entry
    or a place in the current build are extracted, chunked and embedded; the build is
    assembled from the entries and switched atomically.

    ``titles`` sets documents' titles (None or "": back to the document's own). A set
    title stays while the document's bytes do; every build makes the titles distinct
    (``distinct_titles``), so renaming one document is a build with nothing embedded.
    """
    location = FileLocation(index_root) if isinstance(index_root, Path) else index_root
    sources = {s.name: s for s in find_sources(paths)} if paths else {}
    sources.update({s.name: s for s in extra})
    identity = _identity(embedder, overlap_tokens)
    cache = EntryCache(location.cache_root, identity)
    raws: dict[str, tuple[bytes, str]] = {}
    skipped: list[str] = []
    for name in sorted(sources):
        raw = _bytes(sources[name])
        if raw is None:
            skipped.append(name)
            continue
        raws[name] = (raw, hashlib.sha256(raw).hexdigest())
    hashes = {name: sha for name, (_, sha) in raws.items()}
    current = location.current_manifest()
    same_identity = current is not None and all(current.get(k) == v for k, v in identity.items())
    current_sources: dict[str, str] = dict(current.get("sources", {})) if current else {}
    if keep_current:
        hashes = {n: s for n, s in current_sources.items() if n not in drop} | hashes
    path = location.root if isinstance(location, FileLocation) else location.cache_root
    set_titles = _set_titles(current, current_sources, hashes, titles or {})
    wanted = dict(identity, sources=hashes, titles=set_titles)
    if not force and current and {k: current.get(k) for k in wanted} == wanted:
        n = len(current.get("sources", {}))
        return IndexResult(False, int(current.get("chunks", 0)), n, skipped, path)

    built = _CurrentBuild(location, current_sources if same_identity and not force else {})
    entries: dict[str, Entry] = {}
    todo: dict[str, tuple[Document, list[Chunk]]] = {}
    for name, sha in hashes.items():
        entry = None if force else cache.get(sha) or built.entry(name, sha, cache)
        if entry is not None:
            entries[name] = entry
            continue
        if name not in raws:  # kept from the current build, which no longer has it
            skipped.append(name)
            continue
        doc = _load(name, raws[name][0])
        if doc is None:
            skipped.append(name)
            continue
        count, limit = embedder.count_tokens, embedder.max_tokens
        chunks = chunk_report(name, doc.text, count, limit, overlap_tokens)
        todo[name] = (doc, chunks)
    texts = [c.embedding_text() for _, chunks in todo.values() for c in chunks]
    vectors = (
        embedder.encode(texts, progress=progress)
        if texts
        else np.zeros((0, embedder.dim), dtype=np.float32)
    )
    pos = 0
    for name, (doc, chunks) in todo.items():
        vecs = vectors[pos : pos + len(chunks)]
        pos += len(chunks)
        entries[name] = cache.put(hashes[name], doc, chunks, vecs)

    all_chunks: list[Chunk] = []
    all_vectors: list[np.ndarray] = []
    documents: dict[str, dict[str, Any]] = {}
    shown = distinct_titles({n: (set_titles.get(n) or e.title, e.text) for n, e in entries.items()})
    for name in sorted(entries):
        e = entries[name]
        all_chunks.extend(Chunk(name, c.heading_path, c.text, c.start, c.end) for c in e.chunks)
        all_vectors.append(e.vectors)
        documents[name] = {
            "id": document_id(name),
            "name": name,
            "type": e.kind,
            "pages": len(e.page_starts) or None,
            "chunks": len(e.chunks),
            "sha256": e.sha256,
            "indexed_at": e.indexed_at,
            "chars": len(e.text),
            "title": shown[name],
            "title_set": name in set_titles,
            "set_title": set_titles.get(name),
            "document_title": e.title,
        }
    matrix = (
        np.concatenate(all_vectors)
        if all_vectors
        else np.zeros((0, embedder.dim), dtype=np.float32)
    )
    kept = {name: hashes[name] for name in entries}
    kept_titles = {n: t for n, t in set_titles.items() if n in kept}
    manifest = dict(
        identity, sources=kept, chunks=len(all_chunks), documents=documents, titles=kept_titles
    )
    if keep_current:  # extends the current build: refused if another writer switched it
        manifest["parent"] = current.get("build_id") if current else None
    texts_by_name = {n: (entries[n].text, list(entries[n].page_starts)) for n in entries}
    index = location.new_index(embedder.dim, len(all_chunks))
    try:
        store = Store.from_vectors(all_chunks, matrix, manifest, texts_by_name, index)
        location.save(store)
    except BaseException:
        drop_unfinished = getattr(location, "drop_unfinished", None)
        if drop_unfinished is not None:
            drop_unfinished(index)
        raise
    cache.prune(_referenced(location))
    return IndexResult(True, len(all_chunks), len(entries), skipped, path, len(todo))


def _set_titles(
    current: dict[str, Any] | None,
    current_sources: dict[str, str],
    hashes: dict[str, str],
    titles: Mapping[str, str | None],
) -> dict[str, str]:
    """The titles people set, by document: the current build's while a document's bytes
    are unchanged (a replaced report is a new document), then ``titles``' changes."""
    before = (current or {}).get("titles", {})
    out = {n: t for n, t in before.items() if t and current_sources.get(n) == hashes.get(n)}
    for name, title in titles.items():
        if title and title.strip():
            out[name] = " ".join(title.split())
        else:
            out.pop(name, None)
    return {n: out[n] for n in sorted(out) if n in hashes}


class _CurrentBuild:
    """The current build, opened only when a document has to be taken from it."""

    def __init__(self, location: IndexLocation, sources: dict[str, str]) -> None:
        self.location = location
        self.sources = sources
        self._store: Store | None = None

    def entry(self, name: str, sha256: str, cache: EntryCache) -> Entry | None:
        """``name``'s entry from the current build when it holds this content (then
        cached locally too), else None."""
        if self.sources.get(name) != sha256:
            return None
        if self._store is None:
            self._store = self.location.load()
        store = self._store
        record = store.documents.get(name)
        if record is None or name not in store.texts:
            return None
        ids = [i for i, c in enumerate(store.chunks) if c.source == name]
        text, pages = store.texts[name]
        kind, own = record.get("type", "text"), str(record.get("document_title") or "")
        doc = Document(name, text, kind, tuple(pages), own)
        chunks = [store.chunks[i] for i in ids]
        return cache.put(sha256, doc, chunks, store.vectors.vectors(ids))


def _referenced(location: IndexLocation) -> set[str]:
    """Content hashes of the documents in every build still kept."""
    current = location.current_manifest() or {}
    out: set[str] = set(current.get("sources", {}).values())
    if not isinstance(location, FileLocation):
        return out
    for manifest in (location.root / "builds").glob("*/manifest.json"):
        try:
            out.update(json.loads(manifest.read_text()).get("sources", {}).values())
        except (OSError, ValueError):
            continue
    return out
