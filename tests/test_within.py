"""Titles and questions asked within chosen documents, over HTTP on the real model and
the real FAISS store (Qdrant and PostgreSQL filter alike: tests/test_qdrant.py,
tests/test_postgres.py); the cited section rendered safely."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import Settings
from rag.ingest.indexing import build_index
from rag.serving.sources import render_section, section_around

FRUGAL = "What does FrugalML do when the base API is not confident?"

# invented, hostile: a report that tries to run script on the page that shows it
HOSTILE = """# Zephyrine Beacon Notes

## Beacon

The Zephyrine beacon transmits at 433 MHz. <script>window.pwned = 1</script>
<img src="x" alt="Antenna diagram" onerror="window.pwned = 2">
<a href="javascript:window.pwned = 3" onclick="window.pwned = 4">see the spec</a>
[manual](javascript:window.pwned=5) and ![wiring](https://example.invalid/w.png)

- range: 12 km
- mast height: 9 m

| Part | Mass |
|------|------|
| Mast | 40 kg |
"""


@pytest.fixture(scope="module")
def ids(client) -> dict[str, dict]:
    """The seed documents' records, by name."""
    return {d["name"]: d for d in client.get("/v1/documents").json()["data"]}


def test_every_document_has_a_title_that_tells_it_apart(ids):
    titles = [d["title"] for d in ids.values()]
    assert all(titles) and len({t.lower() for t in titles}) == len(titles)
    # a report with no title heading is not called by its hashed file name
    assert not any(t.endswith(".txt") for t in titles)
    assert not any(d["title_set"] for d in ids.values())


@pytest.mark.llm
def test_ask_within_documents_cites_only_them_with_titles(client, ids):
    frugal = next(n for n in ids if "002" in n)
    chosen = [ids[frugal]["id"], next(d["id"] for n, d in ids.items() if n != frugal)]
    r = client.post("/v1/ask", json={"question": FRUGAL, "documents": chosen})
    assert r.status_code == 200, r.text
    body = r.json()
    assert not body["refused"] and body["citations"], body["answer"]
    chosen_names = {n for n, d in ids.items() if d["id"] in chosen}
    assert {c["source"] for c in body["citations"]} <= chosen_names
    assert {p["source"] for p in body["passages"]} <= chosen_names
    for c in body["citations"]:
        assert c["title"] == ids[c["source"]]["title"]
    assert body["build_id"]


def test_a_selection_that_does_not_cover_the_question_is_refused_naming_it(client, ids):
    others = [d["id"] for n, d in ids.items() if "002" not in n][:2]
    body = client.post("/v1/ask", json={"question": FRUGAL, "documents": others}).json()
    assert body["refused"] and body["answer"] == "The 2 selected reports don't cover this."
    one = client.post("/v1/ask", json={"question": FRUGAL, "documents": others[:1]}).json()
    assert one["answer"] == "The selected report doesn't cover this."
    # asked of every report, the same question is answerable: the selection refused it
    passages = client.post("/v1/search", json={"query": FRUGAL}).json()["passages"]
    assert any("002" in p["source"] for p in passages)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/ask", {"question": FRUGAL}),
        ("/v1/search", {"query": FRUGAL}),
        ("/v1/chat/completions", {"messages": [{"role": "user", "content": FRUGAL}]}),
    ],
)
def test_an_unknown_document_id_is_422_naming_it(client, ids, path, body):
    known = next(iter(ids.values()))["id"]
    r = client.post(path, json={**body, "documents": [known, "0000nosuchdoc"]})
    assert r.status_code == 422 and "0000nosuchdoc" in r.text and known not in r.text
    r = client.post(path, json={**body, "documents": []})
    assert r.status_code == 422


def test_search_within_documents_returns_k_passages_from_them(client, ids):
    chosen = [d for n, d in ids.items() if "002" not in n][:2]
    body = {"query": FRUGAL, "k": 12, "documents": [d["id"] for d in chosen]}
    passages = client.post("/v1/search", json=body).json()["passages"]
    assert len(passages) == 12
    assert {p["source"] for p in passages} <= {d["name"] for d in chosen}
    assert all(p["title"] == ids[p["source"]]["title"] for p in passages)


@pytest.mark.llm
def test_chat_within_documents_cites_only_them(client, ids):
    frugal = next(d for n, d in ids.items() if "002" in n)
    messages = [{"role": "user", "content": FRUGAL}]
    body = {"messages": messages, "documents": [frugal["id"]]}
    r = client.post("/v1/chat/completions", json=body)
    body = r.json()
    assert r.status_code == 200 and body["citations"], body
    assert {c["source"] for c in body["citations"]} == {frugal["name"]}
    assert body["citations"][0]["title"] == frugal["title"]


@pytest.fixture
def writable(tmp_path: Path, embedder, pipeline):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from rag.serving.loading import load_retriever
    from rag.serving.pipeline import Pipeline

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "harbour.md").write_text(
        "# Harbour Review\n\nThe Tobermuir harbour dredged 4 berths in 2021.\n", encoding="utf-8"
    )
    (corpus / "harbour-2023.md").write_text(
        "# Harbour Review\n\nIn 2023 the harbour added a ferry pier.\n", encoding="utf-8"
    )
    s = Settings(seeds_dir=corpus, index_dir=tmp_path / "index", document_writes=True)
    build_index(s.seeds_path, s.index_path, embedder)
    p = Pipeline(s, load_retriever(s, embedder), pipeline.generator)
    with TestClient(create_app(pipeline=p)) as c:
        yield c


