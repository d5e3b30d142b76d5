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
    "Pipeline": "rag.pipeline",
    "Options": "rag.pipeline",
    "NO_DOCUMENTS": "rag.pipeline",
    "load_generator": "rag.pipeline",
    "load_retriever": "rag.pipeline",
    "answer": "rag.pipeline",
    "Turn": "rag.conversation",
    "validate_turns": "rag.conversation",
    "standalone_query": "rag.conversation",
    "llm_rewrite": "rag.conversation",
    "Collection": "rag.documents",
    "build_index": "rag.indexing",
    "find_sources": "rag.indexing",
    "read_sources": "rag.indexing",
    "document_id": "rag.indexing",
    "SentenceTransformerEmbedder": "rag.embedding",
    "resolve_model": "rag.models",
    "build_messages": "rag.prompt",
    "REFUSAL": "rag.prompt",
    "write_atomic": "rag.files",
    "normalize_figures": "rag.terms",
    "RemoteGenerator": "rag.remote",
    "Document": "rag.loaders",
    "load_document": "rag.loaders",
    "Store": "rag.store",
    "FileLocation": "rag.store",
    "index_location": "rag.store",
    "VectorIndex": "rag.vectors",
    "FaissVectors": "rag.vectors",
    "HNSW_ABOVE": "rag.vectors",
    "QdrantLocation": "rag.qdrant",
    "QdrantVectors": "rag.qdrant",
    "Verifier": "rag.verification",
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
    "QdrantLocation",
    "QdrantVectors",
    "RagError",
    "RemoteGenerator",
    "Sentence",
    "SentenceTransformerEmbedder",
    "Settings",
    "Store",
    "StreamEvent",
    "Timings",
    "Turn",
    "UnreadableDocument",
    "UnsupportedDocument",
    "VectorIndex",
    "Verifier",
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
    from rag.conversation import Turn, llm_rewrite, standalone_query, validate_turns
    from rag.documents import Collection
    from rag.embedding import SentenceTransformerEmbedder
    from rag.files import write_atomic
    from rag.indexing import build_index, document_id, find_sources, read_sources
    from rag.loaders import Document, load_document
    from rag.models import resolve_model
    from rag.pipeline import (
        NO_DOCUMENTS,
        Options,
        Pipeline,
        answer,
        load_generator,
        load_retriever,
    )
    from rag.prompt import REFUSAL, build_messages
    from rag.qdrant import QdrantLocation, QdrantVectors
    from rag.remote import RemoteGenerator
    from rag.store import FileLocation, Store, index_location
    from rag.terms import normalize_figures
    from rag.vectors import HNSW_ABOVE, FaissVectors, VectorIndex
    from rag.verification import Verifier
