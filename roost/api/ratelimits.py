"""API rate limits, as Mastodon has them.

Every request to ``/api/`` is counted before any of its work is done, under
one or more limits (ROOST_RATE_LIMIT_*; each "N per window", 0 turns it off):

- per account (a valid token's account), or per address without one:
  ``rate_limit_requests`` per ``rate_limit_window_s`` (300 per 5 minutes);
- per address whatever the token: ``rate_limit_address_requests`` (7,500 per
  5 minutes), which caps many accounts driven from one address;
- media uploads (``POST /api/v1/media``, ``/api/v2/media``) per account: 30
  per 30 minutes;
- post deletions (``DELETE /api/v1/statuses/:id`` and ``POST
  .../unreblog``) per account: 30 per 30 minutes;
- follows (``POST /api/v1/accounts/:id/follow``) per account: 400 a day;
- sign-ups (``POST /api/v1/accounts``) per address: 5 per 30 minutes (the web
  sign-up page counts under the same limit, roost/web/pages/sign_up.py).

A request is *reserved* against all of its limits in one atomic step
(roost/ratelimit.py, or the shared Lua script in scaled mode) so that a burst
sent at once can never pass more requests than the limits allow. Refused, it
answers 429 ``{"error": "Too many requests"}`` with ``Retry-After``; every
answer under ``/api/`` carries ``X-RateLimit-Limit``, ``-Remaining`` and
``-Reset`` for the limit nearest to refusing. Reset is an ISO 8601 time, as
Mastodon sends it: the windows slide, so it is when every request counted so
far will have left the window (when refused: when the next one is let in).

Never limited: the health routes and streaming (which have their own
admission, roost/api/admission.py), administrators when
``rate_limit_exempt_staff`` is set, and tokens of the apps whose client ids
``rate_limit_exempt_apps`` lists. An invalid token is counted by address (the
route then answers 401).

Pure ASGI: the token is resolved through the same per-process cache the
routes use (roost/api/token_cache.py), so a limited request costs a counter
step and a dictionary look-up (bench/ratelimit_overhead.py measures it).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roost.api import token_cache
from roost.api.admission import HEALTH, STREAMING_PREFIXES
from roost.config import Settings
from roost.domain.accounts.sign_up import sign_up_limit
from roost.domain.oauth.queries import PendingApproval, PendingConfirmation, app_by_id
from roost.domain.types import Viewer
from roost.ratelimit import Limit, RateLimiter, Reservation, account_key
from roost.services import Services

_STREAMING_ROOTS = frozenset(p.rstrip("/") for p in STREAMING_PREFIXES)
log = logging.getLogger("roost.ratelimits")

TOO_MANY = "Too many requests"
_BODY = orjson.dumps({"error": TOO_MANY})


_last_iso: tuple[int, bytes] = (0, b"")


def _iso(moment: float) -> bytes:
    """Unix time, rounded up to the second -> Mastodon's
    ``2026-12-05T01:30:00.000Z`` (the last one is kept: under load most
    requests in a second share it)."""
    global _last_iso
    second = int(moment) + 1
    if _last_iso[0] != second:
        stamp = datetime.fromtimestamp(second, UTC).isoformat(timespec="milliseconds")
        _last_iso = (second, stamp.removesuffix("+00:00").encode() + b"Z")
    return _last_iso[1]


class RateLimits:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services
        self.settings: Settings = services.settings
        self.limiter: RateLimiter = services.api_limiter
        self.exempt_client_ids = self.settings.rate_limit_exempt_client_ids
        # application id -> exempt? (an app's client id never changes)
        self._exempt_apps: dict[int, bool] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if not rate_limited(path):
            await self.app(scope, receive, send)
            return
        viewer = await self._viewer(scope)
        if viewer is not None and await self._exempt(viewer):
            await self.app(scope, receive, send)
            return
        limits = self.limits_for(scope["method"], path, viewer, _address(scope))
        if not limits:
            await self.app(scope, receive, send)
            return
        reservation = await self.limiter.reserve(limits)
        limit = limits[reservation.which]
        if not reservation.granted:
            await self._refuse(send, limit, reservation)
            return
        headers = [
            (b"x-ratelimit-limit", str(limit.attempts).encode()),
            (b"x-ratelimit-remaining", str(reservation.remaining).encode()),
            (b"x-ratelimit-reset", _iso(time.time() + limit.window_s)),
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).extend(headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def limits_for(
        self, method: str, path: str, viewer: Viewer | None, address: str
    ) -> list[Limit]:
        """What a request counts against, the general limits first."""
        s = self.settings
        account = viewer.account_id if viewer is not None else None
        limits = []
        if s.rate_limit_requests:
            who = account_key(account) if account is not None else f"addr:{address}"
            limits.append(Limit(f"api:{who}", s.rate_limit_requests, s.rate_limit_window_s))
        if s.rate_limit_address_requests:
            limits.append(
                Limit(
                    f"api-all:addr:{address}", s.rate_limit_address_requests, s.rate_limit_window_s
                )
            )
        if method == "GET":
            return limits
        if account is not None:
            family = _family(method, path)
            if family == "media" and s.rate_limit_media:
                limits.append(
                    Limit(
                        f"media:{account_key(account)}",
                        s.rate_limit_media,
                        s.rate_limit_media_window_s,
                    )
                )
            elif family == "delete" and s.rate_limit_deletes:
                limits.append(
                    Limit(
                        f"delete:{account_key(account)}",
                        s.rate_limit_deletes,
                        s.rate_limit_deletes_window_s,
                    )
                )
            elif family == "follow" and s.rate_limit_follows:
                limits.append(
                    Limit(
                        f"follow:{account_key(account)}",
                        s.rate_limit_follows,
                        s.rate_limit_follows_window_s,
                    )
                )
        elif method == "POST" and path == "/api/v1/accounts" and s.rate_limit_sign_ups:
            limits.append(sign_up_limit(s, address))
        return limits

    async def _viewer(self, scope: Scope) -> Viewer | None:
        token = _bearer(scope)
        if token is None:
            return None
        try:
            return await token_cache.viewer_for(self.services.db, token)
        except (PendingConfirmation, PendingApproval) as pending:
            # Counted as the account it is (the route refuses it).
            viewer = getattr(pending, "viewer", None)
            return viewer if isinstance(viewer, Viewer) else None
        except Exception as error:
            # The database is away: count by address; the route's own look-up
            # answers (503) as it always does.
            log.debug("token look-up for rate limits failed: %s", error)
            return None

    async def _exempt(self, viewer: Viewer) -> bool:
        if viewer.is_admin and self.settings.rate_limit_exempt_staff:
            return True
        app_id = viewer.application_id
        if app_id is None or not self.exempt_client_ids:
            return False
        known = self._exempt_apps.get(app_id)
        if known is None:
            try:
                async with self.services.db.read() as conn:
                    app = await app_by_id(conn, app_id)
            except Exception as error:
                log.debug("app look-up for rate limits failed: %s", error)
                return False
            known = app is not None and app.client_id in self.exempt_client_ids
            if len(self._exempt_apps) > 10_000:
                self._exempt_apps.clear()
            self._exempt_apps[app_id] = known
        return known

    async def _refuse(self, send: Send, limit: Limit, reservation: Reservation) -> None:
        wait = reservation.retry_after
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(_BODY)).encode()),
                    (b"retry-after", str(wait).encode()),
                    (b"x-ratelimit-limit", str(limit.attempts).encode()),
                    (b"x-ratelimit-remaining", b"0"),
                    (b"x-ratelimit-reset", _iso(time.time() + wait)),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _BODY})


def rate_limited(path: str) -> bool:
    """Whether requests to ``path`` are counted (every API path but health
    and streaming)."""
    return (
        path.startswith("/api/")
        and path not in HEALTH
        and not path.startswith(STREAMING_PREFIXES)
        and path not in _STREAMING_ROOTS
    )


def _family(method: str, path: str) -> str:
    if method == "POST":
        if path in ("/api/v1/media", "/api/v2/media"):
            return "media"
        if path.startswith("/api/v1/statuses/") and path.endswith("/unreblog"):
            return "delete"
        if path.startswith("/api/v1/accounts/") and path.endswith("/follow"):
            return "follow"
    elif method == "DELETE" and path.startswith("/api/v1/statuses/") and path.count("/") == 4:
        return "delete"
    return ""


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    query: bytes = scope.get("query_string", b"")
    if b"access_token=" in query:
        found = parse_qs(query.decode("latin-1")).get("access_token")
        return found[0] if found else None
    return None
