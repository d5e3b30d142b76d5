"""The one entry point: ``Pipeline.answer(question) -> Answer``; orchestration only.

question -> answer cache (same question, same build)
         -> Reader.evidence: retrieval, and a refusal before the model when nothing
            relevant is found (``serving/reading.py``)
         -> Reader.read: the question's asks, each generated and verified sentence by
            sentence as it streams (``answer/drafts.py``, ``grounding/``)
         -> Drafts.answer: the supported sentences with their citations, or a refusal
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rag.answer.drafts import Drafts, refusal
from rag.answer.generation import Generator, Message
from rag.answer.prompt import REFUSAL
from rag.config import Settings
from rag.errors import Busy
from rag.grounding.verification import Verifier
from rag.index.embedding import SentenceTransformerEmbedder
from rag.index.retrieval import Retriever
from rag.index.store import Store
from rag.serving.admission import Admission, Cancelled
from rag.serving.builds import Builds
from rag.serving.cache import AnswerCache, normalize_question
from rag.serving.conversation import (
    Turn,
    caller_instructions,
    fit_history,
    standalone_query,
    validate_question,
    validate_turns,
)
from rag.serving.loading import load_generator, load_retriever
from rag.serving.reading import Reader, Reading, Sampling
from rag.serving.selection import select, titled
from rag.types import Answer, Delta, Hit, Options, StreamEvent, Timings

__all__ = ["NO_DOCUMENTS", "Options", "Pipeline", "answer", "default_pipeline"]


NO_DOCUMENTS = "no documents are indexed yet"
BUSY_NOTE = "The rest of this answer could not be generated: the model is busy"


@dataclass
class Pipeline:
    """Retrieval, generation and verification, configured once and shared by callers."""

    settings: Settings
    retriever: Retriever
    generator: Generator
    verifier: Verifier = field(init=False)
    admission: Admission = field(init=False)
    reader: Reader = field(init=False)

    def __post_init__(self) -> None:
        self.verifier = Verifier(self.retriever.embedder, self.settings.support_threshold)
        self.admission = Admission(
            self.settings.queue_max_waiting,
            self.settings.queue_max_wait_s,
            getattr(self.generator, "concurrency", 1),
        )
        self.reader = Reader(self.settings, self.generator, self.verifier, self.admission)
        self.cache = AnswerCache(self.settings.answer_cache_size)
        self.builds = Builds(self.settings, self.retriever)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Pipeline:
        """Load the embedder, the index and the LLM the settings name.

        Raises ``IndexNotFound``/``IndexMismatch``/``IndexCorrupt`` when the index
        needs ``rag index``, ``ModelIntegrity`` when the model file is damaged.
        """
        settings = settings or Settings()
        embedder = SentenceTransformerEmbedder(settings.embedding_model)
        return cls(settings, load_retriever(settings, embedder), load_generator(settings))

    def validate(self, question: object) -> str:
        """The question stripped, or ``InvalidQuery`` saying what is wrong with it."""
        return validate_question(question, self.settings.max_question_chars)

    def search(
        self, query: str, k: int | None = None, documents: Sequence[str] | None = None
    ) -> list[Hit]:
        """Ranked passages for ``query`` (no LLM), within ``documents`` (ids) if given."""
        retriever = self.current()
        within = select(documents, retriever.store)
        return retriever.scoped(within).search(self.validate(query), k or self.settings.top_k)

    def check_documents(self, documents: Sequence[str] | None) -> None:
        """Raise ``UnknownDocuments`` (422) for ids the current build does not hold, so
        a streamed answer fails before its response starts."""
        select(documents, self.store)

    @property
    def store(self) -> Store:
        """The index answers come from now (switched when a new build is current)."""
        return self.current().store

    def status(self) -> dict[str, Any]:
        """What health checks and metrics report: the model, the index build, its size,
        the queue and the answer cache (so callers need not know the parts)."""
        store = self.store
        manifest = store.manifest
        return {
            "model": self.generator.name,
            # the local llama.cpp's CPU features and build switches; None for a model server
            "llama_cpp": getattr(self.generator, "build", None),
            "embedding_model": manifest.get("embedding_model"),
            "build_id": manifest.get("build_id"),
            "built_at": manifest.get("built_at") or 0,
            "documents": len(store.documents),
            "chunks": len(store.chunks),
            "queue_depth": self.admission.depth,
            "model_busy": self.admission.busy,
            "rejected": self.admission.rejected,
            "cache_hits": self.cache.hits,
            "cache_misses": self.cache.misses,
            "cache_size": len(self.cache),
        }

    def reload(self) -> Retriever:
        """Switch to the newest build now (after this process changed the index)."""
        self.retriever = self.builds.reload()
        return self.retriever

    def current(self) -> Retriever:
        """The retriever over the newest complete build (``Builds.current``)."""
        self.retriever = self.builds.current()
        return self.retriever

    def answer(
        self,
        question: str,
        top_k: int | None = None,
        options: Options | None = None,
        documents: Sequence[str] | None = None,
    ) -> Answer:
        """Answer ``question`` from the reports (only ``documents``, by id, if given),
        citing the passages that support it."""
        return _last(self.stream(question, top_k, options, documents=documents))

    def stream(
        self,
        question: str,
        top_k: int | None = None,
        options: Options | None = None,
        cancel: threading.Event | None = None,
        documents: Sequence[str] | None = None,
    ) -> Iterator[StreamEvent]:
        """Yield the answer text as verified sentences become ready, then the ``Answer``.

        Only sentences the passages support are yielded (each with its corrected [n]),
        so the pieces joined are exactly ``Answer.text``. Setting ``cancel`` stops
        generation at the next token; the iterator then ends without an ``Answer``.
        """
        q = self.validate(question)
        retriever, within = self._scope(documents)
        events = self._run(q, q, [], "", top_k, options or Options(), cancel, retriever, within)
        yield from titled(events, retriever.store, within)

    def chat(
        self,
        turns: Sequence[Turn],
        top_k: int | None = None,
        options: Options | None = None,
        documents: Sequence[str] | None = None,
    ) -> Answer:
        """Answer the last user message of a conversation (see ``chat_stream``)."""
        return _last(self.chat_stream(turns, top_k, options, documents=documents))

    def chat_stream(
        self,
        turns: Sequence[Turn],
        top_k: int | None = None,
        options: Options | None = None,
        cancel: threading.Event | None = None,
        documents: Sequence[str] | None = None,
    ) -> Iterator[StreamEvent]:
        """Like ``stream`` for the last user message of ``turns``.

        Retrieval uses a standalone query built from the conversation; the prompt holds
        as much recent history as ``max_history_tokens`` allows, and the caller's system
        messages as style requests that cannot switch off grounding or verification.
        """
        s = self.settings
        q = self.validate(validate_turns(turns, s.max_conversation_chars))
        query = standalone_query(turns)
        gen = self.generator
        history = fit_history(turns, gen.count_tokens, s.max_history_tokens)
        instructions = caller_instructions(turns)[: s.max_question_chars]  # bounded prompt
        opts = options or Options()
        retriever, within = self._scope(documents)
        events = self._run(q, query, history, instructions, top_k, opts, cancel, retriever, within)
        yield from titled(events, retriever.store, within)

    def _scope(self, documents: Sequence[str] | None) -> tuple[Retriever, frozenset[str] | None]:
        """The retriever over the current build (one index for the whole request, even
        if reloaded) and the source names of ``documents``; an unknown id fails here,
        before any work."""
        retriever = self.current()
        return retriever, select(documents, retriever.store)

    def _run(
        self,
        question: str,
        query: str,
        history: list[Message],
        instructions: str,
        top_k: int | None,
        options: Options,
        cancel: threading.Event | None,
        retriever: Retriever,
        within: frozenset[str] | None,
    ) -> Iterator[StreamEvent]:
        t_start = time.perf_counter()
        s = self.settings
        retriever = retriever.scoped(within)
        max_tokens = min(options.max_tokens or s.max_answer_tokens, s.max_answer_tokens)
        temperature = s.temperature if options.temperature is None else options.temperature
        build = str(retriever.store.manifest.get("build_id", ""))
        context = [
            normalize_question(query),
            top_k or s.top_k,
            max_tokens,
            list(options.stop),
            history,
            instructions,
            sorted(within or ()),
        ]
        key = AnswerCache.key(build, question, context)
        cached = self.cache.replay(key, time.perf_counter() - t_start) if not temperature else None
        if cached is not None:  # same question, same index build: same answer
            yield Delta(cached.text)
            yield cached
            return
        if not retriever.store.chunks:
            timings = Timings(total_s=time.perf_counter() - t_start)
            yield Delta(REFUSAL)
            yield refusal(question, query, [], timings, [], NO_DOCUMENTS)
            return
        timings = Timings()
        hits, reason, named = self.reader.evidence(retriever, question, query, top_k, timings)
        if reason:
            timings.total_s = time.perf_counter() - t_start
            yield Delta(REFUSAL)
            result = refusal(question, query, hits, timings, [], reason)
            if temperature == 0:
                self.cache.put(key, result)
            yield result
            return
        keep = s.keep_unsupported
        sampling = Sampling(max_tokens, temperature, list(options.stop), cancel)
        reading = Reading(Drafts(self.verifier, retriever.store, question, query, hits, keep))
        try:
            prompt = (history, instructions)
            yield from self.reader.read(reading, retriever, named, prompt, sampling, timings)
        except Cancelled:
            return
        except Busy as exc:
            if not reading.sent:  # nothing sent yet: the caller answers 503, Retry-After
                raise
            timings.total_s = time.perf_counter() - t_start
            yield from self._cut_short(reading, timings, exc)
            return
        if cancel is not None and cancel.is_set():
            return
        drafts = reading.drafts
        yield from map(Delta, drafts.gap_notes())
        hits = drafts.hits
        timings.answer_tokens += reading.tokens
        timings.verify_s = drafts.verify_s
        timings.total_s = time.perf_counter() - t_start
        finish = "length" if reading.tokens >= max_tokens else reading.finish
        result = drafts.answer(timings)
        if result.refused:
            yield Delta(REFUSAL)
        result = replace(result, finish_reason=finish, draft=reading.raw)
        if temperature == 0 and time.perf_counter() - t_start < s.generation_deadline_s:
            self.cache.put(key, result)
        yield result

    def _cut_short(self, reading: Reading, timings: Timings, busy: Busy) -> Iterator[StreamEvent]:
        """The answer when a later generation for this question (a part asked again, a
        list retried) could not get the model: the verified sentences already sent, then
        a note that the rest could not be generated. Never cached: it is incomplete."""
        timings.answer_tokens += reading.tokens
        timings.verify_s = reading.drafts.verify_s
        note = f"{BUSY_NOTE} (retry in about {busy.retry_after_s} s)."
        cut = reading.drafts.cut_short(timings, note)
        yield Delta(f" {note}" if cut.text != note else note)  # after what was shown
        yield cut

    def evidence(
        self, question: str, query: str | None = None, top_k: int | None = None
    ) -> tuple[list[Hit], str]:
        """What the model would be shown for ``question`` (retrieved with ``query``,
        the question itself by default), and why it would be refused before the model
        is called ("" when it would not). No LLM call: evidence can be measured on its
        own (``bench/evidence.py``)."""
        q = self.validate(question)
        return self.reader.evidence(self.current(), q, query or q, top_k, Timings())[:2]


def _last(events: Iterator[StreamEvent]) -> Answer:
    result: Answer | None = None
    for event in events:
        if isinstance(event, Answer):
            result = event
    if result is None:
        raise RuntimeError("the answer stream ended without an answer (cancelled)")
    return result


_default: Pipeline | None = None
_default_lock = threading.Lock()


def default_pipeline() -> Pipeline:
    """A process-wide pipeline built from the environment on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Pipeline.from_settings()
        return _default


def answer(question: str, top_k: int | None = None) -> Answer:
    """Answer ``question`` with the default pipeline (convenience for scripts)."""
    return default_pipeline().answer(question, top_k)
