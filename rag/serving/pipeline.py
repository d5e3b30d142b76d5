"""The one entry point: ``Pipeline.answer(question) -> Answer``.

question -> Retriever.search -> (refuse early if nothing is relevant)
         -> prompt.fit_passages -> Generator.stream
         -> Verifier.check (each sentence against the passages)
         -> a second look at what the answer left out: a part of a compound question,
            or a report of a question about two (each from its own evidence)
         -> Answer
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rag.answer.drafts import Drafts
from rag.answer.evidence import has_words
from rag.answer.generation import Generator, Message
from rag.answer.prompt import LIST_CUE, REFUSAL, fit_passages
from rag.config import Settings
from rag.errors import Busy, EmptyQuestion, InvalidQuery, RagError
from rag.grounding.verification import Verifier
from rag.index.embedding import SentenceTransformerEmbedder
from rag.index.retrieval import Retriever
from rag.index.store import Store, index_location
from rag.serving.admission import Admission, Cancelled
from rag.serving.cache import AnswerCache, normalize_question
from rag.serving.conversation import (
    Turn,
    caller_instructions,
    fit_history,
    standalone_query,
    validate_turns,
)
from rag.serving.loading import load_generator, load_retriever
from rag.serving.reading import MAX_GENERATIONS, Reader, Sampling
from rag.types import Answer, Delta, Hit, Sentence, StreamEvent, Timings

__all__ = ["NO_DOCUMENTS", "Options", "Pipeline", "answer", "default_pipeline"]


log = logging.getLogger(__name__)
_RELOAD_CHECK_S = 2.0
NO_DOCUMENTS = "no documents are indexed yet"
BUSY_NOTE = "The rest of this answer could not be generated: the model is busy"


@dataclass(frozen=True)
class Options:
    """Per-request generation settings a caller may choose (chat clients send them).

    ``max_tokens`` is capped at ``Settings.max_answer_tokens``: the prompt budget is
    sized for that many answer tokens.
    """

    max_tokens: int | None = None
    temperature: float | None = None
    stop: tuple[str, ...] = ()


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
        self._checked = time.monotonic()
        self._failed: str | None = None
        self._reload_lock = threading.Lock()
        self.admission = Admission(
            self.settings.queue_max_waiting,
            self.settings.queue_max_wait_s,
            getattr(self.generator, "concurrency", 1),
        )
        self.reader = Reader(self.settings, self.generator, self.verifier, self.admission)
        self.cache = AnswerCache(self.settings.answer_cache_size)
        self.location = index_location(self.settings)

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
        if not isinstance(question, str):
            raise InvalidQuery("question must be a string")
        q = question.strip()
        if not q:
            raise EmptyQuestion("question is empty")
        if not _encodable(q):
            raise InvalidQuery("question is not valid Unicode text (lone surrogate code points)")
        if len(q) > self.settings.max_question_chars:
            raise InvalidQuery(
                f"question is {len(q)} characters; the limit is {self.settings.max_question_chars}"
            )
        return q

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        """Ranked passages for ``query`` (no LLM)."""
        return self.current().search(self.validate(query), k or self.settings.top_k)

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
        self._checked = -_RELOAD_CHECK_S
        return self.current()

    def current(self) -> Retriever:
        """The retriever over the newest complete index.

        ``rag index`` writes a new build beside the old one and switches the
        ``CURRENT`` pointer last, so a changed pointer always names a complete build:
        it is loaded (checksums verified) and swapped in whole; requests already
        running keep the retriever they started with. A build that fails to load is
        logged and the old index keeps serving. Checked at most every 2 seconds.
        """
        now = time.monotonic()
        if now - self._checked < _RELOAD_CHECK_S:
            return self.retriever
        with self._reload_lock:
            if now - self._checked < _RELOAD_CHECK_S:
                return self.retriever
            self._checked = now
            build = self.location.current_build()
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

    def answer(
        self, question: str, top_k: int | None = None, options: Options | None = None
    ) -> Answer:
        """Answer ``question`` from the reports, citing the passages that support it."""
        return _last(self.stream(question, top_k, options))

    def stream(
        self,
        question: str,
        top_k: int | None = None,
        options: Options | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[StreamEvent]:
        """Yield the answer text as verified sentences become ready, then the ``Answer``.

        Only sentences the passages support are yielded (each with its corrected [n]),
        so the pieces joined are exactly ``Answer.text``. Setting ``cancel`` stops
        generation at the next token; the iterator then ends without an ``Answer``.
        """
        q = self.validate(question)
        yield from self._run(q, q, [], "", top_k, options or Options(), cancel)

    def chat(
        self, turns: Sequence[Turn], top_k: int | None = None, options: Options | None = None
    ) -> Answer:
        """Answer the last user message of a conversation (see ``chat_stream``)."""
        return _last(self.chat_stream(turns, top_k, options))

    def chat_stream(
        self,
        turns: Sequence[Turn],
        top_k: int | None = None,
        options: Options | None = None,
        cancel: threading.Event | None = None,
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
        yield from self._run(q, query, history, instructions, top_k, options or Options(), cancel)

    def _run(
        self,
        question: str,
        query: str,
        history: list[Message],
        instructions: str,
        top_k: int | None,
        options: Options,
        cancel: threading.Event | None,
    ) -> Iterator[StreamEvent]:
        t_start = time.perf_counter()
        s = self.settings
        retriever = self.current()  # one index for the whole request, even if reloaded
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
        ]
        key = AnswerCache.key(build, question, context)
        cached = self.cache.get(key) if temperature == 0 else None
        if cached is not None:  # same question, same index build: same answer
            yield Delta(cached.text)
            was = cached.timings  # token counts of the answer when it was made (usage)
            timings = Timings(
                prompt_tokens=was.prompt_tokens,
                answer_tokens=was.answer_tokens,
                total_s=time.perf_counter() - t_start,
            )
            yield replace(cached, timings=timings, cached=True)
            return
        if not retriever.store.chunks:
            timings = Timings(total_s=time.perf_counter() - t_start)
            yield Delta(REFUSAL)
            yield self._refusal(question, query, [], timings, [], NO_DOCUMENTS)
            return
        timings = Timings()
        hits, reason, named = self.reader.evidence(retriever, question, query, top_k, timings)
        if reason:
            timings.total_s = time.perf_counter() - t_start
            yield Delta(REFUSAL)
            result = self._refusal(question, query, hits, timings, [], reason)
            if temperature == 0:
                self.cache.put(key, result)
            yield result
            return
        gen = self.generator
        sampling = Sampling(max_tokens, temperature, list(options.stop), cancel)
        n_tokens = 0
        admitted = False  # from the first generation on, text may have reached the caller
        busy: Busy | None = None
        try:
            for list_cue in (True, False):
                hits, messages, n_prompt = fit_passages(
                    question,
                    hits,
                    gen.count_prompt,
                    gen.n_ctx - max_tokens,
                    history,
                    instructions,
                    list_cue=list_cue,
                )
                timings.prompt_tokens += n_prompt
                drafts = Drafts(
                    self.verifier,
                    retriever.store,
                    question,
                    query,
                    hits,
                    self.settings.keep_unsupported,
                )
                raw, more, finish = yield from self.reader.generate(
                    messages,
                    drafts,
                    sampling,
                    timings,
                    first=list_cue,  # the second pass is a retry of the first
                )
                admitted = True
                n_tokens += more
                if cancel is not None and cancel.is_set():
                    return
                # asked for every item, the model sometimes writes only the markers
                # ("- - [1]"); asked the plain way, it answers
                if has_words(raw) or not messages[-1]["content"].endswith(LIST_CUE):
                    break
            yield from map(Delta, drafts.feed(raw, final=True))
            for i in drafts.missing_parts()[: s.second_looks]:
                if timings.generations >= MAX_GENERATIONS:
                    break  # the part stays named as a gap
                yield from self.reader.part_look(retriever, drafts, i, sampling, timings)
            yield from map(Delta, drafts.by_reports(named))
            for source, clause in drafts.missing_reports()[: s.second_looks]:
                if timings.generations >= MAX_GENERATIONS:
                    drafts.report_gaps.append(clause)
                    continue
                yield from self.reader.report_look(
                    retriever, drafts, source, clause, sampling, timings
                )
        except Cancelled:
            return
        except Busy as exc:
            if not admitted:  # nothing sent yet: the caller answers 503 with Retry-After
                raise
            busy = exc  # a later generation found the queue full: end what was sent
        if cancel is not None and cancel.is_set():
            return
        if busy is not None:
            timings.answer_tokens += n_tokens
            timings.verify_s = drafts.verify_s
            timings.total_s = time.perf_counter() - t_start
            yield from self._cut_short(question, query, drafts, timings, busy)
            return
        yield from map(Delta, drafts.gap_notes())
        hits = drafts.hits
        timings.answer_tokens += n_tokens
        timings.verify_s = drafts.verify_s
        timings.total_s = time.perf_counter() - t_start
        if n_tokens >= max_tokens:
            finish = "length"
        reason = drafts.refusal_reason  # computed once: it scans the cited passages
        if reason:
            yield Delta(REFUSAL)
            result = self._refusal(question, query, hits, timings, drafts.sentences(), reason)
        else:
            result = Answer(
                question,
                drafts.text(),
                drafts.citations(),
                False,
                hits,
                timings,
                drafts.sentences(),
                query=query,
            )
        result = replace(result, finish_reason=finish, draft=raw)
        if temperature == 0 and time.perf_counter() - t_start < s.generation_deadline_s:
            self.cache.put(key, result)
        yield result

    def _cut_short(
        self, question: str, query: str, drafts: Drafts, timings: Timings, busy: Busy
    ) -> Iterator[StreamEvent]:
        """The answer when a later generation for this question (a part asked again, a
        list retried) could not get the model: the verified sentences already sent, then
        a note that the rest could not be generated. Never cached: it is incomplete."""
        note = f"{BUSY_NOTE} (retry in about {busy.retry_after_s} s)."
        shown = drafts.text() if drafts.shown and not drafts.refusal_reason else ""
        yield Delta(f" {note}" if shown else note)
        yield Answer(
            question,
            f"{shown} {note}" if shown else note,
            drafts.citations() if shown else [],
            False,
            drafts.hits,
            timings,
            drafts.sentences(),
            query=query,
            finish_reason="busy",
        )

    def evidence(
        self, question: str, query: str | None = None, top_k: int | None = None
    ) -> tuple[list[Hit], str]:
        """What the model would be shown for ``question`` (retrieved with ``query``,
        the question itself by default), and why it would be refused before the model
        is called ("" when it would not). No LLM call: evidence can be measured on its
        own (``bench/evidence.py``)."""
        q = self.validate(question)
        return self.reader.evidence(self.current(), q, query or q, top_k, Timings())[:2]

    def _refusal(
        self,
        q: str,
        query: str,
        hits: list[Hit],
        timings: Timings,
        sentences: list[Sentence],
        reason: str,
    ) -> Answer:
        """The fixed refusal, with the closest passages so the reader can look further."""
        return Answer(q, REFUSAL, [], True, hits, timings, sentences, reason, query=query)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
