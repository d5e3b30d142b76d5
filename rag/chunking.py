"""Report text -> section chunks whose spans index the source exactly.

Pure functions: the caller supplies the token counter (the embedding model's own
tokenizer), so sizes match what the embedder will really see. Invariants the tests
check: ``text[c.start:c.end] == c.text`` for every chunk, the chunks cover every
non-blank line, and no chunk's embedding text exceeds the token budget.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.types import Chunk

__all__ = ["Section", "chunk_report", "split_sections"]

TokenCounter = Callable[[str], int]

_HEADING = re.compile(r"^(#{1,4})[ \t]+(\S[^\n]*?)[ \t#\r]*$", re.MULTILINE)
# Finer and finer places to cut a section that is too long for the embedder.
_SPLITTERS: Sequence[re.Pattern[str]] = (
    re.compile(r"\n[ \t\r]*\n"),  # paragraphs
    re.compile(r"\n"),  # lines (bullets)
    re.compile(r"(?<=[.!?;:])[\"')\]]*\s+"),  # sentences
    re.compile(r"\s+"),  # words: the last resort for run-together text
)


@dataclass(frozen=True)
class Section:
    """A heading's span: from its heading line to the next heading (or end of file)."""

    heading_path: tuple[str, ...]
    start: int
    end: int
    body_start: int  # first character after the heading line


def _clean_title(raw: str) -> str:
    title = re.sub(r"<[^>]+>", "", raw)  # e.g. 5<sup>th</sup>
    return re.sub(r"\s+", " ", title).strip()


def split_sections(text: str) -> list[Section]:
    """Cut a markdown report at its ``#``..``####`` headings, tracking the heading path.

    A level-1 heading with no body followed by another level-1 heading is the
    document's title (``# MLSys 2020`` then ``# Session 1``): it stays at the root of
    every later path instead of being replaced by the next ``#``.
    """
    matches = list(_HEADING.finditer(text))
    sections: list[Section] = []
    if not matches or text[: matches[0].start()].strip():
        end = matches[0].start() if matches else len(text)
        sections.append(Section((), 0, end, 0))
    stack: list[tuple[int, str]] = []
    for i, m in enumerate(matches):
        level, title = len(m.group(1)), _clean_title(m.group(2))
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        if i == 0 and level == 1 and i + 1 < len(matches):
            nxt = matches[1]
            if len(nxt.group(1)) == 1 and not text[m.end() : nxt.start()].strip():
                level = 0  # document title
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        sections.append(Section(tuple(t for _, t in stack), m.start(), end, m.end()))
    return sections


def _pieces(text: str, start: int, end: int, level: int) -> list[tuple[int, int]]:
    """Non-blank sub-spans of ``text[start:end]`` cut at separator ``level``."""
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _SPLITTERS[level].finditer(text, start, end):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, end))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _units(text: str, start: int, end: int, budget: int, count: TokenCounter, level: int = 0):
    """Spans that each fit ``budget`` tokens, cut as coarsely as possible."""
    if count(text[start:end]) <= budget or level >= len(_SPLITTERS):
        return [(start, end)]
    out: list[tuple[int, int]] = []
    for s, e in _pieces(text, start, end, level):
        out.extend(_units(text, s, e, budget, count, level + 1))
    return out


def _pack(
    text: str, units: list[tuple[int, int]], budget: int, overlap: int, count: TokenCounter
) -> list[tuple[int, int]]:
    """Greedily join consecutive units into spans within ``budget``; each new span
    repeats the previous span's trailing units up to ``overlap`` tokens, so a fact cut
    at a boundary stays readable in one passage."""
    spans: list[tuple[int, int]] = []
    cur: list[tuple[int, int]] = []
    for unit in units:
        if not cur or count(text[cur[0][0] : unit[1]]) <= budget:
            cur.append(unit)
            continue
        spans.append((cur[0][0], cur[-1][1]))
        tail: list[tuple[int, int]] = []
        for u in reversed(cur):
            if count(text[u[0] : cur[-1][1]]) > overlap:
                break
            tail.insert(0, u)
        cur = tail + [unit]
        while len(cur) > 1 and count(text[cur[0][0] : unit[1]]) > budget:
            cur.pop(0)
    if cur:
        spans.append((cur[0][0], cur[-1][1]))
    return spans


def chunk_report(
    source: str,
    text: str,
    count_tokens: TokenCounter,
    max_tokens: int,
    overlap_tokens: int = 24,
) -> list[Chunk]:
    """Split one report into chunks whose embedding text fits ``max_tokens``.

    Sections with no body fold into the next chunk (a lone ``# Session 3`` joins its
    first talk); long sections are cut at paragraph, line, sentence, then word
    boundaries with ``overlap_tokens`` of overlap.
    """
    chunks: list[Chunk] = []
    pending: int | None = None  # start of empty sections waiting to fold forward
    sections = split_sections(text)
    for i, sec in enumerate(sections):
        is_last = i == len(sections) - 1
        if not text[sec.body_start : sec.end].strip() and not is_last:
            pending = sec.start if pending is None else pending
            continue
        start = sec.start if pending is None else pending
        pending = None
        probe = Chunk(source, sec.heading_path, "", 0, 0)
        budget = max_tokens - count_tokens(probe.embedding_text() + "\n")
        if budget < 16:
            raise ValueError(f"heading path too long to embed in {source}: {probe.section!r}")
        # Heading lines are embedded through the path prefix, so only the body is
        # measured; the first piece still starts at the heading so the quote shows it.
        span_start = start + (len(text[start : sec.end]) - len(text[start : sec.end].lstrip()))
        body_start = sec.body_start + (
            len(text[sec.body_start : sec.end]) - len(text[sec.body_start : sec.end].lstrip())
        )
        body_end = body_start + len(text[body_start : sec.end].rstrip())
        if body_end <= body_start:  # a trailing heading with nothing under it
            end = span_start + len(text[span_start : sec.end].rstrip())
            chunks.append(Chunk(source, sec.heading_path, text[span_start:end], span_start, end))
            continue
        units = _units(text, body_start, body_end, budget, count_tokens)
        for k, (s, e) in enumerate(_pack(text, units, budget, overlap_tokens, count_tokens)):
            s = span_start if k == 0 else s
            chunks.append(Chunk(source, sec.heading_path, text[s:e], s, e))
    return chunks
