"""Liveness, readiness and metrics: never behind authentication."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from rag import NO_DOCUMENTS, RagError

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The index and model are loaded (503 with the reason until they are)."""
    pipeline = getattr(request.app.state, "pipeline", None)
    if pipeline is None:
        error = getattr(request.app.state, "load_error", None)
        return JSONResponse({"status": "error" if error else "loading", "detail": error}, 503)
    try:
        status = await run_in_threadpool(pipeline.status)  # may load a new index build
    except RagError as exc:  # the index's database is down, say: not ready, and why
        return JSONResponse({"status": "error", "detail": str(exc)}, 503)
    return JSONResponse(
        {
            "status": "ready",
            "detail": None if status["chunks"] else NO_DOCUMENTS,
            **{
                k: status[k]
                for k in (
                    "model",
                    "llama_cpp",
                    "embedding_model",
                    "documents",
                    "chunks",
                    "build_id",
                )
            },
        }
    )


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus metrics: requests, latency, tokens, queue, refusals, index size and age."""
    pipeline = getattr(request.app.state, "pipeline", None)

    def state() -> dict[str, float]:
        if pipeline is None:
            return {}
        try:
            status = pipeline.status()
        except RagError:  # the index's database is down: the counters still render
            return {}
        return {
            "queue_depth": status["queue_depth"],
            "model_busy": float(status["model_busy"]),
            "rejected": status["rejected"],
            "index_chunks": status["chunks"],
            "index_built_at": status["built_at"],
            "cache_hits": status["cache_hits"],
            "cache_misses": status["cache_misses"],
            "cache_size": status["cache_size"],
        }

    body = request.app.state.metrics.render(state)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
