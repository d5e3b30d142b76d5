"""Reading model output: citation markers ``[n]`` and sentence boundaries.

A marker that names no passage is removed from the text and never shown; which
passage really supports a sentence is decided by ``rag.grounding.verification``.
"""

from __future__ import annotations

import re

__all__ = [
    "cited_numbers",
    "sentence_spans",
    "strip_markers",
    "strip_unknown_markers",
]

_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")


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


# Words ending in a period that rarely end a sentence: "e.g. the", "Fig. 3", "et al. (2020)".
_ABBREVIATIONS = frozenset(
    "e.g i.e cf vs etc al fig figs eq eqs sec no nos dr mr mrs ms prof st approx ca resp "
    "incl vol pp ch tab ref refs jr sr".split()
)
_LAST_WORD = re.compile(r"(\S+)\.[\"')\]]*$")


def _is_break(text: str, m: re.Match[str]) -> bool:
    """Whether the whitespace matched after a period is a sentence break: not after an
    abbreviation or an initial ("J. Smith"), and not before a lower-case word."""
    if "\n" in m.group(0) or text[m.start() - 1 : m.start()] in "!?":
        return True
    line_start = text.rfind("\n", 0, m.start()) + 1
    if re.fullmatch(r"\s*(?:[-*•]\s*)?\(?[0-9a-zA-Z]{1,2}[.)]", text[line_start : m.start()]):
        return False  # a list item's number: "1. first item"
    word = _LAST_WORD.search(text, max(0, m.start() - 40), m.start())
    if word:
        w = word.group(1).lower().lstrip("([\"'")
        if w in _ABBREVIATIONS or (len(w) == 1 and w.isalpha()):
            return False
    nxt = text[m.end() : m.end() + 1]
    return not (nxt.islower())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences (and bullet lines) of ``text``, trimmed.

    Splits after ., ! or ? and at line breaks, but not after abbreviations ("e.g.",
    "Fig.", "et al."), initials, or before a word in lower case, so "Dr. Łucjan
    Wójcik et al. report 3× gains, e.g. on ResNet." is one sentence.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    breaks = [m for m in _SENTENCE_END.finditer(text) if _is_break(text, m)]
    for m in [*breaks, None]:
        end = m.start() if m else len(text)
        seg = text[pos:end]
        if seg.strip():
            lead = len(seg) - len(seg.lstrip())
            spans.append((pos + lead, pos + len(seg.rstrip())))
        pos = m.end() if m else len(text)
    return spans
