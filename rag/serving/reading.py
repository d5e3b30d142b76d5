"""The reader's side of a question: gathering its evidence (and refusing early when
none is relevant), one generation under the admission queue, verified as it streams, and
the asks taken alone: a part of a compound question or one report of a question about
several, each from evidence of its own."""

from __future__ import annotations

import threading
import time
from collections import abc
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from typing import TypeVar

from rag.answer.asks import evidence_budget, named_reports
from rag.answer.drafts import Drafts
from rag.answer.evidence import has_words, select_evidence
from rag.answer.generation import Generator, Message, repeating_tail
from rag.answer.prompt import LIST_CUE, fit_passages
from rag.config import Settings
from rag.grounding.policy import absent_names, unknown_names
from rag.grounding.terms import contains_term
from rag.grounding.verification import Verifier
from rag.index.lexical import covers
from rag.index.retrieval import Retriever
from rag.serving.admission import Admission
from rag.types import Admitted, Delta, Hit, StreamEvent, Timings

__all__ = ["MAX_GENERATIONS", "Reader", "Reading", "Sampling"]

_T = TypeVar("_T")
# generations one question may take, first draft, list retry and looks together: each
# costs seconds on a CPU, and the p95 is the questions that take the most
MAX_GENERATIONS = 3


@dataclass(frozen=True)
class Sampling:
    """How every generation of one request runs (its first answer and its looks): the
    caller's token limit, temperature and stop strings, and its cancel event."""

    max_tokens: int
    temperature: float
    stop: list[str]
    cancel: threading.Event | None


@dataclass
class Reading:
    """What reading a question has produced so far; kept by the caller, so that an
    answer cut short (``Busy`` from a later generation) still has what was shown."""

    drafts: Drafts
    raw: str = ""  # the first draft of the whole question ("" when asked ask by ask)
    finish: str = "stop"
    tokens: int = 0  # tokens of the whole-question drafts (a look counts its own)
    # a generation has finished: what follows may fail after text reached the caller, so
    # a busy model then ends the answer instead of failing the request (503)
    sent: bool = False


