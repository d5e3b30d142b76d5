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
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from starlette.requests import Request

from rag.types import Answer

__all__ = ["Event", "collect", "events", "sse"]

DISCONNECT_POLL_S = 0.5
Event = str | Answer
_END = object()


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


async def events(start: Callable[[threading.Event], Iterator[Event]]) -> AsyncIterator[Event]:
    """Run ``start(cancel)`` in a thread and yield its events; stopping early cancels it."""
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
            yield item  # type: ignore[misc]
    finally:
        cancel.set()


def sse(data: dict[str, Any] | str) -> str:
    """One server-sent event: ``data: <json>`` and a blank line."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return f"data: {payload}\n\n"


async def collect(
    request: Request, start: Callable[[threading.Event], Iterator[Event]]
) -> Answer | None:
    """The final ``Answer`` of ``start``; ``None`` if the client disconnected first,
    in which case generation has been told to stop."""

    async def consume() -> Answer | None:
        result = None
        async for event in events(start):
            if isinstance(event, Answer):
                result = event
        return result

    task = asyncio.ensure_future(consume())
    while True:
        done, _ = await asyncio.wait({task}, timeout=DISCONNECT_POLL_S)
        if done:
            return task.result()
        if await request.is_disconnected():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return None
