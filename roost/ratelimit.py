"""Counting attempts in a sliding window (failed sign-ins, and later posting).

In-process by default; a scaled deployment shares counts through Redis behind
the same interface (``roost.ratelimit_redis``). The methods are coroutines so
that a shared store can be asked without blocking the event loop.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Protocol


class RateLimiter(Protocol):
    async def retry_after(self, key: str, limit: int, window_s: int) -> int:
        """Seconds until ``key`` may try again; 0 when it may now."""

    async def hit(self, key: str, window_s: int) -> None:
        """Count one attempt against ``key``."""

    async def reset(self, key: str) -> None: ...


class MemoryRateLimiter:
    def __init__(self, now: object = None) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._now = now if callable(now) else time.monotonic

    def _window(self, key: str, window_s: int) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        cutoff = self._now() - window_s
        while hits and hits[0] <= cutoff:
            hits.popleft()
        if not hits:
            self._hits.pop(key, None)
            return self._hits.setdefault(key, deque())
        return hits

    async def retry_after(self, key: str, limit: int, window_s: int) -> int:
        hits = self._window(key, window_s)
        if len(hits) < limit:
            return 0
        return max(1, int(hits[0] + window_s - self._now()) + 1)

    async def hit(self, key: str, window_s: int) -> None:
        self._window(key, window_s).append(self._now())
        if len(self._hits) > 100_000:
            # Bounded memory under a credential-stuffing flood: forget the oldest.
            for stale in list(self._hits)[:10_000]:
                del self._hits[stale]

    async def reset(self, key: str) -> None:
        self._hits.pop(key, None)
