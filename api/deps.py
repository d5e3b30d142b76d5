"""Dependencies: handlers ask for ``PipelineDep`` and get a ready pipeline or a 503."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from rag import Pipeline


def get_pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline | None = getattr(request.app.state, "pipeline", None)
    if pipeline is None:
        error = getattr(request.app.state, "load_error", None)
        detail = error or "the service is still loading the index and model; retry shortly"
        raise HTTPException(503, detail, headers={"Retry-After": "5"})
    return pipeline


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
