"""Two ``rag serve`` processes over one real PostgreSQL server (the ``pgserver`` wheel's
binaries), each with its own empty index folder and corpus: what one replica writes the
other answers from, concurrent writers lose nothing, and a database that goes away is a
503 that heals without a restart.

Each wait below is for a state the other process reaches (its build pointer, its
readiness); the bounds are generous only so a broken build fails instead of hanging.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from rag import PostgresLocation, build_index
from rag.index.pg_db import Database, migrate_schema
from tests.pg_server import PgServer, free_port, new_root

pytestmark = pytest.mark.llm

# invented: no name here occurs in the seeds or any eval set
NOTE = b"# Harbour notes\n\nThe Quenby dredger clears the north channel every 19 days.\n"
QUESTION = "How often does the Quenby dredger clear the north channel?"


def _until(check: Callable[[], bool], what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def _serve(root: Path, name: str, url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    (root / name / "corpus").mkdir(parents=True)
    env = {
        **os.environ,
        "RAG_VECTOR_STORE": "postgres",
        "RAG_DATABASE_URL": url,
        "RAG_INDEX_DIR": str(root / name / "index"),
        "RAG_SEEDS_DIR": str(root / name / "corpus"),
        "RAG_DOCUMENT_WRITES": "true",
        "RAG_ANSWER_CACHE_SIZE": "0",
        "RAG_PORT": str(port),
        "HF_HUB_OFFLINE": "1",
    }
    log = (root / f"{name}.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "serve"], env=env, stdout=log, stderr=log
    )
    return server, f"http://127.0.0.1:{port}"


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=10).status_code == 200
    except httpx.TransportError:
        return False


def _build(base: str) -> str | None:
    r = httpx.get(f"{base}/readyz", timeout=10)
    return r.json().get("build_id") if r.status_code == 200 else None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, embedder) -> Iterator[tuple[PgServer, str, str]]:
    """A Postgres with the seeds indexed, and replicas A and B serving from it."""
    root = new_root()
    pg = PgServer(root).init().start()
    migrate_schema(pg.url)
    seeds = sorted(Path(__file__).parent.parent.joinpath("seeds").iterdir())[:2]
    build_index(seeds, PostgresLocation(Database(pg.url), root / "builder"), embedder)
    work = tmp_path_factory.mktemp("replicas")
    servers = [_serve(work, name, pg.url) for name in ("a", "b")]
    try:
        for server, base in servers:
            _until(lambda b=base, s=server: _ready(b) or s.poll() is not None, "ready", 600)
            assert server.poll() is None, (work / "a.log").read_text()
        yield pg, servers[0][1], servers[1][1]
    finally:
        for server, _ in servers:
            server.kill()
            server.wait(30)
        pg.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def _documents(base: str) -> list[dict]:
    return httpx.get(f"{base}/v1/documents", timeout=30).json()["data"]


def test_an_upload_through_a_is_answered_by_b_and_a_delete_through_b_reaches_a(cluster):
    _, a, b = cluster
    r = httpx.post(
        f"{a}/v1/documents", files={"file": ("harbour.md", NOTE, "text/markdown")}, timeout=120
    )
    assert r.status_code == 201, r.text
    doc = r.json()["id"]
    build = _build(a)
    _until(lambda: _build(b) == build, "replica B switches to A's build")
    body = httpx.post(f"{b}/v1/ask", json={"question": QUESTION}, timeout=120).json()
    assert "19" in body["answer"], body
    assert body["citations"] and body["citations"][0]["source"] == "harbour.md", body

    assert httpx.delete(f"{b}/v1/documents/{doc}", timeout=120).status_code == 200
    _until(lambda: _build(a) == _build(b), "replica A switches to B's build")
    assert httpx.get(f"{a}/v1/documents/{doc}", timeout=30).status_code == 404
    hits = httpx.post(f"{a}/v1/search", json={"query": "Quenby dredger", "k": 5}).json()
    assert all(h["source"] != "harbour.md" for h in hits["passages"])


def test_twenty_uploads_split_across_replicas_lose_nothing(cluster):
    """20 documents, and one more sent 4 times under different names, all at once to
    both replicas: 21 documents in the end, each once."""
    _, a, b = cluster
    before = {d["name"] for d in _documents(a)}
    files = [
        (f"log{i:02d}.md", f"# Log {i}\n\nBuoy {i} of the Quenby survey reads {i + 3} knots.\n")
        for i in range(20)
    ]
    jobs = [(a if i % 2 else b, name, text.encode()) for i, (name, text) in enumerate(files)]
    twin = b"# Tide table\n\nHigh water at the Quenby pier is at 06:40.\n"
    jobs += [(a if i % 2 else b, f"tide{i}.md", twin) for i in range(4)]

    def upload(job: tuple[str, str, bytes]) -> int:
        base, name, data = job
        r = httpx.post(
            f"{base}/v1/documents", files={"file": (name, data, "text/markdown")}, timeout=600
        )
        return r.status_code

    with ThreadPoolExecutor(len(jobs)) as pool:
        codes = list(pool.map(upload, jobs))
    assert codes[:20] == [201] * 20, codes
    assert sorted(codes[20:]) == [200, 200, 200, 201], codes  # the others found it there
    _until(lambda: _build(a) == _build(b), "both replicas on the last build")
    for base in (a, b):
        docs = _documents(base)
        names = sorted(d["name"] for d in docs if d["name"] not in before)
        assert names[:20] == [n for n, _ in files] and len(names) == 21
        assert names[20].startswith("tide")
        assert len({d["sha256"] for d in docs}) == len(docs)


def test_a_database_down_is_503_and_both_replicas_recover_without_restart(cluster):
    pg, a, b = cluster
    pg.stop("immediate")
    try:
        for base in (a, b):
            _until(lambda x=base: not _ready(x), "readiness turns 503")
            ready = httpx.get(f"{base}/readyz", timeout=30)
            assert ready.status_code == 503 and "PostgreSQL" in ready.text
            r = httpx.post(f"{base}/v1/ask", json={"question": QUESTION + " (down)"}, timeout=60)
            assert r.status_code == 503, r.text
            assert "PostgreSQL" in r.json()["error"]["message"]
            assert httpx.get(f"{base}/metrics", timeout=30).status_code == 200  # still scraped
    finally:
        pg.start()
    for base in (a, b):
        _until(lambda x=base: _ready(x), "readiness comes back")
    question = "When is high water at the Quenby pier?"
    body = httpx.post(f"{b}/v1/ask", json={"question": question}, timeout=120).json()
    assert "06:40" in body["answer"] and body["citations"], body


def test_a_replica_on_a_hot_standby_answers_uploads_and_refuses_writes(cluster, pipeline, embedder):
    """A standby made with ``pg_basebackup -R`` streams the primary's builds: a replica
    reading it answers a document uploaded through A, and refuses writes with a 403
    that says where they go."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from rag import Pipeline, Settings, load_retriever

    pg, a, _ = cluster
    root = new_root()
    standby = pg.standby(root).start()
    try:
        s = Settings(
            vector_store="postgres",
            database_url=standby.url,
            index_dir=root / "index",
            seeds_dir=root / "corpus",
            document_writes=True,
            answer_cache_size=0,
        )
        replica = Pipeline(s, load_retriever(s, embedder), pipeline.generator)
        with TestClient(create_app(pipeline=replica)) as c:
            note = b"# Pier\n\nThe Quenby pier crane lifts at most 12 tonnes.\n"
            r = httpx.post(
                f"{a}/v1/documents", files={"file": ("pier.md", note, "text/markdown")}, timeout=120
            )
            assert r.status_code == 201, r.text
            build = _build(a)
            _until(lambda: c.get("/readyz").json().get("build_id") == build, "standby catches up")
            body = c.post("/v1/ask", json={"question": "How much can the Quenby pier crane lift?"})
            assert "12" in body.json()["answer"], body.text
            assert body.json()["citations"][0]["source"] == "pier.md"
            assert c.get("/v1/documents").json()["writable"] is False  # the page offers none
            assert httpx.get(f"{a}/v1/documents", timeout=30).json()["writable"] is True
            refused = c.post("/v1/documents", files={"file": ("x.md", b"# X\n\nx y z\n")})
            assert refused.status_code == 403 and "standby" in refused.text
    finally:
        standby.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
