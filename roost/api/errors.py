"""Every failure answers in Mastodon's shape: ``{"error": "..."}`` and a status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from roost.api.responses import JSON, error
from roost.errors import RateLimited, RoostError, Unavailable

log = logging.getLogger("roost.api")

_REASONS = {
    400: "Bad request",
    401: "The access token is invalid",
    403: "Forbidden",
    404: "Record not found",
    405: "Method not allowed",
    413: "Request too large",
    415: "Unsupported media type",
}


def install(app: FastAPI) -> None:
    @app.exception_handler(RoostError)
    async def _domain(request: Request, exc: RoostError) -> JSON:
        headers: dict[str, str] = {}
        if isinstance(exc, (RateLimited, Unavailable)):
            headers["Retry-After"] = str(exc.retry_after)
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return error(exc.status, exc.message, headers)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSON:
        message = exc.detail if isinstance(exc.detail, str) and exc.detail else None
        if message in {"Not Found", None}:
            message = _REASONS.get(exc.status_code, "Error")
        return error(exc.status_code, message, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSON:
        problems = []
        for problem in exc.errors():
            field = ".".join(str(p) for p in problem["loc"] if p not in {"body", "query"})
            problems.append(f"{field} {problem['msg'].lower()}")
        return error(422, "Validation failed: " + "; ".join(problems))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSON:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error(500, "Something went wrong on our side; it has been logged")
