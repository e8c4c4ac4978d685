"""Hot read paths: statements compiled once, run on dedicated read connections.

Going through SQLAlchemy's execution machinery costs about 0.3 ms per
statement here (pool checkout and reset, cache-key generation, result
wrapping), several times what SQLite takes to answer a page of a timeline.
For the few reads every request makes (a timeline page, the viewer's marks on
its posts) that overhead dominated. ``Prepared`` compiles a Core statement
once per dialect into SQL text with positional parameters and keeps
SQLAlchemy's own bind and result processors, so values come back exactly as
through SQLAlchemy (aware datetimes, decoded JSON, booleans). ``FastReader``
runs it on connections of its own: a few read-only aiosqlite connections when
embedded, an asyncpg pool when scaled. Writes never come here.

Lists of ids are passed as one parameter (``id_list``): a JSON array read with
``json_each`` on SQLite, an ``ANY`` over an array on PostgreSQL, so the SQL
text stays the same whatever the length.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, BindParameter, ColumnElement, Executable, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnClause
from sqlalchemy.types import Boolean

from roost.errors import Unavailable

Row = tuple[Any, ...]


class _InIdList(ColumnElement[bool]):
    """``column IN <the ids passed as one parameter>``."""

    inherit_cache = True
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], param: BindParameter[Any]) -> None:
        self.column = column
        self.param = param


@compiles(_InIdList, "sqlite")
def _in_ids_sqlite(element: _InIdList, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    param = compiler.process(element.param, **kw)
    return f"{column} IN (SELECT value FROM json_each({param}))"


@compiles(_InIdList, "postgresql")
def _in_ids_postgresql(element: _InIdList, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    param = compiler.process(element.param, **kw)
    return f"{column} = ANY(CAST({param} AS BIGINT[]))"


class IdList(list[int]):
    """A list of ids bound as one parameter (see ``id_list``)."""


def id_list(column: ColumnElement[Any] | ColumnClause[Any], name: str) -> ColumnElement[bool]:
    """True where ``column`` is one of the ids passed as parameter ``name``."""
    return _InIdList(column, bindparam(name))


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
        self.keys = [column[0] for column in compiled._result_columns]

    def arguments(self, values: dict[str, Any]) -> list[Any]:
        out: list[Any] = []
        for key, required, constant, processor in self.params:
            if key in values:
                value = values[key]
            elif required:
                raise KeyError(f"no value for the parameter {key!r}")
            else:
                value = constant
            if isinstance(value, IdList):
                out.append(orjson.dumps(value).decode() if self.sqlite else list(value))
                continue
            out.append(processor(value) if processor is not None else value)
        return out

    def rows(self, raw: Sequence[Sequence[Any]], *, processed: bool = True) -> list[Row]:
        if not processed or not self.any_processor:
            return [tuple(r) for r in raw]
        procs = self.processors
        return [tuple(v if p is None else p(v) for p, v in zip(procs, r, strict=True)) for r in raw]

    def process(self, values: Sequence[Any], start: int = 0) -> Row:
        """Raw values of columns ``start``... as SQLAlchemy would hand them back."""
        procs = self.processors[start:]
        return tuple(v if p is None else p(v) for p, v in zip(procs, values, strict=True))


def _json_value(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, (str, bytes)) else value


def _result_processor(type_: Any, dialect: Dialect) -> Any:
    # JSON arrives as text from both drivers here (see _pg_codecs), which keeps
    # raw rows hashable for callers that cache by them.
    if isinstance(type_, JSON):
        return _json_value
    return type_._cached_result_processor(dialect, None)


class FastReader:
    """Dedicated read connections for ``Prepared`` statements."""

    def __init__(self, url: str, dialect: Dialect, *, size: int, server_settings: dict[str, str]):
        self.dialect = dialect
        self._url = url
        self._size = max(1, size)
        self._server_settings = server_settings
        self._lock = asyncio.Lock()
        self._idle: list[Any] = []
        self._count = 0
        self._waiters: asyncio.Queue[Any] | None = None
        self._pg_pool: Any = None

    def compiled(self, prepared: Prepared) -> _Compiled:
        return prepared.compiled(self.dialect)

    async def all(self, prepared: Prepared, *, raw: bool = False, **values: Any) -> list[Row]:
        """The rows, with values as SQLAlchemy gives them, or as the driver
        does with ``raw`` (for callers that process only what they use)."""
        compiled = prepared.compiled(self.dialect)
        arguments = compiled.arguments(values)
        try:
            if compiled.sqlite:
                async with self._sqlite() as conn:
                    rows = await conn.execute_fetchall(compiled.sql, arguments)
            else:
                pool = await self._pool()
                rows = await pool.fetch(compiled.sql, *arguments)
        except Exception as error:
            if _link_error(error):
                raise Unavailable("the database cannot be reached right now") from error
            raise
        return compiled.rows(rows, processed=not raw)

    @contextlib.asynccontextmanager
    async def _sqlite(self) -> AsyncIterator[Any]:
        conn = self._idle.pop() if self._idle else None
        if conn is None:
            if self._count < self._size:
                self._count += 1
                try:
                    conn = await _open_sqlite(self._url)
                except BaseException:
                    self._count -= 1
                    raise
            else:
                if self._waiters is None:
                    self._waiters = asyncio.Queue()
                conn = await self._waiters.get()
        try:
            yield conn
        finally:
            if self._waiters is not None and self._waiters._getters:  # type: ignore[attr-defined]
                self._waiters.put_nowait(conn)
            else:
                self._idle.append(conn)

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
                        timeout=10,
                    )
        return self._pg_pool

    async def close(self) -> None:
        idle, self._idle, self._count = self._idle, [], 0
        for conn in idle:
            with contextlib.suppress(Exception):
                await conn.close()
        if self._pg_pool is not None:
            pool, self._pg_pool = self._pg_pool, None
            with contextlib.suppress(Exception):
                await pool.close()


async def _open_sqlite(path: str) -> Any:
    import aiosqlite

    conn = await aiosqlite.connect(path, isolation_level=None)
    await conn.execute("PRAGMA busy_timeout=10000")
    # Nothing written through these connections, ever.
    await conn.execute("PRAGMA query_only=ON")
    return conn


async def _pg_codecs(conn: Any) -> None:
    # JSON as text, decoded by _result_processor, as SQLite hands it over.
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, encoder=lambda v: orjson.dumps(v).decode(), decoder=str, schema="pg_catalog"
        )


def _link_error(error: BaseException) -> bool:
    if isinstance(error, (OSError, ConnectionError)):
        return True
    name = type(error).__name__
    return name in {"ConnectionDoesNotExistError", "InterfaceError", "CannotConnectNowError"} or (
        name == "OperationalError" and "unable to open" in str(error)
    )
