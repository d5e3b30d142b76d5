"""Every knob of the service in one typed object, read from ``RAG_*`` environment variables.

Relative paths are taken from the data root (the checkout, or ``RAG_HOME`` / the
user's data folder for an installed package), not the working directory, so ``rag``
behaves the same wherever it is started from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DATA_ROOT", "REPO_ROOT", "Settings"]

REPO_ROOT = Path(__file__).resolve().parent.parent


def _data_root() -> Path:
    """Where relative data paths (corpus, index, model cache) live: the checkout when
    running from one, else ``RAG_HOME`` or the user's data folder (an installed
    package must not write into site-packages)."""
    if os.environ.get("RAG_HOME"):
        return Path(os.environ["RAG_HOME"]).expanduser()
    if (REPO_ROOT / "pyproject.toml").is_file():
        return REPO_ROOT
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "reports-rag"


DATA_ROOT = _data_root()

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Service configuration; each field can be set as ``RAG_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", frozen=True)

    seeds_dir: Path = Field(
        Path("seeds"),
        description="The corpus: folder of report files (PDF, DOCX, HTML, Markdown, text; "
        "subfolders included) to index.",
    )
    document_writes: bool = Field(
        False,
        description="Allow adding and removing documents over HTTP (POST/DELETE "
        "/v1/documents); an API key is needed when keys are set.",
    )
    max_upload_bytes: int = Field(
        25 * 2**20, ge=1024, description="Largest accepted document upload (bytes); larger: 413."
    )
    index_dir: Path = Field(
        Path("index"),
        description="Where `rag index` writes the index (with Qdrant: this machine's cache "
        "of per-document vectors).",
    )
    feedback_file: Path = Field(
        Path("feedback/feedback.jsonl"),
        description="Where readers' feedback on answers is appended (POST /v1/feedback; "
        "`rag feedback export` turns the 'wrong' ones into draft eval items).",
    )
    vector_store: Literal["faiss", "qdrant", "postgres"] = Field(
        "faiss",
        description="faiss: index files under RAG_INDEX_DIR (one machine). qdrant: a Qdrant "
        "collection per build behind an alias, catalogue included (stateless replicas). "
        "postgres: PostgreSQL with pgvector at RAG_DATABASE_URL, catalogue included "
        "(stateless replicas; `rag db init` creates its schema).",
    )
    database_url: str | None = Field(
        None,
        description="PostgreSQL URL (postgresql://user:password@host:port/db) for "
        "RAG_VECTOR_STORE=postgres; a hot standby's URL makes a read-only replica.",
    )
    database_schema: str = Field(
        "public",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="The PostgreSQL schema holding this collection's tables: several "
        "collections can share one database, each in a schema of its own.",
    )
    qdrant_url: str | None = Field(
        None, description="Qdrant server or cluster URL (RAG_VECTOR_STORE=qdrant)."
    )
    qdrant_path: Path | None = Field(
        None,
        description="Folder for Qdrant's embedded local mode, used when RAG_QDRANT_URL is unset "
        "(one process at a time).",
    )
    qdrant_api_key: str | None = Field(None, description="API key for RAG_QDRANT_URL.")
    qdrant_rrf_k: int = Field(
        3,
        ge=1,
        description="Qdrant's fusion constant: its weighted RRF is 1/(k - 1 + rank/weight), "
        "not ours, so it has its own k (chosen on the dev split).",
    )
    qdrant_collection: str = Field(
        "reports",
        pattern=r"^[A-Za-z0-9_]{1,64}$",
        description="The alias readers follow; each build is a collection named after it.",
    )
    models_dir: Path = Field(
        Path("models"), description="Cache where the default GGUF is assembled from its packages."
    )
    embedding_model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description="Sentence-transformers model: the packaged all-MiniLM-L6-v2, or a local "
        "model directory. Changing it requires `rag index`.",
    )
    model_path: Path | None = Field(
        None,
        description="A GGUF model file to answer with. Unset: the default Qwen2.5-Coder-1.5B "
        "Q4_K_M, assembled from its PyPI packages and sha256-checked.",
    )
    model_sha256: str | None = Field(
        None, description="Expected sha256 of RAG_MODEL_PATH; the file is refused if it differs."
    )
    llm_url: str | None = Field(
        None,
        description="Base URL of an OpenAI-compatible model server (e.g. llama-server or vLLM, "
        "ending in /v1) to answer with instead of the local model.",
    )
    llm_model: str | None = Field(
        None, description="Model name on RAG_LLM_URL (default: the first one it lists)."
    )
    llm_api_key: str | None = Field(
        None, description="Bearer key for RAG_LLM_URL, if it needs one."
    )
    llm_concurrency: int = Field(
        4, ge=1, le=256, description="Answers generated at once on RAG_LLM_URL (batching)."
    )
    llm_timeout_s: float = Field(
        120.0, gt=0, description="Longest wait for RAG_LLM_URL to send the next piece."
    )
    selfcheck: bool = Field(
        True,
        description="Before loading the local model, evaluate a short prompt in a child "
        "process, so a llama.cpp build that crashes on this CPU stops start-up with the fix.",
    )
    n_ctx: int = Field(4096, ge=512, description="LLM context window in tokens.")
    n_threads: int = Field(
        max(1, os.cpu_count() or 1), ge=1, description="CPU threads used by llama.cpp."
    )
    max_answer_tokens: int = Field(256, ge=16, le=2048, description="Cap on generated tokens.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    top_k: int = Field(3, ge=1, le=20, description="Passages retrieved for an answer by default.")
    retrieval_mode: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", description="hybrid (dense + BM25 fused by reciprocal rank), dense or bm25."
    )
    rrf_k: float = Field(20.0, gt=0, description="Reciprocal rank fusion constant.")
    lexical_weight: float = Field(
        1.5, ge=0.0, description="Weight of the BM25 ranking in the fusion (dense has 1)."
    )
    min_relevance: float = Field(
        0.12,
        ge=-1.0,
        le=1.0,
        description="Refuse without calling the LLM when no passage has a cosine similarity "
        "to the question of at least this much.",
    )
    evidence: Literal["compact", "passages"] = Field(
        "compact",
        description="What the model reads: `compact` (the lines most like the question, "
        "chosen from twice `top_k` retrieved passages, with their headings) or `passages` "
        "(the `top_k` whole retrieved passages).",
    )
    evidence_tokens: int = Field(
        340,
        ge=32,
        description="Token budget of compact evidence, passage headers included (LLM tokens).",
    )
    asks_first: bool = Field(
        False,
        description="Ask a compound question part by part, and a question about several "
        "reports report by report, each from evidence of its own, instead of asking the "
        "whole question first and then what its answer left out.",
    )
    second_looks: int = Field(
        2,
        ge=0,
        le=4,
        description="Parts of a compound question the answer left out (all of them when "
        "nothing was supported), or reports of a question about two reports it left out, "
        "that are asked again on their own, each from evidence chosen for it (0: never; "
        "a question takes at most 3 generations in all, MAX_GENERATIONS).",
    )
    answer_cache_size: int = Field(
        256,
        ge=0,
        description="Finished answers kept for repeated questions (per index build; 0: off). "
        "Only answers generated at temperature 0 are kept.",
    )
    min_relevance_unnamed: float = Field(
        0.25,
        ge=-1.0,
        le=1.0,
        description="The same for a question that names nothing (no name, acronym or "
        "figure) and whose words no retrieved passage mostly holds: its similarity is all "
        "there is to go on.",
    )
    support_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Support score an answer sentence needs to be kept."
    )
    keep_unsupported: bool = Field(
        False,
        description="Keep unsupported sentences in the answer (marked) instead of dropping them.",
    )
    chunk_overlap_tokens: int = Field(
        24, ge=0, le=96, description="Overlap between pieces of a section split for length."
    )
    max_question_chars: int = Field(2000, ge=10, description="Longest accepted question.")
    max_conversation_chars: int = Field(
        24000, ge=100, description="Longest accepted chat history (all messages, characters)."
    )
    max_history_tokens: int = Field(
        384, ge=0, description="Earlier chat turns the answer prompt may hold (LLM tokens)."
    )
    queue_max_waiting: int = Field(
        8, ge=0, description="Requests that may wait for the model; more get 503 at once."
    )
    queue_max_wait_s: float = Field(
        120.0, gt=0, description="Longest wait for the model before 503 (also the estimate cap)."
    )
    generation_deadline_s: float = Field(
        120.0, gt=0, description="A generation running longer is stopped (finish: length)."
    )
    max_body_bytes: int = Field(
        262_144, ge=1024, description="Largest accepted request body; larger gets 413."
    )
    api_keys: str | None = Field(
        None, description="Comma-separated API keys; when set, /v1/* needs a Bearer key."
    )
    api_keys_file: str | None = Field(
        None, description="File of API keys, one per line, plain or `sha256:<hex>`."
    )
    cors_origins: str = Field(
        "", description="Comma-separated origins allowed by CORS (empty: CORS closed)."
    )
    log_questions: bool = Field(False, description="Log question text (debugging only).")
    shutdown_grace_s: float = Field(
        30.0, ge=0, description="On SIGTERM, how long in-flight requests may finish."
    )
    host: str = Field("127.0.0.1", description="Address `rag serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `rag serve` listens on.")

    def passages_read(self, top_k: int | None = None) -> int:
        """Passages retrieved for one answer: ``top_k`` (the setting when None), twice as
        many with compact evidence, which reads lines, not whole passages, and can afford
        to choose them from more at the same prompt size."""
        return (top_k or self.top_k) * (2 if self.evidence == "compact" else 1)

    def resolve(self, path: Path) -> Path:
        """An absolute path: relative settings are anchored at the data root."""
        return path if path.is_absolute() else DATA_ROOT / path

    @property
    def seeds_path(self) -> Path:
        return self.resolve(self.seeds_dir)

    @property
    def index_path(self) -> Path:
        return self.resolve(self.index_dir)

    @property
    def feedback_path(self) -> Path:
        return self.resolve(self.feedback_file)

    @property
    def models_path(self) -> Path:
        return self.resolve(self.models_dir)
