"""Every failure answers in Mastodon's shape: ``{"error": "..."}`` and a status.

The domain's errors say what went wrong and nothing of HTTP (roost/errors.py);
here each kind gets its status (``status_for``) and Mastodon's words
(``words_for``: "Validation failed: " before a broken rule). Errors the API
defines itself carry their own ``status``. Browser routes answer with pages
instead: the app hands roost/web's page makers to ``install``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from roost.api.responses import JSON, error
from roost.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    RoostError,
    RuleBroken,
    StorageFull,
    Unauthorized,
    Unavailable,
    Unreadable,
)
from roost.ops.disk import InsufficientStorage


class OAuthProblem(RoostError):
    """An OAuth 2 refusal (RFC 6749 section 5.2): answered as
    ``{"error": code, "error_description": message}``."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code


log = logging.getLogger("roost.api")

# Most specific first: a StorageFull is also Unavailable.
_STATUSES: tuple[tuple[type[RoostError], int], ...] = (
    (StorageFull, 507),
    (InsufficientStorage, 507),
    (Unavailable, 503),
    (RateLimited, 429),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 422),
    (Invalid, 422),
    (Unreadable, 400),
)


def status_for(exc: RoostError) -> int:
    """The HTTP status answering ``exc``."""
    own = getattr(exc, "status", None)
    if isinstance(own, int):
        return own
    for kind, status in _STATUSES:
        if isinstance(exc, kind):
            return status
    return 400


def words_for(exc: RoostError) -> str:
    """What Mastodon says for ``exc`` (its ``error``)."""
    if isinstance(exc, RuleBroken):
        return f"Validation failed: {exc.message}"
    return exc.message


PageForError = Callable[[Request, Exception, int], Response | None]
PageForStatus = Callable[[Request, int, str | None], Response | None]


def _no_page(*args: object) -> None:
    return None


_REASONS = {
    400: "Bad request",
    401: "The access token is invalid",
    403: "Forbidden",
    # Only routing raises this: no such address ("Not Found", Rack's words,
    # as Mastodon answers). A missing record is the domain's NotFound
    # ("Record not found"), as on Mastodon.
    404: "Not Found",
    405: "Method not allowed",
    413: "Request too large",
    415: "Unsupported media type",
}


def install(
    app: FastAPI,
    page_for_error: PageForError = _no_page,
    page_for_status: PageForStatus = _no_page,
) -> None:
    """Answer every failure: a page where ``page_for_*`` gives one (browser
    routes), else Mastodon's JSON."""

    @app.exception_handler(RoostError)
    async def _domain(request: Request, exc: RoostError) -> Response:
        status = status_for(exc)
        if (page := page_for_error(request, exc, status)) is not None:
            return page
        headers: dict[str, str] = {}
        if isinstance(exc, (RateLimited, Unavailable)):
            headers["Retry-After"] = str(exc.retry_after)
        if isinstance(exc, OAuthProblem):
            body = {"error": exc.code, "error_description": exc.message}
            return JSON(body, status_code=status, headers=headers)
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return error(status, words_for(exc), headers)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) and exc.detail else None
        if (page := page_for_status(request, exc.status_code, message)) is not None:
            return page
        if message in {"Not Found", None}:
            message = _REASONS.get(exc.status_code, "Error")
        return error(exc.status_code, message, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSON:
        if any(problem["loc"][:1] == ("path",) for problem in exc.errors()):
            # A path that names no record (``/statuses/①``) is not found, as
            # any other id that does not exist.
            return error(404, NotFound().message)
        problems = []
        for problem in exc.errors():
            field = ".".join(str(p) for p in problem["loc"] if p not in {"body", "query"})
            problems.append(f"{field} {problem['msg'].lower()}")
        return error(422, "Validation failed: " + "; ".join(problems))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        if (page := page_for_error(request, exc, 500)) is not None:
            return page
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error(500, "Something went wrong on our side; it has been logged")
