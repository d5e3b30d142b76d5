"""Driving a blocking answer stream from async code, and framing it as server-sent events.

Generation runs in its own thread, which hands each event to the event loop. When the
consumer stops early (the client disconnected, the response was cancelled), ``cancel``
is set and generation ends at the next token, freeing the model for the next caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import Any

from starlette.requests import Request

from rag import Answer, StreamEvent

__all__ = ["Event", "collect", "events", "open_events", "sse"]

DISCONNECT_POLL_S = 0.5
Event = StreamEvent
_END = object()


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


async def events(
    start: Callable[[threading.Event], Iterator[Event]],
    observe: Callable[[Answer], None] | None = None,
) -> AsyncGenerator[Event, None]:
    """Run ``start(cancel)`` in a thread and yield its events; stopping early cancels it.
    ``observe`` sees the final answer (metrics)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    cancel = threading.Event()

    def put(item: object) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop is gone (server shutting down)
            cancel.set()

    def produce() -> None:
        try:
            for event in start(cancel):
                put(event)
                if cancel.is_set():
                    break
        except BaseException as exc:  # handed to the consumer, which reports it
            put(_Failed(exc))
        finally:
            put(_END)

    threading.Thread(target=produce, name="answer-stream", daemon=True).start()
    try:
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.exc
            if observe is not None and isinstance(item, Answer):
                observe(item)
            yield item  # type: ignore[misc]
    finally:
        cancel.set()


def sse(data: dict[str, Any] | str) -> str:
    """One server-sent event: ``data: <json>`` and a blank line."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {payload}\n\n"


def _observer(request: Request) -> Callable[[Answer], None] | None:
    metrics = getattr(request.app.state, "metrics", None)
    return metrics.answer if metrics is not None else None


async def _unless_gone(request: Request, task: asyncio.Future[Any]) -> bool:
    """Wait for ``task``; if the client disconnects first, cancel it and return False."""
    while True:
        done, _ = await asyncio.wait({task}, timeout=DISCONNECT_POLL_S)
        if done:
            return True
        if await request.is_disconnected():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await task
            return False


async def collect(
    request: Request, start: Callable[[threading.Event], Iterator[Event]]
) -> Answer | None:
    """The final ``Answer`` of ``start``; ``None`` if the client disconnected first,
    in which case generation has been told to stop."""

    async def consume() -> Answer | None:
        result = None
        async for event in events(start, _observer(request)):
            if isinstance(event, Answer):
                result = event
        return result

    task = asyncio.ensure_future(consume())
    return task.result() if await _unless_gone(request, task) else None


async def open_events(
    request: Request, start: Callable[[threading.Event], Iterator[Event]]
) -> AsyncIterator[Event] | None:
    """Start ``start`` and wait for its first event: admission to the model, or an
    answer that needed none. A refusal to admit (``Busy``) or bad input is raised
    here, so it becomes an HTTP error before any byte of a stream is sent. ``None``
    when the client left before that."""
    stream = events(start, _observer(request))
    first = asyncio.ensure_future(stream.__anext__())
    if not await _unless_gone(request, first):
        await stream.aclose()
        return None
    try:
        head = first.result()
    except StopAsyncIteration:
        return None

    async def rest() -> AsyncGenerator[Event, None]:
        try:
            yield head
            async for event in stream:
                yield event
        finally:
            await stream.aclose()

    return rest()
