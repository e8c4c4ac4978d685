"""CSRF protection for every form the web pages show.

A browser holds a random nonce in the ``roost_form`` cookie (HttpOnly,
SameSite=Lax, Secure on https); each form carries
``HMAC(secret key, nonce, session id)`` as ``csrf_token`` (htmx requests send
it as the ``X-CSRF-Token`` header, from ``<meta name="csrf-token">``). A POST
is accepted only when the token matches the cookie's nonce and the session
it is sent with: another site can make a browser send the cookie, but cannot
read it or the page, so it cannot know the token. Binding the token to the
session means a token seen before signing in is useless after.

``check`` raises ``CsrfRejected`` (answered as a 403 page); every web POST
handler depends on ``form_of`` (or calls ``check``) before acting.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import Response

from roost.errors import Forbidden

if TYPE_CHECKING:
    from roost.web.viewer import WebViewer

NONCE_COOKIE = "roost_form"
HEADER = "x-csrf-token"
FIELD = "csrf_token"


class CsrfRejected(Forbidden):
    def __init__(self) -> None:
        super().__init__(
            "This form expired or did not come from this site. Go back, reload the page "
            "and send it again."
        )


def _secret(request: Request) -> str:
    return str(request.app.state.services.settings.secret_key)


def _nonce(request: Request) -> str:
    nonce = getattr(request.state, "csrf_nonce", None) or request.cookies.get(NONCE_COOKIE)
    if not nonce or len(nonce) > 64:
        nonce = secrets.token_urlsafe(24)
        request.state.csrf_nonce = nonce
        request.state.csrf_new_nonce = True
    return str(nonce)


def _token(secret: str, nonce: str, session_id: int | None) -> str:
    message = f"web-form:{nonce}:{session_id or 0}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _session_id(viewer: WebViewer | None) -> int | None:
    return viewer.owner.session_id if viewer is not None and viewer.owner is not None else None


def token_for_request(request: Request, viewer: WebViewer | None) -> str:
    return _token(_secret(request), _nonce(request), _session_id(viewer))


def set_nonce_cookie(request: Request, response: Response) -> None:
    """Set the nonce cookie if this request made a new nonce."""
    if getattr(request.state, "csrf_new_nonce", False):
        response.set_cookie(
            NONCE_COOKIE,
            request.state.csrf_nonce,
            httponly=True,
            samesite="lax",
            secure=request.app.state.services.settings.secure_cookies,
            path="/",
        )


def check(request: Request, viewer: WebViewer | None, sent: str) -> None:
    nonce = request.cookies.get(NONCE_COOKIE, "")
    if not nonce or not sent:
        raise CsrfRejected()
    expected = _token(_secret(request), nonce, _session_id(viewer))
    if not hmac.compare_digest(expected, sent):
        raise CsrfRejected()


async def checked_form(request: Request, viewer: WebViewer | None) -> dict[str, Any]:
    """The POSTed form as a dict (repeated names become lists), after the CSRF
    check. Raises CsrfRejected."""
    form = await request.form()
    data: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key in data:
            existing = data[key]
            data[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            data[key] = value
    sent = request.headers.get(HEADER) or data.get(FIELD, "")
    check(request, viewer, sent if isinstance(sent, str) else "")
    return data
