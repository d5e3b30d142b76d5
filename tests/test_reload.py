"""A rebuilt index is served as soon as it is complete, whole, without a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.ingest.indexing import build_index
from rag.serving.loading import load_retriever
from rag.serving.pipeline import Pipeline


@pytest.fixture
def small(tmp_seeds: Path, tmp_path: Path, embedder, pipeline, monkeypatch) -> Pipeline:
    monkeypatch.setattr("rag.serving.builds.RELOAD_CHECK_S", 0.0)
    (tmp_seeds / "kettles.md").write_text("# Kettles\nQuantum tea kettles boil at 42 degrees.\n")
    index = tmp_path / "index"
    build_index(tmp_seeds, index, embedder)
    settings = pipeline.settings.model_copy(update={"index_dir": index, "seeds_dir": tmp_seeds})
    return Pipeline(settings, load_retriever(settings, embedder), pipeline.generator)


def test_new_build_is_served_after_reindex(small: Pipeline, tmp_seeds: Path, embedder):
    old = small.current()
    assert all("zebra" not in h.chunk.text for h in small.search("zebra crossings"))
    (tmp_seeds / "zebras.md").write_text("# Crossings\nStriped zebra crossings slow traffic.\n")
    build_index(tmp_seeds, small.settings.index_path, embedder)
    hits = small.search("zebra crossings")
    assert "zebra" in hits[0].chunk.text
    assert small.current() is not old
    assert small.current().store.manifest["build_id"] != old.store.manifest["build_id"]


def test_broken_new_build_leaves_the_old_index_serving(small: Pipeline, caplog):
    serving = small.current()
    (small.settings.index_path / "CURRENT").write_text("no-such-build")
    assert small.current() is serving
    assert "kettles" in small.search("quantum kettles")[0].chunk.text.lower()
    assert any("still serving the old one" in r.getMessage() for r in caplog.records)


def test_readyz_reports_the_build_being_served(small: Pipeline, tmp_seeds: Path, embedder):
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(pipeline=small)) as c:
        first = c.get("/readyz").json()["build_id"]
        (tmp_seeds / "more.md").write_text("# More\nAnother report about sailing ships.\n")
        build_index(tmp_seeds, small.settings.index_path, embedder)
        assert c.post("/v1/search", json={"query": "sailing ships"}).status_code == 200
        assert c.get("/readyz").json()["build_id"] != first
