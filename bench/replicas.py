"""API replicas in front of one remote model server: throughput and latency with 1 and 2
``rag serve`` processes sharing one OpenAI-compatible model server and one index.

    .venv/bin/python bench/replicas.py [--clients 8] [--seconds 60] [--out FILE]

Starts ``python -m llama_cpp.server`` with the default model, then for each replica count
starts that many ``rag serve`` processes (``RAG_LLM_URL`` pointing at the server,
``RAG_LLM_CONCURRENCY`` requests each, answer cache off so every request reaches the
model) and runs ``bench/load.py`` over them. Every
request must end in 200 or 503; the load run fails on any other error or a hang.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import Settings, resolve_model  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen, what: str) -> None:
    for _ in range(1200):
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"{what} did not become ready")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--concurrency", type=int, default=1, help="RAG_LLM_CONCURRENCY per replica")
    ap.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = ap.parse_args()
    s = Settings()
    model = resolve_model(s.model_path, s.models_path, s.model_sha256)
    logs = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    port = free_port()
    llm_url = f"http://127.0.0.1:{port}/v1"
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", str(s.n_ctx), "--n_threads", str(s.n_threads)],
        stdout=(logs / "llm.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    results = []
    try:
        wait_ready(f"{llm_url}/models", server, "llama_cpp.server")
        for n in args.replicas:
            env = dict(
                os.environ,
                RAG_LLM_URL=llm_url,
                RAG_LLM_CONCURRENCY=str(args.concurrency),
                RAG_ANSWER_CACHE_SIZE="0",  # every request reaches the model
                HF_HUB_OFFLINE="1",
            )
            ports = [free_port() for _ in range(n)]
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "rag.cli", "serve", "--port", str(p)],
                    env=env,
                    stdout=(logs / f"api{p}.log").open("wb"),
                    stderr=subprocess.STDOUT,
                )  # fmt: skip
                for p in ports
            ]
            try:
                for p, proc in zip(ports, procs, strict=True):
                    wait_ready(f"http://127.0.0.1:{p}/readyz", proc, f"rag serve :{p}")
                out = logs / f"load-{n}.json"
                cmd = [sys.executable, str(ROOT / "bench" / "load.py"), "--json", str(out),
                       "--clients", str(args.clients), "--seconds", str(args.seconds)]  # fmt: skip
                for p in ports:
                    cmd += ["--url", f"http://127.0.0.1:{p}"]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                results.append(json.loads(out.read_text()))
            finally:
                for proc in procs:
                    proc.terminate()
                for proc in procs:
                    proc.wait(60)
    finally:
        server.terminate()
        server.wait(60)
    keys = ("replicas", "clients", "done", "throughput_per_min", "busy_503", "errors", "hung",
            "latency_p50_s", "latency_p95_s", "ttft_p50_s")  # fmt: skip
    table = [{k: r.get(k) for k in keys} for r in results]
    for row in table:
        print(json.dumps(row))
    if args.out:
        args.out.write_text(json.dumps(table, indent=1) + "\n")


if __name__ == "__main__":
    main()
