"""POST /v1/ask and /v1/search: thin translations onto ``Pipeline``."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import PipelineDep
from api.errors import error_for
from api.schemas import ERROR_RESPONSES, AskRequest, AskResponse, SearchRequest, SearchResponse
from api.streaming import Event, collect, events, sse
from rag.types import Answer, hit_to_dict

router = APIRouter(prefix="/v1", tags=["answers"])


@router.post("/ask", response_model=AskResponse, responses=ERROR_RESPONSES)
async def ask(body: AskRequest, request: Request, pipeline: PipelineDep) -> Response | dict:
    """Answer a question from the reports, with citations quoting their text.

    With ``"stream": true`` the answer arrives as server-sent events:
    ``{"object": "answer.delta", "delta": ...}`` for each verified sentence, then
    ``{"object": "answer", ...}`` (this response's body), then ``[DONE]``.
    """
    question = pipeline.validate(body.question)

    def start(cancel: threading.Event) -> Iterator[Event]:
        return pipeline.stream(question, body.top_k, cancel=cancel)

    if body.stream:
        return StreamingResponse(_answer_events(start), media_type="text/event-stream")
    answer = await collect(request, start)
    if answer is None:
        return Response(status_code=499)  # the client is gone; nobody reads this
    return answer.to_dict()


async def _answer_events(start: Any) -> AsyncIterator[str]:
    try:
        async for event in events(start):
            if isinstance(event, Answer):
                yield sse({"object": "answer", **event.to_dict()})
            else:
                yield sse({"object": "answer.delta", "delta": event})
    except Exception as exc:  # headers are sent: the error travels as an event
        yield sse(error_for(exc)[1])
    yield sse("[DONE]")


@router.post("/search", response_model=SearchResponse, responses=ERROR_RESPONSES)
async def search(body: SearchRequest, pipeline: PipelineDep) -> dict:
    """Ranked passages for a query, without calling the language model."""
    hits = await run_in_threadpool(pipeline.search, body.query, body.k)
    return {"query": body.query, "passages": [hit_to_dict(h) for h in hits]}
