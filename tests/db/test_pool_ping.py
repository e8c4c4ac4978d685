"""The pool's check that a PostgreSQL connection is alive before it is lent
(``pool_pre_ping``, roost/db/engine.py): one ``SELECT 1`` in the simple protocol, not the
dialect's transaction around it (three round trips at every checkout), and
still a connection whose link died is replaced before anyone uses it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import text

from roost.config import load_settings
from roost.db.engine import Database


async def _raw(conn: Any) -> Any:
    return (await conn.get_raw_connection()).driver_connection


def test_given_a_pooled_connection_when_it_is_lent_again_then_the_check_is_one_simple_query(
    postgres_url: str, tmp_path: Path
) -> None:
    async def body() -> list[str]:
        db = Database(load_settings(data_dir=tmp_path, database_url=postgres_url))
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

    assert asyncio.run(body()) == ["SELECT 1"]


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
