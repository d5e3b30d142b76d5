"""Qdrant as the vector store (its embedded local mode, the real engine's Python port):
the vector-index protocol on both backends, the same rankings as FAISS, builds behind
an alias, documents changed from any replica, and answers equal to the FAISS
pipeline's at temperature 0."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from rag import (
    Collection,
    FaissVectors,
    IndexConflict,
    Pipeline,
    QdrantLocation,
    Settings,
    build_index,
    load_retriever,
)
from rag.index.store import Store

TEXTS = [
    ("a.md", "Riptide binarizes networks and replaces multiplication with popcount."),
    ("a.md", "Bitpacking lets binarized layers use xor and popcount operations."),
    ("b.md", "ZeRO-Infinity offloads optimizer state to NVMe to break the GPU memory wall."),
    ("b.md", "PLink probes the datacenter network to cut cross-rack AllReduce traffic."),
    ("c.md", "Checkmate finds rematerialization schedules with integer linear programming."),
    ("c.md", "Energy use of training fell when moving from P100 GPUs to TPUs in the cloud."),
]
QUESTIONS = [
    "What does Riptide replace multiplication with?",
    "How does ZeRO-Infinity break the GPU memory wall?",
    "Which technique does Checkmate use for its schedule?",
    "energy of TPUs versus GPUs",
]


@pytest.fixture()
def location(tmp_path: Path) -> QdrantLocation:
    return QdrantLocation(QdrantClient(":memory:"), "reports", tmp_path / "cache")


@pytest.fixture(scope="module")
def vectors(embedder) -> np.ndarray:
    return embedder.encode([t for _, t in TEXTS])


def _both(location: QdrantLocation, vectors: np.ndarray):
    ids, texts, sources = range(len(TEXTS)), [t for _, t in TEXTS], [s for s, _ in TEXTS]
    faiss_index = FaissVectors.empty(vectors.shape[1])
    qdrant_index = location.new_index(vectors.shape[1], len(TEXTS))
    for index in (faiss_index, qdrant_index):
        index.upsert(ids, vectors, texts, sources)
    return faiss_index, qdrant_index


def _fused_as_qdrant_says(dense: list[int], lexical: list[int], k: int, w: float) -> list[int]:
    """Qdrant's documented weighted RRF: 1 / (k - 1 + rank / weight) per list."""
    scores: dict[int, float] = {}
    for ranking, weight in ((dense, 1.0), (lexical, w)):
        for rank, i in enumerate(ranking, start=1):
            scores[i] = scores.get(i, 0.0) + 1 / (k - 1 + rank / weight)
    return sorted(scores, key=lambda i: -scores[i])


def test_both_backends_rank_alike(location, vectors, embedder):
    """Same dense hits and cosines, same BM25 scores (the sparse vectors carry bm25s's
    term weights); Qdrant fuses them server-side by its formula with the mapped k, and
    puts the same passage first as our fusion does."""
    faiss_index, qdrant_index = _both(location, vectors)
    for q in QUESTIONS:
        v = embedder.encode([q])[0]
        f, d = faiss_index.search(v, 4), qdrant_index.search(v, 4)
        assert [i for i, _ in f] == [i for i, _ in d]
        assert np.allclose([s for _, s in f], [s for _, s in d], atol=1e-5)
        f, d = faiss_index.search_lexical(q, 6), qdrant_index.search_lexical(q, 6)
        assert f, q
        assert [i for i, _ in f] == [i for i, _ in d]
        assert np.allclose([s for _, s in f], [s for _, s in d], rtol=1e-4)
        f = faiss_index.search_hybrid(q, v, 6, 20, 1.5)
        d = qdrant_index.search_hybrid(q, v, 6, Settings().qdrant_rrf_k, 1.5)
        dense = [i for i, _ in qdrant_index.search(v, 6)]
        lexical = [i for i, _ in qdrant_index.search_lexical(q, 6)]
        expected = _fused_as_qdrant_says(dense, lexical, Settings().qdrant_rrf_k, 1.5)
        assert [i for i, _ in d] == expected
        assert f[0][0] == d[0][0]
        assert qdrant_index.cosines(v, [0, 3]) == pytest.approx(faiss_index.cosines(v, [0, 3]))


