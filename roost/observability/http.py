"""Per-request metrics and log context (pure ASGI: no task per request).

Times every HTTP request into the latency histogram under its route template
(``/api/v1/statuses/{id}``, never the raw path, so the label set stays small),
binds the request id to the logging context, and writes one access record.
"""

from __future__ import annotations

import logging
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roost.observability.metrics import Metrics

access = logging.getLogger("roost.access")


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestMetrics:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        request_id = scope.get("state", {}).get("request_id", "")

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_and_note)
            finally:
                elapsed = time.perf_counter() - started
                route = _route(scope)
                self.metrics.request_seconds.labels(
                    scope["method"], route, f"{status // 100}xx"
                ).observe(elapsed)
                if access.isEnabledFor(logging.INFO):
                    access.info(
                        "request",
                        extra={
                            "method": scope["method"],
                            "route": route,
                            "status": status,
                            "duration_ms": round(elapsed * 1000, 2),
                        },
                    )
