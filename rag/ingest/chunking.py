"""Report text -> section chunks whose spans index the source exactly.

Pure functions: the caller supplies the token counter (the embedding model's own
tokenizer), so sizes match what the embedder will really see. Invariants the tests
check: ``text[c.start:c.end] == c.text`` for every chunk, the chunks cover every
non-blank line outside a table of contents, and no chunk's embedding text exceeds the
token budget.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.grounding.tables import ALIGNED_GAP
from rag.grounding.terms import squash
from rag.types import Chunk

__all__ = ["Section", "chunk_report", "is_contents", "split_sections"]

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


_NUMBERED = re.compile(r"^((?:\d{1,2}\.)*\d{1,2}\.?|[IVX]{1,4}\.)[ \t]+(\S.*)$")
_UNDERLINE = re.compile(r"^[ \t]*(=+|-+)[ \t]*$")
_TITLE_CASE = 9  # placeholder level, resolved per document in ``_plain_headings``
_SMALL_WORDS = frozenset("a an the of and or for to in on at by with vs from per".split())


def _plain_level(line: str, next_line: str) -> int | None:
    """The heading level of a plain-text line, or None when it is not a heading.

    A heading is short (at most 12 words), does not end like a sentence and is not a
    table row or bullet; and it is numbered ("2.3 Latency results": level = depth),
    underlined (=== level 1, --- level 2), ALL CAPS (level 1), Title Case (level 2), or
    a sentence-case line standing apart from prose (level 2).
    """
    s = line.strip()
    words = s.split()
    if not words or len(words) > 12 or len(s) > 90 or s[-1] in ".,;:!?" or "|" in s:
        return None
    if (
        s[0] in "-*•("
        or not any(ch.isalpha() for ch in s)
        or line[:1] in " \t"
        or ALIGNED_GAP.search(s)
    ):
        return None  # a bullet, a rule, or a row of a column-aligned table
    if _UNDERLINE.match(next_line) and len(next_line.strip()) >= max(3, len(s) // 2):
        return 1 if next_line.strip()[0] == "=" else 2
    m = _NUMBERED.match(s)
    if m and m.group(2)[0].isupper():
        return m.group(1).rstrip(".").count(".") + 1
    letters = [ch for ch in s if ch.isalpha()]
    if len(letters) >= 3 and all(ch.isupper() for ch in letters):
        return 1
    content = [w for w in words if w.lower() not in _SMALL_WORDS]
    if (
        len(words) <= 8
        and "," not in s
        and content
        and all(w[0].isupper() or not w[0].isalpha() for w in content)
    ):
        return _TITLE_CASE
    if len(words) <= 10 and len(s) <= 70 and "," not in s and s[0].isupper():
        # Sentence case ("Item 2 — Extension to further clinics", "Actions summary"):
        # a heading when a blank line, a table or a list follows; the first line of a
        # hard-wrapped paragraph is followed by more prose
        nxt = next_line.strip()
        if not nxt or nxt[0] in "|-*•(" or re.search(r"\S(  |\t)", nxt):
            return _TITLE_CASE
    return None


def _plain_headings(text: str) -> list[tuple[int, int, int, str]]:
    """(start, end of heading line, level, title) for the headings of a plain-text
    document: lines that look like headings (``_plain_level``) and stand apart, with a
    blank line (or the start of the text) before them. The first line of the text is
    its title."""
    out: list[tuple[int, int, int, str]] = []
    lines = text.splitlines(keepends=True)
    pos = 0
    prev_blank = True
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip():
            level = _plain_level(line, nxt) if prev_blank or _UNDERLINE.match(nxt) else None
            first = not out and not text[:pos].strip()
            if first and len(line) <= 120 and not line.rstrip().endswith("."):
                level = 0  # the document's first line: its title
            if level is not None:
                end = pos + len(line)
                if _UNDERLINE.match(nxt):
                    end += len(nxt)
                out.append((pos, end, level, _clean_title(line)))
        prev_blank = not line.strip() or bool(_UNDERLINE.match(line))
        pos += len(line)
    # A Title Case line sits under ALL CAPS or underlined headings; in a numbered
    # document it is an unnumbered top-level part ("Open Questions", "Appendix").
    numbered = any(_NUMBERED.match(title) for _, _, level, title in out if level)
    top = 1 if numbered or not any(0 < lv < _TITLE_CASE for _, _, lv, _ in out) else 2
    return [(s, e, top if lv == _TITLE_CASE else lv, t) for s, e, lv, t in out]


def split_sections(text: str) -> list[Section]:
    """Cut a report at its headings, tracking the heading path.

    Markdown reports are cut at their ``#``..``####`` headings. A level-1 heading with
    no body followed by another level-1 heading is the document's title (``# MLSys
    2020`` then ``# Session 1``): it stays at the root of every later path instead of
    being replaced by the next ``#``. A document without ``#`` headings is cut at its
    plain-text headings (numbered, underlined, ALL CAPS or Title Case lines), its first
    line being its title.
    """
    heads = [
        (m.start(), m.end(), len(m.group(1)), _clean_title(m.group(2)))
        for m in _HEADING.finditer(text)
    ]
    plain = not heads
    if plain:
        heads = _plain_headings(text)
    sections: list[Section] = []
    if not heads or text[: heads[0][0]].strip():
        end = heads[0][0] if heads else len(text)
        sections.append(Section((), 0, end, 0))
    stack: list[tuple[int, str]] = []
    for i, (start, head_end, level, title) in enumerate(heads):
        end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        if not plain and i == 0 and level == 1 and i + 1 < len(heads):
            nxt = heads[1]
            if nxt[2] == 1 and not text[head_end : nxt[0]].strip():
                level = 0  # document title
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        sections.append(Section(tuple(t for _, t in stack), start, end, head_end))
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


_CONTENTS_TITLE = re.compile(r"(?:table of )?contents|toc", re.IGNORECASE)
# a contents line: bullet or number, the entry, dot leaders and a page number
_CONTENTS_ENTRY = re.compile(
    r"^[ \t]*(?:[-*•+][ \t]+)?(?:(?:\d{1,2}\.)*\d{1,2}\.?[ \t]+)?(.*?)(?:[ \t.…]+\d{1,4})?[ \t]*$"
)


def is_contents(text: str, sec: Section, titles: set[str]) -> bool:
    """Whether ``sec`` is a table of contents: its lines name the document's other
    sections (``titles``, ``squash``ed), at least half of three or more lines, or one
    line of a section titled "Contents". It points at sections and states nothing of
    its own; indexed, it outranks the section it names ("Which papers won Outstanding
    Paper Awards?" found the contents line), and an answer read from it gives headings
    for items."""
    lines = [ln for ln in text[sec.body_start : sec.end].splitlines() if ln.strip()]
    titled = bool(sec.heading_path) and _CONTENTS_TITLE.fullmatch(sec.heading_path[-1].strip())
    if sec.heading_path and not titled:
        # a plain-text contents line may be taken for a numbered heading
        lines.insert(0, sec.heading_path[-1])
    entries = [squash(m.group(1)) for ln in lines if (m := _CONTENTS_ENTRY.match(ln))]
    named = sum(e in titles for e in entries if e)
    if titled and len(lines) >= 2 and named >= 1:
        return True
    return len(lines) >= 3 and named * 2 >= len(lines)


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
    boundaries with ``overlap_tokens`` of overlap. A table of contents is left out
    (``is_contents``).
    """
    chunks: list[Chunk] = []
    pending: int | None = None  # start of empty sections waiting to fold forward
    sections = split_sections(text)
    titles = {squash(s.heading_path[-1]) for s in sections if s.heading_path}
    for i, sec in enumerate(sections):
        own = {squash(sec.heading_path[-1])} if sec.heading_path else set()
        if is_contents(text, sec, titles - own):
            # bodiless headings before it (the title) live on in every later path
            pending = None
            continue
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
