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
from collections import abc
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import numpy as np

from rag.answer import selfcheck
from rag.answer.asks import (
    asked_sentence,
    compared_figures,
    question_parts,
    report_clause,
    retrieval_queries,
    unanswered_parts,
)
from rag.answer.evidence import evidence_budget, has_words, named_reports, select_evidence
from rag.answer.figures import comparison_note
from rag.answer.generation import Generator, LlamaGenerator, Message, repeating_tail
from rag.answer.models import resolve_model
from rag.answer.prompt import LIST_CUE, REFUSAL, fit_passages
from rag.config import Settings
from rag.errors import Busy, EmptyQuestion, InvalidQuery, RagError
from rag.grounding.citations import sentence_spans, strip_markers, strip_unknown_markers
from rag.grounding.policy import (
    absent_names,
    asks_amount,
    asks_measure,
    asks_name,
    is_refusal,
    linked,
    other_measure,
    passage_context,
    question_constraints,
    rebind_count,
    states_amount,
    states_asked_name,
    states_name,
    unknown_names,
    year_from_text,
)
from rag.grounding.terms import LIST_ITEM, contains_term
from rag.grounding.verification import SentenceCheck, Verifier
from rag.index.embedding import Embedder, SentenceTransformerEmbedder
from rag.index.lexical import covers
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
from rag.types import Admitted, Answer, Citation, Delta, Hit, Sentence, StreamEvent, Timings

__all__ = ["Options", "Pipeline", "answer", "default_pipeline", "load_generator", "load_retriever"]


log = logging.getLogger(__name__)
_RELOAD_CHECK_S = 2.0
NO_DOCUMENTS = "no documents are indexed yet"
_T = TypeVar("_T")
# generations one question may take, first draft, list retry and looks together: each
# costs seconds on a CPU, and the p95 is the questions that take the most
MAX_GENERATIONS = 3
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


@dataclass(frozen=True)
class _Sampling:
    """How every generation of one request runs (its first answer and its looks): the
    caller's token limit, temperature and stop strings, and its cancel event."""

    max_tokens: int
    temperature: float
    stop: list[str]
    cancel: threading.Event | None


