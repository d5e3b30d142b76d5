"""SIGTERM to ``rag serve``: new connections stop, the answer in flight still completes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.llm
def test_sigterm_drains_the_request_in_flight(settings):
    port = _free_port()
    env = dict(os.environ, RAG_INDEX_DIR=str(settings.index_path), RAG_SHUTDOWN_GRACE_S="120")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.5)
        body = {
            "messages": [{"role": "user", "content": "Which two file systems make up ScaleFS?"}],
            "stream": True,
        }
        admitted = threading.Event()
        result: dict[str, str] = {}

        def ask() -> None:
            with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=600) as r:
                lines = []
                for line in r.iter_lines():
                    admitted.set()
                    lines.append(line)
                result["text"] = "\n".join(lines)

        t = threading.Thread(target=ask)
        t.start()
        assert admitted.wait(120), "the request was never admitted"
        proc.send_signal(signal.SIGTERM)
        time.sleep(1)
        with pytest.raises(httpx.ConnectError):  # no new connections while draining
            httpx.get(f"{url}/healthz", timeout=2)
        t.join(300)
        # uvicorn re-raises the captured SIGTERM once drained, so it exits "by" SIGTERM
        assert proc.wait(timeout=180) in (0, -signal.SIGTERM)
        assert "MemFS" in result["text"] and result["text"].rstrip().endswith("data: [DONE]")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
