"""Stream events across processes through Redis pub/sub (scaled mode).

A post made through one server, or a notification written by a worker, must
reach streaming clients connected to any server. Every process publishes its
events to one channel and runs one reader task that hands what arrives to the
subscriptions held in that process (an ``InProcessBus``).

Events are ids only (roost.streaming.events), so nothing one viewer may see
travels to another: each subscriber loads its copy through the privacy policy.

When Redis does not answer, an event is delivered to this process's own
subscribers instead of being dropped, and the reader reconnects with backoff.
Clients of other processes miss what happened meanwhile and catch up over the
REST API, as every client does after a dropped stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import orjson

from roost.redis_link import REDIS_DOWN, RedisLink
from roost.streaming.bus import InProcessBus, Subscription
from roost.streaming.events import StreamEvent

log = logging.getLogger("roost.streaming")

_RECONNECT_MAX_S = 5.0
_FIRST_LISTEN_S = 1.0


class RedisBus:
    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self.channel = link.key("stream")
        self.local = InProcessBus()
        self._reader: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def publish(self, event: StreamEvent) -> None:
        if self.link.available:
            try:
                await self.link.client.publish(self.channel, orjson.dumps(event.to_dict()))
                # This process hears its own message through its reader.
                return
            except REDIS_DOWN as error:
                self.link.failed("publish", error)
        await self.local.publish(event)

    @asynccontextmanager
    async def _subscribe(self) -> AsyncIterator[Subscription]:
        async with self.local.subscribe() as subscription:
            # A subscriber expects to hear what happens after it subscribed:
            # wait (briefly, Redis may be down) for the reader to be listening.
            with contextlib.suppress(TimeoutError):
                await self.wait_listening(_FIRST_LISTEN_S)
            yield subscription

    def subscribe(self) -> AbstractAsyncContextManager[Subscription]:
        return self._subscribe()

    async def start(self) -> None:
        """Start listening before the first client connects (a server's start-up):
        an event published just after a client subscribed must not be missed
        while the reader is still connecting."""
        with contextlib.suppress(TimeoutError):
            await self.wait_listening(_FIRST_LISTEN_S)

    async def wait_listening(self, timeout_s: float = 5.0) -> None:
        """Until the reader is subscribed (tests, and anything that must not miss
        the first event after it subscribes)."""
        self._ensure_reader()
        await asyncio.wait_for(self._listening.wait(), timeout_s)

    def _ensure_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_forever(), name="roost-stream-reader")

    async def _read_forever(self) -> None:
        delay = 0.1
        while True:
            pubsub = self.link.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._listening.set()
                delay = 0.1
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        event = StreamEvent.from_dict(orjson.loads(message["data"]))
                    except (ValueError, TypeError):
                        log.warning("ignoring a malformed stream event on %s", self.channel)
                        continue
                    await self.local.publish(event)
            except asyncio.CancelledError:
                raise
            except REDIS_DOWN as error:
                self._listening.clear()
                self.link.failed("subscribe", error)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RECONNECT_MAX_S)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None

    @property
    def listeners(self) -> int:
        return self.local.listeners
