"""``create_app``: the FastAPI application over one shared ``Pipeline``.

Given no pipeline, the app starts at once (``/healthz`` answers) and loads the index
and model in a background thread; ``/readyz`` turns 200 when they are in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.routes import ask, chat, health
from rag.config import Settings
from rag.errors import RagError
from rag.pipeline import Pipeline

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
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(ask.router)
    app.include_router(chat.router)
    return app
