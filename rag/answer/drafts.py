"""A question's drafts: the model's text checked sentence by sentence as it streams, what
may be shown and when, which asks the shown sentences answer, and why the whole answer is
refused (the policy's answer-level rules: the question's names, amount, measure or name
kind asked for)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from rag.answer.asks import (
    asked_sentence,
    compared_figures,
    question_parts,
    report_clause,
    retrieval_queries,
    unanswered_parts,
)
from rag.answer.figures import comparison_note
from rag.answer.prompt import REFUSAL
from rag.grounding.citations import sentence_spans, strip_markers, strip_unknown_markers
from rag.grounding.kinds import (
    asks_amount,
    asks_measure,
    asks_name,
    other_measure,
    rebind_count,
    states_amount,
    states_asked_name,
    year_from_text,
)
from rag.grounding.policy import (
    is_refusal,
    linked,
    passage_context,
    question_constraints,
    states_name,
)
from rag.grounding.terms import LIST_ITEM
from rag.grounding.verification import SentenceCheck, Verifier
from rag.index.store import Store
from rag.types import Answer, Citation, Hit, Sentence, Timings

__all__ = ["NO_ANSWER", "UNSUPPORTED", "Drafts", "refusal", "render", "sentence_of"]

NO_ANSWER = "the model found no answer in the passages"
UNSUPPORTED = "no sentence is supported by the passages"


class Drafts:
    """Verifies the model's sentences as they complete and decides when each may be shown.

    A supported sentence is held back until the answer cannot turn into a refusal any
    more: the first sentence is not a refusal, every year or figure the question
    names occurs in the passages cited so far (a question about 2021 answered from
    2022's passage is about something else), and a how-many question has been given
    a number ("There were 2022 MLSys attendees" answers nothing).
    """

    def __init__(
        self,
        verifier: Verifier,
        store: Store,
        question: str,
        query: str,
        hits: list[Hit],
        keep_unsupported: bool = False,
    ) -> None:
        self.verifier = verifier
        self.metadata = store.metadata
        self.page_of = store.page_of
        self.section_context = store.context
        self.section_text = store.section_text
        self.keep_unsupported = keep_unsupported
        self.query = query
        self.hits = list(hits)  # a second look at one part appends its passages
        self.valid = set(range(1, len(hits) + 1))
        self.question = question
        self.constraints = question_constraints(question)
        self.wants_amount = asks_amount(question)
        # what principle 3 reads a count from: only a how-many question needs them
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
            if self.wants_amount:  # principle 3: the count the passages bind, not a misread one
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
        the passages it cites need not name the other (principle 2 per report). One thing
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

    def absorb(self, look: Drafts, part: int | None = None) -> Iterator[str]:
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
            return ("\n" if after else "") + "- " + render(check).rstrip(".")
        return (" " if after else "") + render(check)

    @property
    def refusal_reason(self) -> str:
        if self.first_is_refusal:
            return NO_ANSWER
        kept = [c for c in self.checks if c.supported and id(c) not in self.withdrawn]
        if not kept:
            return UNSUPPORTED
        cited = {c.citation.n for c in kept if c.citation is not None}
        cited_hits = [h for n, h in enumerate(self.hits, start=1) if n in cited]
        # principle 2: the cited sections and their metadata, and the passages of another
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
            if all(others):  # principle 3: "212 metres" is no temperature
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
        """Whether the year ``check`` gives is stated by its cited section (principle 3)."""
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

    def answer(self, timings: Timings) -> Answer:
        """The answer the shown sentences make, or the refusal when the policy refuses it."""
        reason = self.refusal_reason  # computed once: it scans the cited passages
        if reason:
            return refusal(self.question, self.query, self.hits, timings, self.sentences(), reason)
        return Answer(
            self.question,
            self.text(),
            self.citations(),
            False,
            self.hits,
            timings,
            self.sentences(),
            query=self.query,
        )

    def cut_short(self, timings: Timings, note: str) -> Answer:
        """The sentences already shown and ``note`` saying why the rest is missing."""
        shown = self.text() if self.shown and not self.refusal_reason else ""
        return Answer(
            self.question,
            f"{shown} {note}" if shown else note,
            self.citations() if shown else [],
            False,
            self.hits,
            timings,
            self.sentences(),
            query=self.query,
            finish_reason="busy",
        )

    def text(self) -> str:
        body = "".join(self._piece(c, bool(i)) for i, c in enumerate(self.shown))
        return body + "".join(" " + gap for gap in self.notes)

    def sentences(self) -> list[Sentence]:
        return [sentence_of(c) for c in self.checks]

    def citations(self) -> list[Citation]:
        out: list[Citation] = []
        for c in self.shown:  # only what the answer says is cited
            if c.supported and c.citation is not None and c.citation not in out:
                out.append(c.citation)
        return [replace(c, page=self.page_of(c.source, c.start)) for c in out]


def sentence_of(check: SentenceCheck) -> Sentence:
    n = check.citation.n if check.citation else None
    return Sentence(check.text, check.supported, check.support, n)


def render(check: SentenceCheck) -> str:
    text = check.text.rstrip()
    end = text[-1] if text and text[-1] in ".!?" else "."
    text = text[:-1] if text and text[-1] in ".!?" else text
    if check.citation is None:
        return f"{text} (unsupported){end}"
    return f"{text} [{check.citation.n}]{end}"


def refusal(
    question: str,
    query: str,
    hits: list[Hit],
    timings: Timings,
    sentences: list[Sentence],
    reason: str,
) -> Answer:
    """The fixed refusal, with the closest passages so the reader can look further."""
    return Answer(question, REFUSAL, [], True, hits, timings, sentences, reason, query=query)
