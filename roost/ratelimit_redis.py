"""Rate limits shared by every server process, kept in Redis.

A sliding-window log per key: a sorted set of attempt times, trimmed to the
window on each look. If Redis does not answer, counting continues in this
process (``MemoryRateLimiter``): a limit that is briefly per-process is better
than none, and better than refusing every sign-in while Redis is away.
"""

from __future__ import annotations

import math
import secrets
import time

from roost.ratelimit import MemoryRateLimiter
from roost.redis_link import REDIS_DOWN, RedisLink


class RedisRateLimiter:
    def __init__(self, link: RedisLink, *, namespace: str = "rl") -> None:
        self.link = link
        self.namespace = namespace
        self.local = MemoryRateLimiter()

    def _key(self, key: str) -> str:
        return self.link.key(self.namespace, key)

    async def retry_after(self, key: str, limit: int, window_s: int) -> int:
        if not self.link.available:
            return await self.local.retry_after(key, limit, window_s)
        now = time.time()
        pipe = self.link.client.pipeline(transaction=False)
        name = self._key(key)
        pipe.zremrangebyscore(name, "-inf", now - window_s)
        pipe.zcard(name)
        pipe.zrange(name, 0, 0, withscores=True)
        try:
            _, count, oldest = await pipe.execute()
        except REDIS_DOWN as error:
            self.link.failed("ratelimit", error)
            return await self.local.retry_after(key, limit, window_s)
        if int(count) < limit or not oldest:
            return 0
        return max(1, math.ceil(float(oldest[0][1]) + window_s - now))

    async def hit(self, key: str, window_s: int) -> None:
        await self.local.hit(key, window_s)
        if not self.link.available:
            return
        name = self._key(key)
        pipe = self.link.client.pipeline(transaction=False)
        now = time.time()
        # A random suffix keeps two attempts in the same microsecond apart.
        pipe.zadd(name, {f"{now:.6f}:{secrets.token_hex(4)}": now})
        pipe.expire(name, window_s)
        try:
            await pipe.execute()
        except REDIS_DOWN as error:
            self.link.failed("ratelimit", error)

    async def reset(self, key: str) -> None:
        await self.local.reset(key)
        if not self.link.available:
            return
        try:
            await self.link.client.delete(self._key(key))
        except REDIS_DOWN as error:
            self.link.failed("ratelimit", error)
