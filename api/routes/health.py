"""Liveness and readiness, never behind authentication."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

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
    manifest = pipeline.retriever.store.manifest
    return JSONResponse(
        {
            "status": "ready",
            "model": pipeline.generator.name,
            "embedding_model": manifest.get("embedding_model"),
            "chunks": len(pipeline.retriever.store.chunks),
            "build_id": manifest.get("build_id"),
        }
    )
