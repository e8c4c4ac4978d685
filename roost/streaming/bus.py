"""Publishing stream events to whoever is listening.

``EventBus`` is the seam: embedded Roost uses ``InProcessBus`` (jobs and
listeners share a process); a scaled deployment puts a cross-process bus (Redis
pub/sub) behind the same interface.

A listener that falls behind is not allowed to grow without bound: its queue
holds ``QUEUE_LIMIT`` events and, when full, the subscription is marked
overflowed and closed, so the client reconnects and catches up over the REST
API (which every client does after a dropped stream).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from roost.streaming.events import StreamEvent

QUEUE_LIMIT = 1000


class Subscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[StreamEvent] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.overflowed = False

    def offer(self, event: StreamEvent) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True

    async def next(self, wait_s: float) -> StreamEvent | None:
        """The next event, or None when ``wait_s`` seconds pass without one."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout=wait_s)
        except TimeoutError:
            return None


class EventBus(Protocol):
    async def publish(self, event: StreamEvent) -> None: ...

    def subscribe(self) -> AbstractAsyncContextManager[Subscription]: ...


class InProcessBus:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()

    async def publish(self, event: StreamEvent) -> None:
        for subscription in list(self._subscriptions):
            subscription.offer(event)

    @asynccontextmanager
    async def _subscribe(self) -> AsyncIterator[Subscription]:
        subscription = Subscription()
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    def subscribe(self) -> AbstractAsyncContextManager[Subscription]:
        return self._subscribe()

    @property
    def listeners(self) -> int:
        return len(self._subscriptions)
