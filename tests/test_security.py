"""Access and limits at the HTTP edge: API keys, CORS, body size, request ids, metrics, logs."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import openai
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.logs import JsonFormatter

SEARCH = {"query": "binarized networks"}


@pytest.fixture(scope="module")
def keyed(pipeline, tmp_path_factory) -> TestClient:
    keys_file = tmp_path_factory.mktemp("keys") / "keys.txt"
    hashed = hashlib.sha256(b"from-file-secret").hexdigest()
    keys_file.write_text(f"# team keys\nsha256:{hashed}\nplain-file-key\n")
    settings = pipeline.settings.model_copy(
        update={"api_keys": "alpha-key, beta-key", "api_keys_file": str(keys_file)}
    )
    with TestClient(create_app(pipeline=pipeline, settings=settings)) as c:
        yield c


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-key", "Basic alpha-key", "Bearer ", "alpha-key"]
)
def test_v1_needs_a_valid_bearer_key(keyed, header):
    headers = {"Authorization": header} if header is not None else {}
    for method, path, body in [
        ("post", "/v1/search", SEARCH),
        ("post", "/v1/ask", {"question": "q"}),
        ("post", "/v1/chat/completions", {"messages": [{"role": "user", "content": "q"}]}),
        ("get", "/v1/models", None),
    ]:
        r = keyed.request(method, path, json=body, headers=headers)
        assert r.status_code == 401, (path, r.text)
        assert r.headers["WWW-Authenticate"] == "Bearer"
        err = r.json()["error"]
        assert err["type"] == "authentication_error" and "API key" in err["message"]
        assert "alpha" not in r.text and "wrong-key" not in r.text  # keys never echoed


@pytest.mark.parametrize("key", ["alpha-key", "beta-key", "from-file-secret", "plain-file-key"])
def test_every_configured_key_is_accepted(keyed, key):
    r = keyed.post("/v1/search", json=SEARCH, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text


def test_health_and_metrics_stay_open(keyed):
    assert keyed.get("/healthz").status_code == 200
    assert keyed.get("/readyz").status_code == 200
    assert keyed.get("/metrics").status_code == 200


def test_openai_client_with_a_wrong_key_gets_authentication_error(keyed):
    client = openai.OpenAI(
        base_url="http://testserver/v1", api_key="nope", http_client=keyed, max_retries=0
    )
    with pytest.raises(openai.AuthenticationError):
        client.models.list()
    good = openai.OpenAI(base_url="http://testserver/v1", api_key="beta-key", http_client=keyed)
    assert good.models.list().data


def test_cors_is_closed_by_default(client):
    pre = client.options(
        "/v1/search",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in pre.headers
    r = client.post("/v1/search", json=SEARCH, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_allows_only_configured_origins(pipeline):
    settings = pipeline.settings.model_copy(update={"cors_origins": "https://ui.example"})
    with TestClient(create_app(pipeline=pipeline, settings=settings)) as c:
        ok = c.options(
            "/v1/search",
            headers={"Origin": "https://ui.example", "Access-Control-Request-Method": "POST"},
        )
        assert ok.headers["access-control-allow-origin"] == "https://ui.example"
        bad = c.post("/v1/search", json=SEARCH, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in bad.headers


def test_oversized_body_is_413_whether_declared_or_streamed(client, pipeline):
    limit = pipeline.settings.max_body_bytes
    big = json.dumps({"query": "x" * (limit + 10)}).encode()
    r = client.post("/v1/search", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["type"] == "request_too_large"
    assert str(limit) in r.json()["error"]["message"]

    def chunks():
        for i in range(0, len(big), 8192):
            yield big[i : i + 8192]

    r = client.post("/v1/search", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and str(limit) in r.json()["error"]["message"]


def test_request_id_is_echoed_or_made(client):
    r = client.post("/v1/search", json=SEARCH, headers={"X-Request-ID": "trace-42"})
    assert r.headers["X-Request-ID"] == "trace-42"
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32 and made != client.get("/healthz").headers["X-Request-ID"]
    hostile = client.get("/healthz", headers={"X-Request-ID": "a\u00e9 b".encode("latin-1") * 40})
    assert len(hostile.headers["X-Request-ID"]) == 32  # replaced by a fresh id
    assert client.post("/v1/search", json={}).headers["X-Request-ID"]  # errors too


def test_metrics_count_requests_and_report_queue_and_index(client):
    client.post("/v1/search", json=SEARCH)
    client.post("/v1/search", json={"query": ""})
    text = client.get("/metrics").text
    assert 'rag_requests_total{method="POST",route="/v1/search",status="200"}' in text
    assert 'rag_requests_total{method="POST",route="/v1/search",status="422"}' in text
    assert "rag_request_seconds_bucket" in text
    for name in (
        "rag_queue_depth",
        "rag_model_busy",
        "rag_index_chunks",
        "rag_index_age_seconds",
        "rag_time_to_first_token_seconds",
        "rag_generated_tokens_total",
        "rag_answers_total",
        "process_resident_memory_bytes",
    ):
        assert name in text, name
    chunks = next(line for line in text.splitlines() if line.startswith("rag_index_chunks "))
    assert float(chunks.split()[1]) > 100


def test_logs_are_json_with_request_id_and_no_question_text(client, caplog):
    secret = "What is the confidential Riptide budget of project Nightingale?"
    with caplog.at_level(logging.DEBUG):
        r = client.post("/v1/search", json={"query": secret}, headers={"X-Request-ID": "log-1"})
        client.post("/v1/ask", json={"question": "x" * 3000})  # a 422 with the text in it
    assert r.status_code == 200
    lines = [json.loads(JsonFormatter().format(rec)) for rec in caplog.records]
    access = [e for e in lines if e["logger"] == "api.access"]
    assert any(e["request_id"] == "log-1" and e["status"] == 200 for e in access)
    assert all({"ts", "level", "msg", "request_id"} <= set(e) for e in lines)
    dumped = "\n".join(json.dumps(e) for e in lines)
    assert "Nightingale" not in dumped and "xxxxxxxxxx" not in dumped


def test_keys_file_that_cannot_be_read_is_a_clear_error(pipeline, tmp_path: Path):
    from api.auth import KeyRing
    from rag.errors import ConfigError

    settings = pipeline.settings.model_copy(update={"api_keys_file": str(tmp_path / "none")})
    with pytest.raises(ConfigError, match="RAG_API_KEYS_FILE"):
        KeyRing.from_settings(settings)
