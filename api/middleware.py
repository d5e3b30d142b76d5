"""ASGI middleware: request ids, access logs and metrics, and the request body limit.

Pure ASGI rather than ``BaseHTTPMiddleware`` so streamed responses pass through
untouched and a client disconnect still reaches the route.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from api.metrics import Metrics

__all__ = ["BodyLimit", "RequestContext", "log_question", "request_id"]

log = logging.getLogger("api.access")
request_id: ContextVar[str] = ContextVar("request_id", default="-")
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def log_question(request: Request, text: str) -> None:
    """Log the question only when ``RAG_LOG_QUESTIONS`` is on (it may be confidential)."""
    if request.app.state.settings.log_questions:
        log.info("question", extra={"request_id": request_id.get(), "question": text})


class BodyLimit:
    """413 for a request body over ``max_bytes``: at once when ``Content-Length`` says
    so, else as soon as the streamed body passes the limit."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, per_path: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = per_path or {}  # e.g. a larger limit for document uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope.get("path", "").rstrip("/"), self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        message = f"request body is over the limit of {limit} bytes"
        if declared is not None and declared.isdigit() and int(declared) > limit:
            body = error_body(message, "request_too_large", code="413")
            await JSONResponse(body, 413)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, message)
            return msg

        await self.app(scope, counted, send)


class RequestContext:
    """Gives each request an id (the caller's ``X-Request-ID`` if sane, else a new one),
    echoes it in the response, logs one line per request and counts it in metrics.

    The question text is never logged here; ``RAG_LOG_QUESTIONS`` logs it elsewhere.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _SAFE_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.metrics.request(path, scope["method"], status, elapsed)
            log.info(
                "request",
                extra={
                    "request_id": rid,
                    "method": scope["method"],
                    "path": path,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
            request_id.reset(token)
