"""Every failure becomes a JSON error ``{"error": {message, type, param, code}}``
(OpenAI's shape, so chat clients parse it too), mapped by exception type here only."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag import (
    Busy,
    DocumentExists,
    DocumentNotFound,
    DocumentTooLarge,
    FeedbackUnavailable,
    IndexConflict,
    IndexUnavailable,
    InvalidQuery,
    ModelCrashed,
    ModelIntegrity,
    ModelNotFound,
    ModelUnavailable,
    RagError,
    ReadOnlyStore,
    UnreadableDocument,
    UnsupportedDocument,
)

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[RagError], int, str]] = [
    (InvalidQuery, 422, "invalid_request_error"),
    (DocumentNotFound, 404, "not_found_error"),
    (DocumentExists, 409, "conflict_error"),
    (DocumentTooLarge, 413, "request_too_large"),
    (UnsupportedDocument, 415, "unsupported_media_type"),
    (UnreadableDocument, 422, "unreadable_document"),
    (IndexUnavailable, 503, "index_unavailable"),
    (IndexConflict, 409, "conflict_error"),
    (ReadOnlyStore, 403, "permission_error"),
    (ModelCrashed, 503, "model_unavailable"),
    (ModelIntegrity, 503, "model_unavailable"),
    (ModelNotFound, 503, "model_unavailable"),
    (ModelUnavailable, 503, "model_unavailable"),
    (FeedbackUnavailable, 503, "feedback_unavailable"),
]


_HTTP_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    503: "service_unavailable",
}


def error_body(message: str, type_: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _error_parts(exc: BaseException) -> tuple[int, dict, dict[str, str]]:
    if isinstance(exc, Busy):
        body = error_body(str(exc), "server_busy", code="busy")
        return 503, body, {"Retry-After": str(exc.retry_after_s)}
    if isinstance(exc, RagError):
        for cls, status, type_ in _STATUS:
            if isinstance(exc, cls):
                return status, error_body(str(exc), type_), {}
        log.error("unmapped library error: %r", exc)
        return 500, error_body(str(exc), "server_error"), {}
    log.error("unhandled error", exc_info=exc)
    return 500, error_body("internal error", "server_error"), {}


def error_for(exc: BaseException) -> JSONResponse:
    """The JSON error response for a library error (500 for anything else: a bug)."""
    status, body, headers = _error_parts(exc)
    return JSONResponse(body, status, headers=headers)


def error_event(exc: BaseException) -> dict:
    """The error body for a stream whose headers are already sent."""
    return _error_parts(exc)[1]


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None, str]:
    errors = exc.errors()
    if not errors:
        return "invalid request", None, "invalid_request"
    first = errors[0]
    if first.get("type") == "json_invalid":
        return "request body is not valid JSON", None, "json_invalid"
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    param = ".".join(loc) or None
    msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if first.get("type") == "missing":
        msg = "field required" if param else "a JSON body is required"
    where = f"{param}: " if param else "request body: "
    return where + msg, param, str(first.get("type"))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        message, param, code = _validation_message(exc)
        status = 400 if code == "json_invalid" else 422
        return JSONResponse(error_body(message, "invalid_request_error", param, code), status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_ = _HTTP_TYPES.get(exc.status_code, "invalid_request_error")
        body = error_body(str(exc.detail), type_, code=str(exc.status_code))
        return JSONResponse(body, exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RagError)
    async def _rag(_: Request, exc: RagError) -> JSONResponse:
        return error_for(exc)

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        return error_for(exc)
