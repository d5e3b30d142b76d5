"""Finished answers kept for repeated questions.

The same question against the same index build gets the same answer at temperature
0, and on this CPU an answer costs seconds of prompt processing: repeating it from
memory is free. The key holds the index build id, so a new build (``rag index``, hot
reload) can never serve an answer computed over the old one; the cache is bounded
(least recently used out) and counts its hits and misses for ``/metrics``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace

from rag.types import Answer, Timings

__all__ = ["AnswerCache", "normalize_question"]


def normalize_question(question: str) -> str:
    """Case, spacing and trailing punctuation do not change what is asked."""
    return re.sub(r"\s+", " ", question.casefold()).strip().rstrip("?!. ")


class AnswerCache:
    """A bounded, thread-safe LRU of answers keyed by index build and request."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, Answer] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(build: str, question: str, context: Sequence[object]) -> str:
        """The cache key: the build, the normalised question and everything else that
        shapes the answer (passages asked for, token cap, history, instructions)."""
        raw = json.dumps([build, normalize_question(question), *context], default=str)
        return hashlib.sha256(raw.encode()).hexdigest()

    def get(self, key: str) -> Answer | None:
        with self._lock:
            answer = self._items.get(key)
            if answer is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return answer

    def replay(self, key: str, total_s: float) -> Answer | None:
        """The cached answer for ``key`` marked ``cached``, with this request's time and
        the token counts of the answer when it was made (usage); None on a miss."""
        was = self.get(key)
        if was is None:
            return None
        timings = Timings(
            prompt_tokens=was.timings.prompt_tokens,
            answer_tokens=was.timings.answer_tokens,
            total_s=total_s,
        )
        return replace(was, timings=timings, cached=True)

    def put(self, key: str, answer: Answer) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = answer
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
