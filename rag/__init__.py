"""The library's public surface: what ``api/``, ``eval/``, ``bench/`` and users import.

Light names (settings, errors, records) load at once; the rest load on first use
(PEP 562), so ``import rag`` and ``rag --help`` do not pay for torch and llama.cpp.
Anything not listed in ``__all__`` is internal and may change.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rag.config import DATA_ROOT, Settings
from rag.errors import (
    Busy,
    ConfigError,
    DocumentError,
    DocumentExists,
    DocumentNotFound,
    DocumentTooLarge,
    EmptyQuestion,
    FeedbackUnavailable,
    IndexConflict,
    IndexCorrupt,
    IndexMismatch,
    IndexNotFound,
    IndexUnavailable,
    InvalidQuery,
    ModelCrashed,
    ModelIntegrity,
    ModelNotFound,
    ModelUnavailable,
    RagError,
    ReadOnlyStore,
    StoreUnavailable,
    UnreadableDocument,
    UnsupportedDocument,
)
from rag.types import (
    Admitted,
    Answer,
    Chunk,
    Citation,
    Delta,
    Hit,
    Sentence,
    StreamEvent,
    Timings,
    hit_to_dict,
)

_LAZY = {
    "Pipeline": "rag.serving.pipeline",
    "Options": "rag.types",
    "NO_DOCUMENTS": "rag.serving.pipeline",
    "load_generator": "rag.serving.loading",
    "load_retriever": "rag.serving.loading",
    "answer": "rag.serving.pipeline",
    "Turn": "rag.serving.conversation",
    "validate_turns": "rag.serving.conversation",
    "standalone_query": "rag.serving.conversation",
    "llm_rewrite": "rag.serving.conversation",
    "Collection": "rag.ingest.documents",
    "build_index": "rag.ingest.indexing",
    "find_sources": "rag.ingest.indexing",
    "read_sources": "rag.ingest.indexing",
    "document_id": "rag.ingest.indexing",
    "SentenceTransformerEmbedder": "rag.index.embedding",
    "resolve_model": "rag.answer.models",
    "build_messages": "rag.answer.prompt",
    "REFUSAL": "rag.answer.prompt",
    "write_atomic": "rag.files",
    "normalize_figures": "rag.grounding.terms",
    "RemoteGenerator": "rag.answer.remote",
    "Document": "rag.ingest.loaders",
    "load_document": "rag.ingest.loaders",
    "Store": "rag.index.store",
    "SENTENCE_CHECKS": "rag.grounding.verification",
    "checks_fired": "rag.grounding.verification",
    "checks_off": "rag.grounding.verification",
    "FileLocation": "rag.index.store",
    "index_location": "rag.index.locations",
    "VectorIndex": "rag.index.vectors",
    "FaissVectors": "rag.index.vectors",
    "HNSW_ABOVE": "rag.index.vectors",
    "QdrantLocation": "rag.index.qdrant",
    "QdrantVectors": "rag.index.qdrant_vectors",
    "migrate_schema": "rag.index.pg_db",
    "PostgresLocation": "rag.index.postgres",
    "PostgresVectors": "rag.index.pg_vectors",
    "Verifier": "rag.grounding.verification",
    "FeedbackLog": "rag.serving.feedback",
    "title_of": "rag.serving.selection",
}

__all__ = [
    "DATA_ROOT",
    "HNSW_ABOVE",
    "NO_DOCUMENTS",
    "REFUSAL",
    "Admitted",
    "Answer",
    "Busy",
    "Chunk",
    "Citation",
    "Collection",
    "ConfigError",
    "Delta",
    "Document",
    "DocumentError",
    "DocumentExists",
    "DocumentNotFound",
    "DocumentTooLarge",
    "EmptyQuestion",
    "FaissVectors",
    "FeedbackLog",
    "FeedbackUnavailable",
    "FileLocation",
    "Hit",
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
    "Options",
    "Pipeline",
    "PostgresLocation",
    "PostgresVectors",
    "QdrantLocation",
    "QdrantVectors",
    "RagError",
    "ReadOnlyStore",
    "RemoteGenerator",
    "Sentence",
    "SentenceTransformerEmbedder",
    "Settings",
    "Store",
    "StoreUnavailable",
    "StreamEvent",
    "Timings",
    "Turn",
    "UnreadableDocument",
    "UnsupportedDocument",
    "VectorIndex",
    "Verifier",
    "SENTENCE_CHECKS",
    "checks_fired",
    "checks_off",
    "answer",
    "build_index",
    "build_messages",
    "document_id",
    "find_sources",
    "hit_to_dict",
    "index_location",
    "llm_rewrite",
    "load_document",
    "load_generator",
    "load_retriever",
    "migrate_schema",
    "title_of",
    "normalize_figures",
    "read_sources",
    "resolve_model",
    "standalone_query",
    "validate_turns",
    "write_atomic",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # the lazy names, for type checkers and editors
    from rag.answer.models import resolve_model
    from rag.answer.prompt import REFUSAL, build_messages
    from rag.answer.remote import RemoteGenerator
    from rag.files import write_atomic
    from rag.grounding.terms import normalize_figures
    from rag.grounding.verification import SENTENCE_CHECKS, Verifier, checks_fired, checks_off
    from rag.index.embedding import SentenceTransformerEmbedder
    from rag.index.locations import index_location
    from rag.index.pg_db import migrate_schema
    from rag.index.pg_vectors import PostgresVectors
    from rag.index.postgres import PostgresLocation
    from rag.index.qdrant import QdrantLocation
    from rag.index.qdrant_vectors import QdrantVectors
    from rag.index.store import FileLocation, Store
    from rag.index.vectors import HNSW_ABOVE, FaissVectors, VectorIndex
    from rag.ingest.documents import Collection
    from rag.ingest.indexing import build_index, document_id, find_sources, read_sources
    from rag.ingest.loaders import Document, load_document
    from rag.serving.conversation import Turn, llm_rewrite, standalone_query, validate_turns
    from rag.serving.feedback import FeedbackLog
    from rag.serving.loading import load_generator, load_retriever
    from rag.serving.pipeline import NO_DOCUMENTS, Options, Pipeline, answer
    from rag.serving.selection import title_of
