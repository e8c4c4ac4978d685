"""Recovery after FLUSHALL under read load (part of bench/redis_timeline.py).

Many viewers read their home timelines over keep-alive connections, each
request with the next viewer's token; partway through, Redis is flushed. Every
timeline must then be rebuilt (once, under its lease) while reads continue.
Reported: the p99 before the flush, the worst half-second after it, and the
seconds until p99 is back within 1.5x of before (and stays there).
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

import redis

from bench import _server

WINDOW_S = 0.5
BACK_WITHIN = 1.5


@dataclass(frozen=True)
class Recovery:
    requests: int
    errors: int
    before_p99_ms: float
    worst_p99_ms: float
    recovered_s: float | None


def measure(
    port: int,
    path: str,
    tokens: list[str],
    redis_url: str,
    *,
    connections: int,
    flush_at_s: float,
    seconds: float,
) -> Recovery:
    samples, errors = asyncio.run(
        _load(port, path, tokens, redis_url, connections, flush_at_s, seconds)
    )
    before = [lat for at, lat in samples if 1.0 <= at < flush_at_s]
    before_p99 = _p99(before)
    windows: list[tuple[float, float]] = []
    start = flush_at_s
    while start + WINDOW_S <= seconds:
        window = [lat for at, lat in samples if start <= at < start + WINDOW_S]
        windows.append((start, _p99(window)))
        start += WINDOW_S
    recovered = None
    for index, (at, _) in enumerate(windows):
        if all(p <= before_p99 * BACK_WITHIN for _, p in windows[index:]):
            recovered = at + WINDOW_S - flush_at_s
            break
    worst = max((p for _, p in windows), default=math.nan)
    return Recovery(len(samples), errors, before_p99 * 1000, worst * 1000, recovered)


def _p99(values: list[float]) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


async def _load(
    port: int,
    path: str,
    tokens: list[str],
    redis_url: str,
    connections: int,
    flush_at_s: float,
    seconds: float,
) -> tuple[list[tuple[float, float]], int]:
    samples: list[tuple[float, float]] = []
    errors = 0
    started = time.perf_counter()
    deadline = started + seconds
    turn = 0

    async def connection() -> None:
        nonlocal errors, turn
        reader, writer = await asyncio.open_connection(_server.HOST, port)
        try:
            while time.perf_counter() < deadline:
                token = tokens[turn % len(tokens)]
                turn += 1
                request = (
                    f"GET {path} HTTP/1.1\r\nHost: {_server.HOST}\r\n"
                    f"Authorization: Bearer {token}\r\n\r\n"
                ).encode()
                sent = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status, length = _head(head)
                await reader.readexactly(length)
                done = time.perf_counter()
                samples.append((done - started, done - sent))
                if status != 200:
                    errors += 1
        finally:
            writer.close()

    async def flush() -> None:
        await asyncio.sleep(flush_at_s)
        client = redis.Redis.from_url(redis_url)
        try:
            client.flushall()
        finally:
            client.close()

    await asyncio.gather(flush(), *(connection() for _ in range(connections)))
    return samples, errors


def _head(head: bytes) -> tuple[int, int]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return status, int(value.strip())
    raise ValueError("response without Content-Length")
