"""What a running Roost holds: settings, the database and the pluggable stores.

Built once at start (roost.app) and handed to handlers through the request; jobs
get the same through their context.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from roost.config import Settings
from roost.db.engine import Database
from roost.ratelimit import MemoryRateLimiter, RateLimiter
from roost.timelines.sql import SqlTimelineStore
from roost.timelines.store import TimelineStore


@dataclass
class Services:
    settings: Settings
    db: Database
    timelines: TimelineStore
    sign_in_limiter: RateLimiter = field(default_factory=MemoryRateLimiter)


def build_services(settings: Settings) -> Services:
    return Services(
        settings=settings,
        db=Database(settings),
        timelines=SqlTimelineStore(),
        sign_in_limiter=MemoryRateLimiter(),
    )
