"""POST /v1/feedback: a reader's verdict on an answer, kept durably (thin over
``rag.serving.feedback``). It answers 201 only once the verdict is on disk."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.schemas import ERROR_RESPONSES, FeedbackIn, FeedbackOut
from rag import FeedbackLog

router = APIRouter(prefix="/v1", tags=["feedback"])


def _log(request: Request) -> FeedbackLog:
    log: FeedbackLog | None = getattr(request.app.state, "feedback", None)
    if log is None:
        log = request.app.state.feedback = FeedbackLog(request.app.state.settings.feedback_path)
    return log


@router.post("/feedback", response_model=FeedbackOut, status_code=201, responses=ERROR_RESPONSES)
async def feedback(body: FeedbackIn, request: Request) -> dict[str, Any]:
    """Say an answer was helpful or wrong (with an optional note). "Wrong" ones become
    draft eval items with `rag feedback export`."""
    return await run_in_threadpool(_log(request).add, body.model_dump())
