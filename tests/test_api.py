"""The real app over the real pipeline: MiniLM + FAISS + the default llama.cpp model."""

from __future__ import annotations

import pytest

FROZEN = "002_e83699b88746142b.txt"


def _check_citations(body: dict, seed_texts: dict[str, str]) -> None:
    for c in body["citations"]:
        assert seed_texts[c["source"]][c["start"] : c["end"]] == c["quote"]
        assert 1 <= c["n"] <= len(body["passages"])
        assert body["passages"][c["n"] - 1]["source"] == c["source"]


@pytest.mark.llm
@pytest.mark.parametrize(
    ("question", "source", "term"),
    [
        ("What does FrugalML do when the base API is not confident?", FROZEN, "api"),
        ("What is Riptide?", "001_561db33d66e26b4e.txt", "binar"),
        ("What is Canopy, presented by Facebook at SOSP?", "003_b0b85c14b122427e.txt", "trac"),
    ],
)
def test_ask_answers_with_citations_to_the_right_report(client, seed_texts, question, source, term):
    r = client.post("/v1/ask", json={"question": question})
    assert r.status_code == 200, r.text
    body = r.json()
    assert not body["refused"], body["answer"]
    assert term in body["answer"].lower()
    assert body["citations"], body["answer"]
    assert source in {c["source"] for c in body["citations"]}
    _check_citations(body, seed_texts)
    t = body["timings"]
    assert t["prompt_tokens"] > 0 and t["answer_tokens"] > 0
    assert 0 < t["ttft_s"] <= t["total_s"]


@pytest.mark.llm
def test_ask_top_k_limits_passages(client):
    r = client.post("/v1/ask", json={"question": "What is SLIDE?", "top_k": 1})
    assert r.status_code == 200
    assert len(r.json()["passages"]) == 1


def test_search_ranks_passages_without_llm(client):
    r = client.post("/v1/search", json={"query": "Riptide binarized", "k": 3})
    assert r.status_code == 200
    passages = r.json()["passages"]
    assert len(passages) == 3
    assert passages[0]["source"] == "001_561db33d66e26b4e.txt"
    assert passages[0]["score"] >= passages[1]["score"]


def test_health_and_ready(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    built = ready.json()["llama_cpp"]
    assert "AVX" in built["cpu_features"] and not [f for f in built["cpu_features"] if "AMX" in f]
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    ("path", "payload", "status", "needle"),
    [
        ("/v1/ask", {"question": ""}, 422, "question"),
        ("/v1/ask", {"question": "   \n\t "}, 422, "whitespace"),
        ("/v1/ask", {"question": "x" * 2001}, 422, "question"),
        ("/v1/ask", {"question": 42}, 422, "question"),
        ("/v1/ask", {"question": ["a"]}, 422, "question"),
        ("/v1/ask", {}, 422, "question"),
        ("/v1/ask", {"question": "ok?", "top_k": 0}, 422, "top_k"),
        ("/v1/ask", {"question": "ok?", "top_k": 21}, 422, "top_k"),
        ("/v1/ask", {"question": "ok?", "top_k": "3"}, 422, "top_k"),
        ("/v1/ask", {"question": "ok?", "topk": 3}, 422, "topk"),
        ("/v1/ask", [1, 2], 422, "body"),
        ("/v1/search", {"query": " "}, 422, "query"),
        ("/v1/search", {"query": "x", "k": 51}, 422, "k"),
        ("/v1/search", {"query": "x", "k": 1.5}, 422, "k"),
    ],
)
def test_bad_input_gets_4xx_json_saying_what(client, path, payload, status, needle):
    r = client.post(path, json=payload)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert needle in err["message"].lower()
    assert err["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("raw", "needle"),
    [(b"{not json", "not valid json"), (b'{"question": "a"', "not valid json"), (b"", "body")],
)
def test_malformed_or_missing_json_is_4xx(client, raw, needle):
    r = client.post("/v1/ask", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422), r.text
    assert needle in r.json()["error"]["message"].lower()


def test_non_json_content_type_is_4xx(client):
    r = client.post("/v1/ask", content=b"question=hi", headers={"Content-Type": "text/plain"})
    assert 400 <= r.status_code < 500, r.text
    assert "error" in r.json()


def test_unknown_route_and_method_are_json_4xx(client):
    assert client.get("/v1/nope").status_code == 404
    r = client.get("/v1/ask")
    assert r.status_code == 405 and "error" in r.json()
