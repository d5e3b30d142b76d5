"""POST /v1/ask and /v1/search: thin translations onto ``Pipeline``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import PipelineDep
from api.schemas import AskRequest, AskResponse, ErrorResponse, SearchRequest, SearchResponse
from rag.types import hit_to_dict

router = APIRouter(prefix="/v1", tags=["answers"])
_ERRORS = {
    400: {"model": ErrorResponse},
    422: {"model": ErrorResponse},
    503: {"model": ErrorResponse},
}


@router.post("/ask", response_model=AskResponse, responses=_ERRORS)
async def ask(body: AskRequest, pipeline: PipelineDep) -> dict:
    """Answer a question from the reports, with citations quoting their text."""
    answer = await run_in_threadpool(pipeline.answer, body.question, body.top_k)
    return answer.to_dict()


@router.post("/search", response_model=SearchResponse, responses=_ERRORS)
async def search(body: SearchRequest, pipeline: PipelineDep) -> dict:
    """Ranked passages for a query, without calling the language model."""
    hits = await run_in_threadpool(pipeline.search, body.query, body.k)
    return {"query": body.query, "passages": [hit_to_dict(h) for h in hits]}
