"""Small ASGI middlewares (pure ASGI: BaseHTTPMiddleware costs a task per request)."""

from __future__ import annotations

import itertools
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class TrailingSlash:
    """``/api/v1/instance/`` answers like ``/api/v1/instance``, without a redirect."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"}:
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope = dict(scope)
                scope["path"] = path.rstrip("/") or "/"
                if scope.get("raw_path"):
                    scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


# Request ids need to be unique, not secret: a random prefix per process and
# a counter (reading the system's random source on every request showed up
# in profiles).
_PROCESS_PREFIX = secrets.token_hex(4)
_COUNTER = itertools.count(1)


def new_request_id() -> str:
    return f"{_PROCESS_PREFIX}{next(_COUNTER):08x}"


class RequestId:
    """Each request gets an id (or keeps the proxy's), echoed as X-Request-Id and
    put in every log line about it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"")
        request_id = incoming.decode("latin-1")[:64] if incoming else new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append(
                    (b"x-request-id", request_id.encode("latin-1"))
                )
            await send(message)

        await self.app(scope, receive, send_with_id)
