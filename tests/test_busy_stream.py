"""A question that needs more than one generation, when the model's queue fills up after
its first: the stream ends cleanly with the verified part already sent and a note that
the rest could not be generated, never with an error (a 500, or an error event).

The queue is the real admission queue, filled by a real competing caller that holds
the model; the generations are the real model's. The wrapper below only decides *when*
the competitor arrives (while a chosen generation runs), synchronised by events."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from test_second_look import FERRY_REPORT, GRID_REPORT

from rag.serving.pipeline import BUSY_NOTE, Pipeline
from rag.types import Answer, Delta

# Answered in three generations: the first (a sum of two reports' figures in one line)
# is refused, then each report is asked on its own (test_second_look shows this).
QUESTION = (
    "Adding the days the Tarnby ferry terminal was shut for its ramp and the days the "
    "Ostrand Grid's Brackley substation was out after the flood, how many days is that?"
)


class Saturating:
    """The real generator; during generation number ``at``, another caller queues for
    the model, and the queue is then closed to anyone else, so the next generation
    this question asks for is refused as ``Busy``. ``release`` lets the competitor go."""

    def __init__(self, inner, at: int) -> None:
        self.inner, self.at, self.calls = inner, at, 0
        self.name, self.n_ctx, self.concurrency = inner.name, inner.n_ctx, inner.concurrency
        self.lock = inner.lock
        self.gate = None
        self.release = threading.Event()
        self.competitor_admitted = threading.Event()

    def count_prompt(self, messages):
        return self.inner.count_prompt(messages)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def _compete(self) -> None:
        with self.gate.slot():
            self.competitor_admitted.set()
            self.release.wait(600)

    def stream(self, *args, **kwargs) -> Iterator[str]:
        self.calls += 1
        if self.calls == self.at:  # we hold the slot: the competitor queues behind us
            self.gate.max_waiting = 1
            threading.Thread(target=self._compete, daemon=True).start()
            while self.gate.depth < 1:
                self.release.wait(0.01)
            self.gate.max_waiting = 0  # nobody else may queue now
        yield from self.inner.stream(*args, **kwargs)


@pytest.fixture
def saturated(tmp_path, invented, pipeline):
    def make(at: int) -> tuple[Pipeline, Saturating]:
        docs = {"ferry.md": FERRY_REPORT, "grid.md": GRID_REPORT}
        s, retriever = invented(tmp_path, docs, answer_cache_size=0)
        gen = Saturating(pipeline.generator, at)
        p = Pipeline(s, retriever, gen)
        gen.gate = p.admission
        return p, gen

    made: list[Saturating] = []

    def tracked(at: int):
        p, gen = make(at)
        made.append(gen)
        return p, gen

    yield tracked
    for gen in made:
        gen.release.set()


@pytest.mark.llm
def test_unsaturated_the_stream_is_the_answer(saturated):
    """Each report's look streams only what joins the answer (renumbered), not its own
    draft as well: the text streamed is the answer's text."""
    p, gen = saturated(0)  # nobody competes
    events = list(p.stream(QUESTION))
    answer = events[-1]
    assert isinstance(answer, Answer) and answer.finish_reason == "stop"
    assert gen.calls == 3  # the refused first answer, then one look per report
    assert "".join(e.text for e in events if isinstance(e, Delta)) == answer.text
    assert {c.source for c in answer.citations} == {"ferry.md", "grid.md"}


@pytest.mark.llm
def test_the_stream_keeps_the_verified_part_and_ends_with_a_note(saturated):
    p, gen = saturated(2)  # busy after the first report's own look
    events = list(p.stream(QUESTION))
    answer = events[-1]
    assert isinstance(answer, Answer)
    streamed = "".join(e.text for e in events if isinstance(e, Delta))
    assert gen.competitor_admitted.is_set() and gen.calls == 2
    assert answer.finish_reason == "busy" and not answer.refused
    assert streamed == answer.text
    assert answer.text.rstrip().endswith("s).") and BUSY_NOTE in answer.text
    kept = answer.text.split(BUSY_NOTE)[0]
    assert "days" in kept and answer.citations, answer.to_dict()  # the verified part
    texts = {"ferry.md": FERRY_REPORT, "grid.md": GRID_REPORT}
    for c in answer.citations:
        assert texts[c.source][c.start : c.end] == c.quote


@pytest.mark.llm
def test_over_http_the_chat_stream_ends_without_an_error_event(saturated):
    from fastapi.testclient import TestClient

    from api.app import create_app

    p, gen = saturated(1)  # busy after the first answer, refused, had sent nothing
    body = {"messages": [{"role": "user", "content": QUESTION}], "stream": True}
    with TestClient(create_app(pipeline=p)) as client:
        r = client.post("/v1/chat/completions", json=body)
        assert r.status_code == 200
        data = [line[6:] for line in r.text.splitlines() if line.startswith("data: ")]
        assert data[-1] == "[DONE]"
        chunks = [json.loads(d) for d in data[:-1]]
        assert not [c for c in chunks if "error" in c], chunks
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        assert text.startswith(BUSY_NOTE)
        assert chunks[-1]["choices"][0]["finish_reason"] == "length"
        r = client.post("/v1/ask", json={"question": QUESTION})  # the queue is still full
        assert r.status_code == 503 and r.headers["Retry-After"]
    assert gen.competitor_admitted.is_set()
