"""Real components, loaded once per session: MiniLM, a FAISS index of the seeds, the LLM."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from rag.config import REPO_ROOT, Settings  # noqa: E402
from rag.index.embedding import SentenceTransformerEmbedder  # noqa: E402
from rag.ingest.indexing import build_index  # noqa: E402

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
    # no answer cache: a test that needs the model must reach it whatever ran before
    feedback = tmp_path_factory.mktemp("feedback") / "feedback.jsonl"  # not the repo's
    s = Settings(index_dir=index_dir, answer_cache_size=0, feedback_file=feedback)
    build_index(s.seeds_path, index_dir, embedder, s.chunk_overlap_tokens)
    return s


@pytest.fixture(scope="session")
def retriever(settings: Settings, embedder):
    from rag.serving.loading import load_retriever

    return load_retriever(settings, embedder)


@pytest.fixture(scope="session")
def pipeline(settings: Settings, retriever):
    from rag.serving.loading import load_generator
    from rag.serving.pipeline import Pipeline

    return Pipeline(settings, retriever, load_generator(settings))


class CountingGenerator:
    """The real generator, counting how often it is asked to generate and how many
    tokens it produced."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.n_ctx, self.concurrency = inner.name, inner.n_ctx, inner.concurrency
        self.lock = inner.lock
        self.calls = 0
        self.tokens = 0

    def count_prompt(self, messages):
        return self.inner.count_prompt(messages)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def stream(self, *args, **kwargs) -> Iterator[str]:
        self.calls += 1
        for piece in self.inner.stream(*args, **kwargs):
            self.tokens += 1
            yield piece


@pytest.fixture(scope="session")
def counting(pipeline):
    """A pipeline over the real model whose generator counts calls and tokens."""
    from rag.serving.pipeline import Pipeline

    gen = CountingGenerator(pipeline.generator)
    return Pipeline(pipeline.settings, pipeline.retriever, gen), gen


@contextmanager
def serving(app) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port (real sockets, so clients can
    disconnect); yields its base URL."""
    import socket
    import threading

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def live_server(counting) -> Iterator[str]:
    """The app over the counting pipeline, served on a loopback port."""
    from api.app import create_app

    with serving(create_app(pipeline=counting[0])) as url:
        yield url


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


@pytest.fixture(scope="session")
def invented(embedder):
    """``invented(folder, {name: text}, **settings)`` -> (Settings, Retriever): an index of
    invented documents written into ``folder`` (a rule is tested on text that is not
    from the seeds), with any settings overridden."""
    from rag.serving.loading import load_retriever

    def build(folder: Path, docs: dict[str, str], **overrides):
        (folder / "docs").mkdir()
        for name, text in docs.items():
            (folder / "docs" / name).write_text(text, encoding="utf-8")
        s = Settings(seeds_dir=folder / "docs", index_dir=folder / "idx", **overrides)
        build_index(s.seeds_path, s.index_path, embedder)
        return s, load_retriever(s, embedder)

    return build


pytest_plugins = ["tests.browser"]  # the page tests' browser and site
