"""Errors on browser routes answer as pages; API routes keep Mastodon's JSON.

Which is which goes by path: everything under the API's own prefixes (and the
files Roost serves) is API; every other path is a page a person may have
opened, so a 404 there is a page saying so, not ``{"error": ...}``.
The app hands ``page_for_error`` and ``page_for_status`` to
roost/api/errors.py, which asks them first (with the status it maps the error
to) and answers JSON when they decline.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from roost.errors import RateLimited, RoostError, Unauthorized, Unavailable
from roost.web.render import render

log = logging.getLogger("roost.web")

API_PREFIXES = (
    "/api/",
    "/oauth/token",
    "/oauth/revoke",
    "/oauth/userinfo",
    "/health",
    "/.well-known/",
    "/nodeinfo",
    "/livez",
    "/readyz",
    "/metrics",
    "/media/",
    "/emoji/",
    "/avatars/",
    "/headers/",
    "/instance/",
    "/static/",
)

_TITLES = {
    400: "This request is not right",
    401: "Sign in first",
    403: "Not allowed",
    404: "Nothing here",
    405: "Not like that",
    413: "Too large",
    422: "Please check what you sent",
    429: "Slow down",
    500: "Something went wrong",
    503: "Back soon",
}
_MESSAGES = {
    404: "There is no page at this address, or it is not one you may see.",
    500: "Something went wrong on our side. It has been logged; please try again later.",
}


def is_browser_path(path: str) -> bool:
    return not path.startswith(API_PREFIXES)


def error_page(request: Request, status: int, message: str | None = None) -> HTMLResponse:
    from roost.web.viewer import NOBODY, WebViewer

    found = getattr(request.state, "web_viewer", None)
    viewer = found if isinstance(found, WebViewer) else NOBODY
    shown = _MESSAGES.get(status) if status in (404, 500) or not message else message
    return render(
        request,
        "errors/error.html",
        viewer=viewer,
        status=status,
        title=_TITLES.get(status, "Error"),
        code=status,
        message=shown or "",
        meta={"robots": "noindex"},
    )


def page_for_error(request: Request, exc: Exception, status: int) -> Response | None:
    """The page answering ``exc`` (with ``status``) on a browser route; None on
    an API route."""
    if not is_browser_path(request.url.path):
        return None
    if isinstance(exc, Unauthorized):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/auth/sign_in?next={quote(target, safe='')}", status_code=303)
    if isinstance(exc, RoostError):
        response = error_page(request, status, exc.message)
        if isinstance(exc, (RateLimited, Unavailable)):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500)


def page_for_status(request: Request, status: int, message: str | None) -> Response | None:
    if not is_browser_path(request.url.path):
        return None
    return error_page(request, status, None if status == 404 else message)
