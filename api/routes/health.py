"""Liveness, readiness and metrics: never behind authentication."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from rag.pipeline import NO_DOCUMENTS

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
    store = pipeline.current().store
    manifest = store.manifest
    documents = len(store.documents)
    return JSONResponse(
        {
            "status": "ready",
            "detail": None if store.chunks else NO_DOCUMENTS,
            "model": pipeline.generator.name,
            "embedding_model": manifest.get("embedding_model"),
            "documents": documents,
            "chunks": len(store.chunks),
            "build_id": manifest.get("build_id"),
        }
    )


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus metrics: requests, latency, tokens, queue, refusals, index size and age."""
    pipeline = getattr(request.app.state, "pipeline", None)

    def state() -> dict[str, float]:
        if pipeline is None:
            return {}
        store = pipeline.retriever.store
        return {
            "queue_depth": pipeline.admission.depth,
            "model_busy": float(pipeline.admission.busy),
            "rejected": pipeline.admission.rejected,
            "index_chunks": len(store.chunks),
            "index_built_at": store.manifest.get("built_at") or 0,
            "cache_hits": pipeline.cache.hits,
            "cache_misses": pipeline.cache.misses,
            "cache_size": len(pipeline.cache),
        }

    body = request.app.state.metrics.render(state)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
