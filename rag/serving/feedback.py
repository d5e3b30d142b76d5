"""Readers' verdicts on answers, kept durably, and turned into draft eval items.

Each verdict is one JSON line appended with a single ``write`` to a file opened
``O_APPEND`` and fsynced before the caller hears back: a reply of 201 means the line is
on disk, whatever happens to the process next. A line cut short by a crash of the
machine mid-write is skipped on reading (and said so) rather than losing the rest; the
next verdict starts on a line of its own. A disk that cannot take the line is a 503.

The service's eval sets are written by its developers; people who use it see the
questions nobody thought of. A "wrong" verdict becomes a draft eval item (the
question, the answer given, the reader's note) with its expected terms left empty:
only a person who knows the right answer can fill them, and ``rag eval`` refuses an
item until someone does.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from rag.errors import FeedbackUnavailable
from rag.files import fsync_dir

__all__ = ["FeedbackLog", "Verdict", "draft_items"]

log = logging.getLogger(__name__)

Verdict = Literal["helpful", "wrong"]


class FeedbackLog:
    """An append-only file of feedback records, one JSON object a line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # one writer at a time within this process

    def add(self, record: dict[str, Any]) -> dict[str, Any]:
        """Append ``record`` (given an ``id`` and a time ``at``); returns it once it is
        on disk."""
        kept = {"id": uuid.uuid4().hex, "at": time.time(), **record}
        line = (json.dumps(kept, ensure_ascii=False) + "\n").encode()
        with self._lock:
            try:
                self._append(line)
            except OSError as exc:
                raise FeedbackUnavailable(f"feedback could not be kept: {exc.strerror}") from exc
        return kept

    def _append(self, line: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # a line torn by a crash stays alone, this one whole
            while line:  # one write, unless the kernel takes less; then the rest
                line = line[os.write(fd, line) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:
            fsync_dir(self.path.parent)  # the file's name is durable too

    def read(self) -> list[dict[str, Any]]:
        """Every complete record, oldest first (none when the file does not exist)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        out: list[dict[str, Any]] = []
        for n, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                log.warning("%s: line %d is not a complete record; skipped", self.path, n)
        return out


def draft_items(records: list[dict[str, Any]], prefix: str = "fb") -> list[dict[str, Any]]:
    """The "wrong" verdicts as eval items (the eval set's format) for an engineer to
    complete: ``must_include`` is empty and ``answer`` is left for the right answer; the
    service's answer, the citations and the reader's note ride along as context."""
    items: list[dict[str, Any]] = []
    for r in records:
        if r.get("rating") != "wrong":
            continue
        sources = list(dict.fromkeys(c.get("source", "") for c in r.get("citations") or []))
        items.append(
            {
                "id": f"{prefix}-{str(r.get('id', ''))[:8]}",
                "question": r.get("question", ""),
                "answer": "",
                "must_include": [],
                "sources": [s for s in sources if s],
                "kind": "feedback",
                "split": "dev",
                "draft": True,
                "answer_given": r.get("answer", ""),
                "note": r.get("note", ""),
                "build_id": r.get("build_id", ""),
            }
        )
    return items
