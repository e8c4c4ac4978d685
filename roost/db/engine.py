"""The database handle: short transactions, one writer at a time on SQLite.

``Database.read()`` gives a connection for queries; ``Database.write()`` gives a
``Tx`` whose statements commit together, with callbacks that run only after the
commit (waking the job runner, publishing to streams). An exception inside
``write()`` rolls everything back: nothing is half-written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import CompoundSelect, Executable, Select, TextClause
from sqlalchemy.sql.dml import UpdateBase

from roost.caching import SharedBytes
from roost.config import Settings
from roost.db.fastread import FastReader
from roost.errors import Unavailable

AfterCommit = Callable[[], Awaitable[None] | None]
EventListener = Callable[[object], Awaitable[None] | None]

log = logging.getLogger("roost.db")

# Rows sampled per index by ANALYZE: enough for the planner's choices, and
# quick on a database of any size.
_ANALYSIS_LIMIT = 1000


class Tx:
    """One write transaction. Execute statements; register work for after commit."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._after_commit: list[AfterCommit] = []
        self.events: list[object] = []

    async def execute(self, statement: Executable, params: Any = None) -> CursorResult[Any]:
        return await self.conn.execute(statement, params)

    def after_commit(self, callback: AfterCommit) -> None:
        self._after_commit.append(callback)

    def emit(self, event: object) -> None:
        """Announce a domain event to the database's listeners once this commits."""
        self.events.append(event)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below), so the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        # Deleted content is overwritten, not left in free pages for a later
        # reader of the file to find.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writer takes the lock up front: a deferred transaction that later
        # upgrades to a write can fail with "database is locked" at once,
        # ignoring busy_timeout.
        immediate = conn.get_execution_options().get("roost_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _fast_reader(settings: Settings, engine: AsyncEngine, url: str) -> FastReader:
    """Read connections for the hot paths (roost/db/fastread.py), pointed at
    the same database as ``engine``."""
    dialect = engine.sync_engine.dialect
    if settings.is_sqlite:
        target = engine.sync_engine.url.database or ""
        return FastReader(target, dialect, size=4, server_settings={})
    plain = engine.sync_engine.url.set(drivername="postgresql")
    return FastReader(
        plain.render_as_string(hide_password=False),
        dialect,
        size=max(2, settings.db_pool_size // 2),
        server_settings={"statement_timeout": str(settings.db_statement_timeout_ms)},
    )


class Database:
    def __init__(self, settings: Settings) -> None:
        from roost.keys import ring

        # Sealed columns open with the keys of this installation's key store.
        ring.configure(settings)
        self.url = settings.sqlalchemy_url
        self.is_sqlite = settings.is_sqlite
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            if ":memory:" in self.url:
                kwargs["poolclass"] = NullPool
        else:
            kwargs.update(
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_pool_size // 2,
                pool_timeout=10,
                pool_pre_ping=True,
                connect_args={
                    "server_settings": {
                        "statement_timeout": str(settings.db_statement_timeout_ms),
                        "idle_in_transaction_session_timeout": "60000",
                    },
                    "timeout": 10,
                },
            )
        self.engine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self.fast = _fast_reader(settings, self.engine, self.url)
        # SQLite allows one writer; queueing writers here is cheaper than letting
        # them collide on the file lock.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        # Told of every domain event after its transaction commits (streaming).
        self.listeners: list[EventListener] = []
        # Where posts' shared parts are kept for every process (scaled mode:
        # Redis; set by the services), under each process's own cache.
        self.shared_bytes: SharedBytes | None = None
        self._changes: dict[str, int] = {}
        _track_changes(self.engine, self._changes)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.engine.connect() as conn:
                yield conn
        except _LINK_ERRORS as error:
            if not _link_lost(error):
                raise
            raise _unavailable(error) from error

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Tx]:
        lock: Any = self._write_lock if self._write_lock is not None else nullcontext()
        async with lock, _WriteScope(self.engine, self.listeners) as tx:
            yield tx

    @asynccontextmanager
    async def scope(self) -> AsyncIterator[ReadScope]:
        """Reads for one request: prepared reads on ``fast``, and a SQLAlchemy
        connection opened only if something asks for one (opening it costs
        more than a prepared read)."""
        reads = ReadScope(self)
        try:
            yield reads
        finally:
            await reads.close()

    async def dispose(self) -> None:
        await self.fast.close()
        await self.engine.dispose()

    def change_count(self, *tables: str) -> int:
        """How many writes this process has made to ``tables`` (or to tables it
        could not name, such as raw SQL). An in-process cache of rows from those
        tables is current while this number stays the same: it moves when a
        write is executed and again once it has committed."""
        return sum(self._changes.get(name, 0) for name in tables) + self._changes.get("*", 0)

    async def refresh_statistics(self) -> None:
        """Refresh SQLite's query-planner statistics (PostgreSQL's autovacuum keeps
        its own, so there this does nothing).

        Without them SQLite takes every indexed term for a selective one: it
        answers a home timeline by gathering every matching post and sorting them
        all, instead of walking the newest posts until a page is full (a hundred
        times slower at 20,000 posts). ``analysis_limit`` bounds the work per
        index, so this takes milliseconds at any size. A connection reads the
        statistics when it opens, so the pool is emptied afterwards.
        """
        if not self.is_sqlite:
            await self._analyze_never_analyzed()
            return
        async with self.write() as tx:
            await tx.conn.exec_driver_sql(f"PRAGMA analysis_limit={_ANALYSIS_LIMIT}")
            await tx.conn.exec_driver_sql("ANALYZE")
        await self.engine.dispose()
        # The prepared-read connections too: they reopen with the new statistics.
        await self.fast.close()

    async def _analyze_never_analyzed(self) -> None:
        """PostgreSQL: tables holding rows that were never analyzed (a restore, a
        bulk import, before autovacuum's first pass) get ANALYZE now. Without
        statistics the planner takes a table of thousands of posts for one of a
        few dozen, and a home timeline took 150 ms instead of under one."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            names = (
                (
                    await conn.exec_driver_sql(
                        "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NULL "
                        "AND last_autoanalyze IS NULL AND n_live_tup + n_dead_tup > 0"
                    )
                )
                .scalars()
                .all()
            )
            for name in names:
                await conn.exec_driver_sql(f'ANALYZE "{name}"')

    async def keep_statistics_fresh(self, every_s: float = 3600.0) -> None:
        """Refresh the statistics every ``every_s`` seconds, as the data grows; runs
        until cancelled. A failed refresh is logged and tried again next time."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.refresh_statistics()
            except Exception:
                log.exception("refreshing the SQLite statistics failed")


class _WriteScope:
    def __init__(self, engine: AsyncEngine, listeners: list[EventListener]) -> None:
        self._engine = engine
        self._listeners = listeners
        self._conn: AsyncConnection | None = None
        self._tx: Tx | None = None

    async def __aenter__(self) -> Tx:
        try:
            self._conn = await self._engine.connect()
            await self._conn.execution_options(roost_write=True)
            await self._conn.begin()
        except (OperationalError, InterfaceError, OSError, ConnectionError) as error:
            if self._conn is not None:
                await self._conn.close()
            raise _unavailable(error) from error
        self._tx = Tx(self._conn)
        return self._tx

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        assert self._conn is not None and self._tx is not None
        try:
            if exc_type is None:
                try:
                    await self._conn.commit()
                except _LINK_ERRORS as error:
                    if not _link_lost(error):
                        raise
                    raise _unavailable(error) from error
            else:
                await self._conn.rollback()
        except DBAPIError:
            if exc_type is None:
                raise
        finally:
            await self._conn.close()
        if exc is not None and _link_lost(exc):
            # The connection died mid-transaction: PostgreSQL rolled it back,
            # so nothing was written. Say so as 503, not as a server error.
            raise _unavailable(exc) from exc
        if exc_type is None:
            for callback in self._tx._after_commit:
                result = callback()
                if result is not None:
                    await result
            for event in self._tx.events:
                for listener in self._listeners:
                    outcome = listener(event)
                    if outcome is not None:
                        await outcome


_READ_ONLY_SQL = {"select", "pragma", "begin", "commit", "rollback", "savepoint", "release"}


def _written_tables(statement: object) -> set[str] | None:
    """The tables a statement may write, {"*"} when that cannot be told, None for a read."""
    if isinstance(statement, UpdateBase):
        return {getattr(statement.table, "name", "*")}
    if isinstance(statement, (Select, CompoundSelect)):
        return None
    if isinstance(statement, TextClause):
        statement = statement.text
    if isinstance(statement, str):
        words = statement.split(None, 1)
        if words and words[0].lower() in _READ_ONLY_SQL:
            return None
    return {"*"}


def _track_changes(engine: AsyncEngine, changes: dict[str, int]) -> None:
    """Count writes per table for ``Database.change_count``.

    A write counts when it executes and again when its connection goes back to
    the pool, which is after its commit: a cache filled from a read that began
    before the commit is already out of date by then.
    """

    def bump(tables: set[str]) -> None:
        for name in tables:
            changes[name] = changes.get(name, 0) + 1

    @event.listens_for(engine.sync_engine, "after_execute")
    def _after_execute(conn: Any, statement: Any, *_args: Any) -> None:
        tables = _written_tables(statement)
        if tables:
            bump(tables)
            conn.info.setdefault("roost_written", set()).update(tables)

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        written = record.info.pop("roost_written", None) if record is not None else None
        if written:
            bump(written)


_LINK_ERRORS = (DBAPIError, OSError, ConnectionError)


def _link_lost(error: BaseException) -> bool:
    """True when ``error`` means the database could not be reached or the
    connection broke, as opposed to a query the database refused."""
    if isinstance(error, (OperationalError, InterfaceError, OSError, ConnectionError)):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def _unavailable(error: BaseException) -> Unavailable:
    return Unavailable("The database is unavailable; try again shortly", retry_after=5)


class ReadScope:
    """See ``Database.scope``."""

    def __init__(self, db: Database, conn: AsyncConnection | None = None) -> None:
        self.fast = db.fast
        self.shared_bytes = db.shared_bytes
        # What this request's reads have learned on the way, so that a later
        # step need not ask again (e.g. whether the viewer has any filters).
        self.facts: dict[str, Any] = {}
        self._db = db
        self._conn = conn
        self._opened: Any = None

    @classmethod
    def over(cls, db: Database, conn: AsyncConnection) -> ReadScope:
        """A scope that uses a connection the caller already holds."""
        return cls(db, conn)

    async def conn(self) -> AsyncConnection:
        if self._conn is None:
            self._opened = self._db.read()
            self._conn = await self._opened.__aenter__()
        return self._conn

    async def close(self) -> None:
        if self._opened is not None:
            opened, self._opened = self._opened, None
            await opened.__aexit__(None, None, None)