def test_equal_titles_are_told_apart_and_a_rename_embeds_nothing(writable):
    docs = {d["name"]: d for d in writable.get("/v1/documents").json()["data"]}
    assert docs["harbour.md"]["title"] == "Harbour Review (2021)"
    assert docs["harbour-2023.md"]["title"] == "Harbour Review (2023)"
    doc = docs["harbour.md"]
    r = writable.patch(f"/v1/documents/{doc['id']}", json={"title": "Dredging report"})
    assert r.status_code == 200, r.text
    renamed = r.json()
    assert renamed["title"] == "Dredging report" and renamed["title_set"]
    # the same extraction and vectors: indexed when it was, not re-embedded
    assert renamed["indexed_at"] == doc["indexed_at"] and renamed["chunks"] == doc["chunks"]
    others = {d["name"]: d for d in writable.get("/v1/documents").json()["data"]}
    assert others["harbour-2023.md"]["title"] == "Harbour Review"  # no longer ambiguous
    passages = writable.post("/v1/search", json={"query": "dredged berths"}).json()["passages"]
    assert passages[0]["title"] == "Dredging report"
    r = writable.patch(f"/v1/documents/{doc['id']}", json={"title": None})
    assert r.json()["title"] == "Harbour Review (2021)" and not r.json()["title_set"]
    assert writable.patch("/v1/documents/nosuchid", json={"title": "x"}).status_code == 404
    assert writable.patch(f"/v1/documents/{doc['id']}", json={"title": 5}).status_code == 422


def test_an_upload_sets_its_title_and_the_section_renders_safely(writable):
    files = {"file": ("beacon.md", HOSTILE.encode(), "text/markdown")}
    r = writable.post("/v1/documents", files=files, data={"title": "Beacon field notes"})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["title"] == "Beacon field notes" and doc["title_set"]
    start = HOSTILE.index("The Zephyrine beacon")
    end = start + len("The Zephyrine beacon transmits at 433 MHz.")
    section = writable.get(
        f"/v1/documents/{doc['id']}/section", params={"start": start, "end": end}
    ).json()
    html = section["html"]
    assert '<mark class="quote">The Zephyrine beacon transmits at 433 MHz.</mark>' in html
    assert "<h2>Beacon</h2>" in html and "<li>range: 12 km</li>" in html and "<table>" in html
    assert "[image: Antenna diagram]" in html and "[image: wiring]" in html
    for hostile in ("<script", "pwned", "onerror", "onclick", "javascript:", "<img", "&lt;"):
        assert hostile not in html, hostile
    assert section["title"] == "Beacon field notes" and section["page"] is None
    bad = writable.get(f"/v1/documents/{doc['id']}/section", params={"start": 5, "end": 10**9})
    assert bad.status_code == 422


def test_a_quote_across_blocks_is_marked_in_each_and_long_sections_are_cut():
    text = "## Kit\n\n- first item here\n- second item there\n\nAfter.\n"
    a, b = text.index("item here"), text.index("second item") + len("second item")
    html = render_section(text, (a, b))
    assert '<li>first <mark class="quote">item here</mark></li>' in html
    assert '<li><mark class="quote">second item</mark> there</li>' in html
    # a heading's hashes stay markup when a quote starts on its line
    assert "<h2>" in render_section(text, (0, 6))
    long = "# Top\n" + "".join(f"Line {i} of the log.\n" for i in range(2000)) + "# Next\n"
    q = long.index("Line 1000 ")
    lo, hi = section_around(long, q, q + 10, limit=600)
    assert lo <= q and q + 10 <= hi and hi - lo < 800
    assert long[lo - 1] == "\n" and long[hi] == "\n"
    lo, hi = section_around(long, 8, 12)
    assert lo == 0 and hi <= long.index("# Next")


def test_a_report_cannot_move_the_quote_mark_or_hide_the_quote():
    """The quote's markers in the report's own text are neutralised; a quote the Markdown
    rendering would hide (in an HTML comment) is shown as plain text, marked; relative
    links are dropped; plain text keeps its "<" as words."""
    text = "Intro \ue000 decoy \ue001 text.\n\nThe real quote is here.\n"
    a = text.index("The real quote")
    html = render_section(text, (a, a + len("The real quote")))
    assert '<mark class="quote">The real quote</mark>' in html and "decoy" in html
    assert html.count("<mark") == 1
    hidden = "Before.\n<!-- the cited words -->\nAfter.\n"
    a = hidden.index("the cited words")
    shown = render_section(hidden, (a, a + len("the cited words")))
    assert '<mark class="quote">the cited words</mark>' in shown
    links = render_section("[api](/v1/documents) and [far](//elsewhere.invalid/x)\n")
    assert "href" not in links
    plain = "Keep p <q and r> s together.\n"
    assert "&lt;q and r&gt;" in render_section(plain, (0, 4), raw_html=False)


def test_hnsw_search_within_documents_finds_its_full_k():
    """Above the exact-search size FAISS uses HNSW; restricted to two small documents
    among many it still returns k passages, the exact top k of theirs."""
    import numpy as np

    from rag.index.vectors import HNSW_ABOVE, FaissVectors

    rng = np.random.default_rng(5)
    vecs = rng.standard_normal((4000, 32)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    sources = [f"doc{i // 40}.md" for i in range(4000)]
    flat, hnsw = FaissVectors.empty(32), FaissVectors.empty(32, HNSW_ABOVE + 1)
    for index in (flat, hnsw):
        index.upsert(range(4000), vecs, ["w"] * 4000, sources)
    within = {"doc3.md", "doc77.md"}
    for q in vecs[:20]:
        exact, found = flat.search(q, 30, within), hnsw.search(q, 30, within)
        assert len(found) == 30 and [i for i, _ in found] == [i for i, _ in exact]
    assert hnsw.search(vecs[0], 5, {"nothing.md"}) == []
