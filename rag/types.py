"""Small immutable records passed between the library's stages."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "Admitted",
    "Answer",
    "Chunk",
    "Citation",
    "Delta",
    "Hit",
    "Options",
    "Sentence",
    "StreamEvent",
    "Timings",
]

SECTION_SEP = " > "
# Heading lines at the top of a chunk repeat its heading path; they are not embedded twice.
_LEADING_HEADINGS = re.compile(r"\A(?:[ \t]*(?:#{1,4}[ \t][^\n]*)?\r?\n)+")


@dataclass(frozen=True)
class Chunk:
    """A contiguous span of one report: ``source_text[start:end] == text``.

    ``heading_path`` is the chain of headings above the span, outermost first, so
    a citation can say where in the report it came from.
    """

    source: str
    heading_path: tuple[str, ...]
    text: str
    start: int
    end: int

    @property
    def section(self) -> str:
        """Heading path as one display string, e.g. ``MLSys 2020 > Session 1 > PLink``."""
        return SECTION_SEP.join(self.heading_path) if self.heading_path else "(untitled)"

    def embedding_text(self) -> str:
        """Text given to the embedder: the heading path gives a short body its topic."""
        if not self.heading_path:
            return self.text
        body = _LEADING_HEADINGS.sub("", self.text)
        return f"{self.section}\n{body}"


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its rank (1-based) and score.

    ``score`` is what ranked it (cosine, BM25 or fused); ``dense`` and ``lexical``
    keep the cosine similarity and BM25 score when they were computed, so a
    relevance threshold can use a calibrated scale whatever the ranking mode.
    """

    chunk: Chunk
    score: float
    rank: int
    dense: float | None = None
    lexical: float | None = None


@dataclass(frozen=True)
class Citation:
    """A passage the answer cites, with the exact quote and its offsets in the report.

    ``score`` is the passage's retrieval score; ``support`` how well the quote
    supports the answer sentence (None when citations were not verified).
    """

    n: int
    source: str
    section: str
    quote: str
    start: int
    end: int
    score: float
    support: float | None = None
    page: int | None = None  # 1-based page of ``start``, for paged formats (PDF)
    title: str = ""  # the document's title; ``source`` is its stable name


@dataclass
class Timings:
    """Where the time of one answer went, in seconds (tokens are counts)."""

    embed_s: float = 0.0
    search_s: float = 0.0
    select_s: float = 0.0  # choosing the evidence lines (compact evidence)
    queue_s: float = 0.0  # waiting for the model behind other requests
    prompt_tokens: int = 0
    reused_prompt_tokens: int = 0  # of those, taken from llama.cpp's KV cache (shared prefix)
    answer_tokens: int = 0
    ttft_s: float = 0.0
    generation_s: float = 0.0
    verify_s: float = 0.0  # checking the answer's sentences against the evidence
    total_s: float = 0.0
    generations: int = 0  # model calls this answer took (the budget is per question)


@dataclass(frozen=True)
class Sentence:
    """One sentence the model wrote, and whether the passages support it."""

    text: str
    supported: bool
    support: float
    citation: int | None  # the passage number [n] that supports it


@dataclass(frozen=True)
class Answer:
    """What ``Pipeline.answer`` returns: the text, verified citations and provenance.

    ``sentences`` lists every sentence the model wrote, kept or not, so a reader can
    see what was removed as unsupported; ``refusal_reason`` says why an answer was
    refused (empty when it was not).
    """

    question: str
    text: str
    citations: list[Citation]
    refused: bool
    passages: list[Hit]
    timings: Timings = field(default_factory=Timings)
    sentences: list[Sentence] = field(default_factory=list)
    refusal_reason: str = ""
    query: str = ""  # what retrieval searched for (a chat follow-up joins earlier turns)
    finish_reason: str = "stop"  # "length": hit the token cap; "busy": cut short, queue full
    draft: str = ""  # the model's raw text before verification (empty: no LLM call)
    cached: bool = False  # served from the answer cache (same question, same index build)
    titles: dict[str, str] = field(default_factory=dict)  # document titles of the passages
    build_id: str = ""  # the index build that answered (feedback names it)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form; used by the HTTP layer and the eval runner."""
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "refusal_reason": self.refusal_reason,
            "query": self.query or self.question,
            "finish_reason": self.finish_reason,
            "draft": self.draft,
            "cached": self.cached,
            "build_id": self.build_id,
            "citations": [asdict(c) for c in self.citations],
            "sentences": [asdict(s) for s in self.sentences],
            "passages": [
                hit_to_dict(h, self.titles.get(h.chunk.source, "")) for h in self.passages
            ],
            "timings": asdict(self.timings),
        }


def hit_to_dict(hit: Hit, title: str = "") -> dict[str, Any]:
    """A retrieved passage as JSON: where it is, what it says, how well it matched;
    ``title`` is its document's (the caller knows the collection)."""
    c = hit.chunk
    return {
        "rank": hit.rank,
        "score": round(hit.score, 4),
        "dense": None if hit.dense is None else round(hit.dense, 4),
        "lexical": None if hit.lexical is None else round(hit.lexical, 4),
        "source": c.source,
        "title": title or c.source,
        "section": c.section,
        "start": c.start,
        "end": c.end,
        "text": c.text,
    }


@dataclass(frozen=True)
class Admitted:
    """A streamed answer got the model (or needed none): the caller may commit to a
    response now; a refusal to admit would have been raised before this."""


@dataclass(frozen=True)
class Delta:
    """The next verified piece of the answer's text."""

    text: str


# what ``Pipeline.stream`` and ``Pipeline.chat_stream`` yield; the last is the Answer
StreamEvent = Admitted | Delta | Answer


@dataclass(frozen=True)
class Options:
    """Per-request generation settings a caller may choose (chat clients send them).

    ``max_tokens`` is capped at ``Settings.max_answer_tokens``: the prompt budget is
    sized for that many answer tokens.
    """

    max_tokens: int | None = None
    temperature: float | None = None
    stop: tuple[str, ...] = ()
