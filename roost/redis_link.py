"""The process's Redis connection, and what to do when Redis is not there.

Redis holds only what can be rebuilt from the database (timelines, caches, rate
limit counts), so every caller has a fallback. What this module adds is a
breaker: after a failed call, callers skip Redis for ``retry_s`` instead of each
request waiting out its own timeout against a dead server, and the next call
after that probes again.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from roost.addresses import SENTINEL_SCHEME, parse_sentinel_url
from roost.config import Settings
from roost.observability.metrics import Metrics

log = logging.getLogger("roost.redis")

# What a caller catches: Redis's own errors, and the socket errors a dropped
# connection can raise before redis-py wraps them.
REDIS_DOWN = (RedisError, OSError, ConnectionError, TimeoutError)


def _client(url: str, timeout: float) -> tuple[Redis, list[Redis]]:
    """The client, and the clients of the sentinels behind it (closed with it)."""
    options: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        # One quick retry covers a pooled connection that died with a restarted
        # (or failed-over) server; more would only make a real outage slower.
        "retry": Retry(NoBackoff(), 1),
        "health_check_interval": 30,
    }
    if not url.startswith(SENTINEL_SCHEME):
        return Redis.from_url(url, **options), []
    sentinels, service, db, password = parse_sentinel_url(url)
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        sentinels,
        sentinel_kwargs={"socket_timeout": timeout, "socket_connect_timeout": timeout},
    )
    # The client asks the sentinels for the current primary on each new
    # connection, so after a failover it follows the promoted replica.
    client: Redis = sentinel.master_for(service, db=db, password=password, **options)
    return client, list(sentinel.sentinels)


class RedisLink:
    def __init__(self, settings: Settings, metrics: Metrics, *, retry_s: float = 1.0) -> None:
        self.client, self._sentinels = _client(settings.redis_url, settings.redis_timeout_ms / 1000)
        self.prefix = settings.redis_prefix
        self.metrics = metrics
        self.retry_s = retry_s
        self._down_until = 0.0
        self._down = False

    def key(self, *parts: object) -> str:
        return self.prefix + ":".join(str(p) for p in parts)

    @property
    def available(self) -> bool:
        """False for a moment after a failure: callers go straight to their fallback."""
        return time.monotonic() >= self._down_until

    def failed(self, operation: str, error: BaseException) -> None:
        self.metrics.redis_errors.labels(operation).inc()
        self.metrics.redis_up.set(0)
        self._down_until = time.monotonic() + self.retry_s
        if not self._down:
            self._down = True
            log.warning(
                "redis unavailable (%s: %s); serving from the database",
                operation,
                type(error).__name__,
            )

    def succeeded(self) -> None:
        self.metrics.redis_up.set(1)
        if self._down:
            self._down = False
            log.warning("redis is back")

    async def ping(self) -> bool:
        try:
            await self.client.ping()
        except REDIS_DOWN as error:
            self.failed("ping", error)
            return False
        self.succeeded()
        return True

    async def close(self) -> None:
        # The pool too: a Sentinel client's pool is not closed with the client.
        await self.client.aclose(close_connection_pool=True)
        for sentinel in self._sentinels:
            await sentinel.aclose()
