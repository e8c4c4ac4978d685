"""When Redis goes away: reads from the database, writes keep working, and
nothing posted meanwhile is missing once it is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from roost.app import create_app
from roost.clock import utcnow
from roost.config import Settings
from roost.db.tables import jobs
from tests.conftest import Roost, User
from tests.drills.support import RedisServer, free_port
from tests.timelines.conftest import scaled_settings


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def _app(settings: Settings, url: str) -> Iterator[Roost]:
    test_settings = scaled_settings(settings, url, "outage:")
    with TestClient(create_app(test_settings)) as client:
        # A short breaker, so that a test does not wait out the default second
        # before the app tries Redis again.
        client.app.state.services.redis.retry_s = 0.05  # type: ignore[attr-defined]
        yield Roost(client, test_settings)


@pytest.fixture
def on_own_redis(settings: Settings, own_redis: RedisServer) -> Iterator[Roost]:
    yield from _app(settings, own_redis.url)


@pytest.fixture
def without_redis(settings: Settings) -> Iterator[Roost]:
    # A port nobody listens on: Redis configured but never there.
    yield from _app(settings, f"redis://127.0.0.1:{free_port()}/0")


def _due_now(roost: Roost) -> None:
    """Let deferred jobs' few seconds (and the breaker's pause) pass."""
    time.sleep(0.1)

    async def move() -> None:
        async with roost.db.write() as tx:
            await tx.execute(update(jobs).values(run_at=utcnow()))

    roost.run(move)


def _jobs(roost: Roost) -> list[tuple[str, str, int]]:
    async def read() -> list[tuple[str, str, int]]:
        async with roost.db.read() as conn:
            rows = await conn.execute(select(jobs.c.kind, jobs.c.state, jobs.c.attempts))
            return [(r.kind, r.state, r.attempts) for r in rows]

    return roost.run(read)


def test_given_no_redis_when_people_post_and_read_then_everything_works_from_the_database(
    without_redis: Roost,
) -> None:
    roost = without_redis
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    post = bob.post_status("still here")
    assert [s["id"] for s in alice.get("/api/v1/timelines/home").json()] == [post["id"]]
    roost.drain_jobs()
    # Fan-out waits for Redis without using up its attempts: nothing is parked.
    waiting = [j for j in _jobs(roost) if j[0] == "status.published"]
    assert waiting == [("status.published", "queued", 0)]
    ready = roost.client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["failed"] == ["redis"]


def test_given_a_cached_timeline_when_redis_restarts_empty_then_it_is_rebuilt_complete(
    on_own_redis: Roost, own_redis: RedisServer
) -> None:
    roost = on_own_redis
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    first = bob.post_status("before")
    roost.drain_jobs()
    assert [s["id"] for s in alice.get("/api/v1/timelines/home").json()] == [first["id"]]
    own_redis.stop()
    during = bob.post_status("during the outage")
    home = alice.get("/api/v1/timelines/home")
    assert home.status_code == 200
    assert [s["id"] for s in home.json()] == [during["id"], first["id"]]
    own_redis.start()
    roost.drain_jobs()  # fan-out is deferred until Redis answers again
    _due_now(roost)
    roost.drain_jobs()
    assert [s["id"] for s in alice.get("/api/v1/timelines/home").json()] == [
        during["id"],
        first["id"],
    ]
    assert not [j for j in _jobs(roost) if j[1] == "parked"]


def test_given_a_cached_timeline_when_redis_returns_with_old_data_then_fanout_catches_up(
    on_own_redis: Roost, own_redis: RedisServer
) -> None:
    roost = on_own_redis
    alice, bob = roost.account("alice"), roost.account("bob")
    alice.follow(bob)
    first = bob.post_status("before")
    roost.drain_jobs()
    alice.get("/api/v1/timelines/home")
    own_redis.stop(save=True)
    during = [bob.post_status(f"during {n}")["id"] for n in range(3)]
    roost.drain_jobs()
    own_redis.start()
    client = own_redis.client()
    try:
        # Redis came back with the timeline as it was: the outage's posts are
        # not in it until the deferred fan-out runs.
        assert client.zcard("outage:tl:home:" + alice.id) == 2
        _due_now(roost)
        roost.drain_jobs()
        assert client.zcard("outage:tl:home:" + alice.id) == 5
    finally:
        client.close()
    home = [s["id"] for s in alice.get("/api/v1/timelines/home").json()]
    assert home == [*during[::-1], first["id"]]


def _list_of(owner: User, *members: User) -> str:
    made = owner.post("/api/v1/lists", json={"title": "close"}).json()
    added = owner.post(
        f"/api/v1/lists/{made['id']}/accounts", data={"account_ids[]": [m.id for m in members]}
    )
    assert added.status_code == 200, added.text
    return str(made["id"])


def _list_ids(owner: User, list_id: str) -> list[str]:
    response = owner.get(f"/api/v1/timelines/list/{list_id}")
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


def test_given_no_redis_when_lists_change_and_are_read_then_the_database_answers(
    without_redis: Roost,
) -> None:
    roost = without_redis
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    alice.follow(bob)
    alice.follow(carol)
    close = _list_of(alice, bob)
    post = bob.post_status("still listed")
    carol.post_status("not listed")
    assert _list_ids(alice, close) == [post["id"]]
    roost.drain_jobs()
    # The change's job waits for Redis without using up its attempts.
    assert ("list.changed", "queued", 0) in _jobs(roost)


def test_given_a_cached_list_when_it_changes_during_an_outage_then_it_is_rebuilt_after(
    on_own_redis: Roost, own_redis: RedisServer
) -> None:
    roost = on_own_redis
    alice, bob, carol = roost.account("alice"), roost.account("bob"), roost.account("carol")
    alice.follow(bob)
    alice.follow(carol)
    close = _list_of(alice, bob)
    first = bob.post_status("before")
    joining = carol.post_status("carol, not yet listed")
    roost.drain_jobs()
    assert _list_ids(alice, close) == [first["id"]]
    own_redis.stop(save=True)
    added = alice.post(f"/api/v1/lists/{close}/accounts", data={"account_ids[]": [carol.id]})
    assert added.status_code == 200
    during = bob.post_status("during the outage")
    # Served from the database meanwhile, with the change.
    assert _list_ids(alice, close) == [during["id"], joining["id"], first["id"]]
    roost.drain_jobs()
    own_redis.start()
    client = own_redis.client()
    try:
        # Redis came back with the list as it was (stale: no carol).
        assert client.zcard(f"outage:tl:list:{alice.id}:{close}") == 2
        _due_now(roost)
        roost.drain_jobs()
        assert not client.exists(f"outage:tl:list:{alice.id}:{close}")
        assert _list_ids(alice, close) == [during["id"], joining["id"], first["id"]]
        assert client.zcard(f"outage:tl:list:{alice.id}:{close}") == 4
    finally:
        client.close()
    assert not [j for j in _jobs(roost) if j[1] == "parked"]
