"""Rate limits shared by every server process, kept in Redis.

A sliding-window log per key: a sorted set of attempts scored by time. A
reservation is one Lua script, so checking every limit and counting against
all of them happen in one step for all processes at once; time is Redis's own
clock, so servers whose clocks differ still share one window.

If Redis does not answer, counting continues in this process
(``MemoryRateLimiter``), which also keeps a copy of every attempt Redis granted
here: a limit that is briefly per-process is better than none, and better than
refusing every sign-in while Redis is away.
"""

from __future__ import annotations

from collections.abc import Sequence

from roost.ratelimit import Limit, MemoryRateLimiter, Reservation, new_ticket
from roost.redis_link import REDIS_DOWN, RedisLink

# KEYS: one per limit. ARGV: the ticket, then attempts and window_s per key.
# Returns {wait, which, left}: wait is 0 when granted (the ticket is counted
# under every key), otherwise the seconds until every limit has room (nothing
# counted); which is the 1-based index of the limit that waits longest, or
# else of the one with the fewest attempts left, and left how many it had
# left before this attempt.
_RESERVE = """
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local wait = 0
local which = 1
local fewest = -1
for i, key in ipairs(KEYS) do
  local attempts = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= attempts then
    local freeing = redis.call('ZRANGE', key, count - attempts, count - attempts, 'WITHSCORES')
    local until_free = math.ceil(tonumber(freeing[2]) + window - now)
    if until_free < 1 then until_free = 1 end
    if until_free > wait then
      wait = until_free
      which = i
    end
  elseif wait == 0 and (fewest < 0 or attempts - count < fewest) then
    which = i
    fewest = attempts - count
  end
end
if wait > 0 then return {wait, which, 0} end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[1])
  redis.call('EXPIRE', key, tonumber(ARGV[2 * i + 1]))
end
return {0, which, fewest}
"""


class RedisRateLimiter:
    def __init__(self, link: RedisLink, *, namespace: str = "rl") -> None:
        self.link = link
        self.namespace = namespace
        self.local = MemoryRateLimiter()
        self._script = link.client.register_script(_RESERVE)

    def _key(self, key: str) -> str:
        return self.link.key(self.namespace, key)

    async def reserve(self, limits: Sequence[Limit]) -> Reservation:
        if not self.link.available:
            return await self.local.reserve(limits)
        ticket = new_ticket()
        args: list[str | int] = [ticket]
        for limit in limits:
            args += [limit.attempts, limit.window_s]
        try:
            answer = await self._script(keys=[self._key(x.key) for x in limits], args=args)
        except REDIS_DOWN as error:
            self.link.failed("ratelimit", error)
            return await self.local.reserve(limits)
        wait, which, left = (int(value) for value in answer)
        if wait:
            return Reservation(retry_after=wait, which=which - 1)
        self.local.record(limits, ticket)
        keys = tuple(limit.key for limit in limits)
        return Reservation(0, keys, ticket, "redis", which - 1, max(0, left - 1))

    async def refund(self, reservation: Reservation) -> None:
        if not reservation.granted:
            return
        self.local.take_back(reservation.keys, reservation.ticket)
        if reservation.store != "redis" or not self.link.available:
            return
        pipe = self.link.client.pipeline(transaction=False)
        for key in reservation.keys:
            pipe.zrem(self._key(key), reservation.ticket)
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

    async def forget(self, key_suffix: str) -> int:
        dropped = await self.local.forget(key_suffix)
        if not self.link.available:
            return dropped
        pattern = self._key("*") + _glob_literal(key_suffix)
        try:
            keys = [key async for key in self.link.client.scan_iter(match=pattern, count=1000)]
            if keys:
                dropped += int(await self.link.client.delete(*keys))
        except REDIS_DOWN as error:
            self.link.failed("ratelimit", error)
        return dropped


def _glob_literal(text: str) -> str:
    """``text`` matched literally in a SCAN pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)
