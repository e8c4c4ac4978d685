"""The database handle: short transactions, one writer at a time on SQLite.

``Database.read()`` gives a connection for queries; ``Database.write()`` gives a
``Tx`` whose statements commit together, with callbacks that run only after the
commit (waking the job runner, publishing to streams). An exception inside
``write()`` rolls everything back: nothing is half-written.

A database that cannot be reached answers Unavailable (503); a write that
cannot be made because the disk is full answers StorageFull (507), and
``Database.storage`` tells /readyz whether writes can succeed (roost/db/storage.py).

Above 500 lines: the handle and its write scope share the pool, SQLite's
write lock, the storage watch, the listeners and the give-way rule for
background work; split apart, each would reach into the other's state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import CompoundSelect, Executable, Select, TextClause
from sqlalchemy.sql.dml import UpdateBase

from roost.caching import SharedBytes
from roost.config import Settings
from roost.db.fastread import FastReader
from roost.db.liveness import check_at_checkout
from roost.db.sqlite_driver import one_hop_dbapi
from roost.db.storage import StorageWatch, disk_full
from roost.errors import StorageFull, Unavailable

AfterCommit = Callable[[], Awaitable[None] | None]
EventListener = Callable[[object], Awaitable[None] | None]

log = logging.getLogger("roost.db")

# Rows sampled per index by ANALYZE: enough for the planner's choices, and
# quick on a database of any size.
_ANALYSIS_LIMIT = 1000

# Work done beside serving (the in-process job runner's jobs), and whether
# this task holds a write transaction now: see ``Database.give_way``.
_BACKGROUND: ContextVar[bool] = ContextVar("roost_background", default=False)
_WRITING: ContextVar[bool] = ContextVar("roost_writing", default=False)


@contextmanager
def background_work() -> Iterator[None]:
    """Mark what runs inside (and the tasks it starts) as background work,
    which waits for ``Database.give_way`` before each transaction."""
    token = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


# Post writes (counted twice each) before statistics_due can say yes.
STATISTICS_MIN_POST_WRITES = 400


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


class StatisticsGeneration:
    """How many times the query-planner statistics were refreshed. A SQLite
    connection reads them when it opens, so a pooled connection opened before
    the last refresh is replaced at its next checkout."""

    def __init__(self) -> None:
        self.value = 0


def configure_sqlite(engine: AsyncEngine, statistics: StatisticsGeneration | None = None) -> None:
    generation = statistics or StatisticsGeneration()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # Replacing connections here rather than disposing of the engine:
        # a dispose leaves the connections in use at that moment outside
        # any pool, and they are closed by nobody (aiosqlite warns when
        # they are collected). The pool closes a connection it is told is
        # stale and opens another in its place.
        if record.info.get("statistics") != generation.value:
            raise DisconnectionError("the planner statistics were refreshed")

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        record.info["statistics"] = generation.value
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
        # Sealed columns open with the key store the process installed
        # (roost/process.py); making a Database installs nothing.
        self.url = settings.sqlalchemy_url
        self.is_sqlite = settings.is_sqlite
        # An error's message names the statement but not its values: they can
        # be a client secret, a password hash or a person's words, and error
        # messages end up in logs.
        kwargs: dict[str, Any] = {"hide_parameters": True}
        if self.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            if ":memory:" in self.url:
                kwargs["poolclass"] = NullPool
            # One trip to the connection thread per statement (roost/db/sqlite_driver.py).
            kwargs["module"] = one_hop_dbapi()
        else:
            kwargs.update(
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_pool_size // 2,
                pool_timeout=10,
                connect_args={
                    "server_settings": {
                        "statement_timeout": str(settings.db_statement_timeout_ms),
                        "idle_in_transaction_session_timeout": "60000",
                    },
                    "timeout": 10,
                },
            )
        self.engine = create_async_engine(self.url, **kwargs)
        self._statistics = StatisticsGeneration()
        if self.is_sqlite:
            configure_sqlite(self.engine, self._statistics)
        else:
            # Asked only when idle a while, not at every checkout.
            check_at_checkout(self.engine)
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
        # Posts written and counted when the statistics were last refreshed.
        self._post_writes_at_refresh = 0
        self._posts_at_refresh = 0
        # Whether writes can succeed: the volume's free space (SQLite) and the
        # last write refused for want of it.
        self.storage = StorageWatch(settings.database_file, settings.db_min_free_mb)
        # Awaited by background work (``background_work``) before each of its
        # transactions, unless it holds a write already (a request may be
        # waiting for that one): a server that runs jobs in process sets it to
        # wait, a little at most, for a moment with no request in flight
        # (roost/app.py). Jobs and requests share one event loop; a job's
        # statements interleaved with a request's made the request wait for
        # them (a post answered in 13 ms at one connection, 8 to 10 without).
        self.give_way: Callable[[], Awaitable[None]] | None = None

    async def _maybe_give_way(self) -> None:
        if self.give_way is not None and _BACKGROUND.get() and not _WRITING.get():
            await self.give_way()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        await self._maybe_give_way()
        try:
            async with self.engine.connect() as conn:
                yield conn
        except _LINK_ERRORS as error:
            if not _link_lost(error):
                raise
            raise _unavailable(error) from error

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Tx]:
        """A write transaction. StorageFull (507) when the disk is full: at once
        when the database's volume is under ROOST_DB_MIN_FREE_MB (SQLite), or
        when the engine refuses a statement or the commit for want of space;
        either way nothing was written."""
        await self._maybe_give_way()
        self.storage.refuse_below_floor()
        lock: Any = self._write_lock if self._write_lock is not None else nullcontext()
        # Held from before the lock until after it is let go: the commit's
        # listeners run while it is held, and reads of theirs must not wait.
        writing = _WRITING.set(True)
        try:
            async with lock, _WriteScope(self.engine, self.listeners, self.storage) as tx:
                yield tx
        finally:
            _WRITING.reset(writing)

    @asynccontextmanager
    async def scope(self) -> AsyncIterator[ReadScope]:
        """Reads for one request: prepared reads on ``fast``, and a SQLAlchemy
        connection opened only if something asks for one (opening it costs
        more than a prepared read)."""
        await self._maybe_give_way()
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
        statistics when it opens, so each pooled connection is replaced at its
        next checkout (``StatisticsGeneration``).
        """
        if not self.is_sqlite:
            await self._analyze_never_analyzed()
            return
        writes = self.change_count("statuses")
        async with self.write() as tx:
            await tx.conn.exec_driver_sql(f"PRAGMA analysis_limit={_ANALYSIS_LIMIT}")
            await tx.conn.exec_driver_sql("ANALYZE")
            posts = (await tx.conn.exec_driver_sql("SELECT count(*) FROM statuses")).scalar_one()
        self._post_writes_at_refresh = writes
        self._posts_at_refresh = int(posts)
        self._statistics.value += 1
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

    def statistics_due(self) -> bool:
        """SQLite: whether this process has written enough posts since the
        statistics were last refreshed for the planner's picture to be wrong.

        A new instance refreshes them at start-up, when it holds no posts, and
        then fills up through its users' own writes: with statistics of empty
        tables, a home timeline over 1,200 posts made through the API took
        twice as long as after a refresh. Due once the posts written (each
        write counts twice: executed, then committed) reach half as many as
        there were, and at least ``STATISTICS_MIN_POST_WRITES``.
        """
        if not self.is_sqlite:
            return False
        written = self.change_count("statuses") - self._post_writes_at_refresh
        return written >= max(STATISTICS_MIN_POST_WRITES, self._posts_at_refresh)

    async def keep_statistics_fresh(self, every_s: float = 3600.0, check_s: float = 60.0) -> None:
        """Refresh the statistics every ``every_s`` seconds, and sooner when the
        posts have grown (``statistics_due``, looked at every ``check_s``); runs
        until cancelled. A failed refresh is logged and tried again next time."""
        loop = asyncio.get_running_loop()
        refreshed_at = loop.time()
        while True:
            await asyncio.sleep(check_s)
            if not self.statistics_due() and loop.time() - refreshed_at < every_s:
                continue
            refreshed_at = loop.time()
            try:
                await self.refresh_statistics()
            except Exception:
                log.exception("refreshing the SQLite statistics failed")


