"""PostgreSQL with pgvector as the store, against a real server started from the
``pgserver`` wheel's binaries: the vector-index protocol scoring as FAISS does, builds
switched in one transaction, writers queued by the database, a versioned schema, faults
that are 503s, and answers equal to the FAISS pipeline's at temperature 0."""

from __future__ import annotations

import multiprocessing
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag import (
    Collection,
    FaissVectors,
    IndexConflict,
    IndexNotFound,
    Pipeline,
    Settings,
    StoreUnavailable,
    build_index,
    load_retriever,
)
from rag.index.pg_db import Database, migrate_schema
from rag.index.pg_vectors import PostgresVectors
from rag.index.postgres import PostgresLocation
from rag.index.store import Store
from tests.pg_server import PgServer, new_root

# invented text: no name here occurs in the seeds or any eval set
TEXTS = [
    ("a.md", "Marlinspike folds every convolution into lookup tables and shift-add steps."),
    ("a.md", "Lookup tables let folded layers run on micro-controllers without floats."),
    ("b.md", "Quillwort spills optimiser state to flash storage when DRAM is full."),
    ("b.md", "Fernhop probes the rack network and reroutes all-gather traffic around hot links."),
    ("c.md", "Tamarack plans recomputation with a constraint solver under a memory cap."),
    ("c.md", "Training energy fell by half when the lab moved from older GPUs to newer ones."),
    ("c.md", ""),  # an empty passage: BM25 counts it as one placeholder term, as bm25s does
]
QUESTIONS = [
    "What does Marlinspike fold convolutions into?",
    "Where does Quillwort spill optimiser state?",
    "Which solver does Tamarack use for recomputation?",
    "energy of newer GPUs versus older ones",
    "lookup tables lookup tables shift-add",  # a repeated query term counts twice
]


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    root = new_root()
    pg = PgServer(root).init().start()
    yield pg
    pg.stop("immediate")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def url(server: PgServer) -> str:
    """A fresh database on the shared server, schema created (``rag db init``)."""
    import psycopg

    name = f"t{np.random.default_rng().integers(1 << 40)}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    db_url = server.url.rsplit("/", 1)[0] + "/" + name
    assert migrate_schema(db_url) == (0, 1)
    return db_url


@pytest.fixture()
def location(url: str, tmp_path: Path) -> PostgresLocation:
    return PostgresLocation(Database(url), tmp_path / "cache")


@pytest.fixture(scope="module")
def vectors(embedder) -> np.ndarray:
    return embedder.encode([t for _, t in TEXTS])


def _both(location: PostgresLocation, vectors: np.ndarray) -> tuple[FaissVectors, PostgresVectors]:
    ids, texts, sources = range(len(TEXTS)), [t for _, t in TEXTS], [s for s, _ in TEXTS]
    faiss_index = FaissVectors.empty(vectors.shape[1])
    pg_index = location.new_index(vectors.shape[1], len(TEXTS))
    for index in (faiss_index, pg_index):
        index.upsert(ids, vectors, texts, sources)
    return faiss_index, pg_index


def test_scores_equal_faiss_and_bm25s(location, vectors, embedder):
    """Dense cosines as FAISS's flat index gives them, BM25 scores as bm25s gives them
    (computed in SQL from the postings), and the same fused ranking in one query."""
    faiss_index, pg_index = _both(location, vectors)
    assert len(pg_index) == len(faiss_index) == len(TEXTS)
    for q in QUESTIONS:
        v = embedder.encode([q])[0]
        f, p = faiss_index.search(v, 4), pg_index.search(v, 4)
        assert [i for i, _ in f] == [i for i, _ in p], q
        assert np.allclose([s for _, s in f], [s for _, s in p], atol=1e-5)
        f, p = faiss_index.search_lexical(q, 6), pg_index.search_lexical(q, 6)
        assert f, q
        assert [i for i, _ in f] == [i for i, _ in p], q
        assert np.allclose([s for _, s in f], [s for _, s in p], rtol=1e-4), q
        for weight in (1.5, 0.0):
            f, p = (
                faiss_index.search_hybrid(q, v, 5, 20, weight),
                pg_index.search_hybrid(q, v, 5, 20, weight),
            )
            assert [i for i, _ in f] == [i for i, _ in p], q
            assert np.allclose([s for _, s in f], [s for _, s in p])
        assert pg_index.cosines(v, [0, 3]) == pytest.approx(faiss_index.cosines(v, [0, 3]))
    assert pg_index.search_lexical("zzz unknownterm", 3) == []


