"""Loading what a pipeline serves with: the retriever over the current build and the
model the settings name (a remote server, or the local GGUF, checked before it loads)."""

from __future__ import annotations

from rag.answer import selfcheck
from rag.answer.generation import Generator, LlamaGenerator
from rag.answer.models import resolve_model
from rag.config import Settings
from rag.index.embedding import Embedder
from rag.index.locations import index_location
from rag.index.retrieval import Retriever

__all__ = ["load_generator", "load_retriever"]


def load_retriever(settings: Settings, embedder: Embedder) -> Retriever:
    """The retriever over the current index, checked against the configured embedder."""
    store = index_location(settings).load(embedder.name, embedder.dim)
    qdrant = settings.vector_store == "qdrant"  # Qdrant fuses by its own formula
    return Retriever(
        embedder,
        store,
        settings.retrieval_mode,
        settings.qdrant_rrf_k if qdrant else settings.rrf_k,
        lexical_weight=settings.lexical_weight,
        depth=settings.passages_read(),
    )


def load_generator(settings: Settings) -> Generator:
    """The LLM the settings name: a remote OpenAI-compatible server (``RAG_LLM_URL``), or
    the local GGUF, verified before it is loaded."""
    if settings.llm_url:
        from rag.answer.remote import RemoteGenerator

        return RemoteGenerator(
            settings.llm_url,
            settings.llm_model,
            n_ctx=settings.n_ctx,
            concurrency=settings.llm_concurrency,
            timeout_s=settings.llm_timeout_s,
            api_key=settings.llm_api_key,
        )
    path = resolve_model(settings.model_path, settings.models_path, settings.model_sha256)
    if settings.selfcheck and not selfcheck.passed(path, settings.n_threads):
        selfcheck.run_selfcheck(path, settings.n_threads)  # a crash here, not mid-question
    return LlamaGenerator(path, n_ctx=settings.n_ctx, n_threads=settings.n_threads)
