"""POST /v1/ask and /v1/search: thin translations onto ``Pipeline``."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import PipelineDep
from api.errors import error_event
from api.middleware import log_question
from api.schemas import (
    ERROR_RESPONSES,
    STREAM_RESPONSES,
    AskRequest,
    AskResponse,
    SearchRequest,
    SearchResponse,
)
from api.streaming import Event, collect, open_events, sse
from rag import Answer, Delta, hit_to_dict, title_of

router = APIRouter(prefix="/v1", tags=["answers"])


@router.post("/ask", response_model=AskResponse, responses=STREAM_RESPONSES)
async def ask(body: AskRequest, request: Request, pipeline: PipelineDep) -> Response | dict:
    """Answer a question from the reports, with citations quoting their text.

    With ``"stream": true`` the answer arrives as server-sent events:
    ``{"object": "answer.delta", "delta": ...}`` for each verified sentence, then
    ``{"object": "answer", ...}`` (this response's body), then ``[DONE]``.
    """
    question = pipeline.validate(body.question)
    pipeline.check_documents(body.documents)
    log_question(request, question)

    def start(cancel: threading.Event) -> Iterator[Event]:
        return pipeline.stream(question, body.top_k, cancel=cancel, documents=body.documents)

    if body.stream:
        stream = await open_events(request, start)
        if stream is None:
            return Response(status_code=499)  # the client is gone; nobody reads this
        return StreamingResponse(_answer_events(stream), media_type="text/event-stream")
    answer = await collect(request, start)
    if answer is None:
        return Response(status_code=499)  # the client is gone; nobody reads this
    return answer.to_dict()


async def _answer_events(stream: AsyncIterator[Event]) -> AsyncIterator[str]:
    try:
        async for event in stream:
            if isinstance(event, Answer):
                yield sse({"object": "answer", **event.to_dict()})
            elif isinstance(event, Delta) and event.text:
                yield sse({"object": "answer.delta", "delta": event.text})
    except Exception as exc:  # headers are sent: the error travels as an event
        yield sse(error_event(exc))
    yield sse("[DONE]")


@router.post("/search", response_model=SearchResponse, responses=ERROR_RESPONSES)
async def search(body: SearchRequest, pipeline: PipelineDep) -> dict:
    """Ranked passages for a query, without calling the language model."""
    hits = await run_in_threadpool(pipeline.search, body.query, body.k, body.documents)
    store = pipeline.store
    passages = [hit_to_dict(h, title_of(store, h.chunk.source)) for h in hits]
    return {"query": body.query, "passages": passages}
