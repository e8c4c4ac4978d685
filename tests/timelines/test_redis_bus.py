"""Streaming events across processes through Redis pub/sub."""

from __future__ import annotations

import asyncio
from pathlib import Path

from roost.config import Settings
from roost.observability.metrics import Metrics
from roost.redis_link import RedisLink
from roost.streaming.events import STATUS_CREATED, StreamEvent
from roost.streaming.redis_bus import RedisBus
from tests.drills.support import free_port
from tests.timelines.conftest import scaled_settings


def _bus(settings: Settings) -> RedisBus:
    return RedisBus(RedisLink(settings, Metrics()))


def test_given_two_processes_when_one_publishes_then_the_others_subscriber_hears_it(
    redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    settings = scaled_settings(Settings(data_dir=tmp_path), redis_url, redis_prefix)
    event = StreamEvent(STATUS_CREATED, status_id=42, author_id=7)

    async def scenario() -> tuple[StreamEvent | None, StreamEvent | None]:
        server, worker = _bus(settings), _bus(settings)
        try:
            async with server.subscribe() as far, worker.subscribe() as near:
                await worker.publish(event)
                return await far.next(5), await near.next(5)
        finally:
            for bus in (server, worker):
                await bus.close()
                await bus.link.close()

    heard_far, heard_near = asyncio.run(scenario())
    assert heard_far == event
    assert heard_near == event  # once, through Redis, not twice


def test_given_no_redis_when_publishing_then_this_processes_subscribers_still_hear_it(
    tmp_path: Path,
) -> None:
    settings = scaled_settings(
        Settings(data_dir=tmp_path), f"redis://127.0.0.1:{free_port()}/0", "nowhere:"
    )
    event = StreamEvent(STATUS_CREATED, status_id=1, author_id=2)

    async def scenario() -> tuple[StreamEvent | None, StreamEvent | None]:
        bus = _bus(settings)
        try:
            async with bus.subscribe() as subscription:
                await bus.publish(event)
                return await subscription.next(2), await subscription.next(0.2)
        finally:
            await bus.close()
            await bus.link.close()

    assert asyncio.run(scenario()) == (event, None)
