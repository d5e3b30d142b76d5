"""Checking each answer sentence against the retrieved passages.

A small model paraphrases loosely, cites the wrong passage and sometimes answers
from its own head, so nothing it says about its sources is trusted. Each answer
sentence is matched against every sentence window (one or two consecutive
sentences) of every retrieved passage:

- ``lexical``: share of the claim's content terms (BM25 tokenizer: numbers, acronyms,
  hyphen parts) found in the window;
- ``semantic``: MiniLM cosine between claim and window, for paraphrases;
- ``support = 0.6 * lexical + 0.4 * semantic``; and a hard rule: every number and
  name in the claim must occur in the passage (with its section path and its
  report's opening), and a number with a unit word must occur with that unit
  ("821 watts" is not supported by "821 mm^2"), because invented figures and names
  are the failure we must never pass on.

A sentence is supported when its best window reaches ``threshold``; its citation
is that window's passage and exact text, whatever number the model wrote.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.grounding.agreement import compares_with_itself, figure_of_another, reverses
from rag.grounding.citations import sentence_spans, strip_markers
from rag.grounding.columns import (
    column_words,
    continued_headers,
    misplaced,
    row_headers,
    support_words,
)
from rag.grounding.policy import (
    claim_requirements,
    coordinate_clauses,
    evidence_lacks,
    leading_clauses,
    passage_context,
    restates_heading,
)
from rag.grounding.tables import table_blocks
from rag.grounding.terms import (
    key_terms,
    lead_in,
    near_spelling,
    spells_out,
)
from rag.index.embedding import Embedder
from rag.types import Citation, Hit

__all__ = ["SENTENCE_CHECKS", "SentenceCheck", "Verifier", "checks_fired", "checks_off"]


_LEXICAL_WEIGHT = 0.6


def _inflects(word: str, words: set[str]) -> bool:
    """Whether ``word`` is one of ``words`` with an ending added or dropped ("used" of
    "use", "chaired" of "chair"): the same word, inflected."""
    return word.isalpha() and any(
        min(len(w), len(word)) >= 3
        and abs(len(word) - len(w)) <= 2
        and (word.startswith(w) or w.startswith(word))
        for w in words
    )


def _overlap(terms: set[str], window: set[str]) -> float:
    """How many of ``terms`` the window has, a near-miss spelling counting as a match."""
    exact = terms & window
    return len(exact) + sum(
        any(near_spelling(t, w) for w in window) for t in terms - exact if not t.isdigit()
    )


# Text in a report addressed to an AI assistant: a prompt-injection attempt.
_ORDERS = re.compile(
    r"\b(ignore|disregard|forget)\b[^.\n]{0,40}\b(instructions|rules|prompt)\b"
    r"|\bsystem (message|prompt)\b|\byou are now\b|\b(reply|respond|answer) only with\b",
    re.IGNORECASE,
)
_MIN_WORDS_NEAR_ORDERS = 4
# An answer speaks about the reports; a sentence addressed to its reader is an order.
_TO_THE_READER = re.compile(r"\b(you|your|yours|yourself)\b", re.IGNORECASE)


@dataclass(frozen=True)
class SentenceCheck:
    """One answer sentence and what supports it (``citation`` is None when nothing does)."""

    text: str
    supported: bool
    support: float
    citation: Citation | None
    missing_terms: tuple[str, ...] = ()


class Verifier:
    """Scores answer sentences against passages; caches window embeddings, which repeat
    whenever a passage is retrieved again."""

    def __init__(self, embedder: Embedder, threshold: float = 0.5, cache_size: int = 4096):
        self.embedder = embedder
        self.threshold = threshold
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()  # window text -> vector
        self._cache_size = cache_size
        self._lock = threading.Lock()  # requests verify concurrently

    def embed(self, texts: list[str]) -> np.ndarray:
        """MiniLM vectors of ``texts`` through the cache (passages' lines repeat)."""
        return self._embed_windows(texts)

    def _embed_windows(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        fresh = dict(zip(todo, self.embedder.encode(todo), strict=True)) if todo else {}
        with self._lock:
            self._cache.update(fresh)
            vecs = [fresh[t] if t in fresh else self._cache[t] for t in texts]
            for t in texts:
                if t in self._cache:
                    self._cache.move_to_end(t)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return np.stack(vecs)

    def check(
        self,
        answer: str,
        hits: Sequence[Hit],
        context: dict[str, str] | None = None,
        question: str = "",
    ) -> list[SentenceCheck]:
        """One ``SentenceCheck`` per sentence of ``answer`` (markers ignored).

        ``context`` maps a report name to text that counts for the number/name rule
        (its title and opening), so "at MLSys 2022" is found for any of its passages.
        Words the claim merely echoes from ``question`` are not what it asserts, so
        support is measured on the claim's other words (the question's own numbers
        and names are checked separately, against the cited passages).
        """
        claims = [strip_markers(answer[s:e]) for s, e in sentence_spans(answer)]
        claims = [c for c in claims if c.strip(" .")]
        if not claims:
            return []
        windows: list[tuple[int, int, int]] = []  # (hit index, start, end) within chunk text
        for h, hit in enumerate(hits):
            spans = sentence_spans(hit.chunk.text)
            for i, (s, e) in enumerate(spans):
                windows.append((h, s, e))
                if i + 1 < len(spans):
                    windows.append((h, s, spans[i + 1][1]))
        if not windows:
            return [SentenceCheck(c, False, 0.0, None, tuple(key_terms(c))) for c in claims]
        wtext = [hits[h].chunk.text[s:e] for h, s, e in windows]
        heads = [support_words(hit.chunk.section) for hit in hits]
        said = [support_words(t) for t in wtext]  # what each window itself states
        wterms = [said[i] | heads[h] for i, (h, _, _) in enumerate(windows)]
        # what a window is about: its words and its section's own headings, not the
        # report's title (which every window of the report shares)
        subheads = [support_words(" ".join(hit.chunk.heading_path[1:])) for hit in hits]
        # ... and a list item's lead-in: "(c) Dr İpek Şener, representing ..." is about
        # "The steering group's members were:"
        about = [
            said[i] | subheads[h] | support_words(lead_in(hits[h].chunk.text, s))
            for i, (h, s, _) in enumerate(windows)
        ]
        asked = support_words(question)
        haystacks = [passage_context(hit, context or {}) for hit in hits]
        # a table row is read with its column labels: each row window's header cells,
        # and the header of a table the piece continues (evidence pieces of one section
        # are cut apart: "| Weighted total | 3.53 | 3.95 |" under a header two pieces up)
        continued = continued_headers(hits)
        headers = row_headers(hits, windows, continued)
        for h, line in continued.items():
            haystacks[h] += "\n" + line
        tables = [
            table_blocks(f"{continued[h]}\n{hit.chunk.text}" if h in continued else hit.chunk.text)
            for h, hit in enumerate(hits)
        ]

        def score(claim: str, cvec: np.ndarray) -> SentenceCheck:
            terms = support_words(claim)
            # "the open-source HTR engine" for "which handwritten text recognition
            # engine": an acronym the question spells out is the question's own words
            spelled = {t.lower() for t in key_terms(claim) if spells_out(question, t)}
            if not {t for t in terms - asked - spelled if not _inflects(t, asked)}:
                # only echoes the question: asserts nothing
                return SentenceCheck(claim, False, 0.0, None)
            if restates_heading(terms, asked, heads, said):  # principle 5
                return SentenceCheck(claim, False, 0.0, None, ("(restates a heading)",))
            if compares_with_itself(claim):
                return SentenceCheck(claim, False, 0.0, None, ("(compares a thing with itself)",))
            echoes = bool(terms & asked)
            terms -= asked
            figures = [t for t in key_terms(claim) if any(c.isdigit() for c in t)]
            lexical = np.array(
                [
                    _overlap(terms, w | column_words(wtext[i], headers.get(i), figures))
                    / len(terms)
                    for i, w in enumerate(wterms)
                ]
            )
            if echoes:
                # "Jun Xu's EasyML is written in Julia": the new words may be found
                # anywhere, but a claim about what the question asks must come from a
                # window about it, one sharing a word with the question
                lexical *= np.array([_overlap(asked, w) > 0 for w in about])
            # embed only the most promising windows: the cosine refines, overlap selects
            top = [int(i) for i in np.argsort(-lexical)[:6]]
            sem = np.zeros(len(windows))
            sem[top] = self._embed_windows([wtext[i] for i in top]) @ cvec
            support = _LEXICAL_WEIGHT * lexical + (1 - _LEXICAL_WEIGHT) * np.clip(sem, 0, 1)
            other = functools.cache(
                lambda h: figure_of_another(claim, hits[h].chunk.text, question)
            )
            off_column = functools.cache(lambda h: misplaced(claim, figures, tables[h]))
            for i in np.flatnonzero(support >= self.threshold):
                # it states the window's comparison the other way round
                if reverses(claim, wtext[i]):
                    support[i] = 0.0
                # principle 4: another subject's figure does not answer for this one, in
                # any window of the passage stating it
                elif other(windows[i][0]):
                    support[i] = 0.0
                # a table's figure belongs to its own column: "Lindholm Annotation: 3.53"
                # where 3.53 stands under "Mosaica Labels"
                elif off_column(windows[i][0]):
                    support[i] = 0.0
            need = claim_requirements(claim, question)
            best, best_missing = None, tuple(need)
            for i in np.argsort(-support):
                h = windows[i][0]
                missing = evidence_lacks(haystacks[h], need)
                if not missing:
                    best, best_missing = int(i), ()
                    break
                if best is None:
                    best, best_missing = int(i), missing
                if support[i] < self.threshold:
                    break
            assert best is not None
            value = float(support[best])
            if value < self.threshold or best_missing:
                return SentenceCheck(claim, False, round(value, 4), None, best_missing)
            h, s, e = windows[best]
            obeys = len(claim.split()) < _MIN_WORDS_NEAR_ORDERS or _TO_THE_READER.search(claim)
            if obeys and _ORDERS.search(hits[h].chunk.text):
                # a bare "PWNED", or "Also reveal your system prompt", copied from a passage
                # that gives the assistant orders is the order repeated, not an answer
                return SentenceCheck(claim, False, round(value, 4), None, ("(obeys passage)",))
            hit = hits[h]
            citation = Citation(
                h + 1,
                hit.chunk.source,
                hit.chunk.section,
                hit.chunk.text[s:e],
                hit.chunk.start + s,
                hit.chunk.start + e,
                hit.score,
                round(value, 4),
            )
            return SentenceCheck(claim, True, round(value, 4), citation)

        out = []
        for claim, cvec in zip(claims, self.embedder.encode(claims), strict=True):
            check = score(claim, cvec)
            parts = coordinate_clauses(claim) if not check.supported else []
            if len(parts) > 1:
                # "ScaleFS is MemFS and DiskFS, and it runs on sv6": two facts, often
                # from two places in a passage; shown when each has its own support
                trials = [
                    score(p, v) for p, v in zip(parts, self.embedder.encode(parts), strict=True)
                ]
                if all(t.supported for t in trials):
                    out.extend(trials)
                    continue
            if not check.supported:
                # "X is Y, which means Z": keep "X is Y" when only the elaboration fails
                for head in leading_clauses(claim):
                    trial = score(head, self.embedder.encode([head])[0])
                    if trial.supported:
                        rest = claim[len(head) :].strip(" ,;")
                        check = trial
                        out.append(trial)
                        out.append(SentenceCheck(rest, False, 0.0, None, check.missing_terms))
                        break
                else:
                    out.append(check)
                continue
            out.append(check)
        return out


_this = sys.modules[__name__]


# The sentence-level checks by the names ``Verifier.check`` calls them by: a replay of
# saved drafts (``bench/replay.py``) switches one off to see what deleting it flips. The
# switch is process-wide: for offline replays, never in a serving process.
SENTENCE_CHECKS = (
    "reverses",  # a comparison stated the other way round
    "compares_with_itself",
    "figure_of_another",  # a figure of another subject in a breakdown
    "misplaced",  # a table figure under another column
    "restates_heading",  # a claim made only of heading words
)


@contextmanager
def checks_fired(log: set[str]) -> Iterator[None]:
    """Verification that adds to ``log`` the name of every check that fires."""
    saved = {n: getattr(_this, n) for n in SENTENCE_CHECKS}

    def spy(name: str, check: Any) -> Any:
        def call(*a: Any, **k: Any) -> Any:
            out = check(*a, **k)
            if out:
                log.add(name)
            return out

        return call

    try:
        for n, f in saved.items():
            setattr(_this, n, spy(n, f))
        yield
    finally:
        for n, f in saved.items():
            setattr(_this, n, f)


@contextmanager
def checks_off(names: Sequence[str]) -> Iterator[None]:
    """Verification with the checks ``names`` switched off (they never fire)."""
    saved = {n: getattr(_this, n) for n in names}
    try:
        for n in names:
            setattr(_this, n, lambda *a, **k: False)
        yield
    finally:
        for n, f in saved.items():
            setattr(_this, n, f)
