"""Drill: streaming across processes (scaled mode).

Two real ``roost serve`` processes and one ``roost worker`` share one PostgreSQL
database and one Redis. A follower streams ``GET /api/v1/streaming/user``
(server-sent events) from server A; the followed account posts through server
B, mentioning the follower. The post must arrive on A's stream within a few
seconds (B publishes it to Redis when it commits, and A's reader hands it to
the stream), and so must the mention's notification, which the worker writes.
Server A never sees the POST, so only the cross-process bus
(roost/streaming/redis_bus.py) can carry either.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson
import pytest

from tests.drills.conftest import Stack

pytestmark = [pytest.mark.slow, pytest.mark.backend]

ARRIVES_WITHIN_S = 5.0


async def _listen(
    http: httpx.AsyncClient,
    url: str,
    token: str,
    ready: asyncio.Event,
    events: asyncio.Queue[tuple[str, Any]],
) -> None:
    """Read the SSE stream: ``ready`` once the server says it is subscribed
    (its first comment), then every event as (name, decoded data)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with http.stream("GET", url + "/api/v1/streaming/user", headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        buffer = ""
        async for chunk in response.aiter_text():
            buffer += chunk.replace("\r\n", "\n")
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                if block.startswith(":"):
                    ready.set()  # ":)" first, then ":thump" heartbeats
                    continue
                fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
                data = fields.get("data", "")
                decoded = orjson.loads(data) if data[:1] in ("{", "[") else data
                await events.put((fields.get("event", ""), decoded))


async def _expect(
    events: asyncio.Queue[tuple[str, Any]], name: str, match: Any, deadline: float
) -> float:
    """Wait for an event ``name`` whose data ``match`` accepts; seconds left then."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {name!r} event on server A within {ARRIVES_WITHIN_S}s")
        try:
            event, data = await asyncio.wait_for(events.get(), left)
        except TimeoutError:
            continue
        if event == name and match(data):
            return deadline - time.monotonic()


def test_given_two_servers_when_a_post_is_made_on_b_then_a_follower_streaming_from_a_gets_it(
    stack: Stack,
) -> None:
    reader, author = stack.accounts("reader", 1)[0], stack.accounts("author", 1)[0]
    stack.follow([reader], author)
    reader_token, author_token = stack.token(reader), stack.token(author)
    _, server_a = stack.server("server-a")
    _, server_b = stack.server("server-b")
    stack.worker("worker")

    async def scenario() -> dict[str, Any]:
        timeout = httpx.Timeout(10, read=60)
        async with httpx.AsyncClient(timeout=timeout) as http:
            ready: asyncio.Event = asyncio.Event()
            events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
            stream = asyncio.create_task(_listen(http, server_a, reader_token, ready, events))
            try:
                waiting = asyncio.create_task(ready.wait())
                await asyncio.wait({stream, waiting}, timeout=15, return_when="FIRST_COMPLETED")
                if stream.done():
                    stream.result()  # raises what went wrong
                assert ready.is_set(), "server A's stream did not start"
                posted = await http.post(
                    server_b + "/api/v1/statuses",
                    headers={"Authorization": f"Bearer {author_token}"},
                    json={"status": "@reader0 through server B"},
                )
                assert posted.status_code == 200, posted.text
                post: dict[str, Any] = posted.json()
                deadline = time.monotonic() + ARRIVES_WITHIN_S
                await _expect(events, "update", lambda d: d.get("id") == post["id"], deadline)
                # The mention's notification comes from the worker, a third process.
                await _expect(
                    events,
                    "notification",
                    lambda d: d.get("type") == "mention" and d["status"]["id"] == post["id"],
                    time.monotonic() + ARRIVES_WITHIN_S * 2,
                )
                return post
            finally:
                stream.cancel()
                await asyncio.gather(stream, return_exceptions=True)

    try:
        post = asyncio.run(scenario())
    except AssertionError as error:
        raise AssertionError(
            f"{error}\n--- server-a.log\n{stack.log('server-a')[-3000:]}"
            f"\n--- server-b.log\n{stack.log('server-b')[-3000:]}"
            f"\n--- worker.log\n{stack.log('worker')[-3000:]}"
        ) from None
    assert post["account"]["id"] == str(author)
