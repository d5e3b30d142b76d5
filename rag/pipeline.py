"""The one entry point: ``Pipeline.answer(question) -> Answer``.

question -> Retriever.search -> prompt.fit_passages -> Generator.stream
         -> citations.build_citations -> Answer
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from rag.citations import (
    attribute_uncited,
    build_citations,
    is_refusal,
    strip_unknown_markers,
)
from rag.config import Settings
from rag.embedding import Embedder, SentenceTransformerEmbedder
from rag.errors import EmptyQuestion, InvalidQuery
from rag.generation import Generator, LlamaGenerator
from rag.models import resolve_model
from rag.prompt import REFUSAL, fit_passages
from rag.retrieval import Retriever
from rag.store import Store
from rag.types import Answer, Hit, Timings

__all__ = ["Pipeline", "answer", "default_pipeline"]


@dataclass
class Pipeline:
    """Retrieval plus generation, configured once and shared by every caller."""

    settings: Settings
    retriever: Retriever
    generator: Generator

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
        """Answer ``question`` from the reports, citing the passages it used."""
        result: Answer | None = None
        for event in self.stream(question, top_k):
            if isinstance(event, Answer):
                result = event
        assert result is not None
        return result

    def stream(self, question: str, top_k: int | None = None) -> Iterator[str | Answer]:
        """Yield answer text as it is generated, then the finished ``Answer``.

        Closing the iterator early stops generation (the model is freed at once).
        """
        t_start = time.perf_counter()
        q = self.validate(question)
        k = top_k or self.settings.top_k
        hits, embed_s, search_s = self.retriever.search_timed(q, k)
        gen = self.generator
        budget = gen.n_ctx - self.settings.max_answer_tokens
        hits, prompt, n_prompt = fit_passages(q, hits, gen.render, gen.count_tokens, budget)
        timings = Timings(embed_s=embed_s, search_s=search_s, prompt_tokens=n_prompt)
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
        refused = not raw or is_refusal(raw)
        if refused:
            text, citations = REFUSAL, []
        else:
            text = strip_unknown_markers(raw, set(range(1, len(hits) + 1)))
            text = attribute_uncited(text, hits)
            citations = build_citations(text, hits)
        timings.total_s = time.perf_counter() - t_start
        yield Answer(q, text, citations, refused, hits, timings)


def load_retriever(settings: Settings, embedder: Embedder) -> Retriever:
    """The retriever over the current index, checked against the configured embedder."""
    store = Store.load(settings.index_path, embedder.name, embedder.dim)
    return Retriever(embedder, store)


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