@pytest.mark.parametrize("backend", ["faiss", "qdrant"])
def test_delete_document_removes_its_points_only(location, vectors, embedder, backend):
    index = _both(location, vectors)[backend == "qdrant"]
    index.delete_document("b.md")
    assert len(index) == 4
    v = embedder.encode([QUESTIONS[1]])[0]
    assert {i for i, _ in index.search(v, 6)} == {0, 1, 4, 5}
    assert index.search_lexical("ZeRO-Infinity NVMe", 6) == []
    assert np.allclose(index.vectors([4]), vectors[4:5], atol=1e-6)


@pytest.fixture()
def corpus(tmp_path: Path, location, embedder) -> Path:
    """A one-report corpus, built into ``location``."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "one.md").write_text("# One\n\nRiptide uses popcount instead of multiplication.\n")
    build_index(folder, location, embedder)
    return folder


def test_a_build_goes_live_by_alias_and_old_readers_keep_theirs(corpus, location, embedder):
    first = location.current_build()
    reader = location.load(embedder.name, embedder.dim)
    (corpus / "two.md").write_text("# Two\n\nPLink cuts cross-rack traffic.\n")
    result = build_index(corpus, location, embedder)
    assert result.rebuilt and result.embedded == 1  # one.md came from the cache
    assert location.current_build() not in (None, first)
    assert sorted(location.load().documents) == ["one.md", "two.md"]
    # a request that began on the old build still reads it whole
    assert sorted(reader.documents) == ["one.md"] and reader.search_lexical("Riptide", 3)
    assert not build_index(corpus, location, embedder).rebuilt  # nothing changed


def test_a_failed_switch_leaves_the_old_build_and_no_stray_collection(corpus, location, embedder):
    before = location.current_build()
    collections = {c.name for c in location.client.get_collections().collections}
    store = location.load()
    index = location.new_index(embedder.dim, len(store.chunks))
    stale = Store.from_vectors(
        store.chunks,
        store.vectors.vectors(range(len(store.chunks))),
        dict(store.manifest, parent="a build that is no longer current"),
        store.texts,
        index,
    )
    with pytest.raises(IndexConflict):
        location.save(stale)
    location.drop_unfinished(index)
    assert location.current_build() == before
    assert {c.name for c in location.client.get_collections().collections} == collections


def test_any_replica_adds_and_removes_documents_without_files(tmp_path, location, embedder):
    """Two replicas share only Qdrant: each has its own (empty) cache and no corpus."""
    seeds = sorted(Settings().seeds_path.iterdir())[:2]
    build_index(seeds, location, embedder)
    replica = [
        Collection(
            tmp_path / f"corpus{n}",
            QdrantLocation(location.client, "reports", tmp_path / f"c{n}"),
            embedder,
        )
        for n in (1, 2)
    ]
    upload = replica[0].add("notes.md", b"# Notes\n\nFLEET groups GPUs into a flotilla.\n")
    record, result = upload.record, upload.result
    assert (
        result is not None and result.embedded == 1
    )  # the seeds came from the current build, not re-embedded
    assert not (tmp_path / "corpus1").exists()  # nothing written beside the index
    assert record["name"] in {d["name"] for d in replica[1].list()}
    assert replica[1].text(record["id"])["text"].startswith("# Notes")
    replica[1].remove(record["id"])
    assert sorted(d["name"] for d in replica[0].list()) == sorted(p.name for p in seeds)


def test_pipeline_on_qdrant_answers_as_on_faiss(tmp_path, pipeline, embedder):
    """The seeds in Qdrant local mode (whose fusion differs from ours: see
    ``QdrantVectors.search_hybrid``): FAISS's best passage for each question among
    Qdrant's best two, and the same answer and citations from the real model at
    temperature 0."""
    s = Settings(
        vector_store="qdrant",
        qdrant_path=tmp_path / "qdrant",
        index_dir=tmp_path / "index",
        answer_cache_size=0,
    )
    from rag import index_location

    build_index(s.seeds_path, index_location(s), embedder, s.chunk_overlap_tokens)
    retriever = load_retriever(s, embedder)
    for q in QUESTIONS:
        best = pipeline.retriever.search(q, 1)[0].chunk
        assert best in [h.chunk for h in retriever.search(q, 2)], q
    on_qdrant = Pipeline(s, retriever, pipeline.generator)
    question = "What does Riptide replace multiplication with?"
    a, b = on_qdrant.answer(question), pipeline.answer(question)
    assert a.text == b.text
    assert [(c.source, c.start, c.end) for c in a.citations] == [
        (c.source, c.start, c.end) for c in b.citations
    ]


def _until(check, what: str, tries: int = 600) -> None:
    """Wait for another replica to see a change (it looks at the alias every 2 s);
    a generous bound only so a broken build fails instead of hanging."""
    import time

    for _ in range(tries):
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def test_two_api_replicas_share_one_qdrant(tmp_path, pipeline, embedder):
    """Replica A takes an upload; replica B finds, answers from and deletes it; A sees
    the delete. They share nothing but the Qdrant engine (and the loaded model)."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    def replica(n: int) -> TestClient:
        s = Settings(
            vector_store="qdrant",
            qdrant_path=tmp_path / "qdrant",
            index_dir=tmp_path / f"cache{n}",
            seeds_dir=tmp_path / f"corpus{n}",
            document_writes=True,
            answer_cache_size=0,
        )
        return TestClient(
            create_app(pipeline=Pipeline(s, load_retriever(s, embedder), pipeline.generator))
        )

    s = Settings(vector_store="qdrant", qdrant_path=tmp_path / "qdrant", index_dir=tmp_path / "c0")
    from rag import index_location

    build_index(sorted(s.seeds_path.iterdir())[:2], index_location(s), embedder)
    a, b = replica(1), replica(2)
    note = b"# Notes\n\nThe Quokka scheduler packs inference jobs onto idle TPUs every 40 s.\n"
    r = a.post("/v1/documents", files={"file": ("quokka.md", note, "text/markdown")})
    assert r.status_code == 201, r.text
    doc = r.json()["id"]

    def b_finds() -> bool:
        hits = b.post("/v1/search", json={"query": "Quokka scheduler", "k": 3}).json()["passages"]
        return any(h["source"] == "quokka.md" for h in hits)

    _until(b_finds, "replica B finds the upload")
    body = b.post(
        "/v1/ask", json={"question": "How often does the Quokka scheduler pack inference jobs?"}
    ).json()
    assert "40" in body["answer"] and body["citations"][0]["source"] == "quokka.md", body
    assert b.delete(f"/v1/documents/{doc}").status_code == 200
    _until(lambda: a.get(f"/v1/documents/{doc}").status_code == 404, "replica A sees the delete")
    assert not (tmp_path / "corpus1").exists() and not (tmp_path / "corpus2").exists()


