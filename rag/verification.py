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
    "leading_clauses",
    "passage_context",
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


def _term_pattern(term: str) -> str:
    """Regex for ``term`` as whole words: case-, separator- and plural-insensitive,
    digits and letters split ("300GB" = "300 GB", "98%" = "98+%")."""
    parts = re.findall(r"[a-z]+|[0-9]+(?:[.,][0-9]+)*|%", term.lower())
    if not parts:
        return ""
    last = parts[-1]
    if len(last) > 3 and last.endswith("s") and not last.endswith("ss") and last[-2].isalpha():
        parts[-1] = last[:-1]
    body = r"[\s_./,’'+-]*".join(re.escape(p) for p in parts)
    plural = r"(?:e?s)?" if len(parts[-1]) >= 3 else ""
    return rf"(?<![a-z0-9]){body}{plural}(?![a-z0-9])"


def contains_term(haystack: str, term: str) -> bool:
    """Whether ``term`` occurs in ``haystack`` as a whole word, ignoring case, HTML tags,
    separators inside the term ("right shift" = "right-shift") and a plural -s."""
    pattern = _term_pattern(term)
    return not pattern or re.search(pattern, _TAGS.sub("", haystack).lower()) is not None


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
    "as that which who when while so into this these those it its has have had".split()
)


_QUANTITY = re.compile(
    r"(?<![\w.,-])([~$<>≈]?\d(?:[\d.,]*\d)?[%+a-zA-Z]*)[ \t]+([A-Za-z][A-Za-z-]+)"
)


def quantities(text: str) -> list[str]:
    """Numbers with the unit word right after them: "821 watts", "14x energy".

    A passage that has the number with another unit ("821 mm^2") does not support
    the claim, though the number alone matches. A number followed by punctuation
    ("300,000x, training ...") has no unit."""
    out = []
    for m in _QUANTITY.finditer(text):
        num, unit = m.group(1), m.group(2)
        if re.fullmatch(r"(19|20)\d\d", num) or unit.lower() in _NOT_UNIT:
            continue  # a year, or a word that is not a unit ("90% of")
        out.append(f"{num} {unit}")
    return out


_ASKS_AMOUNT = re.compile(
    r"\bhow (many|much)\b|\bwhat (percentage|share|fraction|proportion)\b|\bby what factor\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve twenty hundred thousand "
    "million billion trillion twice half double triple dozen".split()
)


def _amounts(text: str) -> set[str]:
    words = (squash(m.group(0)) for m in _WORD.finditer(text))
    return {w for w in words if w and (any(c.isdigit() for c in w) or w in _NUMBER_WORDS)}


def asks_amount(question: str) -> bool:
    """Whether ``question`` asks how many / how much: its answer must state a number."""
    return bool(_ASKS_AMOUNT.search(question))


def states_amount(sentence: str, question: str) -> bool:
    """Whether ``sentence`` states a number other than those the question already has
    ("3X" answers "how much less than GPT-3?", though both hold a 3)."""
    return bool(_amounts(sentence) - _amounts(question))


def contains_quantity(haystack: str, quantity: str) -> bool:
    """Whether the number of ``quantity`` occurs with its unit word within the next
    three words (plural-insensitive): "98% accuracy" matches "98+% detection accuracy"."""
    num, unit = quantity.rsplit(" ", 1)
    number = _term_pattern(num).removesuffix("(?![a-z0-9])")
    stem = unit.lower()[:-1] if unit.lower().endswith("s") and len(unit) > 3 else unit.lower()
    pattern = (
        rf"{number}(?![0-9])[^\w\n]*(?:[\w^]+[^\w\n]+){{0,2}}{re.escape(stem)}(?:e?s)?(?![a-z])"
    )
    return re.search(pattern, _TAGS.sub("", haystack).lower()) is not None


def passage_context(hit: Hit, openings: dict[str, str]) -> str:
    """What a passage counts as saying for the number/name rules: its text, its section
    path and its report's opening (title, venue, year)."""
    return "\n".join([hit.chunk.text, hit.chunk.section, openings.get(hit.chunk.source, "")])


def _present(haystack: str, term: str) -> bool:
    return contains_quantity(haystack, term) if " " in term else contains_term(haystack, term)


def _near(a: str, b: str) -> bool:
    """One typo apart (a letter changed, added, dropped, or two swapped), for words of
    five letters or more: reports have typos ("latnecy") that answers correct."""
    if min(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 1 or a[0] != b[0]:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = sorted((a, b), key=len)
    i = next((k for k in range(len(short)) if short[k] != long[k]), len(short))
    return short[i:] == long[i + 1 :]


def _overlap(terms: set[str], window: set[str]) -> float:
    """How many of ``terms`` the window has, a near-miss spelling counting as a match."""
    exact = terms & window
    return len(exact) + sum(
        any(_near(t, w) for w in window) for t in terms - exact if not t.isdigit()
    )


# Text in a report addressed to an AI assistant: a prompt-injection attempt.
_ORDERS = re.compile(
    r"\b(ignore|disregard|forget)\b[^.\n]{0,40}\b(instructions|rules|prompt)\b"
    r"|\bsystem (message|prompt)\b|\byou are now\b|\b(reply|respond|answer) only with\b",
    re.IGNORECASE,
)
_MIN_WORDS_NEAR_ORDERS = 4


_CLAUSE = re.compile(
    r",\s+(?=(?:which|and|so|but|while|because|as|making|allowing|meaning|thus|where)\b)"
    r"|;\s+|\s+(?=(?:because|which means|so that)\b)|\s+\("
)


def leading_clauses(sentence: str) -> list[str]:
    """The sentence cut before each of its later clauses, longest first, for when
    only an elaboration is unsupported. Each has at least three words."""
    heads = [sentence[: m.start()].rstrip() for m in _CLAUSE.finditer(sentence)]
    return [h for h in reversed(heads) if len(h.split()) >= 3]


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
        haystacks = [passage_context(hit, context or {}) for hit in hits]

        def score(claim: str, cvec: np.ndarray) -> SentenceCheck:
            terms = set(tokenize(claim))
            if not terms - asked:  # only echoes the question: asserts nothing
                return SentenceCheck(claim, False, 0.0, None)
            terms -= asked
            lexical = np.array([_overlap(terms, w) / len(terms) for w in wterms])
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
            value = float(support[best])
            if value < self.threshold or best_missing:
                return SentenceCheck(claim, False, round(value, 4), None, best_missing)
            h, s, e = windows[best]
            if len(claim.split()) < _MIN_WORDS_NEAR_ORDERS and _ORDERS.search(hits[h].chunk.text):
                # a bare "PWNED" copied from a passage that gives the assistant orders is
                # the model obeying it, not an answer about it
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