@dataclass
class Pipeline:
    """Retrieval, generation and verification, configured once and shared by callers."""

    settings: Settings
    retriever: Retriever
    generator: Generator
    verifier: Verifier = field(init=False)
    admission: Admission = field(init=False)

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
        hits, reason, named = self._evidence(retriever, question, query, top_k, timings)
        if reason:
            timings.total_s = time.perf_counter() - t_start
            yield Delta(REFUSAL)
            result = self._refusal(question, query, hits, timings, [], reason)
            if temperature == 0:
                self.cache.put(key, result)
            yield result
            return
        gen = self.generator
        sampling = _Sampling(max_tokens, temperature, list(options.stop), cancel)
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
                drafts = _Drafts(self, retriever, question, query, hits)
                raw, more, finish = yield from self._generate(
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
                yield from self._second_look(retriever, drafts, i, sampling, timings)
            yield from map(Delta, drafts.by_reports(named))
            for source, clause in drafts.missing_reports()[: s.second_looks]:
                if timings.generations >= MAX_GENERATIONS:
                    drafts.report_gaps.append(clause)
                    continue
                yield from self._report_look(retriever, drafts, source, clause, sampling, timings)
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
        self, question: str, query: str, drafts: _Drafts, timings: Timings, busy: Busy
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

    def _generate(
        self,
        messages: list[Message],
        drafts: _Drafts,
        sampling: _Sampling,
        timings: Timings,
        first: bool = False,
    ) -> abc.Generator[StreamEvent, None, tuple[str, int, str]]:
        """Generate once under an admission slot, yielding verified sentences of the
        draft as they complete; returns (draft, tokens, finish reason). Raises
        ``Cancelled`` when the caller went away while queued."""
        gen = self.generator
        raw = ""
        n_tokens = 0
        finish = "stop"
        t_queue = time.perf_counter()
        cancel = sampling.cancel
        with self.admission.slot(cancel):
            timings.queue_s += time.perf_counter() - t_queue
            timings.generations += 1
            if first:
                yield Admitted()
            t_gen = time.perf_counter()
            stream = gen.stream(
                messages, sampling.max_tokens, sampling.temperature, sampling.stop, cancel
            )
            with closing(stream) as pieces:
                for piece in pieces:
                    if n_tokens == 0 and first:
                        timings.ttft_s = time.perf_counter() - t_gen
                    n_tokens += 1
                    raw += piece
                    loop = repeating_tail(raw)
                    if loop:  # a greedy loop never ends by itself: keep one copy, stop
                        if len(raw) - 2 * loop >= drafts.done:
                            raw = raw[: len(raw) - 2 * loop]
                        break
                    yield from map(Delta, drafts.feed(raw, final=False))
                    if time.perf_counter() - t_gen > self.settings.generation_deadline_s:
                        finish = "length"  # a runaway generation: keep what we have
                        break
            timings.generation_s += time.perf_counter() - t_gen
            if first:
                timings.reused_prompt_tokens = getattr(gen, "reused_tokens", 0)
        return raw, n_tokens, finish

    def _second_look(
        self,
        retriever: Retriever,
        drafts: _Drafts,
        part: int,
        sampling: _Sampling,
        timings: Timings,
    ) -> Iterator[StreamEvent]:
        """Ask for one part of a compound question the answer left out, from evidence
        chosen for that part alone: a small model answering two things in one breath
        tends to answer one. Only sentences that answer the part and that verification
        supports are added (their citations numbered after the first answer's)."""
        focus = drafts.parts[part]
        query = drafts.part_queries[part]
        t = Timings()
        hits, reason, _ = self._evidence(retriever, query, query, None, t)
        timings.embed_s += t.embed_s
        timings.search_s += t.search_s
        timings.select_s += t.select_s
        if reason:
            return
        look = self._look(retriever, drafts, hits, focus, query, sampling, timings)
        if look.refusal_reason:
            return
        yield from map(Delta, drafts.absorb(look, part))

    def _look(
        self,
        retriever: Retriever,
        drafts: _Drafts,
        hits: list[Hit],
        focus: str,
        query: str,
        sampling: _Sampling,
        timings: Timings,
    ) -> _Drafts:
        """Ask ``drafts``' question again over ``hits``, to answer only ``focus``;
        returns the look's drafts, verified as a question of its own (``focus``: its
        names are the ones the cited passages must hold)."""
        gen = self.generator
        asked, focus_of = (focus, "") if drafts.sides else (drafts.question, focus)
        hits, messages, n_prompt = fit_passages(
            asked, hits, gen.count_prompt, gen.n_ctx - sampling.max_tokens, focus=focus_of
        )
        timings.prompt_tokens += n_prompt
        look = _Drafts(self, retriever, focus, query, hits)
        look.multipart = False
        # the look's own sentences are not streamed: only what ``absorb`` adds, renumbered
        raw, n_tokens, _ = _drain(self._generate(messages, look, sampling, timings))
        timings.answer_tokens += n_tokens
        list(look.feed(raw, final=True))
        drafts.verify_s += look.verify_s
        return look

    def _report_look(
        self,
        retriever: Retriever,
        drafts: _Drafts,
        source: str,
        clause: str,
        sampling: _Sampling,
        timings: Timings,
    ) -> Iterator[StreamEvent]:
        """Ask a question about two reports for what one of them (``source``) says, from
        that report's passages alone, with the question's words about it (``clause``) as
        the part to answer. Shown both reports at once, the small model answers for one,
        or compares figures it misread; asked one report at a time, it reads one figure.
        Sentences verification supports join the answer; when none does, the answer
        names the part it leaves open."""
        s = self.settings
        k = s.passages_read()
        t0 = time.perf_counter()
        # the whole question, searched within one report, finds what it asks of that
        # report: the words naming the others occur nowhere in it
        found = retriever.search(drafts.query, 4 * k)
        hits = [h for h in found if h.chunk.source == source][:k]
        hits = [replace(h, rank=n) for n, h in enumerate(hits, start=1)]
        t1 = time.perf_counter()
        timings.search_s += t1 - t0
        if not hits:
            drafts.report_gaps.append(clause)
            return
        if s.evidence == "compact":
            hits = select_evidence(
                drafts.question,
                hits,
                self.verifier.embed,
                self.generator.count_tokens,
                s.evidence_tokens,
                drafts.query,
            )
            timings.select_s += time.perf_counter() - t1
        look = self._look(retriever, drafts, hits, clause, drafts.query, sampling, timings)
        if look.refusal_reason or not look.shown:
            drafts.report_gaps.append(clause)
            return
        yield from map(Delta, drafts.absorb(look))

    def evidence(
        self, question: str, query: str | None = None, top_k: int | None = None
    ) -> tuple[list[Hit], str]:
        """What the model would be shown for ``question`` (retrieved with ``query``,
        the question itself by default), and why it would be refused before the model
        is called ("" when it would not). No LLM call: evidence can be measured on its
        own (``bench/evidence.py``)."""
        q = self.validate(question)
        return self._evidence(self.current(), q, query or q, top_k, Timings())[:2]

    def _evidence(
        self,
        retriever: Retriever,
        question: str,
        query: str,
        top_k: int | None,
        timings: Timings,
    ) -> tuple[list[Hit], str, dict[str, list[str]]]:
        """Retrieve for ``query``, refuse early if nothing relevant was found, else cut
        the passages to compact evidence; stage times go into ``timings``. Also returns
        the retrieved reports the question names (``named_reports``)."""
        s = self.settings
        k = s.passages_read(top_k)
        hits, timings.embed_s, timings.search_s = retriever.search_timed(query, k)
        reason = self._irrelevant(question, hits, retriever)
        store = retriever.store
        named = named_reports(question, hits, store.owners)
        if reason or s.evidence != "compact":
            return hits, reason, named
        t_sel = time.perf_counter()
        budget = evidence_budget(named, s.evidence_tokens)
        hits = select_evidence(
            question,
            hits,
            self.verifier.embed,
            self.generator.count_tokens,
            budget,
            query,
            lambda term, sources: retriever.passage_stating(query, term, sources),
        )
        timings.select_s = time.perf_counter() - t_sel
        return hits, "", named

    def _irrelevant(self, question: str, hits: list[Hit], retriever: Retriever) -> str:
        """Why the passages cannot answer ``question`` (empty when they may), decided
        before the LLM is called: fast, and the model cannot be tempted.

        - no passage is similar enough to the question (``min_relevance``; a question
          that names nothing needs more, ``min_relevance_unnamed``, unless a passage
          holds most of its words: similarity is then not all it has to go on);
        - a name or figure of the question occurs in none of the passages' sections.
          Retrieval has already looked for every name of the question across the
          corpus (``Retriever``), so a name missing here is one the reports never
          state ("What energy savings does PoET-BiN report?" when no report names
          PoET-BiN) — unless a corpus word is one typo away from it, or it is an
          acronym beside other names the reports do hold ("P²'s DSL": the report may
          spell it out).
        """
        best = max((h.dense for h in hits if h.dense is not None), default=-1.0)
        names = absent_names(question, lambda t: False)
        store = retriever.store
        contexts = [store.context(h.chunk) for h in hits]
        floor = self.settings.min_relevance
        if not names and not any(covers(question, c) for c in contexts):
            floor = self.settings.min_relevance_unnamed
        if best < floor:
            return f"no passage is relevant enough (best similarity {best:.2f})"
        haystack = "\n".join(contexts)
        absent = unknown_names(names, lambda t: contains_term(haystack, t), store.vocabulary)
        if absent:
            return f"the reports never mention {', '.join(absent)}"
        return ""

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


class _Drafts:
    """Verifies the model's sentences as they complete and decides when each may be shown.

    A supported sentence is held back until the answer cannot turn into a refusal any
    more: the first sentence is not a refusal, every year or figure the question
    names occurs in the passages cited so far (a question about 2021 answered from
    2022's passage is about something else), and a how-many question has been given
    a number ("There were 2022 MLSys attendees" answers nothing).
    """

    def __init__(
        self, pipeline: Pipeline, retriever: Retriever, question: str, query: str, hits: list[Hit]
    ) -> None:
        self.verifier = pipeline.verifier
        self.metadata = retriever.store.metadata
        self.page_of = retriever.store.page_of
        self.section_context = retriever.store.context
        self.section_text = retriever.store.section_text
        self.keep_unsupported = pipeline.settings.keep_unsupported
        self.query = query
        self.hits = list(hits)  # a second look at one part appends its passages
        self.valid = set(range(1, len(hits) + 1))
        self.question = question
        self.constraints = question_constraints(question)
        self.wants_amount = asks_amount(question)
        # what rule 10 reads a count from: only a how-many question needs them
        self.passage_texts = (
            [passage_context(h, self.metadata) for h in hits] if self.wants_amount else []
        )
        self.wants_name = asks_name(question)
        self.wants_measure = asks_measure(question)
        self.checks: list[SentenceCheck] = []
        self.pending: list[SentenceCheck] = []
        self.shown: list[SentenceCheck] = []
        self.done = 0  # characters of the draft already checked
        self.first_is_refusal = False
        self.parts = question_parts(question)
        self.multipart = len(self.parts) > 1
        # the sides of a comparison are whole questions: a look at one is asked it
        # alone, or the model compares again instead of reading one figure
        self.sides = self.multipart and self.parts == compared_figures(question)
        queries = retrieval_queries(question)
        self.part_queries = queries if len(queries) == len(self.parts) else self.parts
        self.items: set[int] = set()  # ids of checks that are list items
        self.gaps: list[str] = []  # "the reports don't say ..." for one part of a question
        self.notes: list[str] = []  # gaps named and comparisons made, after the answer
        self.absorbed = False  # a second look added sentences
        self.looked: set[int] = set()  # parts a second look answered
        self.by_report = False  # the question is taken report by report (``by_reports``)
        self.clauses: dict[str, str] = {}  # what it asks of each report, by report
        self.report_gaps: list[str] = []  # what a question asks of a report no look answered
        self.withdrawn: set[int] = set()  # ids of checks of a refused answer a look replaced
        self.verify_s = 0.0

    def feed(self, raw: str, final: bool) -> Iterator[str]:
        """Check the sentences of ``raw`` completed since the last call; yield the
        rendered ones that may now be shown."""
        spans = [sp for sp in sentence_spans(raw) if sp[0] >= self.done]
        ready = spans if final else spans[:-1]
        for start, end in ready:
            self.done = end
            sentence = raw[start:end]
            if is_refusal(sentence):
                if self.multipart:
                    # one part the sources don't answer: say so, answer the others
                    self.gaps.append(strip_markers(sentence))
                elif not self.checks:
                    self.first_is_refusal = True
                continue  # "the passages don't say who": a gap, not a claim to cite
            marker = LIST_ITEM.match(sentence)
            text = strip_unknown_markers(sentence[marker.end() if marker else 0 :], self.valid)
            if self.wants_amount:  # rule 10: the count the passages bind, not a misread one
                text = rebind_count(text, self.question, self.passage_texts)
            t0 = time.perf_counter()
            checks = self.verifier.check(text, self.hits, self.metadata, self.query)
            self.verify_s += time.perf_counter() - t0
            if marker:
                self.items.update(id(c) for c in checks)
            self.checks.extend(checks)
            self.pending.extend(c for c in checks if c.supported or self.keep_unsupported)
        if self.pending and not self.refusal_reason:
            for c in self.pending:
                yield self._piece(c, bool(self.shown))
                self.shown.append(c)
            self.pending.clear()

    def missing_parts(self) -> list[int]:
        """Indices of the parts of a compound question no shown sentence answers; all of
        them when the answer was refused: asked one at a time, from evidence chosen for
        it, a part may be answered (each look is verified under the same rules)."""
        if not self.multipart:
            return []
        if self.refusal_reason:
            return list(range(len(self.parts)))
        texts = [c.text for c in self.shown]
        missing = set(unanswered_parts(self.parts, texts, self._similarity))
        return [i for i, part in enumerate(self.parts) if part in missing]

    def by_reports(self, named: dict[str, list[str]]) -> Iterator[str]:
        """Take the question as one question per report when it asks something of two
        or more reports of ``named`` (report -> the question's words naming it), each in
        words of its own (``report_clause``); yield the sentences that may then be
        shown. An answer for one report stands, as for one part of a compound question:
        the passages it cites need not name the other (rule 2 per report). One thing
        asked of both ("what did the bus company's shuttle for the city cost?") is no
        pair of questions; a compound question is taken part by part instead
        (``missing_parts``)."""
        if self.multipart or len(named) < 2:
            return
        clauses = {
            source: report_clause(
                self.question, terms, [t for s, ts in named.items() if s != source for t in ts]
            )
            for source, terms in named.items()
        }
        if not all(clauses.values()):
            return
        self.clauses = clauses
        self.by_report = True
        if self.pending and not self.refusal_reason:
            for c in self.pending:
                yield self._piece(c, bool(self.shown))
                self.shown.append(c)
            self.pending.clear()

    def missing_reports(self) -> list[tuple[str, str]]:
        """(report, what the question asks of it) for each report of a question taken
        report by report (``by_reports``) that no shown sentence cites."""
        cited = {self.hits[c.citation.n - 1].chunk.source for c in self.shown if c.citation}
        return [(source, clause) for source, clause in self.clauses.items() if source not in cited]

    def absorb(self, look: _Drafts, part: int | None = None) -> Iterator[str]:
        """Add the sentences of a second look at part ``part`` that answer it (of a look
        at one report, ``part`` None: all it says), their passages appended to this
        answer's and their citations renumbered; yield them rendered."""
        number: dict[int, int] = {}
        for n, hit in enumerate(look.hits, start=1):
            span = (hit.chunk.source, hit.chunk.start, hit.chunk.end)
            same = [
                m
                for m, h in enumerate(self.hits, start=1)
                if (h.chunk.source, h.chunk.start, h.chunk.end) == span
            ]
            if same:
                number[n] = same[0]
            else:
                self.hits.append(replace(hit, rank=len(self.hits) + 1))
                number[n] = len(self.hits)
        self.valid = set(range(1, len(self.hits) + 1))
        if not self.shown:  # the first answer was refused: its sentences no longer count
            self.withdrawn.update(id(c) for c in self.checks)
        others = [p for i, p in enumerate(self.parts) if i != part]
        for c in look.shown:
            if c.citation is None:
                continue
            # it answers another part again (a side of a comparison, asked alone, is
            # answered by whatever the look says: "14 hours")
            if (
                part is not None
                and not self.sides
                and self.parts[part]
                in unanswered_parts([self.parts[part], *others], [c.text], self._similarity)
            ):
                continue
            if part is not None:
                self.looked.add(part)
            check = replace(c, citation=replace(c.citation, n=number[c.citation.n]))
            if id(c) in look.items:
                self.items.add(id(check))
            self.checks.append(check)
            self.absorbed = True
            yield self._piece(check, bool(self.shown))
            self.shown.append(check)

    def gap_notes(self) -> Iterator[str]:
        """Once the answer is complete, a note for each part it leaves unanswered; or,
        for a comparison whose two figures were both found, the comparison."""
        if not self.shown or self.refusal_reason:
            return
        # the model's own "the reports don't say ..." may be stale after a second look
        gaps = ([] if self.absorbed else self.gaps) or [
            f'No supported answer was found for "{asked_sentence(part)}"'
            for part in unanswered_parts(self.parts, [c.text for c in self.shown], self._similarity)
            if self.parts.index(part) not in self.looked
        ]
        gaps += [f'No supported answer was found for "{clause}"' for clause in self.report_gaps]
        if self.sides and not gaps:  # both figures found: the service compares them
            note = comparison_note([c.text for c in self.shown], [self.question])
            gaps += [note] if note else []
        for gap in gaps:
            yield " " + gap
        self.notes = gaps

    def _similarity(self, a: list[str], b: list[str]) -> np.ndarray:
        vecs = self.verifier.embed([*a, *b])
        return vecs[: len(a)] @ vecs[len(a) :].T

    def _piece(self, check: SentenceCheck, after: bool) -> str:
        """A shown sentence with the separator before it: list items on their own lines."""
        if id(check) in self.items:
            return ("\n" if after else "") + "- " + _render(check).rstrip(".")
        return (" " if after else "") + _render(check)

    @property
    def refusal_reason(self) -> str:
        if self.first_is_refusal:
            return _NO_ANSWER
        kept = [c for c in self.checks if c.supported and id(c) not in self.withdrawn]
        if not kept:
            return _UNSUPPORTED
        cited = {c.citation.n for c in kept if c.citation is not None}
        cited_hits = [h for n, h in enumerate(self.hits, start=1) if n in cited]
        # rule 2: the cited sections and their metadata, and the passages of another
        # report they meet in a name, code or date (the way to them)
        haystack = "\n".join(
            self.section_context(h.chunk) for h in [*cited_hits, *linked(cited_hits, self.hits)]
        )
        absent = [t for t in self.constraints if not states_name(haystack, t)]
        if (self.multipart or self.by_report) and len(absent) < len(self.constraints):
            absent = []  # a part whose constraint is unmet is unanswered, the others stand
        if absent:
            return f"the passages the answer cites never mention {', '.join(absent)}"
        # a compound question missing its amount or its name is answered in part: the
        # part left out is asked again on its own, or named as unanswered
        if (
            self.wants_amount
            and not self.multipart
            and not any(states_amount(c.text, self.question) for c in kept)
        ):
            return "the question asks for an amount and no supported sentence states one"
        if self.wants_measure and not self.multipart:
            others = [other_measure(c.text, self.question, self.wants_measure) for c in kept]
            if all(others):  # rule 12: "212 metres" is no temperature
                asked = self.wants_measure
                return f"the question asks for a {asked} and the answer gives a {others[0]}"
        if (
            self.wants_name
            and not self.multipart
            and not any(
                states_asked_name(c.text, self.question, self.wants_name, haystack)
                and (self.wants_name != "year" or self._year_from_text(c))
                for c in kept
            )
        ):
            return f"the question asks for a {self.wants_name} and no supported sentence gives one"
        return ""

    def _year_from_text(self, check: SentenceCheck) -> bool:
        """Whether the year ``check`` gives is stated by its cited section (rule 7)."""
        if check.citation is None:
            return False
        chunk = self.hits[check.citation.n - 1].chunk
        heads = {*chunk.heading_path, chunk.section}
        body = "\n".join(
            line
            for line in self.section_text(chunk).splitlines()
            if not line.lstrip().startswith("#") and line.strip() not in heads
        )
        return year_from_text(check.text, self.question, body, chunk.heading_path)

    def text(self) -> str:
        body = "".join(self._piece(c, bool(i)) for i, c in enumerate(self.shown))
        return body + "".join(" " + gap for gap in self.notes)

    def sentences(self) -> list[Sentence]:
        return [_sentence(c) for c in self.checks]

    def citations(self) -> list[Citation]:
        out: list[Citation] = []
        for c in self.shown:  # only what the answer says is cited
            if c.supported and c.citation is not None and c.citation not in out:
                out.append(c.citation)
        return [replace(c, page=self.page_of(c.source, c.start)) for c in out]


_NO_ANSWER = "the model found no answer in the passages"
_UNSUPPORTED = "no sentence is supported by the passages"


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


def _sentence(check: SentenceCheck) -> Sentence:
    n = check.citation.n if check.citation else None
    return Sentence(check.text, check.supported, check.support, n)


def _render(check: SentenceCheck) -> str:
    text = check.text.rstrip()
    end = text[-1] if text and text[-1] in ".!?" else "."
    text = text[:-1] if text and text[-1] in ".!?" else text
    if check.citation is None:
        return f"{text} (unsupported){end}"
    return f"{text} [{check.citation.n}]{end}"


def load_retriever(settings: Settings, embedder: Embedder) -> Retriever:
    """The retriever over the current index, checked against the configured embedder."""
    store = index_location(settings).load(embedder.name, embedder.dim)
    qdrant = settings.vector_store == "qdrant"  # Qdrant fuses by its own formula
    return Retriever(
        embedder,
        store,
        settings.retrieval_mode,
        settings.qdrant_rrf_k if qdrant else settings.rrf_k,
        lexical_weight=settings.lexical_weight,
        depth=settings.passages_read(),
    )


def _drain(events: abc.Generator[StreamEvent, None, _T]) -> _T:
    """Run ``events`` to its end without passing its events on; its return value."""
    while True:
        try:
            next(events)
        except StopIteration as stop:
            return stop.value


def load_generator(settings: Settings) -> Generator:
    """The LLM the settings name: a remote OpenAI-compatible server (``RAG_LLM_URL``), or
    the local GGUF, verified before it is loaded."""
    if settings.llm_url:
        from rag.answer.remote import RemoteGenerator

        return RemoteGenerator(
            settings.llm_url,
            settings.llm_model,
            n_ctx=settings.n_ctx,
            concurrency=settings.llm_concurrency,
            timeout_s=settings.llm_timeout_s,
            api_key=settings.llm_api_key,
        )
    path = resolve_model(settings.model_path, settings.models_path, settings.model_sha256)
    if settings.selfcheck and not selfcheck.passed(path, settings.n_threads):
        selfcheck.run_selfcheck(path, settings.n_threads)  # a crash here, not mid-question
    return LlamaGenerator(path, n_ctx=settings.n_ctx, n_threads=settings.n_threads)


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