def test_delete_document_removes_its_points_only(location, vectors, embedder):
    faiss_index, pg_index = _both(location, vectors)
    for index in (faiss_index, pg_index):
        index.delete_document("b.md")
    assert len(pg_index) == len(TEXTS) - 2
    v = embedder.encode([QUESTIONS[1]])[0]
    assert {i for i, _ in pg_index.search(v, 9)} == {0, 1, 4, 5, 6}
    assert pg_index.search_lexical("Quillwort flash", 6) == []
    # BM25's N and mean length follow the delete, as bm25s's rebuilt index does
    f, p = faiss_index.search_lexical(QUESTIONS[0], 6), pg_index.search_lexical(QUESTIONS[0], 6)
    assert np.allclose([s for _, s in f], [s for _, s in p], rtol=1e-4)
    assert np.allclose(pg_index.vectors([4]), vectors[4:5], atol=1e-6)


@pytest.fixture()
def corpus(tmp_path: Path, location, embedder) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "one.md").write_text("# One\n\nMarlinspike folds convolutions into tables.\n")
    build_index(folder, location, embedder)
    return folder


def test_a_build_goes_live_in_one_transaction_and_old_readers_keep_theirs(
    corpus, location, embedder
):
    first = location.current_build()
    reader = location.load(embedder.name, embedder.dim)
    (corpus / "two.md").write_text("# Two\n\nFernhop reroutes all-gather traffic.\n")
    result = build_index(corpus, location, embedder)
    assert result.rebuilt and result.embedded == 1
    assert location.current_build() not in (None, first)
    assert sorted(location.load().documents) == ["one.md", "two.md"]
    assert sorted(reader.documents) == ["one.md"] and reader.search_lexical("Marlinspike", 3)
    assert not build_index(corpus, location, embedder).rebuilt


def test_a_failed_switch_leaves_the_old_build_and_no_stray_tables(corpus, location, embedder):
    before = location.current_build()
    with location.db.connection() as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'rag_%'"
        ).fetchone()
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
    with location.db.connection() as conn:
        after = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'rag_%'"
        ).fetchone()
        assert after == tables
        # the failed save's transaction left nothing: the old build is still the only one
        assert conn.execute("SELECT count(*) FROM rag_builds").fetchone() == (1,)


def test_same_bytes_twice_in_a_build_violate_its_unique_constraint(corpus, location):
    import psycopg

    build = location.current_build()
    with pytest.raises(psycopg.errors.UniqueViolation), location.db.pool.connection() as conn:
        sha = conn.execute(f"SELECT sha256 FROM rag_documents_{build}").fetchone()
        conn.execute(f"INSERT INTO rag_documents_{build} VALUES ('copy.md', 'x', '{{}}', %s)", sha)


def test_replicas_add_and_remove_documents_without_files(tmp_path, url, embedder):
    """Two collections sharing only the database: each with its own empty cache."""
    replicas = [
        Collection(
            tmp_path / f"corpus{n}",
            PostgresLocation(Database(url), tmp_path / f"c{n}"),
            embedder,
        )
        for n in (1, 2)
    ]
    upload = replicas[0].add("notes.md", b"# Notes\n\nQuillwort spills to flash.\n")
    assert upload.outcome == "added" and not (tmp_path / "corpus1").exists()
    # replica 2 still has nothing loaded: the same bytes are found in the database
    assert replicas[1].add("again.md", b"# Notes\n\nQuillwort spills to flash.\n").outcome == (
        "existing"
    )
    record = replicas[1].get(upload.record["id"])
    assert replicas[1].text(record["id"])["text"].startswith("# Notes")
    replicas[1].remove(record["id"])
    assert replicas[0].list() == []


