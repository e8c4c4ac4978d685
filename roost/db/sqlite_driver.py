"""SQLAlchemy's aiosqlite driver with one thread hop per statement.

aiosqlite runs each call on its connection's thread and hands the result back
to the event loop: a hop that costs some 40 to 80 microseconds of CPU (a
queue, a future, the loop's self-pipe, the GIL changing hands). SQLAlchemy's
adapter makes three or four per statement (open a cursor, execute, fetch
the rows if there are any, close the cursor), beginning a transaction is
such a statement, and one more rolls back a connection going back to the
pool even when it has no transaction open. Measured on SQLite, a trivial statement cost about 500
microseconds of CPU that way, a hundred times the statement itself; a post's
jobs (some 50 statements) spent most of their time in hops.

Here a statement is one call on the connection's thread: execute, fetch every
row, note the description, row count and last row id, close. The cursor
SQLAlchemy then reads is that snapshot. A rollback with no transaction open
is skipped. Everything else (the thread, errors and their translation,
connecting, closing) is the stock adapter's.

``aiosqlite.Connection._execute`` (queue a function for the connection's
thread) is aiosqlite's own private call; the version is pinned in the lock
file, and tests/db/test_sqlite_driver.py fails if it changes shape.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_


@dataclass(slots=True)
class _Ran:
    """What SQLAlchemy reads of a cursor after its statement ran."""

    description: Any = None
    rowcount: int = -1
    lastrowid: int | None = None
    arraysize: int = 1
    rows: list[Any] | None = None

    def close(self) -> None:
        """Nothing to close: the sqlite3 cursor was closed on its thread."""


def _run(connection: sqlite3.Connection, operation: str, parameters: Any) -> _Ran:
    """On the connection's thread: the whole statement, rows included."""
    cursor = connection.cursor()
    try:
        cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description is not None else None
        return _Ran(description, cursor.rowcount, cursor.lastrowid, cursor.arraysize, rows)
    finally:
        cursor.close()


def _run_many(connection: sqlite3.Connection, operation: str, parameters: Sequence[Any]) -> _Ran:
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, parameters)
        return _Ran(None, cursor.rowcount, cursor.lastrowid, cursor.arraysize)
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement is one call on the connection's thread."""

    __slots__ = ()
    # The snapshot's close is a plain call (SQLAlchemy awaits nothing).
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        # Unlike the stock cursor, no sqlite3 cursor is opened here (a hop of
        # its own): each statement opens and closes one on the thread.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = _Ran()  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._on_thread(_run, operation, parameters)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        return await self._on_thread(_run_many, operation, seq_of_parameters)

    async def _on_thread(
        self, run: Callable[[sqlite3.Connection, str, Any], _Ran], operation: Any, parameters: Any
    ) -> _Ran:
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            ran: _Ran = await connection._execute(  # type: ignore[no-untyped-call]
                run, connection._conn, operation, parameters
            )
            self._cursor = ran  # type: ignore[assignment]
            # A statement without rows leaves none behind from an earlier one.
            self._rows = collections.deque(ran.rows or ())
            return ran


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    _cursor_cls = OneHopCursor

    def rollback(self) -> None:
        # Every connection going back to the pool is rolled back; most have
        # no transaction open by then (committed, or closed by SQLAlchemy),
        # and a hop to roll back nothing is a hop for nothing. Read on the
        # loop's thread: in_transaction asks SQLite's autocommit flag, and no
        # statement of this connection runs meanwhile (one user at a time).
        connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        raw = connection._connection
        if raw is not None and not raw.in_transaction:
            return
        super().rollback()


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module to give ``create_async_engine(module=...)``."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        connection = self.aiosqlite.connect(*arg, **kw)
        # As the stock adapter does: a forgotten connection's thread must not
        # keep the process alive.
        connection._thread.daemon = True
        return OneHopConnection(self, await_(connection))


def one_hop_dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)
