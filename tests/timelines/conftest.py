"""A Roost with Redis timelines on either database, and handles to look inside.

``scaled`` runs the app with ROOST_REDIS_URL on both backends (SQLite + Redis
and PostgreSQL + Redis), so the Redis store is tested against both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from roost.app import create_app
from roost.config import Settings
from roost.db.engine import Database
from roost.domain.timelines.reads import Timelines
from roost.domain.types import Page, Viewer
from roost.observability.metrics import Metrics
from roost.services import Services
from roost.timelines.redis import RedisTimelineStore
from roost.timelines.redis_keys import member
from roost.timelines.sql import SqlTimelineStore
from tests.conftest import Roost, User


@dataclass
class Scaled:
    roost: Roost
    redis: redis.Redis

    @property
    def services(self) -> Services:
        svc: Services = self.roost.client.app.state.services  # type: ignore[attr-defined]
        return svc

    @property
    def store(self) -> RedisTimelineStore:
        store = self.services.timelines.store
        assert isinstance(store, RedisTimelineStore)
        return store

    @property
    def metrics(self) -> Metrics:
        return self.services.metrics

    @property
    def db(self) -> Database:
        return self.services.db

    def key(self, user: User) -> str:
        return self.store._key(int(user.id))

    def cached_ids(self, user: User) -> list[int]:
        """The timeline's entries in Redis, newest first (without the marker)."""
        raw = self.redis.zrevrange(self.key(user), 0, -1)
        return [int(m) for m in raw if m != b"~"]

    def is_cached(self, user: User, status_id: str) -> bool:
        return self.redis.zscore(self.key(user), member(int(status_id))) is not None

    def counter(self, name: str, **labels: str) -> float:
        value = self.metrics.registry.get_sample_value(name, labels or None)
        return value or 0.0

    def home_ids(self, user: User, store: Any = None, **page: Any) -> list[str]:
        """Ids of one page of ``user``'s home from a store (the Redis one by default)."""
        chosen = Timelines(store) if store is not None else self.services.timelines
        viewer = Viewer(account_id=int(user.id), scopes=frozenset({"read"}))

        async def read() -> list[str]:
            async with self.db.scope() as reads:
                views = await chosen.home(reads, viewer, Page(**page))
            return [str(v.value.status.id) for v in views]

        return self.roost.run(read)

    def sql_home_ids(self, user: User, **page: Any) -> list[str]:
        return self.home_ids(user, SqlTimelineStore(), **page)

    def list_key(self, owner: User, list_id: str) -> str:
        return self.store._list_key(int(owner.id), int(list_id))

    def cached_list_ids(self, owner: User, list_id: str) -> list[int]:
        raw = self.redis.zrevrange(self.list_key(owner, list_id), 0, -1)
        return [int(m) for m in raw if m != b"~"]

    def list_ids(self, owner: User, list_id: str, store: Any = None, **page: Any) -> list[str]:
        """Ids of one page of a list's timeline from a store (the Redis one by default)."""
        chosen = Timelines(store) if store is not None else self.services.timelines
        viewer = Viewer(account_id=int(owner.id), scopes=frozenset({"read"}))

        async def read() -> list[str]:
            async with self.db.scope() as reads:
                views = await chosen.list_timeline(reads, viewer, int(list_id), Page(**page))
            return [str(v.value.status.id) for v in views]

        return self.roost.run(read)

    def sql_list_ids(self, owner: User, list_id: str, **page: Any) -> list[str]:
        return self.list_ids(owner, list_id, SqlTimelineStore(), **page)


def scaled_settings(settings: Settings, redis_url: str, prefix: str, **extra: Any) -> Settings:
    return settings.model_copy(
        update={
            "redis_url": redis_url,
            "redis_prefix": prefix,
            "run_jobs_in_process": False,
            **extra,
        }
    )


@pytest.fixture
def scaled(
    settings: Settings, redis_url: str, redis_prefix: str, request: pytest.FixtureRequest
) -> Iterator[Scaled]:
    marker = request.node.get_closest_marker("scaled")
    extra = marker.kwargs if marker is not None else {}
    test_settings = scaled_settings(settings, redis_url, redis_prefix, **extra)
    client = redis.Redis.from_url(redis_url)
    with TestClient(create_app(test_settings)) as http:
        yield Scaled(Roost(http, test_settings), client)
    client.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scaled(**settings): settings for the scaled fixture")
