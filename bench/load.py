"""Load test: N concurrent chat clients against a running server for a bounded time.

    .venv/bin/rag serve &                       # in another terminal
    .venv/bin/python bench/load.py --clients 16 --seconds 120 [--url URL ...] [--json out.json]

With several ``--url`` the clients are spread round-robin over those replicas.

Each client streams ``/v1/chat/completions`` questions back to back; on 503 it waits the
server's ``Retry-After`` (at most 5 s) and tries again. Reports requests done, 503s,
errors, hung requests, p50/p95/p99 latency, time to first token, tokens/s, and the
queue depth and server memory (from ``/metrics``) over time. Exit status 1 when there
were errors other than 503s or hung requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

QUESTIONS = [
    "Which two integer operations does Riptide use?",
    "Which two file systems make up ScaleFS?",
    "How many traces per day does Canopy analyze?",
    "What does FrugalML do when the base API is not confident?",
    "What is the Eigenspace Instability Measure used for?",
    "Where was MLSys 2022 held?",
    "What is the thermal design power of the V100 GPU in watts?",
    "What does the robustness principle say?",
]
HUNG_AFTER_S = 600.0  # no single request may take longer than this


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    ttfts: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    done: int = 0
    busy: int = 0
    busy_without_retry_after: int = 0
    errors: list[str] = field(default_factory=list)
    hung: int = 0


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


async def one_request(client: httpx.AsyncClient, question: str, tally: Tally) -> float:
    """Send one streamed question; returns how long to back off (0 unless 503)."""
    body = {"model": "any", "stream": True, "messages": [{"role": "user", "content": question}]}
    t0 = time.perf_counter()
    first: float | None = None
    usage: dict[str, Any] = {}
    try:
        async with client.stream("POST", "/v1/chat/completions", json=body) as r:
            if r.status_code == 503:
                tally.busy += 1
                retry = r.headers.get("Retry-After")
                if retry is None:
                    tally.busy_without_retry_after += 1
                return min(float(retry or 1), 5.0)
            if r.status_code != 200:
                tally.errors.append(f"HTTP {r.status_code}: {(await r.aread())[:200]!r}")
                return 0.0
            async for line in r.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                event = json.loads(line.removeprefix("data: "))
                if "error" in event:
                    tally.errors.append(f"stream error: {event['error'].get('message')}")
                    return 0.0
                choice = event["choices"][0]
                if first is None and choice["delta"].get("content"):
                    first = time.perf_counter() - t0
                if choice.get("finish_reason"):
                    usage = event.get("usage") or {}
    except httpx.TimeoutException:
        tally.hung += 1
        return 0.0
    except httpx.HTTPError as exc:
        tally.errors.append(f"{type(exc).__name__}: {exc}")
        return 0.0
    elapsed = time.perf_counter() - t0
    tally.done += 1
    tally.latencies.append(elapsed)
    if first is not None:
        tally.ttfts.append(first)
        tokens = usage.get("completion_tokens", 0)
        if tokens and elapsed > first:
            tally.rates.append(tokens / (elapsed - first + 1e-9))
    return 0.0


async def client_loop(client: httpx.AsyncClient, n: int, deadline: float, tally: Tally) -> None:
    i = n
    while time.monotonic() < deadline:
        wait = await one_request(client, QUESTIONS[i % len(QUESTIONS)], tally)
        i += 1
        if wait:
            await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))


def parse_metrics(text: str) -> dict[str, float]:
    wanted = ("rag_queue_depth", "rag_model_busy", "process_resident_memory_bytes")
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in wanted:
            out[name] = float(value)
    return out


async def sampler(client: httpx.AsyncClient, stop: asyncio.Event, samples: list) -> None:
    t0 = time.monotonic()
    while not stop.is_set():
        try:
            r = await client.get("/metrics", timeout=5)
            samples.append((round(time.monotonic() - t0, 1), parse_metrics(r.text)))
        except httpx.HTTPError:
            pass
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except TimeoutError:
            pass


async def run(urls: list[str], clients: int, seconds: float, key: str | None) -> dict[str, Any]:
    """``clients`` callers spread round-robin over the replicas at ``urls``."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    limits = httpx.Limits(max_connections=clients + 4)
    timeout = httpx.Timeout(HUNG_AFTER_S, connect=10)
    pool = [
        httpx.AsyncClient(base_url=u, headers=headers, limits=limits, timeout=timeout) for u in urls
    ]
    try:
        tally, stop = Tally(), asyncio.Event()
        per_replica: list[list] = [[] for _ in pool]
        watch = [asyncio.create_task(sampler(c, stop, per_replica[i])) for i, c in enumerate(pool)]
        deadline = time.monotonic() + seconds
        t0 = time.monotonic()
        await asyncio.gather(
            *(client_loop(pool[n % len(pool)], n, deadline, tally) for n in range(clients))
        )
        wall = time.monotonic() - t0
        stop.set()
        await asyncio.gather(*watch)
    finally:
        for c in pool:
            await c.aclose()
    samples = per_replica[0]
    depth = [s[1].get("rag_queue_depth", 0) for s in samples]
    rss = [s[1]["process_resident_memory_bytes"] / 2**20 for s in samples if s[1]]
    return {
        "replicas": len(urls),
        "clients": clients,
        "seconds": seconds,
        "wall_s": round(wall, 1),
        "done": tally.done,
        "busy_503": tally.busy,
        "busy_without_retry_after": tally.busy_without_retry_after,
        "errors": len(tally.errors),
        "error_samples": tally.errors[:5],
        "hung": tally.hung,
        "latency_p50_s": pct(tally.latencies, 0.5),
        "latency_p95_s": pct(tally.latencies, 0.95),
        "latency_p99_s": pct(tally.latencies, 0.99),
        "ttft_p50_s": pct(tally.ttfts, 0.5),
        "ttft_p95_s": pct(tally.ttfts, 0.95),
        "tokens_per_s_median": statistics.median(tally.rates) if tally.rates else None,
        "throughput_per_min": round(60 * tally.done / wall, 2) if wall else None,
        "queue_depth_max": max(
            (s[1].get("rag_queue_depth", 0) for r in per_replica for s in r), default=0
        ),
        "queue_depth_mean": round(statistics.mean(depth), 2) if depth else 0,
        "queue_depth_timeline": [(t, s.get("rag_queue_depth", 0)) for t, s in samples][::5],
        "rss_mib_first": round(rss[0], 1) if rss else None,
        "rss_mib_last": round(rss[-1], 1) if rss else None,
        "rss_mib_max": round(max(rss), 1) if rss else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", action="append", help="A replica's base URL (repeat for several).")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--key", default=os.environ.get("RAG_EVAL_API_KEY"))
    parser.add_argument("--json", help="Also write the results to this file.")
    args = parser.parse_args()
    urls = args.url or ["http://127.0.0.1:8000"]
    result = asyncio.run(run(urls, args.clients, args.seconds, args.key))
    for k, v in result.items():
        if k != "queue_depth_timeline":
            print(f"{k:<26} {v}")
    print("queue depth every ~5 s:", " ".join(f"{d:g}" for _, d in result["queue_depth_timeline"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)
    if result["errors"] or result["hung"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
