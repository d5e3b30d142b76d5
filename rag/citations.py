"""Reading model output: citation markers ``[n]``, sentence boundaries, refusals.

A marker that names no passage is removed from the text and never shown; which
passage really supports a sentence is decided by ``rag.verification``.
"""

from __future__ import annotations

import re

__all__ = [
    "cited_numbers",
    "is_refusal",
    "sentence_spans",
    "strip_markers",
    "strip_unknown_markers",
]

_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
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
    return strip_unknown_markers(text, set())


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