class _WriteScope:
    def __init__(
        self, engine: AsyncEngine, listeners: list[EventListener], storage: StorageWatch
    ) -> None:
        self._engine = engine
        self._listeners = listeners
        self._storage = storage
        self._conn: AsyncConnection | None = None
        self._tx: Tx | None = None

    def _full(self, error: BaseException) -> StorageFull:
        self._storage.failed(error)
        return StorageFull()

    async def __aenter__(self) -> Tx:
        try:
            self._conn = await self._engine.connect()
            await self._conn.execution_options(roost_write=True)
            await self._conn.begin()
        except (OperationalError, InterfaceError, OSError, ConnectionError) as error:
            if self._conn is not None:
                await self._conn.close()
            if disk_full(error):
                raise self._full(error) from error
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
                    if disk_full(error):
                        raise self._full(error) from error
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
        if exc is not None and not isinstance(exc, StorageFull) and disk_full(exc):
            # A statement was refused for want of space (SQLite's "database or
            # disk is full", PostgreSQL's disk_full): rolled back above.
            raise self._full(exc) from exc
        if exc is not None and _link_lost(exc):
            # The connection died mid-transaction: PostgreSQL rolled it back,
            # so nothing was written. Say so as 503, not as a server error.
            raise _unavailable(exc) from exc
        if exc_type is None:
            self._storage.succeeded()
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
