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

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.citations import sentence_spans, strip_markers
from rag.embedding import Embedder
from rag.lexical import tokenize
from rag.types import Citation, Hit

__all__ = [
    "SentenceCheck",
    "Verifier",
    "asks_amount",
    "contains_quantity",
    "contains_term",
    "key_terms",
    "quantities",
    "squash",
    "states_amount",
]

_WORD = re.compile(r"\w[\w.%'’-]*")
_TAGS = re.compile(r"<[^>]+>")
_NOT_KEY = frozenset(
    "What Which Who How Why When Where The This That These Those It They In On At For And Or "
    "But If Yes No A An As By From To Of With".split()
)
_LEXICAL_WEIGHT = 0.6


def squash(text: str) -> str:
    """Lower-case alphanumerics only: "Right-Shift", "right shift" -> "rightshift"."""
    return re.sub(r"[^a-z0-9%]+", "", _TAGS.sub("", text).lower())


def contains_term(haystack: str, term: str) -> bool:
    """Whether ``term`` occurs in ``haystack`` as a whole word, ignoring case, HTML tags,
    separators inside the term ("right shift" = "right-shift") and a plural -s."""
    parts = re.findall(r"[a-z0-9%]+", term.lower())
    if not parts:
        return True
    last = parts[-1]
    if len(last) > 3 and last.endswith("s") and not last.endswith("ss") and last[-2].isalpha():
        parts[-1] = last[:-1]
    body = r"[\s_./,’'-]*".join(re.escape(p) for p in parts)
    plural = r"(?:e?s)?" if len(parts[-1]) >= 3 else ""
    pattern = rf"(?<![a-z0-9]){body}{plural}(?![a-z0-9])"
    return re.search(pattern, _TAGS.sub("", haystack).lower()) is not None


def key_terms(text: str) -> list[str]:
    """Numbers and names in ``text`` that a supporting passage must also contain."""
    out = []
    for i, m in enumerate(_WORD.finditer(text)):
        tok = re.sub(r"['’]s$", "", m.group(0)).strip(".-'’")
        if not tok or not squash(tok):
            continue
        upper = sum(ch.isupper() for ch in tok)
        if any(ch.isdigit() for ch in tok) or upper >= 2:
            out.append(tok)
        elif i > 0 and tok[0].isupper() and tok not in _NOT_KEY:
            out.append(tok)
    return out


# Words after a number that are not its unit ("90% of", "1.7 to 2.9 times").
_NOT_UNIT = frozenset(
    "of to and or in on at for from than the a an more less fewer times per by with "
    "compared vs versus over under up about around nearly almost is are was were but if "
    "as that which who when while so into this these those it its".split()
)


def quantities(text: str) -> list[str]:
    """Numbers with the unit word that follows them: "821 watts", "14x energy".

    A passage that has the number with another unit ("821 mm^2") does not support
    the claim, though the number alone matches."""
    words = [m.group(0).strip(".,;:'’") for m in _WORD.finditer(text)]
    out = []
    for num, unit in zip(words, words[1:], strict=False):
        if (
            re.match(r"[~$<>≈]?\d", num)
            and not re.fullmatch(r"(19|20)\d\d", num)  # a year, not an amount
            and unit.isalpha()
            and len(unit) > 1
            and unit.lower() not in _NOT_UNIT
        ):
            out.append(f"{num} {unit}")
    return out


_ASKS_AMOUNT = re.compile(
    r"\bhow (many|much)\b|\bwhat (percentage|share|fraction|proportion)\b|\bby what factor\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d[\d,.]*|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
    r"hundred|thousand|million|billion|trillion|twice|half|double|triple|dozen)\b",
    re.IGNORECASE,
)


def asks_amount(question: str) -> bool:
    """Whether ``question`` asks how many / how much: its answer must state a number."""
    return bool(_ASKS_AMOUNT.search(question))


def states_amount(sentence: str, question: str) -> bool:
    """Whether ``sentence`` states a number other than those the question already has."""
    asked = {m.group(0).lower().rstrip(".,") for m in _NUMBER.finditer(question)}
    return any(m.group(0).lower().rstrip(".,") not in asked for m in _NUMBER.finditer(sentence))


def contains_quantity(haystack: str, quantity: str) -> bool:
    """Whether the number of ``quantity`` occurs with its unit word within the next
    three words (plural-insensitive): "98% accuracy" matches "98% detection accuracy"."""
    num, unit = quantity.rsplit(" ", 1)
    stem = unit.lower()[:-1] if unit.lower().endswith("s") and len(unit) > 3 else unit.lower()
    pattern = (
        rf"(?<![\w.]){re.escape(num.lower())}(?![\d])[^\w\n]*(?:[\w^]+[^\w\n]+){{0,2}}"
        rf"{re.escape(stem)}(?:e?s)?(?![a-z])"
    )
    return re.search(pattern, _TAGS.sub("", haystack).lower()) is not None


def _present(haystack: str, term: str) -> bool:
    return contains_quantity(haystack, term) if " " in term else contains_term(haystack, term)


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
        heads = [set(tokenize(hit.chunk.section)) for hit in hits]
        wterms = [set(tokenize(t)) | heads[h] for t, (h, _, _) in zip(wtext, windows, strict=True)]
        asked = set(tokenize(question))
        asked_keys = {squash(t) for t in key_terms(question)}
        ctx = context or {}
        haystacks = [
            "\n".join([hit.chunk.text, hit.chunk.section, ctx.get(hit.chunk.source, "")])
            for hit in hits
        ]
        claim_vecs = self.embedder.encode(claims)
        out = []
        for claim, cvec in zip(claims, claim_vecs, strict=True):
            terms = set(tokenize(claim))
            terms = (terms - asked) or terms
            lexical = np.array([len(terms & w) / len(terms) if terms else 0.0 for w in wterms])
            # embed only the most promising windows: the cosine refines, overlap selects
            top = [int(i) for i in np.argsort(-lexical)[:6]]
            sem = np.zeros(len(windows))
            sem[top] = self._embed_windows([wtext[i] for i in top]) @ cvec
            support = _LEXICAL_WEIGHT * lexical + (1 - _LEXICAL_WEIGHT) * np.clip(sem, 0, 1)
            need = [t for t in key_terms(claim) if squash(t) not in asked_keys]
            need += [q for q in quantities(claim) if squash(q.split()[0]) not in asked_keys]
            best, best_missing = None, tuple(need)
            for i in np.argsort(-support):
                h = windows[i][0]
                missing = tuple(t for t in need if not _present(haystacks[h], t))
                if not missing:
                    best, best_missing = int(i), ()
                    break
                if best is None:
                    best, best_missing = int(i), missing
                if support[i] < self.threshold:
                    break
            assert best is not None
            score = float(support[best])
            ok = score >= self.threshold and not best_missing
            h, s, e = windows[best]
            hit = hits[h]
            citation = (
                Citation(
                    h + 1,
                    hit.chunk.source,
                    hit.chunk.section,
                    hit.chunk.text[s:e],
                    hit.chunk.start + s,
                    hit.chunk.start + e,
                    hit.score,
                    round(score, 4),
                )
                if ok
                else None
            )
            out.append(SentenceCheck(claim, ok, round(score, 4), citation, best_missing))
        return out
