"""Prometheus metrics for ``GET /metrics``: one registry per app, so several apps in one
process (tests) do not collide."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from rag import Answer

__all__ = ["Metrics"]

_SECONDS = (0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)


class Metrics:
    """Requests, latency, answers and the model queue, in Prometheus' text format."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)  # resident memory, CPU, open files
        self.requests = Counter(
            "rag_requests", "HTTP requests", ["route", "method", "status"], registry=r
        )
        self.latency = Histogram(
            "rag_request_seconds", "HTTP request latency", ["route"], buckets=_SECONDS, registry=r
        )
        self.ttft = Histogram(
            "rag_time_to_first_token_seconds",
            "Time from admission to the model's first token",
            buckets=_SECONDS,
            registry=r,
        )
        self.queue_wait = Histogram(
            "rag_queue_wait_seconds", "Time waiting for the model", buckets=_SECONDS, registry=r
        )
        self.tokens = Counter("rag_generated_tokens", "Tokens generated", registry=r)
        self.prompt_tokens = Counter("rag_prompt_tokens", "Prompt tokens processed", registry=r)
        self.answers = Counter(
            "rag_answers", "Answers by outcome", ["outcome"], registry=r
        )  # answered, refused_early (no LLM), refused
        self.queue_depth = Gauge("rag_queue_depth", "Requests waiting for the model", registry=r)
        self.model_busy = Gauge("rag_model_busy", "1 while the model generates", registry=r)
        self.rejected = Gauge(
            "rag_queue_rejected", "Requests refused by the queue (503) so far", registry=r
        )
        self.index_chunks = Gauge("rag_index_chunks", "Passages in the index", registry=r)
        self.cache_hits = Gauge(
            "rag_answer_cache_hits", "Answers served from the answer cache", registry=r
        )
        self.cache_misses = Gauge(
            "rag_answer_cache_misses", "Answers not found in the answer cache", registry=r
        )
        self.cache_size = Gauge("rag_answer_cache_size", "Answers held in the cache", registry=r)
        self.index_age = Gauge(
            "rag_index_age_seconds", "Seconds since the served index was built", registry=r
        )

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def answer(self, answer: Answer) -> None:
        t = answer.timings
        if answer.refused and t.prompt_tokens == 0:
            self.answers.labels("refused_early").inc()
            return
        self.answers.labels("refused" if answer.refused else "answered").inc()
        self.tokens.inc(t.answer_tokens)
        self.prompt_tokens.inc(t.prompt_tokens)
        self.queue_wait.observe(t.queue_s)
        if t.ttft_s:
            self.ttft.observe(t.ttft_s)

    def render(self, state: Callable[[], dict[str, float]] | None = None) -> bytes:
        """The text exposition, after refreshing the gauges from ``state()``."""
        if state is not None:
            values = state()
            self.queue_depth.set(values.get("queue_depth", 0))
            self.model_busy.set(values.get("model_busy", 0))
            self.rejected.set(values.get("rejected", 0))
            self.index_chunks.set(values.get("index_chunks", 0))
            self.cache_hits.set(values.get("cache_hits", 0))
            self.cache_misses.set(values.get("cache_misses", 0))
            self.cache_size.set(values.get("cache_size", 0))
            built = values.get("index_built_at")
            self.index_age.set(time.time() - built if built else 0)
        return generate_latest(self.registry)
