"""Counting attempts in sliding windows (password checks, and later posting).

An attempt is *reserved* before the work it guards and *refunded* if it turns
out not to count (a right password). Reserving checks every limit and counts
against all of them in one step, so concurrent callers can never all see room
that only one of them may take: a burst of forty guesses sent at the same
moment gets exactly as many checks as the limit allows.

In-process by default; a scaled deployment shares counts through Redis behind
the same interface (``roost.ratelimit_redis``), where the step is a Lua script.
The methods are coroutines so that a shared store can be asked without blocking
the event loop.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from roost.errors import RateLimited

# Past this many keys the in-process store forgets expired ones, then the oldest:
# memory stays bounded under a credential-stuffing flood of made-up names.
MAX_KEYS = 100_000


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` attempts under ``key`` in any ``window_s`` seconds."""

    key: str
    attempts: int
    window_s: int


@dataclass(frozen=True)
class Reservation:
    """The answer to ``reserve``.

    Granted (``retry_after == 0``): one attempt is counted under every key, named
    by ``ticket`` so that ``refund`` can take exactly that one back. Refused:
    nothing was counted, and ``retry_after`` is the number of seconds until every
    limit has room again.
    """

    retry_after: int
    keys: tuple[str, ...] = ()
    ticket: str = ""
    # Where the attempt was counted ("memory", or "redis" for the shared store),
    # so a refund goes to the same place even if Redis came or went meanwhile.
    store: str = "memory"
    # The limit nearest to refusing (its index in the limits reserved under),
    # and how many attempts it has left after this one (0 when refused): what
    # X-RateLimit-* headers report.
    which: int = 0
    remaining: int = 0

    @property
    def granted(self) -> bool:
        return self.retry_after == 0


class RateLimiter(Protocol):
    async def reserve(self, limits: Sequence[Limit]) -> Reservation:
        """Atomically: if every limit has room, count one attempt under each and
        grant; otherwise count nothing and refuse with the time to wait."""

    async def refund(self, reservation: Reservation) -> None:
        """Take back a granted attempt; a refused one, or one already gone, is a no-op."""

    async def reset(self, key: str) -> None:
        """Forget every attempt counted under ``key``."""

    async def forget(self, key_suffix: str) -> int:
        """Forget every key ending in ``key_suffix`` (an erased account's
        counts); how many keys were dropped."""


def new_ticket() -> str:
    return secrets.token_hex(8)


def account_key(account_id: int) -> str:
    """How limits that concern one account end their keys (so erasure finds them)."""
    return f"account:{account_id}"


class MemoryRateLimiter:
    """Counts in this process. Atomic because ``reserve`` never awaits: on one
    event loop no other request runs between its check and its count."""

    def __init__(self, now: Callable[[], float] | None = None) -> None:
        # key -> (window in seconds, attempts as (time, ticket), oldest first)
        self._hits: dict[str, tuple[int, deque[tuple[float, str]]]] = {}
        self._now = now or time.monotonic

    def _live(self, key: str, window_s: int, now: float) -> deque[tuple[float, str]]:
        """The attempts under ``key`` still inside the window (an empty key is dropped)."""
        entry = self._hits.get(key)
        if entry is None:
            return deque()
        hits = entry[1]
        cutoff = now - window_s
        while hits and hits[0][0] <= cutoff:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits

    def wait_s(self, limits: Sequence[Limit]) -> int:
        """Seconds until every limit has room (0: now), counting nothing."""
        return self._check(limits)[0]

    def _check(self, limits: Sequence[Limit]) -> tuple[int, int, int]:
        """(seconds until every limit has room, 0: now; the index of the limit
        that waits longest, or else of the one with fewest attempts left; how
        many it has left now)."""
        now = self._now()
        wait = 0.0
        which = 0
        fewest = -1
        for index, limit in enumerate(limits):
            hits = self._live(limit.key, limit.window_s, now)
            left = limit.attempts - len(hits)
            if left <= 0:
                # Room comes when enough of the oldest have left the window.
                freeing = hits[len(hits) - limit.attempts][0]
                if freeing + limit.window_s - now > wait:
                    wait = freeing + limit.window_s - now
                    which = index
                fewest = 0
            elif wait <= 0 and (fewest < 0 or left < fewest):
                which, fewest = index, left
        if wait > 0:
            return max(1, int(wait) + 1), which, 0
        return 0, which, fewest

    def record(self, limits: Sequence[Limit], ticket: str) -> None:
        """Count an attempt under every key without asking (a copy of one the
        shared store granted, kept for when that store is away)."""
        now = self._now()
        for limit in limits:
            hits = self._live(limit.key, limit.window_s, now)
            hits.append((now, ticket))
            self._hits[limit.key] = (limit.window_s, hits)
        if len(self._hits) > MAX_KEYS:
            self._forget_some(now)

    async def reserve(self, limits: Sequence[Limit]) -> Reservation:
        wait, which, left = self._check(limits)
        if wait:
            return Reservation(retry_after=wait, which=which)
        ticket = new_ticket()
        self.record(limits, ticket)
        keys = tuple(limit.key for limit in limits)
        return Reservation(0, keys, ticket, "memory", which, max(0, left - 1))

    def take_back(self, keys: Sequence[str], ticket: str) -> None:
        for key in keys:
            entry = self._hits.get(key)
            if entry is None:
                continue
            window_s, hits = entry
            kept = deque(hit for hit in hits if hit[1] != ticket)
            if kept:
                self._hits[key] = (window_s, kept)
            else:
                del self._hits[key]

    async def refund(self, reservation: Reservation) -> None:
        if reservation.granted:
            self.take_back(reservation.keys, reservation.ticket)

    async def reset(self, key: str) -> None:
        self._hits.pop(key, None)

    async def forget(self, key_suffix: str) -> int:
        doomed = [key for key in self._hits if key.endswith(key_suffix)]
        for key in doomed:
            del self._hits[key]
        return len(doomed)

    def _forget_some(self, now: float) -> None:
        expired = [
            key
            for key, (window_s, hits) in self._hits.items()
            if not hits or hits[-1][0] <= now - window_s
        ]
        for key in expired:
            del self._hits[key]
        if len(self._hits) > MAX_KEYS:
            for stale in list(self._hits)[: MAX_KEYS // 10]:
                del self._hits[stale]


async def hold(limiter: RateLimiter, limits: Sequence[Limit], refusal: str) -> Reservation:
    """Reserve an attempt under ``limits`` or raise RateLimited(``refusal``) with
    the time to wait (nothing counted)."""
    reservation = await limiter.reserve(limits)
    if not reservation.granted:
        raise RateLimited(refusal, reservation.retry_after)
    return reservation
