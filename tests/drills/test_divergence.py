"""Drill for threat 52: copies of the data that silently disagree.

A streaming replica (PostgreSQL, started here with Debian's binaries) or a
second SQLite file is made from the primary; rows are then altered on the copy
(the replica promoted first, as a failover or a restored backup would be), and
``roost check replicas`` must name exactly those rows, with a repair plan from
the side trusted. Counters and search-index entries altered in place are named
by ``roost check derived`` and repaired by it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from roost.app import create_app
from roost.config import Settings, load_settings
from roost.db.engine import Database
from roost.ops import divergence
from roost.ops.derived_check import check_derived
from roost.ops.divergence import Comparison, compare, repair_plan
from roost.services import Services
from roost.timelines.redis_keys import member
from tests.conftest import Roost
from tests.drills.private_postgres import PrivatePostgres


def _sql(settings: Settings, *statements: str) -> list[list[Any]]:
    async def run() -> list[list[Any]]:
        db = Database(settings)
        found: list[list[Any]] = []
        try:
            async with db.engine.begin() as conn:
                for statement in statements:
                    result = await conn.execute(text(statement))
                    found.append([tuple(r) for r in result] if result.returns_rows else [])
        finally:
            await db.dispose()
        return found

    return asyncio.run(run())


def _compare(primary: Settings, replica: Settings) -> Comparison:
    async def run() -> Comparison:
        ours, theirs = Database(primary), Database(replica)
        try:
            return await compare(ours, theirs)
        finally:
            await ours.dispose()
            await theirs.dispose()

    return asyncio.run(run())


def _populate(roost: Roost) -> dict[str, Any]:
    alice, bob = roost.account("alice"), roost.account("bob")
    bob.follow(alice)
    first = alice.post_status("Herons at dawn")
    second = alice.post_status("An ibis")
    reply = bob.post_status("Lovely", in_reply_to_id=first["id"])
    assert bob.post(f"/api/v1/statuses/{second['id']}/favourite").status_code == 200
    roost.drain_jobs()
    return {
        "alice": alice.id,
        "bob": bob.id,
        "alice_headers": alice.headers,
        "bob_headers": bob.headers,
        "first": first,
        "second": second,
        "reply": reply,
    }


def _alter_copy(copy: Settings, made: dict[str, Any]) -> set[tuple[str, tuple[Any, ...], str]]:
    """Change three rows on the copy; returns what the check must name."""
    follow = _sql(copy, f"SELECT id FROM follows WHERE account_id = {made['bob']}")[0][0][0]
    _sql(
        copy,
        f"UPDATE statuses SET sensitive = NOT sensitive WHERE id = {made['second']['id']}",
        f"DELETE FROM follows WHERE id = {follow}",
        f"UPDATE accounts SET display_name = 'Not Alice' WHERE id = {made['alice']}",
    )
    return {
        ("statuses", (int(made["second"]["id"]),), "differs"),
        ("follows", (follow,), "only in primary"),
        ("accounts", (int(made["alice"]),), "differs"),
    }


def _named(result: Comparison) -> set[tuple[str, tuple[Any, ...], str]]:
    return {(d.table, tuple(int(k) for k in d.key), d.kind) for d in result.differences}


def _assert_plan(result: Comparison, made: dict[str, Any]) -> None:
    alice = made["alice"]
    trusted_primary = repair_plan(result, "primary")
    assert len(trusted_primary) == 3
    update = "UPDATE accounts SET display_name to the primary's values"
    assert f"on the replica: {update} WHERE id = {alice}" in trusted_primary
    assert any(
        s.startswith("on the replica: INSERT the primary's row of follows") for s in trusted_primary
    )
    trusted_replica = repair_plan(result, "replica")
    assert any(
        s.startswith("on the primary: DELETE FROM follows WHERE id = ") for s in trusted_replica
    )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_given_a_second_sqlite_file_with_rows_altered_then_exactly_those_rows_are_named(
    roost: Roost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(divergence, "RANGE_ROWS", 2)  # many ranges from a few rows
    made = _populate(roost)
    settings = roost.settings
    roost.client.__exit__(None, None, None)
    source = sqlite3.connect(settings.data_dir / "roost.sqlite3")
    copy_file = tmp_path / "copy.sqlite3"
    target = sqlite3.connect(copy_file)
    source.backup(target)
    target.close()
    source.close()
    copy = settings.model_copy(update={"database_url": f"sqlite:///{copy_file}"})
    same = _compare(settings, copy)
    assert same.differences == [] and same.missing_tables == [] and same.rows > 0

    expected = _alter_copy(copy, made)
    result = _compare(settings, copy)
    assert _named(result) == expected
    # One range per altered row was read row by row; the others only hashed.
    assert result.ranges_differing == 3 and result.ranges > result.tables + 3
    assert {d.columns for d in result.differences if d.table == "accounts"} == {("display_name",)}
    assert {d.columns for d in result.differences if d.table == "statuses"} == {("sensitive",)}
    _assert_plan(result, made)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    try:
        yield cluster
    finally:
        cluster.stop_all()


def _caught_up(primary: Settings, replica: Settings) -> bool:
    sent = _sql(primary, "SELECT pg_current_wal_lsn()::text")[0][0][0]
    replayed = _sql(replica, "SELECT pg_last_wal_replay_lsn()::text")[0][0][0]
    return (
        bool(replayed)
        and _sql(primary, f"SELECT '{replayed}'::pg_lsn >= '{sent}'::pg_lsn")[0][0][0]
    )


def test_given_a_streaming_replica_altered_after_promotion_then_exactly_those_rows_are_named(
    private_postgres: PrivatePostgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(divergence, "RANGE_ROWS", 2)  # many ranges from a few rows
    port = private_postgres.primary()
    base = f"postgresql://postgres@127.0.0.1:{port}"
    _sql(load_settings(database_url=f"{base}/postgres", data_dir=tmp_path), "SELECT 1")

    async def create_database() -> None:
        import asyncpg

        conn = await asyncpg.connect(f"{base}/postgres")
        try:
            await conn.execute("CREATE DATABASE roost")
        finally:
            await conn.close()

    asyncio.run(create_database())
    settings = load_settings(
        data_dir=tmp_path / "data",
        database_url=f"{base}/roost",
        secret_key="s" * 40,
        run_jobs_in_process=False,
    )
    with TestClient(create_app(settings)) as client:
        made = _populate(Roost(client, settings))

    replica_port = private_postgres.replica(port)
    replica = settings.model_copy(
        update={"database_url": f"postgresql://postgres@127.0.0.1:{replica_port}/roost"}
    )
    deadline = time.monotonic() + 60
    while not _caught_up(settings, replica):
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.2)
    streaming = _compare(settings, replica)
    assert streaming.differences == [] and streaming.missing_tables == []
    assert streaming.rows > 0 and streaming.tables > 20

    private_postgres.promote()
    expected = _alter_copy(replica, made)
    result = _compare(settings, replica)
    assert _named(result) == expected
    assert result.ranges_differing == 3 and result.ranges > result.tables + 3
    _assert_plan(result, made)


def test_given_counters_and_index_entries_altered_then_check_derived_names_and_repairs_them(
    roost: Roost,
) -> None:
    made = _populate(roost)
    settings = roost.settings
    boosted = roost.client.post(
        f"/api/v1/statuses/{made['second']['id']}/reblog", headers=made["bob_headers"]
    )
    assert boosted.status_code == 200, boosted.text
    roost.drain_jobs()
    boost = int(boosted.json()["id"])
    services: Services = roost.client.app.state.services  # type: ignore[attr-defined]
    home = roost.client.get("/api/v1/timelines/home", headers=made["bob_headers"])
    assert str(made["first"]["id"]) in [s["id"] for s in home.json()]  # cached in Redis now
    clean = roost.run(lambda: check_derived(services))
    assert clean.clean, clean

    first, second = int(made["first"]["id"]), int(made["second"]["id"])
    alice, bob = int(made["alice"]), int(made["bob"])
    column = "rowid" if settings.is_sqlite else "status_id"
    ghost = boost  # a boost is never indexed: an entry for it is stale
    ghost_post = second + 1_000_000  # no such post
    insert_ghost = (
        f"INSERT INTO search_statuses (rowid, body, meta) VALUES ({ghost}, 'ghost', '')"
        if settings.is_sqlite
        else f"INSERT INTO search_statuses (status_id, document) VALUES ({ghost}, 'ghost')"
    )

    async def alter() -> None:
        async with roost.db.engine.begin() as conn:
            for statement in (
                f"UPDATE accounts SET followers_count = 7 WHERE id = {alice}",
                f"UPDATE accounts SET statuses_count = 0 WHERE id = {bob}",
                f"UPDATE statuses SET replies_count = 0 WHERE id = {first}",
                f"UPDATE statuses SET favourites_count = 5 WHERE id = {second}",
                f"DELETE FROM search_statuses WHERE {column} = {first}",
                insert_ghost,
            ):
                await conn.execute(text(statement))

    roost.run(alter)
    if services.redis is not None:
        link = services.redis

        async def alter_redis() -> None:
            timeline = link.key("tl", "home", bob)
            await link.client.zrem(timeline, member(first))
            await link.client.zadd(timeline, {member(ghost_post): 0})
            await link.client.set(link.key("post", ghost_post), b"stale")

        roost.run(alter_redis)
    unfound = roost.client.get(
        "/api/v2/search", params={"q": "herons", "type": "statuses"}, headers=made["alice_headers"]
    )
    assert unfound.json()["statuses"] == []  # her own post, lost from the index
    found = roost.run(lambda: check_derived(services))
    assert {(d.table, d.id, d.column, d.stored, d.actual) for d in found.counters} == {
        ("accounts", alice, "followers_count", 7, 1),
        ("accounts", bob, "statuses_count", 0, 2),
        ("statuses", first, "replies_count", 0, 1),
        ("statuses", second, "favourites_count", 5, 1),
    }
    assert found.index_missing == [first] and found.index_stale == [ghost]
    if services.redis is not None:
        assert [(t.account_id, t.missing, t.stale) for t in found.timelines] == [
            (bob, [first], [ghost_post])
        ]
        assert found.cached_posts_stale == [ghost_post]
    else:
        assert found.timelines == [] and found.cached_posts_stale == []

    repaired = roost.run(lambda: check_derived(services, repair=True))
    assert repaired.repaired
    assert roost.run(lambda: check_derived(services)).clean
    searched = roost.client.get(
        "/api/v2/search",
        params={"q": "herons", "type": "statuses"},
        headers=made["alice_headers"],
    )
    assert [s["id"] for s in searched.json()["statuses"]] == [str(first)]
    again = roost.client.get("/api/v1/timelines/home", headers=made["bob_headers"])
    assert str(first) in [s["id"] for s in again.json()]
