"""What a running Roost holds: settings, the database and the pluggable stores.

Built once at start (roost.app, roost worker) and handed to handlers through the
request; jobs get the same through their context (``job_context``), and every
job kind's handler is registered on import (roost/job_handlers.py). Settings choose the
implementations: with ROOST_REDIS_URL, home timelines, rate limits and the
streaming bus go through Redis (falling back to the database, to in-process
counts and to in-process delivery when it is down); without it, everything
stays in this process and the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from roost import job_handlers as _job_handlers  # noqa: F401  (registers every job kind)
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.accounts.sign_in import PasswordGate
from roost.domain.jobs import JobContext
from roost.domain.statuses.shared import forget_changed_posts, forget_changed_posts_in
from roost.domain.timelines.reads import Timelines
from roost.listeners import bus_listener, lists_listener
from roost.media.store import media_store
from roost.observability.metrics import Metrics
from roost.ratelimit import MemoryRateLimiter, RateLimiter
from roost.search.index import index_for
from roost.streaming.bus import EventBus, InProcessBus
from roost.timelines.sql import SqlTimelineStore

if TYPE_CHECKING:
    # redis-py (and the OpenTelemetry it loads) costs a noticeable part of
    # every start; embedded Roost never needs it.
    from roost.redis_link import RedisLink


@dataclass
class Services:
    settings: Settings
    db: Database
    # Home, list, public and hashtag timelines; ``timelines.store`` is where
    # home and list timelines' ids come from (the database, or Redis).
    timelines: Timelines
    sign_in_limiter: RateLimiter = field(default_factory=MemoryRateLimiter)
    # API request limits (roost/api/ratelimits.py), counted apart from
    # password attempts.
    api_limiter: RateLimiter = field(default_factory=MemoryRateLimiter)
    metrics: Metrics = field(default_factory=Metrics)
    redis: RedisLink | None = None
    # Live events for streaming clients; in-process unless a cross-process bus
    # is configured.
    bus: EventBus = field(default_factory=InProcessBus)

    def job_context(self) -> JobContext:
        return JobContext(
            db=self.db,
            settings=self.settings,
            timelines=self.timelines.store,
            search=index_for("sqlite" if self.db.is_sqlite else "postgresql"),
            media=media_store(self.settings),
            metrics=self.metrics,
        )

    def password_gate(self) -> PasswordGate:
        """The attempt limits every password check shares (one per process:
        the limiter holds the counts)."""
        metric = self.metrics.password_attempts
        return PasswordGate(
            self.sign_in_limiter,
            self.settings,
            lambda purpose, outcome: metric.labels(purpose, outcome).inc(),
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
    services.db.listeners.append(lists_listener(services.timelines.store))
    services.db.listeners.append(forget_changed_posts)
    return services


def _build(settings: Settings, db: Database | None) -> Services:
    database = db or Database(settings)
    metrics = Metrics()
    if not settings.redis_url:
        return Services(
            settings=settings,
            db=database,
            timelines=Timelines(SqlTimelineStore()),
            sign_in_limiter=MemoryRateLimiter(),
            api_limiter=MemoryRateLimiter(),
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
    database.listeners.append(forget_changed_posts_in(posts))
    return Services(
        settings=settings,
        db=database,
        timelines=Timelines(RedisTimelineStore(settings, link, metrics)),
        sign_in_limiter=RedisRateLimiter(link),
        api_limiter=RedisRateLimiter(link, namespace="api"),
        metrics=metrics,
        redis=link,
        bus=RedisBus(link),
    )
