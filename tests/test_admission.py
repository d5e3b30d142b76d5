"""The bounded FIFO queue in front of the model, alone and behind HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from rag.errors import Busy
from rag.serving.admission import Admission, Cancelled


@contextmanager
def holding(gate: Admission) -> Iterator[None]:
    """Another caller holds the model for the duration of the block."""
    started, release = threading.Event(), threading.Event()

    def hold() -> None:
        with gate.slot():
            started.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert started.wait(5)
    try:
        yield
    finally:
        release.set()
        holder.join(5)


def test_callers_are_admitted_in_arrival_order():
    gate = Admission(max_waiting=10, max_wait_s=30)
    gate._service_s = 0.01  # so the wait estimate admits everyone
    order: list[int] = []

    def caller(i: int) -> None:
        with gate.slot():
            order.append(i)

    threads = []
    with holding(gate):
        for i in range(6):
            t = threading.Thread(target=caller, args=(i,))
            t.start()
            threads.append(t)
            while gate.depth < i + 1:  # queued before the next one arrives
                time.sleep(0.001)
    for t in threads:
        t.join(5)
    assert order == list(range(6))
    assert not gate.busy and gate.depth == 0


def test_full_queue_is_refused_at_once_with_a_retry_hint():
    gate = Admission(max_waiting=0, max_wait_s=30)
    with holding(gate):
        t0 = time.monotonic()
        with pytest.raises(Busy) as err:
            with gate.slot():
                pass
        assert time.monotonic() - t0 < 0.1
    assert err.value.retry_after_s >= 1 and "busy" in str(err.value)
    with gate.slot():  # free again
        pass


def test_expected_wait_over_the_limit_is_refused_at_once():
    gate = Admission(max_waiting=10, max_wait_s=5)
    gate._service_s = 20.0  # one generation ahead already exceeds 5 s
    with holding(gate), pytest.raises(Busy):
        with gate.slot():
            pass


def test_waiting_too_long_gives_up_and_leaves_the_queue():
    gate = Admission(max_waiting=10, max_wait_s=0.5)
    gate._service_s = 0.01
    with holding(gate):
        with pytest.raises(Busy, match="waited"):
            with gate.slot():
                pass
        assert gate.depth == 0


def test_cancelled_waiter_leaves_the_queue_and_the_next_is_served():
    gate = Admission(max_waiting=10, max_wait_s=30)
    gate._service_s = 0.01
    cancel = threading.Event()
    outcome: list[str] = []

    def waiter() -> None:
        try:
            with gate.slot(cancel):
                outcome.append("admitted")
        except Cancelled:
            outcome.append("cancelled")

    with holding(gate):
        t = threading.Thread(target=waiter)
        t.start()
        while gate.depth < 1:
            time.sleep(0.001)
        cancel.set()
        t.join(5)
        assert outcome == ["cancelled"] and gate.depth == 0
    assert not gate.busy


def test_slot_is_released_when_the_holder_fails():
    gate = Admission()
    with pytest.raises(RuntimeError):
        with gate.slot():
            raise RuntimeError("generation failed")
    assert not gate.busy


def test_busy_model_gives_503_with_retry_after_and_search_still_answers(
    client, pipeline, monkeypatch
):
    gate = pipeline.admission
    monkeypatch.setattr(gate, "max_waiting", 0)
    q = "Which two integer operations does Riptide use?"
    with holding(gate):
        r = client.post("/v1/ask", json={"question": q})
        assert r.status_code == 503, r.text
        assert int(r.headers["Retry-After"]) >= 1
        assert r.json()["error"]["type"] == "server_busy"
        chat = {"messages": [{"role": "user", "content": q}], "stream": True}
        r = client.post("/v1/chat/completions", json=chat)
        assert r.status_code == 503  # refused before the stream starts, not inside it
        t0 = time.monotonic()
        r = client.post("/v1/search", json={"query": q})
        assert r.status_code == 200 and time.monotonic() - t0 < 5
        # no LLM needed: an early refusal is still answered while the model is busy
        r = client.post("/v1/ask", json={"question": "Best sourdough recipe for a humid kitchen?"})
        assert r.status_code == 200 and r.json()["refused"]


def test_a_batching_server_takes_as_many_answers_as_it_has_slots():
    gate = Admission(max_waiting=4, max_wait_s=30, slots=2)
    gate._service_s = 0.01
    with holding(gate), holding(gate):  # both slots taken, nobody waits
        assert gate.depth == 0 and gate.busy
        admitted = threading.Event()

        def third() -> None:
            with gate.slot():
                admitted.set()

        t = threading.Thread(target=third)
        t.start()
        while gate.depth == 0:  # it queues behind the two
            time.sleep(0.01)
        assert not admitted.is_set()
    t.join(10)
    assert admitted.is_set() and not gate.busy
