"""Real components, loaded once per session: MiniLM, a FAISS index of the seeds, the LLM."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from rag.config import REPO_ROOT, Settings  # noqa: E402
from rag.embedding import SentenceTransformerEmbedder  # noqa: E402
from rag.indexing import build_index  # noqa: E402

SEEDS = REPO_ROOT / "seeds"


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def seed_texts() -> dict[str, str]:
    return {p.name: p.read_bytes().decode("utf-8") for p in sorted(SEEDS.iterdir())}


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, embedder) -> Settings:
    """Settings whose index is a fresh build of the seeds in a temporary folder."""
    index_dir = tmp_path_factory.mktemp("index")
    s = Settings(index_dir=index_dir)
    build_index(s.seeds_path, index_dir, embedder, s.chunk_overlap_tokens)
    return s


@pytest.fixture(scope="session")
def retriever(settings: Settings, embedder):
    from rag.pipeline import load_retriever

    return load_retriever(settings, embedder)


@pytest.fixture(scope="session")
def pipeline(settings: Settings, retriever):
    from rag.pipeline import Pipeline, load_generator

    return Pipeline(settings, retriever, load_generator(settings))


@pytest.fixture(scope="session")
def client(pipeline) -> Iterator:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(pipeline=pipeline)) as c:
        yield c


@pytest.fixture
def tmp_seeds(tmp_path: Path) -> Path:
    d = tmp_path / "seeds"
    d.mkdir()
    return d
