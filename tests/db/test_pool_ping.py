"""The pool's check that a PostgreSQL connection is alive before it is lent
(roost/db/liveness.py): no question at all for a connection given back a
moment ago that asyncpg has not seen closed; one ``SELECT 1`` in the simple
protocol for one idle a while; and a connection whose link died is replaced
before anyone uses it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import text

from roost.config import load_settings
from roost.db import liveness
from roost.db.engine import Database


async def _raw(conn: Any) -> Any:
    return (await conn.get_raw_connection()).driver_connection


def _lent_twice(url: str, tmp_path: Path) -> list[str]:
    """What the second of two checkouts of one pooled connection sent."""

    async def body() -> list[str]:
        db = Database(load_settings(data_dir=tmp_path, database_url=url))
        try:
            async with db.read() as conn:
                await conn.execute(text("SELECT 1"))
                raw = await _raw(conn)
            seen: list[str] = []
            raw.add_query_logger(lambda record: seen.append(record.query))
            async with db.read() as conn:
                assert await _raw(conn) is raw  # the same pooled connection
            return seen
        finally:
            await db.dispose()

    return asyncio.run(body())


def test_given_a_connection_given_back_a_moment_ago_when_lent_again_then_nothing_is_asked(
    postgres_url: str, tmp_path: Path
) -> None:
    assert _lent_twice(postgres_url, tmp_path) == []


def test_given_a_connection_idle_a_while_when_lent_again_then_the_check_is_one_simple_query(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(liveness, "ASK_AFTER_IDLE_S", 0.0)
    assert _lent_twice(postgres_url, tmp_path) == ["SELECT 1"]


def test_given_a_pooled_connection_whose_backend_died_when_read_then_the_read_still_answers(
    postgres_url: str, tmp_path: Path
) -> None:
    async def body() -> int:
        db = Database(load_settings(data_dir=tmp_path, database_url=postgres_url))
        try:
            async with db.read() as conn:
                pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            admin = await asyncpg.connect(postgres_url)
            try:
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()
            await asyncio.sleep(0.2)
            async with db.read() as conn:
                again = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                assert (await conn.execute(text("SELECT 41 + 1"))).scalar_one() == 42
            return int(again) - int(pid)
        finally:
            await db.dispose()

    assert asyncio.run(body()) != 0  # a new backend, the dead one's link replaced


def test_given_a_connection_idle_a_while_whose_backend_died_when_read_then_the_read_answers(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the check asks every connection, and the pooled one's backend is
    # terminated while asyncpg is taken, once, not to have seen the close (so
    # the question, not the driver's own state, finds the link dead)
    monkeypatch.setattr(liveness, "ASK_AFTER_IDLE_S", 0.0)
    real = asyncpg.connection.Connection.is_closed
    unseen: list[object] = []

    async def body() -> tuple[int, int]:
        db = Database(load_settings(data_dir=tmp_path, database_url=postgres_url))
        try:
            async with db.read() as conn:
                pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                dead = await _raw(conn)
            admin = await asyncpg.connect(postgres_url)
            try:
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()

            def is_closed(connection: Any) -> bool:
                if connection is dead and not unseen:
                    unseen.append(connection)
                    return False
                return bool(real(connection))

            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(asyncpg.connection.Connection, "is_closed", is_closed)
                async with db.read() as conn:
                    again = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            return int(pid), int(again)
        finally:
            await db.dispose()

    pid, again = asyncio.run(body())
    # When read, then the check's question found it dead and it was replaced
    assert unseen and again != pid
