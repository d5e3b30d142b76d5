"""Folders, incremental builds and the document collection on real files, the real
embedder and the real FAISS store; the HTTP documents API over the real model."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.errors import ConfigError, DocumentExists, UnreadableDocument, UnsupportedDocument
from rag.index.store import Store
from rag.ingest.documents import Collection
from rag.ingest.indexing import build_index, document_id
from tests.report_files import NAV_PHRASE, make_docx, make_html, make_pdf


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "q3" / "harbor").mkdir(parents=True)
    make_pdf(root / "q3" / "harbor" / "review.pdf")
    make_docx(root / "q3" / "ferris.docx")
    make_html(root / "gull.html")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "secret.md").write_text("# Secret\nNot a report.\n")
    return root


def _vectors_match_chunks(store: Store, embedder) -> None:
    """Every vector in FAISS is its chunk's embedding (no stale or shifted vector)."""
    assert len(store.vectors) == len(store.chunks)
    sample = list(range(0, len(store.chunks), max(1, len(store.chunks) // 6)))
    fresh = embedder.encode([store.chunks[i].embedding_text() for i in sample])
    stored = np.vstack([store.vectors.vectors(sample)])
    assert np.allclose(fresh, stored, atol=1e-4)


def test_folders_are_indexed_recursively_by_relative_path(corpus, tmp_path, embedder):
    result = build_index(corpus, tmp_path / "index", embedder)
    store = Store.load(tmp_path / "index", embedder.name, embedder.dim)
    assert set(store.documents) == {"gull.html", "q3/ferris.docx", "q3/harbor/review.pdf"}
    assert result.sources == 3 and result.embedded == 3
    pdf = store.documents["q3/harbor/review.pdf"]
    assert pdf["type"] == "pdf" and pdf["pages"] == 2
    assert pdf["id"] == document_id("q3/harbor/review.pdf")
    assert not any(NAV_PHRASE in c.text for c in store.chunks)  # boilerplate never indexed
    _vectors_match_chunks(store, embedder)


def test_one_changed_document_is_the_only_one_re_embedded(corpus, tmp_path, embedder):
    index = tmp_path / "index"
    build_index(corpus, index, embedder)
    (corpus / "gull.html").write_text(
        (corpus / "gull.html").read_text().replace("40 MHz", "55 MHz"), encoding="utf-8"
    )
    changed = build_index(corpus, index, embedder)
    assert changed.rebuilt and changed.embedded == 1
    store = Store.load(index, embedder.name, embedder.dim)
    gull = [c.text for c in store.chunks if c.source == "gull.html"]
    assert any("55 MHz" in t for t in gull) and not any("40 MHz" in t for t in gull)
    _vectors_match_chunks(store, embedder)
    (corpus / "q3" / "ferris.docx").unlink()
    dropped = build_index(corpus, index, embedder)
    assert dropped.embedded == 0 and dropped.sources == 2
    store = Store.load(index, embedder.name, embedder.dim)
    assert not any(c.source == "q3/ferris.docx" for c in store.chunks)
    assert "Tern" not in " ".join(c.text for c in store.chunks)
    _vectors_match_chunks(store, embedder)


def test_empty_and_missing_corpus(tmp_path, embedder):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = build_index(empty, tmp_path / "index", embedder)
    assert result.rebuilt and result.chunks == 0
    store = Store.load(tmp_path / "index", embedder.name, embedder.dim)
    assert store.chunks == [] and store.search_lexical("anything", 3) == []
    with pytest.raises(ConfigError, match="missing-folder"):
        build_index(tmp_path / "missing-folder", tmp_path / "index2", embedder)


class _CrashingEmbedder:
    """The real embedder, failing the way a killed or out-of-memory build would: in the
    middle of embedding the new document."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.count_tokens = inner.count_tokens

    def encode(self, texts, progress: bool = False):
        raise RuntimeError("killed mid-build")


def test_a_failed_add_leaves_corpus_and_index_as_they_were(corpus, tmp_path, embedder):
    index = tmp_path / "index"
    build_index(corpus, index, embedder)
    before_files = sorted(p.relative_to(corpus) for p in corpus.rglob("*"))
    before_build = Store.current_build(index)
    crashing = Collection(corpus, index, _CrashingEmbedder(embedder))
    with pytest.raises(RuntimeError):
        crashing.add("new.md", b"# Osprey\nOsprey ships in 2032.\n")
    with pytest.raises(UnsupportedDocument):
        crashing.add("photo.png", b"\x89PNG\r\n\x1a\n")
    with pytest.raises(UnreadableDocument):
        crashing.add("bad.pdf", b"%PDF-1.7 broken")
    assert sorted(p.relative_to(corpus) for p in corpus.rglob("*")) == before_files
    assert Store.current_build(index) == before_build


def test_add_then_remove_keeps_index_and_corpus_in_step(corpus, tmp_path, embedder):
    index = tmp_path / "index"
    build_index(corpus, index, embedder)
    docs = Collection(corpus, index, embedder)
    upload = docs.add("../../osprey notes.md", b"# Osprey\n\nOsprey ships in 2032.\n")
    record, result = upload.record, upload.result
    assert upload.outcome == "added" and result is not None
    assert record["name"] == "osprey notes.md" and result.embedded == 1
    assert (corpus / "osprey notes.md").is_file()
    text = docs.text(record["id"], 0, 20)
    assert text["text"] == "# Osprey\n\nOsprey ships"[:20]
    docs.remove(record["id"])
    assert not (corpus / "osprey notes.md").exists()
    store = Store.load(index, embedder.name, embedder.dim)
    assert not any("Osprey ships" in c.text for c in store.chunks)
    _vectors_match_chunks(store, embedder)


def test_a_taken_name_is_refused_unless_replaced_and_known_bytes_are_not_copied(
    corpus, tmp_path, embedder
):
    index = tmp_path / "index"
    build_index(corpus, index, embedder)
    docs = Collection(corpus, index, embedder)
    first = b"# Osprey\n\nOsprey ships in 2032.\n"
    other = b"# Osprey\n\nA different report: Osprey was cancelled in 2031.\n"
    added = docs.add("../../x/osprey.md", first)
    build = Store.current_build(index)
    with pytest.raises(DocumentExists, match="replace=true"):
        docs.add("/etc/osprey.md", other)  # folders stripped: the same name, other bytes
    assert Store.current_build(index) == build
    assert (corpus / "osprey.md").read_bytes() == first
    for name in ("osprey.md", "copy of osprey.md", "osprey.txt"):  # the same bytes again
        again = docs.add(name, first)
        assert again.outcome == "existing" and again.result is None
        assert again.record == added.record
    assert Store.current_build(index) == build
    assert [d["name"] for d in docs.list()].count("osprey.md") == 1
    assert not (corpus / "copy of osprey.md").exists()
    replaced = docs.add("osprey.md", other, replace=True)
    assert replaced.outcome == "replaced" and replaced.replaced == added.record
    assert replaced.record["sha256"] != added.record["sha256"]
    assert (corpus / "osprey.md").read_bytes() == other
    assert [d["name"] for d in docs.list()].count("osprey.md") == 1


# ---- over HTTP, with the real model ----------------------------------------------


@pytest.fixture
def docs_client(corpus, tmp_path, embedder, pipeline):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from rag.serving.loading import load_retriever
    from rag.serving.pipeline import Pipeline

    s = Settings(
        seeds_dir=corpus,
        index_dir=tmp_path / "index",
        document_writes=True,
        answer_cache_size=0,
        max_upload_bytes=200_000,
    )
    build_index(s.seeds_path, s.index_path, embedder)
    p = Pipeline(s, load_retriever(s, embedder), pipeline.generator)  # the loaded model
    with TestClient(create_app(pipeline=p)) as c:
        yield c


def _ask(client, question: str) -> dict:
    r = client.post("/v1/ask", json={"question": question})
    assert r.status_code == 200, r.text
    return r.json()


def _cited(body: dict, client) -> dict:
    assert not body["refused"], body
    assert body["citations"], body["answer"]
    c = body["citations"][0]
    doc = document_id(c["source"])
    window = client.get(f"/v1/documents/{doc}/text", params={"start": c["start"], "end": c["end"]})
    assert window.status_code == 200 and window.json()["text"] == c["quote"]
    return c


@pytest.mark.llm
def test_answers_cite_pdf_page_docx_section_and_html_body(docs_client):
    body = _ask(docs_client, "By how much did the Merganser scheduler reduce queueing delay?")
    c = _cited(body, docs_client)
    assert "41" in body["answer"]
    assert c["source"] == "q3/harbor/review.pdf" and c["page"] == 2 and "Results" in c["section"]
    body = _ask(docs_client, "What compiler did Project Wren build?")
    c = _cited(body, docs_client)
    assert "Tern" in body["answer"]
    assert c["source"] == "q3/ferris.docx" and c["section"].endswith("Project Wren")
    assert c["page"] is None
    body = _ask(docs_client, "How fast does the Gull engine run?")
    c = _cited(body, docs_client)
    assert "40 MHz" in body["answer"] and c["source"] == "gull.html"


@pytest.mark.llm
def test_upload_answer_delete_refuse(docs_client, corpus, tmp_path):
    question = "What frequency does the Plover radio use?"
    md = b"# Plover Radio Notes\n\n## Radio\n\nThe Plover radio transmits at 868 MHz.\n"
    r = docs_client.post("/v1/documents", files={"file": ("plover.md", md, "text/markdown")})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["name"] == "plover.md" and doc["chunks"] >= 1
    listed = docs_client.get("/v1/documents").json()["data"]
    assert doc["id"] in {d["id"] for d in listed} and len(listed) == 4
    body = _ask(docs_client, question)
    assert "868" in body["answer"] and _cited(body, docs_client)["source"] == "plover.md"
    r = docs_client.delete(f"/v1/documents/{doc['id']}")
    assert r.status_code == 200 and r.json()["deleted"] is True
    assert docs_client.get(f"/v1/documents/{doc['id']}").status_code == 404
    assert _ask(docs_client, question)["refused"]
    store = Store.load(tmp_path / "index")
    assert not any(c.source == "plover.md" for c in store.chunks)
    assert len(store.vectors) == len(store.chunks)
    assert not (corpus / "plover.md").exists()


def test_upload_errors_change_nothing(docs_client, tmp_path):
    index = tmp_path / "index"
    before = Store.current_build(index)
    cases = [
        (("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"), 415),
        (("broken.pdf", b"%PDF-1.7\n1 0 obj <<", "application/pdf"), 422),
        (("big.txt", b"word " * 60_000, "text/plain"), 413),
        (("../", b"# Title\ntext\n", "text/plain"), 422),
    ]
    for file, status in cases:
        r = docs_client.post("/v1/documents", files={"file": file})
        assert r.status_code == status, (file[0], r.text)
        assert r.json()["error"]["message"]
    assert docs_client.post("/v1/documents").status_code == 422  # no file field
    assert docs_client.delete("/v1/documents/0123456789abcdef").status_code == 404
    assert docs_client.get("/v1/documents/nope/text").status_code == 404
    doc = docs_client.get("/v1/documents").json()["data"][0]["id"]
    r = docs_client.get(f"/v1/documents/{doc}/text", params={"start": 10, "end": 5})
    assert r.status_code == 422 and "start" in r.json()["error"]["message"]
    assert Store.current_build(index) == before


def test_same_name_is_409_unless_replace_and_same_bytes_return_the_document(docs_client):
    md = b"# Plover Radio Notes\n\nThe Plover radio transmits at 868 MHz.\n"
    r = docs_client.post("/v1/documents", files={"file": ("../../x/evil.md", md)})
    assert r.status_code == 201 and r.json()["outcome"] == "added"
    first = r.json()
    other = b"# Evil\n\nA different report that shares the name.\n"
    r = docs_client.post("/v1/documents", files={"file": ("/etc/evil.md", other)})
    assert r.status_code == 409, r.text
    assert first["id"] in r.json()["error"]["message"]
    assert "replace=true" in r.json()["error"]["message"]
    r = docs_client.post("/v1/documents", files={"file": ("renamed.md", md)})
    assert r.status_code == 200 and r.json()["outcome"] == "existing"
    assert r.json()["id"] == first["id"]
    r = docs_client.post(
        "/v1/documents", params={"replace": "true"}, files={"file": ("/etc/evil.md", other)}
    )
    assert r.status_code == 200 and r.json()["outcome"] == "replaced"
    assert r.json()["replaced"]["sha256"] == first["sha256"]
    names = [d["name"] for d in docs_client.get("/v1/documents").json()["data"]]
    assert names.count("evil.md") == 1 and "renamed.md" not in names


def test_over_http_a_limit_is_413_naming_it(docs_client) -> None:
    page = ("<html><body>" + "<section>" * 300 + "x" + "</section>" * 300).encode()
    r = docs_client.post("/v1/documents", files={"file": ("deep.html", page, "text/html")})
    assert r.status_code == 413, r.text
    assert "the limit is 256" in r.json()["error"]["message"]


def test_writes_are_off_by_default_and_keyed(client):
    r = client.post("/v1/documents", files={"file": ("a.md", b"# A\ntext\n", "text/markdown")})
    assert r.status_code == 403 and "RAG_DOCUMENT_WRITES" in r.json()["error"]["message"]
    assert client.get("/v1/documents").status_code == 200


def test_empty_corpus_serves_and_says_so(tmp_path, embedder, pipeline):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from rag.serving.loading import load_retriever
    from rag.serving.pipeline import Pipeline

    (tmp_path / "empty").mkdir()
    s = Settings(seeds_dir=tmp_path / "empty", index_dir=tmp_path / "index")
    build_index(s.seeds_path, s.index_path, embedder)
    p = Pipeline(s, load_retriever(s, embedder), pipeline.generator)
    with TestClient(create_app(pipeline=p)) as c:
        ready = c.get("/readyz").json()
        assert ready["documents"] == 0 and "no documents" in ready["detail"]
        body = c.post("/v1/ask", json={"question": "What is Merganser?"}).json()
        assert body["refused"] and body["refusal_reason"] == "no documents are indexed yet"
        assert c.get("/v1/documents").json()["data"] == []


def test_killed_mid_upload_leaves_corpus_and_index(tmp_path, corpus, embedder):
    """A server killed while an upload is arriving: nothing of it in corpus or index."""
    index = tmp_path / "index"
    build_index(corpus, index, embedder)
    before_files = sorted(p.relative_to(corpus) for p in corpus.rglob("*"))
    before_build = Store.current_build(index)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "RAG_SEEDS_DIR": str(corpus),
        "RAG_INDEX_DIR": str(index),
        "RAG_DOCUMENT_WRITES": "true",
        "RAG_PORT": str(port),
        "HF_HUB_OFFLINE": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "serve"], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        import httpx

        for _ in range(600):  # the service is up when /readyz says so
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("server did not become ready")
        body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="half.md"\r\n\r\n'
        with socket.create_connection(("127.0.0.1", port)) as s:
            head = (
                "POST /v1/documents HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\n"
                f"Content-Length: {len(body) + 100_000}\r\n\r\n"
            )
            s.sendall(head.encode() + body + b"# Half\n" + b"x" * 50_000)
            server.kill()  # mid-body
            server.wait(30)
    finally:
        if server.poll() is None:
            server.kill()
    assert (
        sorted(p.relative_to(corpus) for p in corpus.rglob("*") if ".staging" not in p.parts)
        == before_files
    )
    assert Store.current_build(index) == before_build