def _build_forever(url: str, folder: str, cache: str, started) -> None:  # pragma: no cover
    """In a child process: a build whose embedding never ends, once its tables exist."""
    from rag.index.embedding import SentenceTransformerEmbedder

    class Stuck(SentenceTransformerEmbedder):
        def encode(self, texts, progress=False):
            started.set()
            import time

            while True:
                time.sleep(1)

    location = PostgresLocation(Database(url), Path(cache))
    from rag.index.locations import writing

    with writing(location):
        build_index(Path(folder), location, Stuck())


def test_a_writer_killed_mid_build_leaves_the_old_build_and_frees_the_lock(
    corpus, location, embedder, url, tmp_path
):
    """kill -9 of a replica while it holds the writer lock and builds: the current build
    is untouched, and the next writer gets the lock (it died with the session)."""
    before = location.current_build()
    (corpus / "three.md").write_text("# Three\n\nTamarack plans recomputation.\n")
    ctx = multiprocessing.get_context("spawn")
    started = ctx.Event()
    child = ctx.Process(
        target=_build_forever, args=(url, str(corpus), str(tmp_path / "cc"), started)
    )
    child.start()
    try:
        assert started.wait(120), "the child never began its build"
        child.kill()
        child.join(30)
    finally:
        if child.is_alive():
            child.kill()
    assert location.current_build() == before
    assert sorted(location.load().documents) == ["one.md"]
    collection = Collection(tmp_path / "x", location, embedder)
    assert collection.add("four.md", b"# Four\n\nFernhop probes racks.\n").outcome == "added"


def test_a_database_killed_mid_build_keeps_the_old_build(server, corpus, location, embedder):
    """kill -9 of the postmaster between a build's tables and its switch: after the
    restart the old build is current and whole; the build in progress failed with a 503."""
    before = location.current_build()
    store = location.load()
    index = location.new_index(embedder.dim, len(store.chunks))
    index.upsert(
        range(len(store.chunks)),
        store.vectors.vectors(range(len(store.chunks))),
        [c.embedding_text() for c in store.chunks],
        [c.source for c in store.chunks],
    )
    server.kill()
    try:
        with pytest.raises(StoreUnavailable, match="PostgreSQL at 127.0.0.1"):
            location.save(Store(store.chunks, index, dict(store.manifest), store.texts))
    finally:
        server.start()
    assert location.current_build() == before  # the pool replaced its dead connections
    assert sorted(location.load().documents) == ["one.md"]


def test_schema_is_explicit_and_versioned(server, tmp_path):
    import psycopg

    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE bare")
    bare = server.url.rsplit("/", 1)[0] + "/bare"
    with pytest.raises(IndexNotFound, match="rag db init"):
        PostgresLocation(Database(bare), tmp_path).load()
    assert migrate_schema(bare) == (0, 1)
    assert migrate_schema(bare) == (1, 1)  # again: nothing to do
    with pytest.raises(IndexNotFound, match="rag index"):
        PostgresLocation(Database(bare), tmp_path).load()


def test_pipeline_on_postgres_answers_as_on_faiss(tmp_path, url, pipeline, embedder):
    """The seeds in Postgres: the same passages for every question as FAISS, and the same
    answer and citations from the real model at temperature 0."""
    from rag import index_location

    s = Settings(
        vector_store="postgres", database_url=url, index_dir=tmp_path / "i", answer_cache_size=0
    )
    build_index(s.seeds_path, index_location(s), embedder, s.chunk_overlap_tokens)
    retriever = load_retriever(s, embedder)
    questions = [
        "What does FrugalML do when the base API is not confident?",
        "Which systems reduce memory for training large models?",
        "energy use of training",
    ]
    for q in questions:
        assert [h.chunk for h in retriever.search(q, 5)] == [
            h.chunk for h in pipeline.retriever.search(q, 5)
        ], q
    on_pg = Pipeline(s, retriever, pipeline.generator)
    a, b = on_pg.answer(questions[0]), pipeline.answer(questions[0])
    assert a.text == b.text
    assert [(c.source, c.start, c.end) for c in a.citations] == [
        (c.source, c.start, c.end) for c in b.citations
    ]


