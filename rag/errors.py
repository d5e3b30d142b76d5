"""One exception tree for the library, so callers (CLI, HTTP) map failures by type.

RagError
├── ConfigError          a setting is unusable (bad path, bad value)
├── IndexUnavailable     the on-disk index is absent, stale or damaged
│   ├── IndexNotFound
│   ├── IndexMismatch    built with another embedding model / dimension
│   ├── IndexCorrupt     a file is unreadable or fails its checksum
│   └── StoreUnavailable the index's database server cannot be reached or failed
├── IndexConflict        another writer switched the shared index during this build
├── ReadOnlyStore        a write to a replica that reads a read-only standby
├── ModelIntegrity       a GGUF file does not match its expected sha256
├── ModelNotFound        no model file and no way to assemble one
├── ModelCrashed         the installed llama.cpp dies evaluating a prompt on this CPU
├── ModelUnavailable     the remote model server cannot be reached or failed
├── InvalidQuery         a question the pipeline refuses to process
│   ├── EmptyQuestion
│   └── UnknownDocuments  a question asked within documents the index does not hold
├── DocumentError        a report file that cannot be added
│   ├── UnsupportedDocument  not a report format (an image, an archive, a binary)
│   ├── UnreadableDocument   corrupt, encrypted, empty or without a text layer
│   ├── DocumentTooLarge     over the configured upload limit
│   ├── DocumentExists       another document already has that name
│   └── DocumentNotFound     no document with that id
├── FeedbackUnavailable  feedback could not be written to disk (full, read-only)
└── Busy                 the model's queue is full or the wait too long (retry later)
"""

from __future__ import annotations

__all__ = [
    "Busy",
    "ConfigError",
    "DocumentError",
    "DocumentExists",
    "DocumentNotFound",
    "DocumentTooLarge",
    "EmptyQuestion",
    "FeedbackUnavailable",
    "IndexConflict",
    "IndexCorrupt",
    "IndexMismatch",
    "IndexNotFound",
    "IndexUnavailable",
    "InvalidQuery",
    "ModelCrashed",
    "ModelIntegrity",
    "ModelNotFound",
    "ModelUnavailable",
    "RagError",
    "ReadOnlyStore",
    "StoreUnavailable",
    "UnknownDocuments",
    "UnreadableDocument",
    "UnsupportedDocument",
]


class RagError(Exception):
    """Base of every error the library raises on purpose."""


class ConfigError(RagError):
    """A setting cannot be used as given."""


class IndexUnavailable(RagError):
    """The on-disk index cannot serve queries."""


class IndexNotFound(IndexUnavailable):
    """No built index where the settings point."""


class IndexMismatch(IndexUnavailable):
    """The index was built with settings incompatible with the current ones."""


class IndexCorrupt(IndexUnavailable):
    """An index file is missing, unreadable or fails its checksum."""


class StoreUnavailable(IndexUnavailable):
    """The database holding the index (PostgreSQL) cannot be reached or failed."""


class IndexConflict(RagError):
    """The shared index changed under a build that meant to extend it (retry)."""


class ReadOnlyStore(RagError):
    """This replica reads a read-only database (a hot standby): writes go to the primary."""


class ModelIntegrity(RagError):
    """A model file's sha256 differs from the expected one: refusing to load it."""


class ModelCrashed(RagError):
    """The start-up self-check's child died evaluating a prompt (a build for the wrong CPU)."""


class ModelNotFound(RagError):
    """No model file exists and none can be assembled."""


class ModelUnavailable(RagError):
    """The remote model server cannot be reached, or failed during an answer."""


class InvalidQuery(RagError):
    """The question cannot be processed as given."""


class EmptyQuestion(InvalidQuery):
    """The question is empty or whitespace."""


class UnknownDocuments(InvalidQuery):
    """A question is restricted to document ids no indexed document has."""


class DocumentError(RagError):
    """A report file cannot be added to (or found in) the collection."""


class UnsupportedDocument(DocumentError):
    """The bytes are not a format the service reads (PDF, Word, HTML, Markdown, text)."""


class UnreadableDocument(DocumentError):
    """A supported format, but corrupt, encrypted, empty or without a text layer."""


class DocumentTooLarge(DocumentError):
    """The file exceeds the upload limit."""


class DocumentExists(DocumentError):
    """A different document already has the upload's name (replace it on purpose)."""


class DocumentNotFound(DocumentError):
    """No indexed document has the given id."""


class FeedbackUnavailable(RagError):
    """A reader's verdict could not be kept (the disk is full or read-only)."""


class Busy(RagError):
    """The model cannot take this request soon enough; ``retry_after_s`` says when to retry."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
