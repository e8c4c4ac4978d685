"""Who is looking at a page: the "current viewer" dependency of web handlers.

A signed-in browser carries the ``roost_session`` cookie (HttpOnly,
SameSite=Lax, Secure when ROOST_PUBLIC_URL is https). Its token's SHA-256
names a ``web_sessions`` row; a session acts with the full rights of its
account (``read write follow push``), as Mastodon's own web app does. An
unknown or ended session, or one of an account that may no longer sign in
(suspended, unconfirmed, awaiting approval), is no session: the page is shown
as to anyone, and the stale cookie is cleared.

``current_viewer`` never fails; ``signed_in`` sends a visitor to the sign-in
page and back (``SignInRequired``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from fastapi.responses import Response

from roost.clock import utcnow
from roost.domain.roles.permissions import is_staff
from roost.domain.sessions import actions as session_actions
from roost.domain.sessions.queries import SessionOwner, session_owner
from roost.domain.types import ANONYMOUS, Viewer
from roost.errors import Unauthorized
from roost.services import Services

SESSION_COOKIE = "roost_session"
SESSION_SCOPES = frozenset({"read", "write", "follow", "push"})
SESSION_MAX_AGE_S = 30 * 86400
# How stale "last used" may get before a request writes it again: a write per
# request would cost more than the page.
_TOUCH_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class WebViewer:
    viewer: Viewer
    owner: SessionOwner | None

    @property
    def signed_in(self) -> bool:
        return self.owner is not None

    @property
    def account_id(self) -> int | None:
        return self.viewer.account_id

    @property
    def staff(self) -> bool:
        """Does the account's role grant anything beyond inviting (a staff role)?"""
        return is_staff(self.viewer.permissions)

    @property
    def username(self) -> str:
        return self.owner.username if self.owner is not None else ""


NOBODY = WebViewer(ANONYMOUS, None)


class SignInRequired(Unauthorized):
    def __init__(self) -> None:
        super().__init__("Sign in to see this page")


def services(request: Request) -> Services:
    result: Services = request.app.state.services
    return result


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def current_viewer(request: Request) -> WebViewer:
    """The signed-in account, or nobody. Cached on the request."""
    found = getattr(request.state, "web_viewer", None)
    if isinstance(found, WebViewer):
        return found
    web = NOBODY
    token = request.cookies.get(SESSION_COOKIE)
    if token and len(token) < 100:
        svc = services(request)
        owner = await session_owner(svc.db.fast, token)
        if owner is not None and utcnow() - owner.last_used_at > timedelta(
            seconds=SESSION_MAX_AGE_S
        ):
            owner = None  # unused for as long as the cookie lives: over
        if owner is None:
            request.state.clear_session_cookie = True
        else:
            web = WebViewer(
                Viewer(
                    account_id=owner.account_id,
                    scopes=SESSION_SCOPES,
                    is_admin=owner.is_admin,
                    permissions=owner.permissions,
                ),
                owner,
            )
            if utcnow() - owner.last_used_at > _TOUCH_EVERY:
                async with svc.db.write() as tx:
                    await session_actions.do_touch_session(tx, owner.session_id, client_ip(request))
    request.state.web_viewer = web
    return web


async def signed_in(request: Request) -> WebViewer:
    web = await current_viewer(request)
    if not web.signed_in:
        raise SignInRequired()
    return web


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=services(request).settings.secure_cookies,
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=services(request).settings.secure_cookies,
    )