def test_an_unreachable_qdrant_server_is_503_not_500(tmp_path):
    import socket

    from rag import IndexUnavailable, index_location

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = Settings(vector_store="qdrant", qdrant_url=f"http://127.0.0.1:{port}", index_dir=tmp_path)
    with pytest.raises(IndexUnavailable, match="Qdrant is unreachable"):
        index_location(s).load()


def test_a_search_within_documents_is_filtered_inside_qdrant(location, vectors, embedder):
    """Restricted to two documents, Qdrant returns the full k from them (the filter is in
    the query, not applied to a top-k afterwards) and ranks them as FAISS does."""
    faiss_index, qdrant_index = _both(location, vectors)
    within = {"a.md", "c.md"}
    allowed = {i for i, (source, _) in enumerate(TEXTS) if source in within}
    for q in QUESTIONS:
        v = embedder.encode([q])[0]
        for index in (faiss_index, qdrant_index):
            assert {i for i, _ in index.search(v, len(allowed), within)} == allowed
            assert {i for i, _ in index.search_hybrid(q, v, 6, 20, 1.0, within)} <= allowed
        f, d = faiss_index.search(v, 2, within), qdrant_index.search(v, 2, within)
        assert [i for i, _ in f] == [i for i, _ in d]
        f, d = faiss_index.search_lexical(q, 6, within), qdrant_index.search_lexical(q, 6, within)
        assert [i for i, _ in f] == [i for i, _ in d] and {i for i, _ in d} <= allowed
    assert qdrant_index.search(embedder.encode(["x"])[0], 3, {"nothing.md"}) == []
