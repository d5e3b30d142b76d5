"""Which index build a process serves: the newest complete one, switched in whole.

``rag index`` writes a new build beside the old one and switches the ``CURRENT`` pointer
last, so a changed pointer always names a complete build: it is loaded (checksums
verified) and swapped in; requests already running keep the retriever they started
with. A build that fails to load is logged and the old one keeps serving.
"""

from __future__ import annotations

import logging
import threading
import time

from rag.config import Settings
from rag.errors import IndexUnavailable, RagError
from rag.index.locations import index_location
from rag.index.retrieval import Retriever
from rag.serving.loading import load_retriever

__all__ = ["RELOAD_CHECK_S", "Builds"]

log = logging.getLogger(__name__)
RELOAD_CHECK_S = 2.0  # how often the build pointer is read


class Builds:
    """The retriever over the current build, checked at most every ``RELOAD_CHECK_S``."""

    def __init__(self, settings: Settings, retriever: Retriever) -> None:
        self.settings = settings
        self.retriever = retriever
        self.location = index_location(settings)
        self._checked = time.monotonic()
        self._failed: str | None = None
        self._down: IndexUnavailable | None = None  # the last check found the store down
        self._lock = threading.Lock()

    def _serving(self) -> Retriever:
        if self._down is not None:
            raise self._down
        return self.retriever

    def reload(self) -> Retriever:
        """Switch to the newest build now (after this process changed the index)."""
        self._checked = -RELOAD_CHECK_S
        return self.current()

    def current(self) -> Retriever:
        """The retriever over the newest complete build; the old one if it fails to load."""
        now = time.monotonic()
        if now - self._checked < RELOAD_CHECK_S:
            return self._serving()
        with self._lock:
            if now - self._checked < RELOAD_CHECK_S:
                return self._serving()
            self._checked = now
            try:
                build = self.location.current_build()
            except IndexUnavailable as exc:  # its database is down: say so until it is back
                self._down = exc
                raise
            self._down = None
            if build is None or build in (
                self.retriever.store.manifest.get("build_id"),
                self._failed,
            ):
                return self.retriever
            try:
                self.retriever = load_retriever(self.settings, self.retriever.embedder)
                log.info("index reloaded: build %s", build)
            except RagError as exc:
                self._failed = build
                log.error("new index %s not loaded, still serving the old one: %s", build, exc)
        return self.retriever
