"""Hot read paths: statements compiled once, run on dedicated read connections.

Going through SQLAlchemy's execution machinery costs about 0.3 ms per
statement here (pool checkout and reset, cache-key generation, result
wrapping), several times what SQLite takes to answer a page of a timeline.
For the few reads every request makes (a timeline page, the viewer's marks on
its posts) that overhead dominated. ``Prepared`` compiles a Core statement
once per dialect into SQL text with positional parameters and keeps
SQLAlchemy's own bind and result processors, so values come back exactly as
through SQLAlchemy (aware datetimes, decoded JSON, booleans). ``FastReader``
runs it on connections of its own: a read-only SQLite connection per thread
when embedded, an asyncpg pool when scaled. Writes never come here.

Lists of ids are passed as one parameter (``id_list``): a JSON array read with
``json_each`` on SQLite, an ``ANY`` over an array on PostgreSQL, so the SQL
text stays the same whatever the length.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, BindParameter, ColumnElement, Executable, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnClause

from roost.errors import Unavailable

Row = tuple[Any, ...]


class _IdSource(ColumnElement[Any]):
    """The ids passed as one parameter, as a one-column row source."""

    inherit_cache = True

    def __init__(self, param: BindParameter[Any]) -> None:
        self.param = param


# SQLite: the JSON array is written out as a placeholder list per call
# (``_Compiled.statement``): the planner cannot tell how many ids a JSON array
# holds, and would rather scan an index of thousands of rows than look up
# eleven by primary key.
_SQLITE_ID_LIST = "IN (SELECT value FROM json_each(?))"


@compiles(_IdSource, "sqlite")
def _ids_sqlite(element: _IdSource, compiler: Any, **kw: Any) -> str:
    return f"(SELECT value FROM json_each({compiler.process(element.param, **kw)}))"


@compiles(_IdSource, "postgresql")
def _ids_postgresql(element: _IdSource, compiler: Any, **kw: Any) -> str:
    return f"(SELECT unnest(CAST({compiler.process(element.param, **kw)} AS BIGINT[])))"


class IdList(list[int]):
    """A list of ids bound as one parameter (see ``id_list``)."""


def id_list(column: ColumnElement[Any] | ColumnClause[Any], name: str) -> ColumnElement[bool]:
    """True where ``column`` is one of the ids passed as parameter ``name``."""
    # A comparison operator, so SQLite gets ``x IN (...)`` and not a boolean
    # value compared to 1, which no index can serve.
    return column.op("IN", is_comparison=True)(_IdSource(bindparam(name)))


class Prepared:
    """A read statement compiled once per dialect.

    ``build`` makes the statement with named ``bindparam``s; constants in it
    are bound with their values at compile time.
    """

    def __init__(self, build: Callable[[], Executable]) -> None:
        self._build = build
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _Compiled(self._build(), dialect)
        return found


class _Compiled:
    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        # Constant lists (``IN (1, 2)``) are "post-compile" parameters: render
        # them now, once, as SQLAlchemy would at each execution.
        expanded = compiled._process_parameters_for_postcompile(
            compiled.construct_params(_check=False)
        )
        self.sql = expanded.statement
        self.sqlite = dialect.name == "sqlite"
        binds = compiled.binds
        processors = expanded.processors
        # (name, required, constant value, bind processor) per position.
        self.params: list[tuple[str, bool, Any, Any]] = []
        for name in expanded.positiontup or ():
            bind = binds.get(name)
            required = bind is not None and bind.required
            # Named parameters use their own type's processor (an aware
            # datetime made naive for a UTCDateTime column, say); the items of
            # an expanded constant list, the list's.
            processor = (
                bind.type._cached_bind_processor(dialect)
                if bind is not None
                else processors.get(name)
            )
            self.params.append((name, required, expanded.parameters.get(name), processor))
        self.processors = [
            _result_processor(column[3], dialect) for column in compiled._result_columns
        ]
        self.any_processor = any(p is not None for p in self.processors)
        # Only the columns that need converting are touched per row: most
        # (ids, text, numbers) arrive as they are wanted, and a generator
        # over every column of every row was a visible share of a page.
        self._converted = [(i, p) for i, p in enumerate(self.processors) if p is not None]
        self._expanded: dict[tuple[int, ...], str] = {}

    def statement(self, values: dict[str, Any]) -> tuple[str, list[Any]]:
        """The SQL and its arguments for these values."""
        out: list[Any] = []
        lists: list[int] = []
        for key, required, constant, processor in self.params:
            if key in values:
                value = values[key]
            elif required:
                raise KeyError(f"no value for the parameter {key!r}")
            else:
                value = constant
            if isinstance(value, IdList):
                if self.sqlite:
                    size = _bucket(len(value))
                    lists.append(size)
                    # Padded with a repeat of the last id to the bucket's size,
                    # so a handful of SQL texts serve every length.
                    out.extend(value)
                    out.extend([value[-1] if value else None] * (size - len(value)))
                else:
                    out.append(list(value))
                continue
            out.append(processor(value) if processor is not None else value)
        if not lists:
            return self.sql, out
        return self._sql_for(tuple(lists)), out

    def _sql_for(self, sizes: tuple[int, ...]) -> str:
        found = self._expanded.get(sizes)
        if found is None:
            pieces = self.sql.split(_SQLITE_ID_LIST)
            assert len(pieces) == len(sizes) + 1
            found = pieces[0]
            for size, piece in zip(sizes, pieces[1:], strict=True):
                found += "IN (" + ",".join("?" * size) + ")" + piece
            self._expanded[sizes] = found
        return found

    def rows(self, raw: Sequence[Sequence[Any]], *, processed: bool = True) -> list[Row]:
        if not processed or not self.any_processor:
            return [tuple(r) for r in raw]
        converted = self._converted
        width = len(self.processors)
        out: list[Row] = []
        for r in raw:
            values = list(r)
            if len(values) != width:
                raise ValueError(f"a row of {len(values)} columns, not {width}")
            for i, p in converted:
                values[i] = p(values[i])
            out.append(tuple(values))
        return out

    def process(self, values: Sequence[Any], start: int = 0) -> Row:
        """Raw values of columns ``start``... as SQLAlchemy would hand them back."""
        if len(values) != len(self.processors) - start:
            raise ValueError(f"{len(values)} values for {len(self.processors) - start} columns")
        row = list(values)
        for i, p in self._converted:
            if i >= start:
                row[i - start] = p(row[i - start])
        return tuple(row)


def _bucket(count: int) -> int:
    """The next power of two (at least 4): how many placeholders a list gets."""
    size = 4
    while size < count:
        size *= 2
    return size


def _json_value(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def _result_processor(type_: Any, dialect: Dialect) -> Any:
    # JSON arrives as text from both drivers here (see _pg_codecs), which keeps
    # raw rows hashable for callers that cache by them.
    if isinstance(type_, JSON):
        return _json_value
    return type_._cached_result_processor(dialect, None)


class FastReader:
    """Dedicated read connections for ``Prepared`` statements.

    SQLite: one connection per thread, used synchronously on the event loop.
    These reads are short, indexed and bounded (a page of a timeline, marks
    on twenty posts): a tenth of a millisecond or so. Handing each to a worker
    thread and back, as aiosqlite does, cost more than running it, and under
    load the two threads spent their time passing the GIL back and forth.
    A WAL reader never waits for writers; the short busy timeout below only
    covers the rare moment SQLite itself needs the file.
    PostgreSQL: an asyncpg pool.
    """

    def __init__(self, url: str, dialect: Dialect, *, size: int, server_settings: dict[str, str]):
        self.dialect = dialect
        self.sqlite = dialect.name == "sqlite"
        self._url = url
        self._size = max(1, size)
        self._server_settings = server_settings
        self._lock = asyncio.Lock()
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._pg_pool: Any = None
        # Waiting for a pooled connection in arrival order. asyncpg's pool
        # queue lets a newcomer take a connection that was just handed to a
        # waiter, and the waiter goes back to the end of the queue: under
        # load a few requests waited many times over and made the p99 four
        # times the median. asyncio's Semaphore does not let newcomers pass.
        self._turns = asyncio.Semaphore(self._size)

    def compiled(self, prepared: Prepared) -> _Compiled:
        return prepared.compiled(self.dialect)

    async def all(self, prepared: Prepared, *, raw: bool = False, **values: Any) -> list[Row]:
        """The rows, with values as SQLAlchemy gives them, or as the driver
        does with ``raw`` (for callers that process only what they use)."""
        compiled = prepared.compiled(self.dialect)
        sql, arguments = compiled.statement(values)
        try:
            if compiled.sqlite:
                rows: Any = self._sqlite().execute(sql, arguments).fetchall()
                # The read ran on the loop without giving it a turn: yield
                # one, so that a page of such reads is not one long turn that
                # holds every other request and that admission control
                # (roost/api/admission.py, which tells a queue by the loop's
                # turns) takes for a queue.
                await asyncio.sleep(0)
            else:
                pool = await self._pool()
                async with self._turns:
                    rows = await pool.fetch(sql, *arguments)
        except Exception as error:
            if _link_error(error):
                raise Unavailable("the database cannot be reached right now") from error
            raise
        return compiled.rows(rows, processed=not raw)

    def _sqlite(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if not self._url or self._url == ":memory:":
                raise RuntimeError("prepared reads need a database file, not an in-memory one")
            conn = sqlite3.connect(self._url, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=200")
            # Nothing is written through these connections, ever.
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            self._opened.append(conn)
        return conn

    async def _pool(self) -> Any:
        if self._pg_pool is None:
            async with self._lock:
                if self._pg_pool is None:
                    import asyncpg  # type: ignore[import-untyped]

                    self._pg_pool = await asyncpg.create_pool(
                        self._url,
                        min_size=1,
                        max_size=self._size,
                        server_settings=self._server_settings,
                        init=_pg_codecs,
                        reset=_keep_session,
                        timeout=10,
                    )
        return self._pg_pool

    async def close(self) -> None:
        opened, self._opened = self._opened, []
        self._local = threading.local()
        for conn in opened:
            with contextlib.suppress(Exception):
                conn.close()
        if self._pg_pool is not None:
            pool, self._pg_pool = self._pg_pool, None
            with contextlib.suppress(Exception):
                await pool.close()
            # A semaphore belongs to the event loop that first waited on it; a
            # reader reopened later may run on another.
            self._turns = asyncio.Semaphore(self._size)


async def _pg_codecs(conn: Any) -> None:
    # JSON as text, decoded by _result_processor, as SQLite hands it over.
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, encoder=lambda v: orjson.dumps(v).decode(), decoder=str, schema="pg_catalog"
        )


async def _keep_session(conn: Any) -> None:
    """Nothing to undo when a connection goes back to the pool: these
    connections only ever run single read statements, never SET, LISTEN, a
    cursor or an advisory lock. (asyncpg's default reset is one more round
    trip on every read; an open transaction is still rolled back before this.)"""


def _link_error(error: BaseException) -> bool:
    if isinstance(error, (OSError, ConnectionError)):
        return True
    name = type(error).__name__
    return name in {"ConnectionDoesNotExistError", "InterfaceError", "CannotConnectNowError"} or (
        name == "OperationalError"
        and any(word in str(error) for word in ("unable to open", "locked", "busy"))
    )
