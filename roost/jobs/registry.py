"""Job kinds and their handlers.

A handler must be idempotent: a job can run more than once (a worker killed
after the work but before the job was marked done runs it again), so handlers
write with unique keys and "insert if absent", never blind inserts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from roost.config import Settings
from roost.db.engine import Database


@dataclass(frozen=True)
class JobContext:
    db: Database
    settings: Settings
    services: dict[str, Any]


class RetryLater(Exception):
    """Raised by a handler when a dependency (Redis) is down, not the job itself.

    The runner puts the job back for a few seconds without counting the attempt:
    an outage longer than the whole backoff schedule must not park every job
    that arrived during it.
    """

    def __init__(self, reason: str, delay_s: float = 5.0) -> None:
        super().__init__(reason)
        self.delay_s = delay_s


Handler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]

_handlers: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if kind in _handlers:
            raise RuntimeError(f"two handlers for job kind {kind!r}")
        _handlers[kind] = handler
        return handler

    return register


def handler_for(kind: str) -> Handler | None:
    return _handlers.get(kind)


def known_kinds() -> list[str]:
    return sorted(_handlers)
