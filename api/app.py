"""``create_app``: the FastAPI application over one shared ``Pipeline``.

Given no pipeline, the app starts at once (``/healthz`` answers) and loads the index
and model in a background thread; ``/readyz`` turns 200 when they are in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.auth import KeyRing, require_key
from api.errors import install_error_handlers
from api.metrics import Metrics
from api.middleware import BodyLimit, RequestContext
from api.routes import ask, chat, documents, feedback, health, page
from rag import Pipeline, RagError, Settings

log = logging.getLogger(__name__)


def _load(app: FastAPI, settings: Settings) -> None:
    try:
        app.state.pipeline = Pipeline.from_settings(settings)
        log.info("pipeline ready")
    except RagError as exc:
        app.state.load_error = str(exc)
        log.error("cannot load pipeline: %s", exc)
    except Exception as exc:  # keep serving /healthz and say why /readyz fails
        app.state.load_error = f"failed to load: {exc}"
        log.exception("cannot load pipeline")


def create_app(pipeline: Pipeline | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the app; pass ``pipeline`` to serve an already-loaded one (tests do)."""
    settings = settings or (pipeline.settings if pipeline else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.pipeline is None:
            threading.Thread(target=_load, args=(app, settings), daemon=True).start()
        yield

    app = FastAPI(
        title="Reports Q&A",
        version="0.1.0",
        description="Answers questions from a collection of reports, citing their text.",
        lifespan=lifespan,
    )
    app.state.pipeline = pipeline
    app.state.load_error = None
    app.state.settings = settings
    app.state.keys = KeyRing.from_settings(settings)
    app.state.metrics = Metrics()
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(page.router)
    app.mount("/static", page.static, name="static")
    keyed = [Depends(require_key)]
    app.include_router(ask.router, dependencies=keyed)
    app.include_router(chat.router, dependencies=keyed)
    app.include_router(documents.router, dependencies=keyed)
    app.include_router(feedback.router, dependencies=keyed)
    # outermost last: request id and metrics see every response, even a 413
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    upload = settings.max_upload_bytes + 65536  # the file plus its multipart framing
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, per_path={"/v1/documents": upload}
    )
    app.add_middleware(RequestContext, metrics=app.state.metrics)
    return app
