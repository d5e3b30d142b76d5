"""The document collection: list, read, add and remove reports, keeping the corpus
folder and the index in step.

Writes are serialised by one lock. Adding a file stages it (hidden, so no build sees
it), builds an index that includes it under its final name, and only then moves it
into the corpus; removing a file moves it out (hidden) before the build and deletes it
after. A failure or a kill before the index switch leaves corpus and index as they
were; the build is incremental, so one document costs one document's embedding.

On a shared index (Qdrant) the index itself is the collection: a report is added or
removed by a build that keeps the current build's other documents, so any replica
can do it without the files (no corpus folder is written).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from rag.errors import (
    ConfigError,
    DocumentExists,
    DocumentNotFound,
    DocumentTooLarge,
    IndexConflict,
    InvalidQuery,
)
from rag.files import fsync_dir, write_synced
from rag.index.embedding import Embedder
from rag.index.locations import writing
from rag.index.store import FileLocation, IndexLocation, Store
from rag.ingest.indexing import IndexResult, SourceFile, build_index
from rag.ingest.loaders import SUFFIXES, load_document

__all__ = ["Collection", "Upload", "safe_name"]

_Records = list[dict[str, Any]]  # (named here: in the class, ``list`` is a method)
_CONFLICT_RETRIES = 3
_STAGING = ".staging"  # inside the corpus folder; hidden, so never indexed
_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)
_SUFFIX_OF = {"pdf": ".pdf", "docx": ".docx", "html": ".html", "markdown": ".md", "text": ".txt"}


def safe_name(filename: str, kind: str = "text") -> str:
    """A plain file name for an upload: folders, control characters and odd
    punctuation removed, and the suffix of its format (``kind``) added when its own is
    not a report suffix. Raises ``InvalidQuery`` when no name is left."""
    base = PurePosixPath(filename.replace("\\", "/")).name
    base = _UNSAFE.sub("_", base).strip(" ._")
    if not base:
        raise InvalidQuery(f"file name {filename!r} is empty once folders are removed")
    if PurePosixPath(base).suffix.lower() not in SUFFIXES:
        base += _SUFFIX_OF[kind]
    return base[-200:]


@dataclass(frozen=True)
class Upload:
    """What an upload did: ``added`` a new document, ``replaced`` one of the same name
    (asked for), or found its bytes ``existing`` already (nothing written or built)."""

    record: dict[str, Any]
    outcome: Literal["added", "replaced", "existing"]
    result: IndexResult | None = None  # the build, when there was one
    replaced: dict[str, Any] | None = None  # the record of the document it replaced


class Collection:
    """The reports under ``corpus`` and their index under ``index_root``."""

    def __init__(
        self,
        corpus: Path,
        index_root: Path | IndexLocation,
        embedder: Embedder,
        overlap_tokens: int = 24,
        max_bytes: int = 25 * 2**20,
        current: Callable[[], Store] | None = None,
    ) -> None:
        self.corpus = corpus
        self.location = FileLocation(index_root) if isinstance(index_root, Path) else index_root
        # files: the corpus folder is the truth; otherwise the current build is
        self.shared = not isinstance(self.location, FileLocation)
        self.embedder = embedder
        self.overlap_tokens = overlap_tokens
        self.max_bytes = max_bytes
        self._current = current  # the store a server already has loaded, if any
        self._lock = threading.Lock()

    # ---- reading ---------------------------------------------------------------

    def _store(self) -> Store:
        if self._current is not None:
            return self._current()
        return self.location.load(self.embedder.name, self.embedder.dim)

    def list(self, store: Store | None = None) -> list[dict[str, Any]]:
        """The indexed documents (id, name, type, pages, chunks, sha256, indexed_at)."""
        store = store or self._store()
        return [dict(d) for _, d in sorted(store.documents.items())]

    def get(self, doc_id: str, store: Store | None = None) -> dict[str, Any]:
        """One document's record; ``DocumentNotFound`` when no document has that id."""
        for record in self.list(store):
            if record["id"] == doc_id:
                return record
        raise DocumentNotFound(f"no document with id {doc_id!r}")

    def text(
        self, doc_id: str, start: int = 0, end: int | None = None, store: Store | None = None
    ) -> dict[str, Any]:
        """The extracted text ``[start:end]`` of a document: what citation offsets index,
        so a client can show a quote in its context."""
        store = store or self._store()
        record, text, end = self._span(doc_id, start, end, store)
        return {
            "id": doc_id,
            "name": record["name"],
            "start": start,
            "end": end,
            "length": len(text),
            "text": text[start:end],
            "page": store.page_of(record["name"], start),
        }

    def _span(
        self, doc_id: str, start: int, end: int | None, store: Store
    ) -> tuple[dict[str, Any], str, int]:
        """A document's record, its text and ``end`` (the text's end when None);
        ``InvalidQuery`` unless ``0 <= start <= end <= len(text)``."""
        record = self.get(doc_id, store)
        text, _ = store.texts[record["name"]]
        end = len(text) if end is None else end
        if not 0 <= start <= end <= len(text):
            raise InvalidQuery(
                f"start and end must satisfy 0 <= start <= end <= {len(text)} (got {start}, {end})"
            )
        return record, text, end

    def section(
        self, doc_id: str, start: int, end: int, store: Store | None = None
    ) -> dict[str, Any]:
        """The section around ``[start, end)`` (a citation's quote) as safe HTML with
        the quote marked (``rag.serving.sources``)."""
        from rag.serving.sources import SECTION_LIMIT, render_section, section_around

        store = store or self._store()
        record, text, end = self._span(doc_id, start, end, store)
        if end - start > SECTION_LIMIT:
            raise InvalidQuery(f"a quote is at most {SECTION_LIMIT} characters (got {end - start})")
        a, b = section_around(text, start, end)
        return {
            "id": doc_id,
            "name": record["name"],
            "title": record.get("title") or record["name"],
            "start": a,
            "end": b,
            "length": len(text),
            "page": store.page_of(record["name"], start),
            # only Markdown's tags are markup; other formats' "<" is text the loader kept
            "html": render_section(
                text[a:b], (start - a, end - a), raw_html=record.get("type") == "markdown"
            ),
        }

    # ---- writing ---------------------------------------------------------------

    def add(
        self, filename: str, data: bytes, replace: bool = False, title: str | None = None
    ) -> Upload:
        """Add a report (called ``title`` when given, else by its own title); returns
        what happened once it is indexed.

        Bytes already indexed (under any name) return that document, unchanged: never a
        second copy. A new document whose name is taken raises ``DocumentExists`` unless
        ``replace``. Also raises ``DocumentTooLarge``, ``InvalidQuery`` (no usable file
        name), ``UnsupportedDocument`` or ``UnreadableDocument``: then nothing has changed.
        """
        if len(data) > self.max_bytes:
            raise DocumentTooLarge(f"file is {len(data)} bytes; the limit is {self.max_bytes}")
        # what the bytes are decides, before any write: unsupported or unreadable is refused
        kind = load_document(filename, data).kind
        name = safe_name(filename, kind)
        digest = hashlib.sha256(data).hexdigest()
        # checked where writes are serialised (in this process, and on a shared index in
        # every replica), so two uploads cannot race; a shared index is read afresh, as
        # another replica may have changed it since this one loaded it
        with self._lock, writing(self.location):
            records = self._records()
            same = [r for r in records if r.get("sha256") == digest]
            if same and title and title.strip() != same[0].get("set_title"):
                renamed = self._build(titles={same[0]["name"]: title})  # the same, renamed
                return Upload(self._record(same[0]["name"]), "existing", renamed)
            if same:
                return Upload(same[0], "existing")
            taken = next((r for r in records if r["name"] == name), None)
            if taken is not None and not replace:
                raise DocumentExists(
                    f"a different document named {name!r} is already indexed (id "
                    f"{taken['id']}); upload with replace=true to replace it"
                )
            result = self._write(name, data, title)
            record = self._record(name)  # the new build's record
        if taken is None:
            return Upload(record, "added", result)
        return Upload(record, "replaced", result, taken)

    def _record(self, name: str) -> dict[str, Any]:
        """Document ``name``'s record in the current build."""
        manifest = self.location.current_manifest() or {}
        return dict(manifest.get("documents", {})[name])

    def rename(self, doc_id: str, title: str | None) -> dict[str, Any]:
        """Set a document's title (None or "": back to its own); a build that embeds
        nothing. Returns the new record."""
        with self._lock, writing(self.location):
            record = next((r for r in self._records() if r["id"] == doc_id), None)
            if record is None:
                raise DocumentNotFound(f"no document with id {doc_id!r}")
            self._build(titles={record["name"]: title})
            return self._record(record["name"])

    def _write(self, name: str, data: bytes, title: str | None = None) -> IndexResult:
        """Index ``data`` as ``name`` (under the lock)."""
        titles = {name: title} if title else None
        if self.shared:
            with tempfile.TemporaryDirectory(prefix="rag-up-") as tmp:
                path = Path(tmp) / "upload"
                path.write_bytes(data)
                return self._build(extra=[SourceFile(name, path)], titles=titles)
        self.corpus.mkdir(parents=True, exist_ok=True)
        staging = self.corpus / _STAGING
        staging.mkdir(exist_ok=True)
        tmp_file = Path(tempfile.mkdtemp(prefix="up-", dir=staging)) / name
        try:
            write_synced(tmp_file, data)
            result = self._build(extra=[SourceFile(name, tmp_file)], titles=titles)
            os.replace(tmp_file, self.corpus / name)  # now the corpus holds what the index does
            fsync_dir(self.corpus)
        finally:
            shutil.rmtree(tmp_file.parent, ignore_errors=True)
            _remove_if_empty(staging)
        return result

    def remove(self, doc_id: str) -> dict[str, Any]:
        """Remove a report from the corpus and the index; returns its last record."""
        with self._lock, writing(self.location):
            record = next((r for r in self._records() if r["id"] == doc_id), None)
            if record is None:
                raise DocumentNotFound(f"no document with id {doc_id!r}")
            if self.shared:
                self._build(drop=[record["name"]])
                return record
            path = self.corpus / record["name"]
            staging = self.corpus / _STAGING
            staging.mkdir(parents=True, exist_ok=True)
            held = staging / f"rm-{time.time_ns()}-{path.name}"
            if path.exists():
                os.replace(path, held)  # out of the corpus, still restorable
            try:
                self._build()
            except BaseException:
                if held.exists():
                    os.replace(held, path)
                _remove_if_empty(staging)
                raise
            held.unlink(missing_ok=True)
            _remove_if_empty(staging)
            return record

    def read_only(self) -> bool:
        """Whether the index is read-only here (a replica reading a hot standby)."""
        read_only = getattr(self.location, "read_only", None)
        return bool(read_only()) if read_only is not None else False

    def _records(self) -> _Records:
        """The documents as the index holds them now: the current build's own record on a
        shared index, the loaded store otherwise."""
        if not self.shared:
            return self.list()
        documents = (self.location.current_manifest() or {}).get("documents", {})
        return [dict(d) for _, d in sorted(documents.items())]

    def rebuild(self) -> IndexResult:
        """Bring the index in step with the corpus folder (only what changed)."""
        with self._lock, writing(self.location):
            return self._build()

    def _build(
        self,
        extra: Sequence[SourceFile] = (),
        drop: Sequence[str] = (),
        titles: Mapping[str, str | None] | None = None,
    ) -> IndexResult:
        if self.shared:
            for attempt in range(_CONFLICT_RETRIES):
                try:
                    return build_index(
                        [],
                        self.location,
                        self.embedder,
                        self.overlap_tokens,
                        extra=extra,
                        keep_current=True,
                        drop=drop,
                        titles=titles,
                    )
                except IndexConflict:  # another replica switched the index: redo on top
                    if attempt == _CONFLICT_RETRIES - 1:
                        raise
            raise AssertionError("unreachable")
        if not self.corpus.is_dir():
            raise ConfigError(f"corpus folder not found: {self.corpus}")
        return build_index(
            self.corpus,
            self.location,
            self.embedder,
            self.overlap_tokens,
            extra=extra,
            titles=titles,
        )


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty (another write is staged) or already gone
