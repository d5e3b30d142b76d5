"""Citation markers in model output -> citations backed by exact report text.

The model writes ``[n]``; a number that names no passage is removed from the text and
never shown. For each cited passage the quote is the passage sentence that best
matches the answer sentences citing it, with its offsets in the source report.
"""

from __future__ import annotations

import re

from rag.types import Citation, Hit

__all__ = [
    "attribute_uncited",
    "build_citations",
    "content_words",
    "cited_numbers",
    "is_refusal",
    "sentence_spans",
    "strip_markers",
    "strip_unknown_markers",
]

_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
_WORD = re.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)*")
_STOP = frozenset(
    "a an the of and or to in on for with by from is are was were be been it its this that "
    "these those as at which who what how why when where do does did can could would should "
    "they their them he she his her we our you your i not no if than then also there has "
    "have had more most very into out about over such so but all any each other".split()
)
_REFUSAL = re.compile(
    r"(don'?t|do not|does not|doesn'?t) (cover|contain|mention|provide|say|discuss|include)"
    r"|not (covered|mentioned|provided|discussed|stated|specified)"
    r"|no (information|mention|details?)\b"
    r"|(cannot|can'?t|unable to) (answer|find|determine)",
    re.IGNORECASE,
)


def _numbers(group: str) -> list[int]:
    return [int(x) for x in re.split(r"\s*[,;]\s*", group)]


def cited_numbers(text: str) -> list[int]:
    """Citation numbers in order of first appearance: ``[1]``, ``[2, 3]``, ``[2][3]``."""
    seen: list[int] = []
    for m in _MARKER.finditer(text):
        for n in _numbers(m.group(1)):
            if n not in seen:
                seen.append(n)
    return seen


def strip_markers(text: str) -> str:
    """``text`` without citation markers, spacing tidied."""
    out = _MARKER.sub("", text)
    return re.sub(r"[ \t]+([.,;!?])", r"\1", out).strip()


def strip_unknown_markers(text: str, valid: set[int]) -> str:
    """Remove citation numbers that match no passage; drop markers left empty."""

    def keep(m: re.Match[str]) -> str:
        ok = [str(n) for n in _numbers(m.group(1)) if n in valid]
        return f"[{', '.join(ok)}]" if ok else ""

    out = _MARKER.sub(keep, text)
    return re.sub(r"[ \t]+([.,;!?])", r"\1", out).strip()


def is_refusal(text: str) -> bool:
    """True when the answer says the passages/reports do not answer the question."""
    return bool(_REFUSAL.search(text))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences (and bullet lines) of ``text``, trimmed."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in [*_SENTENCE_END.finditer(text), None]:
        end = m.start() if m else len(text)
        seg = text[pos:end]
        if seg.strip():
            lead = len(seg) - len(seg.lstrip())
            spans.append((pos + lead, pos + len(seg.rstrip())))
        pos = m.end() if m else len(text)
    return spans


def content_words(text: str) -> set[str]:
    """Lower-cased words that carry meaning (stop words dropped)."""
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _best_sentence(claim: str, hit: Hit) -> tuple[str, int, int]:
    text = hit.chunk.text
    words = content_words(claim)
    best, best_score = (0, len(text)), -1.0
    for s, e in sentence_spans(text):
        cand = content_words(text[s:e])
        score = len(words & cand) / (len(cand) ** 0.5 or 1.0)
        if score > best_score:
            best, best_score = (s, e), score
    s, e = best
    return text[s:e], hit.chunk.start + s, hit.chunk.start + e


def _support(claim: str, hit: Hit) -> float:
    """Share of the claim's content words found in the passage (0..1)."""
    words = content_words(claim)
    return len(words & content_words(hit.chunk.text)) / len(words) if words else 0.0


def attribute_uncited(answer: str, hits: list[Hit], min_support: float = 0.5) -> str:
    """Add ``[n]`` to answer sentences the model left uncited, naming the passage that
    shares most of their content words, when at least ``min_support`` of them.

    Small models often drop the markers; the fact is still checkable against the text.
    """
    out: list[str] = []
    pos = 0
    for s, e in sentence_spans(answer):
        sentence = answer[s:e]
        out.append(answer[pos:e])
        pos = e
        if cited_numbers(sentence) or not hits:
            continue
        scores = [_support(sentence, h) for h in hits]
        best = max(range(len(hits)), key=scores.__getitem__)
        if scores[best] >= min_support:
            body = out[-1].rstrip()
            end_punct = body[-1] if body and body[-1] in ".!?" else ""
            body = body[: len(body) - len(end_punct)] if end_punct else body
            out[-1] = f"{body} [{best + 1}]{end_punct}"
    out.append(answer[pos:])
    return "".join(out)


def build_citations(answer: str, hits: list[Hit]) -> list[Citation]:
    """One citation per passage number the answer cites, in order of first citation.

    The quote is the passage sentence sharing most content words with the answer
    sentences that cite it; ``start``/``end`` locate it in the source report.
    """
    claims: dict[int, list[str]] = {}
    previous = ""
    for s, e in sentence_spans(answer):
        sentence = answer[s:e]
        claim = _MARKER.sub("", sentence).strip() or previous  # "… end. [2]" cites the last
        for n in cited_numbers(sentence):
            claims.setdefault(n, []).append(claim)
        previous = claim
    out: list[Citation] = []
    for n in cited_numbers(answer):
        if not 1 <= n <= len(hits):
            continue
        hit = hits[n - 1]
        quote, start, end = _best_sentence(" ".join(claims.get(n, [answer])), hit)
        out.append(Citation(n, hit.chunk.source, hit.chunk.section, quote, start, end, hit.score))
    return out
