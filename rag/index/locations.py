"""Which index location the settings name, and the writer lock a location may hold:
kept apart from ``store.py`` (the FAISS files), which every backend imports."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from rag.index.store import FileLocation, IndexLocation

if TYPE_CHECKING:
    from rag.config import Settings

__all__ = ["index_location", "writing"]


def writing(location: IndexLocation) -> AbstractContextManager[None]:
    """The location's writer lock for a whole build, where writers on several
    processes share it (Postgres); nothing to hold otherwise."""
    lock = getattr(location, "writing", None)
    return lock() if lock is not None else nullcontext()


def index_location(settings: Settings) -> IndexLocation:
    """The index location ``RAG_VECTOR_STORE`` names."""
    if settings.vector_store == "qdrant":
        from rag.index.qdrant import QdrantLocation

        return QdrantLocation.from_settings(settings)
    if settings.vector_store == "postgres":
        from rag.index.postgres import PostgresLocation

        return PostgresLocation.from_settings(settings)
    return FileLocation(settings.index_path)
