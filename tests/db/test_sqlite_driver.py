"""SQLite statements take one trip to the connection's thread
(roost/db/sqlite_driver.py), and still behave as the stock driver's do:
rows, row counts, last row ids, many rows at once, errors translated and
rolled back, a pooled connection never handed on inside a transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from roost.config import load_settings
from roost.db.engine import Database

T = TypeVar("T")


def _database(tmp_path: Path) -> Database:
    settings = load_settings(data_dir=tmp_path, database_url="", redis_url="", domain="localhost")
    return Database(settings)


def _run(tmp_path: Path, body: Callable[[Database], Awaitable[T]]) -> T:
    async def main() -> T:
        db = _database(tmp_path)
        try:
            async with db.write() as tx:
                await tx.execute(
                    text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT UNIQUE NOT NULL)")
                )
            return await body(db)
        finally:
            await db.dispose()

    return asyncio.run(main())


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Each call queued for a connection's thread, by the function's name."""
    queued: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        queued.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield queued


def test_given_a_write_transaction_then_each_statement_is_one_trip_to_the_thread(
    tmp_path: Path, hops: list[str]
) -> None:
    async def body(db: Database) -> list[str]:
        hops.clear()
        async with db.write() as tx:
            await tx.execute(text("INSERT INTO notes (body) VALUES ('a')"))
            await tx.execute(text("INSERT INTO notes (body) VALUES ('b')"))
            await tx.execute(text("SELECT body FROM notes"))
        return list(hops)

    # BEGIN IMMEDIATE, three statements, COMMIT; the stock driver made three
    # or four trips a statement (open a cursor, execute, fetch the rows if
    # any, close), and one more to roll back the connection going back to
    # the pool: 15 in all here.
    assert _run(tmp_path, body) == ["_run"] * 4 + ["commit"]


def test_given_statements_then_rows_counts_and_ids_are_as_the_stock_driver_gives(
    tmp_path: Path,
) -> None:
    async def body(db: Database) -> dict[str, Any]:
        async with db.write() as tx:
            first = await tx.execute(text("INSERT INTO notes (body) VALUES ('a')"))
            many = await tx.execute(
                text("INSERT INTO notes (body) VALUES (:body)"),
                [{"body": "b"}, {"body": "c"}, {"body": "d"}],
            )
            returned = await tx.execute(
                text("INSERT INTO notes (body) VALUES ('e') RETURNING id, body")
            )
            returned_rows = [tuple(row) for row in returned]
            changed = await tx.execute(text("UPDATE notes SET body = body || '!' WHERE id > 2"))
            none = await tx.execute(text("SELECT id FROM notes WHERE body = 'nobody'"))
        async with db.read() as conn:
            listed = await conn.execute(text("SELECT id, body FROM notes ORDER BY id"))
            keys = list(listed.keys())
            rows = [tuple(row) for row in listed]
        return {
            "first_id": first.lastrowid,
            "many": many.rowcount,
            "returned": returned_rows,
            "changed": changed.rowcount,
            "none": none.all(),
            "keys": keys,
            "rows": rows,
        }

    got = _run(tmp_path, body)
    assert got["first_id"] == 1
    assert got["many"] == 3
    assert got["returned"] == [(5, "e")]
    assert got["changed"] == 3
    assert got["none"] == []
    assert got["keys"] == ["id", "body"]
    assert got["rows"] == [(1, "a"), (2, "b"), (3, "c!"), (4, "d!"), (5, "e!")]


def test_given_a_refused_statement_then_the_error_is_translated_and_nothing_is_kept(
    tmp_path: Path,
) -> None:
    async def body(db: Database) -> list[Any]:
        async with db.write() as tx:
            await tx.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
        with pytest.raises(IntegrityError):
            async with db.write() as tx:
                await tx.execute(text("INSERT INTO notes (body) VALUES ('lost')"))
                await tx.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
        with pytest.raises(OperationalError, match="no such table"):
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT * FROM nowhere"))
        async with db.read() as conn:
            return [row.body for row in await conn.execute(text("SELECT body FROM notes"))]

    assert _run(tmp_path, body) == ["kept"]


def test_given_a_connection_left_in_a_transaction_then_the_pool_rolls_it_back(
    tmp_path: Path,
) -> None:
    # The rollback skipped when no transaction is open must still happen
    # when one is: a transaction begun by hand on the driver's connection,
    # unknown to SQLAlchemy, is undone before the connection is used again.
    async def body(db: Database) -> list[Any]:
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.execute("BEGIN")
            await driver.execute("INSERT INTO notes (body) VALUES ('uncommitted')")
            assert driver.in_transaction
        async with db.read() as conn:
            return [row.body for row in await conn.execute(text("SELECT body FROM notes"))]

    assert _run(tmp_path, body) == []
