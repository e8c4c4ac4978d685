"""Bearer tokens -> the viewer, and the scope every route demands.

Routes declare what they need with ``Depends(user("write:statuses"))`` (an
account must be signed in) or ``Depends(optional("read:statuses"))`` (anonymous
is fine; a token, if sent, must be valid and carry the scope).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.requests import HTTPConnection

from roost.api import token_cache
from roost.domain.oauth import scopes as scope_rules
from roost.domain.oauth.queries import LoginDisabled, PendingApproval, PendingConfirmation
from roost.domain.types import ANONYMOUS, Viewer
from roost.errors import Forbidden, Invalid, Unauthorized
from roost.services import Services


def services(request: HTTPConnection) -> Services:
    result: Services = request.app.state.services
    return result


def bearer_token(request: HTTPConnection) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    # Browsers cannot set headers on WebSocket/EventSource; Mastodon accepts the
    # token as a query parameter, or as the WebSocket subprotocol.
    protocol = request.headers.get("sec-websocket-protocol")
    return request.query_params.get("access_token") or protocol or None


async def _viewer(request: HTTPConnection, *, unconfirmed: bool = False) -> Viewer | None:
    token = bearer_token(request)
    if token is None:
        return None
    try:
        # Cached per process; a revocation made here counts at once (token_cache).
        viewer = await token_cache.viewer_for(services(request).db, token)
    except PendingConfirmation as pending:
        if not unconfirmed:
            raise Forbidden("Your login is missing a confirmed e-mail address") from None
        viewer = pending.viewer
    except LoginDisabled:
        raise Forbidden("Your login is currently disabled") from None
    except PendingApproval:
        raise Forbidden("Your login is currently pending approval") from None
    if viewer is None:
        raise Unauthorized()
    request.state.viewer = viewer
    return viewer


async def connection_viewer(connection: HTTPConnection, scope: str) -> Viewer:
    """The viewer of a long-lived connection (streaming), anonymous if no token."""
    viewer = await _viewer(connection)
    if viewer is None:
        return ANONYMOUS
    _check_scope(viewer, scope)
    return viewer


def _check_scope(viewer: Viewer, scope: str | tuple[str, ...]) -> None:
    wanted = (scope,) if isinstance(scope, str) else scope
    if not any(scope_rules.allows(viewer.scopes, s) for s in wanted):
        raise Forbidden("This action is outside the authorized scopes")


def user(scope: str | tuple[str, ...]) -> Callable[[Request], Awaitable[Viewer]]:
    """A signed-in account holding ``scope`` (or one of several)."""

    async def dependency(request: Request) -> Viewer:
        viewer = await _viewer(request)
        if viewer is None:
            raise Unauthorized("The access token is invalid")
        if viewer.account_id is None:
            raise Invalid("This method requires an authenticated user")
        _check_scope(viewer, scope)
        return viewer

    return needs("user", dependency, scope)


def needs(
    kind: str,
    dependency: Callable[[Request], Awaitable[Viewer]],
    scope: str | tuple[str, ...] | None = None,
) -> Callable[[Request], Awaitable[Viewer]]:
    """Mark ``dependency`` with the token it asks for (``user``, ``app`` or
    ``optional``) and its scope: the OpenAPI document lists the errors that
    follow from it, docs/api.md's table of methods the scope."""
    setattr(dependency, "roost_auth", kind)  # noqa: B010  (a function attribute)
    setattr(dependency, "roost_scope", scope)  # noqa: B010
    return dependency


def awaiting_confirmation(scope: str) -> Callable[[Request], Awaitable[Viewer]]:
    """An account's token whose address is not confirmed yet (the one thing
    such a token may do is ask for the confirmation mail again)."""

    async def dependency(request: Request) -> Viewer:
        viewer = await _viewer(request, unconfirmed=True)
        if viewer is None:
            raise Unauthorized("The access token is invalid")
        if viewer.account_id is None:
            raise Invalid("This method requires an authenticated user")
        _check_scope(viewer, scope)
        return viewer

    return needs("user", dependency, scope)


def app_or_user(scope: str | None) -> Callable[[Request], Awaitable[Viewer]]:
    """Any valid token with ``scope`` (None: any scope), an app's own included."""

    async def dependency(request: Request) -> Viewer:
        viewer = await _viewer(request)
        if viewer is None:
            raise Unauthorized("The access token is invalid")
        if scope is not None:
            _check_scope(viewer, scope)
        return viewer

    return needs("app", dependency, scope)


def optional(scope: str) -> Callable[[Request], Awaitable[Viewer]]:
    async def dependency(request: Request) -> Viewer:
        viewer = await _viewer(request)
        if viewer is None:
            return ANONYMOUS
        _check_scope(viewer, scope)
        return viewer

    return needs("optional", dependency, scope)


def client_address(request: HTTPConnection) -> str:
    """The address attempts are counted under: the peer, or the client a trusted
    proxy names in X-Forwarded-For (uvicorn resolves that before Roost sees it;
    see docs/operations.md on reverse proxies)."""
    return request.client.host if request.client else "unknown"