@dataclass
class Reader:
    """The model and what it reads: evidence, generation and the asks' own looks."""

    settings: Settings
    generator: Generator
    verifier: Verifier
    admission: Admission

    def generate(
        self,
        messages: list[Message],
        drafts: Drafts,
        sampling: Sampling,
        timings: Timings,
    ) -> abc.Generator[StreamEvent, None, tuple[str, int, str]]:
        """Generate once under an admission slot, yielding verified sentences of the
        draft as they complete; returns (draft, tokens, finish reason). The question's
        first generation also yields ``Admitted`` and measures the time to first token.
        Raises ``Cancelled`` when the caller went away while queued."""
        gen = self.generator
        raw = ""
        n_tokens = 0
        finish = "stop"
        t_queue = time.perf_counter()
        cancel = sampling.cancel
        with self.admission.slot(cancel):
            timings.queue_s += time.perf_counter() - t_queue
            first = timings.generations == 0
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

    def read(
        self,
        reading: Reading,
        retriever: Retriever,
        named: dict[str, list[str]],
        prompt: tuple[list[Message], str],
        sampling: Sampling,
        timings: Timings,
    ) -> Iterator[StreamEvent]:
        """Answer every ask of ``reading.drafts``' question, at most ``MAX_GENERATIONS``
        generations in all; yield the sentences that may be shown as they are verified.

        With ``Settings.asks_first``, a compound question is asked part by part and a
        question about several reports report by report, each ask from evidence of its
        own: a small model answering two things in one breath tends to answer one.
        Otherwise (and always for a question with one ask) the whole question is asked
        once, and a part or report the answer left out is then asked alone."""
        drafts = reading.drafts
        if self.settings.asks_first and drafts.multipart:
            for i in range(len(drafts.parts)):
                if timings.generations >= MAX_GENERATIONS:
                    break  # the part stays named as a gap
                yield from self.part_look(retriever, drafts, i, sampling, timings)
                reading.sent = reading.sent or timings.generations > 0
            return
        if self.settings.asks_first:
            list(drafts.by_reports(named))  # nothing is drafted yet: it only takes the reports
            if drafts.by_report:
                most = len(drafts.clauses)
                yield from self._report_looks(reading, retriever, most, sampling, timings)
                return
        yield from self._whole(reading, retriever, prompt, sampling, timings)
        drafts = reading.drafts
        looks = self.settings.second_looks
        for i in drafts.missing_parts()[:looks]:
            if timings.generations >= MAX_GENERATIONS:
                break  # the part stays named as a gap
            yield from self.part_look(retriever, drafts, i, sampling, timings)
        yield from map(Delta, drafts.by_reports(named))
        yield from self._report_looks(reading, retriever, looks, sampling, timings)

    def _whole(
        self,
        reading: Reading,
        retriever: Retriever,
        prompt: tuple[list[Message], str],
        sampling: Sampling,
        timings: Timings,
    ) -> Iterator[StreamEvent]:
        """Ask the whole question once: as a list (every item on its own line) when it
        asks for several things, asked again the plain way if the model then writes only
        the markers ("- - [1]")."""
        gen, first = self.generator, reading.drafts
        history, instructions = prompt
        for list_cue in (True, False):
            hits, messages, n_prompt = fit_passages(
                first.question,
                first.hits,
                gen.count_prompt,
                gen.n_ctx - sampling.max_tokens,
                history,
                instructions,
                list_cue=list_cue,
            )
            timings.prompt_tokens += n_prompt
            reading.drafts = Drafts(
                self.verifier,
                retriever.store,
                first.question,
                first.query,
                hits,
                self.settings.keep_unsupported,
            )
            raw, more, reading.finish = yield from self.generate(
                messages, reading.drafts, sampling, timings
            )
            reading.sent = True
            reading.raw = raw
            reading.tokens += more
            if sampling.cancel is not None and sampling.cancel.is_set():
                return
            if has_words(raw) or not messages[-1]["content"].endswith(LIST_CUE):
                break
        yield from map(Delta, reading.drafts.feed(reading.raw, final=True))

    def _report_looks(
        self,
        reading: Reading,
        retriever: Retriever,
        most: int,
        sampling: Sampling,
        timings: Timings,
    ) -> Iterator[StreamEvent]:
        """Ask each report the answer does not cite yet for its part (up to ``most``);
        a report past the generation budget is named as a gap."""
        drafts = reading.drafts
        for source, clause in drafts.missing_reports()[:most]:
            if timings.generations >= MAX_GENERATIONS:
                drafts.report_gaps.append(clause)
                continue
            yield from self.report_look(retriever, drafts, source, clause, sampling, timings)
            reading.sent = reading.sent or timings.generations > 0

    def part_look(
        self,
        retriever: Retriever,
        drafts: Drafts,
        part: int,
        sampling: Sampling,
        timings: Timings,
    ) -> Iterator[StreamEvent]:
        """Ask for one part of a compound question the answer left out, from evidence
        chosen for that part alone: a small model answering two things in one breath
        tends to answer one. Only sentences that answer the part and that verification
        supports are added (their citations numbered after the first answer's)."""
        focus = drafts.parts[part]
        query = drafts.part_queries[part]
        t = Timings()
        hits, reason, _ = self.evidence(retriever, query, query, None, t)
        timings.embed_s += t.embed_s
        timings.search_s += t.search_s
        timings.select_s += t.select_s
        if reason:
            return
        look = yield from self.look(retriever, drafts, hits, focus, query, sampling, timings)
        if look.refusal_reason:
            return
        yield from map(Delta, drafts.absorb(look, part))

    def look(
        self,
        retriever: Retriever,
        drafts: Drafts,
        hits: list[Hit],
        focus: str,
        query: str,
        sampling: Sampling,
        timings: Timings,
    ) -> abc.Generator[StreamEvent, None, Drafts]:
        """Ask ``drafts``' question again over ``hits``, to answer only ``focus``;
        returns the look's drafts, verified as a question of its own (``focus``: its
        names are the ones the cited passages must hold)."""
        gen = self.generator
        asked, focus_of = (focus, "") if drafts.sides else (drafts.question, focus)
        hits, messages, n_prompt = fit_passages(
            asked, hits, gen.count_prompt, gen.n_ctx - sampling.max_tokens, focus=focus_of
        )
        timings.prompt_tokens += n_prompt
        look = Drafts(
            self.verifier, retriever.store, focus, query, hits, self.settings.keep_unsupported
        )
        look.multipart = False
        # the look's own sentences are not streamed: only what ``absorb`` adds, renumbered
        raw, n_tokens, _ = yield from _admission(self.generate(messages, look, sampling, timings))
        timings.answer_tokens += n_tokens
        list(look.feed(raw, final=True))
        drafts.verify_s += look.verify_s
        return look

    def report_look(
        self,
        retriever: Retriever,
        drafts: Drafts,
        source: str,
        clause: str,
        sampling: Sampling,
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
        look = yield from self.look(
            retriever, drafts, hits, clause, drafts.query, sampling, timings
        )
        if look.refusal_reason or not look.shown:
            drafts.report_gaps.append(clause)
            return
        yield from map(Delta, drafts.absorb(look))

    def evidence(
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
        reason = self.irrelevant(question, hits, retriever)
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

    def irrelevant(self, question: str, hits: list[Hit], retriever: Retriever) -> str:
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


def _admission(
    events: abc.Generator[StreamEvent, None, _T],
) -> abc.Generator[StreamEvent, None, _T]:
    """Run ``events`` to its end passing on only ``Admitted``; its return value. A look's
    own sentences are numbered for its own passages: what joins the answer is renumbered
    by ``Drafts.absorb`` and streamed from there."""
    while True:
        try:
            event = next(events)
        except StopIteration as stop:
            return stop.value
        if isinstance(event, Admitted):
            yield event
