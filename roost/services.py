"""What a running Roost holds: settings, the database and the pluggable stores.

Built once at start (roost.app, roost worker) and handed to handlers through the
request; jobs get the same through their context. Settings choose the
implementations: with ROOST_REDIS_URL, home timelines, rate limits and the
streaming bus go through Redis (falling back to the database, to in-process
counts and to in-process delivery when it is down); without it, everything
stays in this process and the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from roost.config import Settings
from roost.db.engine import Database
from roost.domain.statuses.feed import forget_changed_posts
from roost.jobs.registry import JobContext
from roost.observability.metrics import Metrics
from roost.ratelimit import MemoryRateLimiter, RateLimiter
from roost.streaming.bus import EventBus, InProcessBus
from roost.streaming.publish import bus_listener
from roost.timelines.sql import SqlTimelineStore
from roost.timelines.store import TimelineStore

if TYPE_CHECKING:
    # redis-py (and the OpenTelemetry it loads) costs a noticeable part of
    # every start; embedded Roost never needs it.
    from roost.redis_link import RedisLink


@dataclass
class Services:
    settings: Settings
    db: Database
    timelines: TimelineStore
    sign_in_limiter: RateLimiter = field(default_factory=MemoryRateLimiter)
    metrics: Metrics = field(default_factory=Metrics)
    redis: RedisLink | None = None
    # Live events for streaming clients; in-process unless a cross-process bus
    # is configured.
    bus: EventBus = field(default_factory=InProcessBus)

    def job_context(self) -> JobContext:
        return JobContext(
            self.db,
            self.settings,
            {"timelines": self.timelines, "metrics": self.metrics, "bus": self.bus},
        )

    async def start(self) -> None:
        """Work to do once the event loop runs (a server's start-up)."""
        starting = getattr(self.bus, "start", None)
        if starting is not None:
            await starting()

    async def close(self) -> None:
        closing = getattr(self.bus, "close", None)
        if closing is not None:
            await closing()
        if self.redis is not None:
            await self.redis.close()
        await self.db.dispose()


def build_services(settings: Settings, db: Database | None = None) -> Services:
    services = _build(settings, db)
    services.db.listeners.append(bus_listener(services.bus))
    services.db.listeners.append(forget_changed_posts)
    return services


def _build(settings: Settings, db: Database | None) -> Services:
    database = db or Database(settings)
    metrics = Metrics()
    if not settings.redis_url:
        return Services(
            settings=settings,
            db=database,
            timelines=SqlTimelineStore(),
            sign_in_limiter=MemoryRateLimiter(),
            metrics=metrics,
        )
    from roost.ratelimit_redis import RedisRateLimiter
    from roost.redis_link import RedisLink
    from roost.streaming.redis_bus import RedisBus
    from roost.timelines.redis import RedisTimelineStore
    from roost.timelines.redis_posts import RedisPostCache

    link = RedisLink(settings, metrics)
    posts = RedisPostCache(link)
    database.shared_bytes = posts
    database.listeners.append(posts.on_event)
    return Services(
        settings=settings,
        db=database,
        timelines=RedisTimelineStore(settings, database, link, metrics),
        sign_in_limiter=RedisRateLimiter(link),
        metrics=metrics,
        redis=link,
        bus=RedisBus(link),
    )
