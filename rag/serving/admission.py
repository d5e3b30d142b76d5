"""A bounded, first-come-first-served queue in front of the model.

A local model generates one answer at a time (a batching inference server a few:
``slots``). Without a queue, callers pile up on a lock in
arbitrary order and wait without limit. Here each caller takes a ticket: it is refused at
once (``Busy``, with a retry hint) when the queue is full or its expected wait (the
callers ahead times the recent generation time) exceeds ``max_wait_s``, and it leaves the
queue if it was cancelled (its client went away) or waited ``max_wait_s`` after all.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rag.errors import Busy

__all__ = ["Admission", "Cancelled"]

_POLL_S = 0.25  # how often a waiter checks whether its caller was cancelled


class Cancelled(Exception):  # noqa: N818 - a signal, not a failure
    """The caller went away while waiting for the model."""


class Admission:
    """FIFO admission to the model's ``slots`` for ``max_waiting`` callers, at most
    ``max_wait_s``."""

    def __init__(self, max_waiting: int = 8, max_wait_s: float = 120.0, slots: int = 1) -> None:
        self.max_waiting = max_waiting
        self.max_wait_s = max_wait_s
        self.slots = max(1, slots)
        self._lock = threading.Lock()
        self._queue: collections.deque[threading.Event] = collections.deque()
        self._running = 0
        self._service_s = 15.0  # moving average of one generation; a first guess
        self.admitted = 0
        self.rejected = 0

    @property
    def depth(self) -> int:
        """Callers waiting, not counting the one generating."""
        with self._lock:
            return len(self._queue)

    @property
    def busy(self) -> bool:
        """Whether the model is generating for anyone."""
        with self._lock:
            return self._running > 0

    def _retry_after(self, ahead: int) -> int:
        return max(1, math.ceil((ahead + 1) * self._service_s / self.slots))

    @contextmanager
    def slot(self, cancel: threading.Event | None = None) -> Iterator[None]:
        """Hold the model for the duration of the ``with`` block, in arrival order.

        Raises ``Busy`` at once when the queue is full or the expected wait is too
        long, ``Busy`` after ``max_wait_s`` of waiting, and ``Cancelled`` when
        ``cancel`` is set while waiting.
        """
        turn = threading.Event()
        with self._lock:
            full = self._running >= self.slots
            ahead = len(self._queue) + int(full)
            expected = ahead * self._service_s / self.slots
            if ahead and (len(self._queue) >= self.max_waiting or expected > self.max_wait_s):
                self.rejected += 1
                raise Busy(
                    f"the model is busy: {ahead} request(s) ahead, about {expected:.0f}s of "
                    f"work; retry later",
                    self._retry_after(ahead),
                )
            if full or self._queue:
                self._queue.append(turn)
            else:
                self._running += 1
                turn.set()
        deadline = time.monotonic() + self.max_wait_s
        while not turn.wait(_POLL_S):
            gone = cancel is not None and cancel.is_set()
            if gone or time.monotonic() > deadline:
                with self._lock:
                    if not turn.is_set():  # still waiting: leave the queue
                        self._queue.remove(turn)
                        if gone:
                            raise Cancelled
                        self.rejected += 1
                        raise Busy(
                            f"waited {self.max_wait_s:.0f}s for the model; retry later",
                            self._retry_after(len(self._queue)),
                        )
                break  # admitted just now
        self.admitted += 1
        started = time.monotonic()
        try:
            yield
        finally:
            elapsed = time.monotonic() - started
            with self._lock:
                self._service_s = 0.8 * self._service_s + 0.2 * elapsed
                if self._queue:
                    self._queue.popleft().set()  # the slot passes to the next in line
                else:
                    self._running -= 1
