"""A slow server takes a few of a worker's delivery places, never all of them.

The runner runs up to 32 deliveries at once. Given a slow server with a long
queue (40 deliveries, each answered only after HOLD_S) queued before ten to
a healthy server, when the jobs run, then the healthy server has (nearly)
all ten before the slow one answers its first, and the slow one never has more than
PLACES_PER_HOST of this process's requests at once. Without the limit the
slow server's deliveries took every place and the healthy ones waited a
whole HOLD_S (bench/delivery.py measures the same with a dead server).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from roost.domain.federation.delivery import PLACES_PER_HOST, enqueue_delivery
from tests.conftest import Roost

pytestmark = pytest.mark.settings(federation_allow_insecure=True, outbound_timeout_s=30)

HOLD_S = 4.0
SLOW, HEALTHY = 40, 10


@dataclass
class Inboxes:
    slow_port: int = 0
    healthy_port: int = 0
    healthy_at: list[float] = field(default_factory=list)
    slow_answered_at: list[float] = field(default_factory=list)
    slow_now: int = 0
    slow_most: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


async def _read_request(reader: asyncio.StreamReader) -> bool:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return True


@pytest.fixture
def inboxes() -> Iterator[Inboxes]:
    found = Inboxes()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    answer = b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"

    async def healthy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await _read_request(reader):
                with found.lock:
                    found.healthy_at.append(time.perf_counter())
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await _read_request(reader):
                with found.lock:
                    found.slow_now += 1
                    found.slow_most = max(found.slow_most, found.slow_now)
                await asyncio.sleep(HOLD_S)
                with found.lock:
                    found.slow_now -= 1
                    found.slow_answered_at.append(time.perf_counter())
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    servers: list[asyncio.Server] = []

    async def start() -> None:
        one = await asyncio.start_server(healthy, "127.0.0.1", 0)
        two = await asyncio.start_server(slow, "127.0.0.1", 0)
        servers.extend((one, two))
        found.healthy_port = one.sockets[0].getsockname()[1]
        found.slow_port = two.sockets[0].getsockname()[1]
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield found

    async def stop() -> None:
        for server in servers:
            server.close()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_given_a_slow_server_with_a_long_queue_when_deliveries_run_then_the_others_go_first(
    roost: Roost, inboxes: Inboxes
) -> None:
    alice = roost.account("alice")

    async def queue() -> None:
        async with roost.db.write() as tx:
            for n in range(SLOW):
                url = f"http://127.0.0.1:{inboxes.slow_port}/users/s{n}/inbox"
                await enqueue_delivery(tx, url, int(alice.id), {"type": "Create", "n": n})
            for n in range(HEALTHY):
                url = f"http://127.0.0.1:{inboxes.healthy_port}/users/h{n}/inbox"
                await enqueue_delivery(tx, url, int(alice.id), {"type": "Create", "n": n})

    roost.run(queue)
    roost.drain_jobs()

    assert len(inboxes.healthy_at) == HEALTHY
    assert inboxes.slow_answered_at, "the slow server answered nothing"
    assert 1 <= inboxes.slow_most <= PLACES_PER_HOST
    # Most of the healthy server's deliveries came before the slow server
    # answered at all (a crowded machine may hold back a straggler or two;
    # without the limit none came before).
    first_slow = min(inboxes.slow_answered_at)
    assert sum(1 for at in inboxes.healthy_at if at < first_slow) >= HEALTHY - 2