def test_an_unreachable_database_is_503_not_500(tmp_path):
    from rag import IndexUnavailable, index_location
    from tests.pg_server import free_port

    s = Settings(
        vector_store="postgres",
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/postgres",
        index_dir=tmp_path,
    )
    with pytest.raises(IndexUnavailable, match="PostgreSQL at 127.0.0.1"):
        index_location(s).load()


def test_writers_on_two_replicas_queue_on_the_database_lock(
    corpus, location, url, tmp_path, embedder
):
    """While one replica holds the writer lock, another's upload waits in the database
    (its backend shows an ungranted advisory lock) and completes once it is released."""
    import threading

    from rag.index.embedding import SentenceTransformerEmbedder

    other = Collection(
        tmp_path / "x",
        PostgresLocation(Database(url), tmp_path / "c2"),
        SentenceTransformerEmbedder(),
    )
    done = threading.Event()

    def upload() -> None:
        other.add("five.md", b"# Five\n\nQuillwort spills to flash.\n")
        done.set()

    with location.writing():
        worker = threading.Thread(target=upload)
        worker.start()
        waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        for _ in range(6000):  # until the other writer is queued behind us
            with location.db.connection() as conn:
                if conn.execute(waiting).fetchone() == (1,):
                    break
        else:
            raise AssertionError("the second writer never queued on the lock")
        assert not done.is_set() and location.load().documents.keys() == {"one.md"}
    worker.join(120)
    assert done.is_set() and sorted(location.load().documents) == ["five.md", "one.md"]


def test_collections_in_schemas_of_their_own_share_a_database(url, tmp_path, embedder):
    """``RAG_DATABASE_SCHEMA``: two collections in one database, each its own builds."""
    locations = []
    for n, schema in enumerate(("north", "south")):
        assert migrate_schema(url, schema) == (0, 1)
        location = PostgresLocation(Database(url, schema), tmp_path / schema)
        folder = tmp_path / f"corpus{n}"
        folder.mkdir()
        (folder / f"{schema}.md").write_text(f"# {schema}\n\nTamarack plans for the {schema}.\n")
        build_index(folder, location, embedder)
        locations.append(location)
    assert [sorted(x.load().documents) for x in locations] == [["north.md"], ["south.md"]]
    assert "schema south" in locations[1].db.where


def test_a_search_within_documents_is_filtered_in_sql(location, vectors, embedder):
    """Restricted to two documents, the SQL returns the full k from them with the scores
    FAISS and bm25s give (BM25's statistics stay the whole build's), also with an HNSW
    graph and a search depth of 1 (the filtered dense side is an exact scan)."""
    faiss_index, pg_index = _both(location, vectors)
    pg_index.create_hnsw()
    within = {"a.md", "c.md"}
    allowed = {i for i, (source, _) in enumerate(TEXTS) if source in within}
    for ef in (None, 1):  # ef_search 1: what HNSW alone would find after filtering
        pg_index.ef_search = ef
        for q in QUESTIONS:
            v = embedder.encode([q])[0]
            f, p = faiss_index.search(v, len(allowed), within), pg_index.search(v, 9, within)
            assert [i for i, _ in f] == [i for i, _ in p] and {i for i, _ in p} == allowed
            assert np.allclose([s for _, s in f], [s for _, s in p], atol=1e-5)
            f, p = faiss_index.search_lexical(q, 6, within), pg_index.search_lexical(q, 6, within)
            assert [i for i, _ in f] == [i for i, _ in p], q
            assert np.allclose([s for _, s in f], [s for _, s in p], rtol=1e-4)
            f = faiss_index.search_hybrid(q, v, 4, 20, 1.0, within)
            p = pg_index.search_hybrid(q, v, 4, 20, 1.0, within)
            assert [i for i, _ in f] == [i for i, _ in p], q
    assert pg_index.search(embedder.encode(["x"])[0], 3, {"nothing.md"}) == []
