"""The one entry point: ``Pipeline.answer(question) -> Answer``.

question -> Retriever.search -> (refuse early if nothing is relevant)
         -> prompt.fit_passages -> Generator.stream
         -> Verifier.check (each sentence against the passages) -> Answer
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from rag.citations import is_refusal, strip_unknown_markers
from rag.config import Settings
from rag.embedding import Embedder, SentenceTransformerEmbedder
from rag.errors import EmptyQuestion, InvalidQuery
from rag.generation import Generator, LlamaGenerator
from rag.models import resolve_model
from rag.prompt import REFUSAL, fit_passages
from rag.retrieval import Retriever
from rag.store import Store
from rag.types import Answer, Citation, Hit, Sentence, Timings
from rag.verification import SentenceCheck, Verifier, contains_term, key_terms

__all__ = ["Pipeline", "answer", "default_pipeline", "load_generator", "load_retriever"]


@dataclass
class Pipeline:
    """Retrieval, generation and verification, configured once and shared by callers."""

    settings: Settings
    retriever: Retriever
    generator: Generator
    verifier: Verifier = field(init=False)

    def __post_init__(self) -> None:
        self.verifier = Verifier(self.retriever.embedder, self.settings.support_threshold)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Pipeline:
        """Load the embedder, the index and the LLM the settings name.

        Raises ``IndexNotFound``/``IndexMismatch``/``IndexCorrupt`` when the index
        needs ``rag index``, ``ModelIntegrity`` when the model file is damaged.
        """
        settings = settings or Settings()
        embedder = SentenceTransformerEmbedder(settings.embedding_model)
        return cls(settings, load_retriever(settings, embedder), load_generator(settings))

    def validate(self, question: object) -> str:
        """The question stripped, or ``InvalidQuery`` saying what is wrong with it."""
        if not isinstance(question, str):
            raise InvalidQuery("question must be a string")
        q = question.strip()
        if not q:
            raise EmptyQuestion("question is empty")
        if len(q) > self.settings.max_question_chars:
            raise InvalidQuery(
                f"question is {len(q)} characters; the limit is {self.settings.max_question_chars}"
            )
        return q

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        """Ranked passages for ``query`` (no LLM)."""
        return self.retriever.search(self.validate(query), k or self.settings.top_k)

    def answer(self, question: str, top_k: int | None = None) -> Answer:
        """Answer ``question`` from the reports, citing the passages that support it."""
        result: Answer | None = None
        for event in self.stream(question, top_k):
            if isinstance(event, Answer):
                result = event
        assert result is not None
        return result

    def stream(self, question: str, top_k: int | None = None) -> Iterator[str | Answer]:
        """Yield raw answer text as it is generated, then the verified ``Answer``.

        The streamed text is the model's draft; the final ``Answer`` holds only the
        sentences the passages support. Closing the iterator early stops generation.
        """
        t_start = time.perf_counter()
        q = self.validate(question)
        k = top_k or self.settings.top_k
        hits, embed_s, search_s = self.retriever.search_timed(q, k)
        timings = Timings(embed_s=embed_s, search_s=search_s)
        best = max((h.dense for h in hits if h.dense is not None), default=-1.0)
        if best < self.settings.min_relevance:
            timings.total_s = time.perf_counter() - t_start
            reason = f"no passage is relevant enough (best similarity {best:.2f})"
            yield self._refusal(q, hits, timings, [], reason)
            return
        gen = self.generator
        budget = gen.n_ctx - self.settings.max_answer_tokens
        hits, prompt, n_prompt = fit_passages(q, hits, gen.render, gen.count_tokens, budget)
        timings.prompt_tokens = n_prompt
        parts: list[str] = []
        t_gen = time.perf_counter()
        for piece in gen.stream(prompt, self.settings.max_answer_tokens, self.settings.temperature):
            if not parts:
                timings.ttft_s = time.perf_counter() - t_gen
            parts.append(piece)
            if piece:
                yield piece
        timings.generation_s = time.perf_counter() - t_gen
        timings.answer_tokens = len(parts)
        raw = "".join(parts).strip()
        result = self._verified(q, raw, hits, timings)
        timings.total_s = time.perf_counter() - t_start
        yield result

    def _verified(self, q: str, raw: str, hits: list[Hit], timings: Timings) -> Answer:
        """Keep the sentences the passages support, each cited to its supporting quote."""
        if not raw or is_refusal(raw):
            return self._refusal(q, hits, timings, [], "the model found no answer in the passages")
        text = strip_unknown_markers(raw, set(range(1, len(hits) + 1)))
        checks = self.verifier.check(text, hits, self.retriever.store.openings, q)
        sentences = [_sentence(c) for c in checks]
        kept = [c for c in checks if c.supported]
        if not kept:
            return self._refusal(
                q, hits, timings, sentences, "no sentence is supported by the passages"
            )
        # A question naming a year or figure the supporting passages never mention is
        # about something else (e.g. the 2021 count when only 2022's is reported). Names
        # are not checked: a passage split from its speaker's heading lacks the name.
        openings = self.retriever.store.openings
        cited = {c.citation.n for c in kept if c.citation is not None}
        haystack = "\n".join(
            f"{h.chunk.text}\n{h.chunk.section}\n{openings.get(h.chunk.source, '')}"
            for n, h in enumerate(hits, start=1)
            if n in cited
        )
        figures = [t for t in key_terms(q) if any(ch.isdigit() for ch in t)]
        absent = [t for t in figures if not contains_term(haystack, t)]
        if absent:
            reason = f"the supporting passages never mention {', '.join(absent)}"
            return self._refusal(q, hits, timings, sentences, reason)
        shown = checks if self.settings.keep_unsupported else kept
        body = " ".join(_render(c) for c in shown)
        citations: list[Citation] = []
        for c in kept:
            if c.citation is not None and c.citation not in citations:
                citations.append(c.citation)
        return Answer(q, body, citations, False, hits, timings, sentences)

    def _refusal(
        self,
        q: str,
        hits: list[Hit],
        timings: Timings,
        sentences: list[Sentence],
        reason: str,
    ) -> Answer:
        """The fixed refusal, with the closest passages so the reader can look further."""
        return Answer(q, REFUSAL, [], True, hits, timings, sentences, reason)


def _sentence(check: SentenceCheck) -> Sentence:
    n = check.citation.n if check.citation else None
    return Sentence(check.text, check.supported, check.support, n)


def _render(check: SentenceCheck) -> str:
    text = check.text.rstrip()
    end = text[-1] if text and text[-1] in ".!?" else "."
    text = text[:-1] if text and text[-1] in ".!?" else text
    if check.citation is None:
        return f"{text} (unsupported){end}"
    return f"{text} [{check.citation.n}]{end}"


def load_retriever(settings: Settings, embedder: Embedder) -> Retriever:
    """The retriever over the current index, checked against the configured embedder."""
    store = Store.load(settings.index_path, embedder.name, embedder.dim)
    return Retriever(
        embedder,
        store,
        settings.retrieval_mode,
        settings.rrf_k,
        lexical_weight=settings.lexical_weight,
    )


def load_generator(settings: Settings) -> Generator:
    """The LLM the settings name, verified before it is loaded."""
    path = resolve_model(settings.model_path, settings.models_path, settings.model_sha256)
    return LlamaGenerator(path, n_ctx=settings.n_ctx, n_threads=settings.n_threads)


_default: Pipeline | None = None
_default_lock = threading.Lock()


def default_pipeline() -> Pipeline:
    """A process-wide pipeline built from the environment on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Pipeline.from_settings()
        return _default


def answer(question: str, top_k: int | None = None) -> Answer:
    """Answer ``question`` with the default pipeline (convenience for scripts)."""
    return default_pipeline().answer(question, top_k)
