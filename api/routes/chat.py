"""OpenAI-compatible chat: POST /v1/chat/completions and GET /v1/models.

A stock OpenAI client pointed at ``<server>/v1`` gets grounded answers. Extra top-level
fields (``citations``, ``refused``, ``refusal_reason``, ``query``) carry the sources;
when streaming they arrive on the final chunk, the one with ``finish_reason``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import PipelineDep
from api.errors import error_event
from api.middleware import log_question
from api.schemas import ERROR_RESPONSES, STREAM_RESPONSES, ChatRequest, ChatResponse, ModelList
from api.streaming import Event, collect, open_events, sse
from rag import Answer, Delta, Options, Turn, validate_turns

router = APIRouter(prefix="/v1", tags=["chat"])
_CREATED = int(time.time())


@router.get("/models", response_model=ModelList, responses=ERROR_RESPONSES)
async def models(pipeline: PipelineDep) -> dict[str, Any]:
    """The one model this server answers with."""
    card = {
        "id": pipeline.generator.name,
        "object": "model",
        "created": _CREATED,
        "owned_by": "local",
    }
    return {"object": "list", "data": [card]}


def _turns(body: ChatRequest) -> list[Turn]:
    return [
        Turn("system" if m.role == "developer" else m.role, m.content or "") for m in body.messages
    ]


def _options(body: ChatRequest) -> Options:
    stop = [body.stop] if isinstance(body.stop, str) else body.stop or []
    return Options(body.max_completion_tokens or body.max_tokens, body.temperature, tuple(stop))


def _sources(answer: Answer) -> dict[str, Any]:
    d = answer.to_dict()
    keys = ("citations", "refused", "refusal_reason", "query", "passages", "build_id")
    return {k: d[k] for k in keys}


def _usage(answer: Answer) -> dict[str, int]:
    p, c = answer.timings.prompt_tokens, answer.timings.answer_tokens
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


@router.post("/chat/completions", response_model=ChatResponse, responses=STREAM_RESPONSES)
async def chat_completions(
    body: ChatRequest, request: Request, pipeline: PipelineDep
) -> Response | dict[str, Any]:
    """Answer the conversation's last user message from the reports, with citations."""
    turns = _turns(body)
    question = pipeline.validate(validate_turns(turns, pipeline.settings.max_conversation_chars))
    pipeline.check_documents(body.documents)
    log_question(request, question)
    options = _options(body)
    head = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "created": int(time.time()),
        "model": pipeline.generator.name,
    }

    def start(cancel: Any) -> Any:
        return pipeline.chat_stream(turns, body.top_k, options, cancel, body.documents)

    if body.stream:
        stream = await open_events(request, start)
        if stream is None:
            return Response(status_code=499)  # the client is gone; nobody reads this
        return StreamingResponse(_chunks(stream, head), media_type="text/event-stream")
    answer = await collect(request, start)
    if answer is None:
        return Response(status_code=499)  # the client is gone; nobody reads this
    message = {"role": "assistant", "content": answer.text}
    choice = {"index": 0, "message": message, "finish_reason": _finish(answer)}
    return {
        **head,
        "object": "chat.completion",
        "choices": [choice],
        "usage": _usage(answer),
        **_sources(answer),
    }


def _finish(answer: Answer) -> str:
    """OpenAI's finish reasons: an answer cut short because the model was busy is
    incomplete, which chat clients know as "length" (its text says why)."""
    return "length" if answer.finish_reason == "busy" else answer.finish_reason


async def _chunks(stream: AsyncIterator[Event], head: dict[str, Any]) -> AsyncIterator[str]:
    """``chat.completion.chunk`` events: the role, text deltas, then a final chunk
    with ``finish_reason``, usage and the citations; then ``[DONE]``."""

    def chunk(delta: dict[str, str], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return {**head, "object": "chat.completion.chunk", "choices": [choice]}

    yield sse(chunk({"role": "assistant", "content": ""}))
    try:
        async for event in stream:
            if isinstance(event, Answer):
                last = chunk({}, _finish(event))
                yield sse({**last, "usage": _usage(event), **_sources(event)})
            elif isinstance(event, Delta) and event.text:
                yield sse(chunk({"content": event.text}))
    except Exception as exc:  # headers are sent: the error travels as an event
        yield sse(error_event(exc))
    yield sse("[DONE]")
