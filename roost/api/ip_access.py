"""Refusing every request from the ``no_access`` IP blocks
(roost/domain/blocks/ip.py), before any other work.

The ranges are held in the process (``AccessList``): a request costs one
clock reading and, only while some range is blocked, one address parse and
a membership test per range; bench/ip_access_overhead.py measures it. A
refused request gets 403 with Mastodon's error body; a WebSocket is closed
before it is accepted (which the server answers with 403 too). When the
database cannot be read, the ranges already held stay in force and the
request goes on (a health check must still answer); the next reload is
tried ``ttl_s`` later.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from roost.db.engine import Database
from roost.domain.blocks.ip import AccessList

log = logging.getLogger("roost.ip_access")
_BODY = json.dumps({"error": "This action is not allowed"}).encode()


class IpAccess:
    def __init__(self, app: ASGIApp, db: Database, access: AccessList) -> None:
        self.app = app
        self.db = db
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.access.stale():
            try:
                await self.access.load(self.db)
            except Exception:  # any failure to read the database
                # The ranges held before stay in force until the next try:
                # /livez and what does not need the database keep answering.
                log.warning("the IP blocks could not be read; the ranges held stay in force")
        client = scope.get("client")
        if client is None or not self.access.refuses(client[0]):
            await self.app(scope, receive, send)
            return
        if kind == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_BODY)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _BODY})
