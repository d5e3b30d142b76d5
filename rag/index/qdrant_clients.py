"""Qdrant clients shared in a process: one per server or local folder (local mode allows
one per folder), a lock around the embedded engine (it is not thread-safe), and a server
that fails or cannot be reached turned into ``IndexUnavailable`` (HTTP 503)."""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import ConfigError, IndexUnavailable

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

__all__ = ["client_for", "guarded"]


_clients: dict[str, tuple[QdrantClient, threading.Lock | None]] = {}


_clients_lock = threading.Lock()


def client_for(
    url: str | None, path: Path | None, api_key: str | None = None
) -> tuple[QdrantClient, threading.Lock | None]:
    """One client per server or local folder in this process (local mode allows one
    per folder), with a lock when it is local (the embedded engine is not thread-safe)."""
    try:
        from qdrant_client import QdrantClient
    except ImportError as exc:  # pragma: no cover - qdrant-client is a dependency
        raise ConfigError("RAG_VECTOR_STORE=qdrant needs the qdrant-client package") from exc
    key = url or str(path)
    with _clients_lock:
        if key not in _clients:
            if url:
                _clients[key] = (QdrantClient(url=url, api_key=api_key, timeout=30), None)
            elif path is not None:
                path.mkdir(parents=True, exist_ok=True)
                _clients[key] = (QdrantClient(path=str(path)), threading.Lock())
            else:
                raise ConfigError("RAG_VECTOR_STORE=qdrant needs RAG_QDRANT_URL or RAG_QDRANT_PATH")
        return _clients[key]


@atexit.register
def _close_clients() -> None:
    """Close clients before interpreter shutdown (local mode flushes to its folder)."""
    with _clients_lock:
        for client, _ in _clients.values():
            client.close()
        _clients.clear()


@contextmanager
def guarded(lock: threading.Lock | None) -> Iterator[None]:
    """Hold the local engine's lock; a server that cannot be reached or fails becomes
    ``IndexUnavailable`` (HTTP 503), not an unexplained 500."""
    from qdrant_client.http.exceptions import ApiException

    try:
        with lock if lock is not None else nullcontext():
            yield
    except ApiException as exc:
        raise IndexUnavailable(f"Qdrant is unreachable or failed: {exc}") from exc
