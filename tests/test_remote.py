"""The pipeline against a real OpenAI-compatible model server: llama-cpp-python's own
(``python -m llama_cpp.server``) with the default model, started on a free port. And the
failure paths against real HTTP servers that fail: busy (503/429) and unreachable."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from rag.answer.models import resolve_model
from rag.answer.prompt import fit_passages
from rag.answer.remote import RemoteGenerator
from rag.errors import Busy, ModelUnavailable
from rag.serving.pipeline import Pipeline

QUESTIONS = [
    "What does FrugalML do when the base API is not confident?",
    "What is Riptide?",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def model_server(settings, tmp_path_factory) -> Iterator[str]:
    path = resolve_model(settings.model_path, settings.models_path, settings.model_sha256)
    port = _free_port()
    log = tmp_path_factory.mktemp("llm") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "llama_cpp.server", "--model", str(path),
                "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(settings.n_ctx),
                "--n_threads", str(settings.n_threads), "--n_batch", "512", "--seed", "0",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("llama_cpp.server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture(scope="module")
def remote(model_server) -> RemoteGenerator:
    return RemoteGenerator(model_server, concurrency=2)


@pytest.mark.llm
def test_same_answers_and_citations_as_in_process(pipeline, remote):
    served = Pipeline(pipeline.settings, pipeline.retriever, remote)
    for q in QUESTIONS:
        local, far = pipeline.answer(q), served.answer(q)
        assert far.text == local.text, (q, far.draft, local.draft)
        assert far.citations == local.citations
        assert not far.refused and far.citations


@pytest.mark.llm
def test_prompt_budget_holds_with_the_servers_token_counts(pipeline, remote, model_server):
    assert remote._tokenize is not None and remote._tokenize.endswith("/extras/tokenize")
    for q in QUESTIONS:
        hits = pipeline.retriever.search(q, 3)
        _, messages, counted = fit_passages(q, hits, remote.count_prompt, 4096 - 256)
        r = httpx.post(
            f"{model_server}/chat/completions",
            json={"messages": messages, "max_tokens": 1, "temperature": 0},
            timeout=300,
        )
        used = r.json()["usage"]["prompt_tokens"]
        assert used <= counted <= used * 1.15 + 16, (used, counted)


@pytest.mark.llm
def test_closing_the_stream_frees_the_server(remote):
    messages = [{"role": "user", "content": "Count from 1 to 200, one number per line."}]
    pieces = remote.stream(messages, 400, 0.0)
    first = [next(pieces) for _ in range(3)]
    pieces.close()  # the caller went away: the upstream request is closed
    assert "".join(first).strip()
    again = "".join(remote.stream([{"role": "user", "content": "Say OK."}], 4, 0.0))
    assert again.strip()


class _Busy(http.server.BaseHTTPRequestHandler):
    status = 503

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._reply(200, b'{"object": "list", "data": [{"id": "busy-model"}]}')

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.path.endswith("tokenize"):
            self._reply(404, b"{}")
        else:
            self._reply(self.status, b'{"error": {"message": "overloaded"}}', {"Retry-After": "7"})

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("status", [503, 429])
def test_a_busy_model_server_becomes_our_503_with_retry_after(pipeline, status):
    from fastapi.testclient import TestClient

    from api.app import create_app

    handler = type("Busy", (_Busy,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        gen = RemoteGenerator(f"http://127.0.0.1:{server.server_port}/v1")
        assert gen.name == "busy-model" and gen._tokenize is None
        assert gen.count_tokens("x" * 25) == 10  # estimated without a tokenizer
        with pytest.raises(Busy) as caught:
            list(gen.stream([{"role": "user", "content": "hi"}], 8, 0.0))
        assert caught.value.retry_after_s == 7
        app = create_app(pipeline=Pipeline(pipeline.settings, pipeline.retriever, gen))
        with TestClient(app) as client:
            r = client.post("/v1/ask", json={"question": QUESTIONS[1]})
        assert r.status_code == 503 and r.headers["retry-after"] == "7"
        assert "busy" in r.json()["error"]["message"]
    finally:
        server.shutdown()


def test_an_unreachable_model_server_is_retried_then_reported():
    port = _free_port()  # nothing listens there
    with pytest.raises(ModelUnavailable, match="unreachable"):
        RemoteGenerator(f"http://127.0.0.1:{port}/v1", retries=2, backoff_s=0.01)
