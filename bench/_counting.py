"""Database round trips and Redis commands counted inside a ``roost`` process.

    python -m bench._counting serve ...      (the same arguments as ``roost``)

Runs the ``roost`` command line with counters installed, for benchmarks only
(nothing under roost/ imports this module, so a production process never
counts):

- every PostgreSQL round trip of asyncpg, whoever asks (SQLAlchemy's
  connections and the prepared-read pool alike), by kind: a simple query
  (``BEGIN``, ``COMMIT``, ``ROLLBACK``, the pool's ping), a ``prepare`` (a
  statement the connection had not prepared yet), a bind-and-execute;
- the statements SQLAlchemy runs (``before_cursor_execute``) and the prepared
  reads (``FastReader.all``), to tell which path asked;
- Redis round trips (one per packed send: a pipeline is one) and commands.

The server answers ``GET /__bench/counts`` with the counters so far (JSON),
before any of Roost's middleware: a benchmark reads them before and after a
route's requests and divides the difference by the requests answered. The
counters cost a Python call per round trip, a few microseconds, next to the
milliseconds of a request.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import orjson

COUNTS: Counter[str] = Counter()
# Each round trip's statement (its first 100 characters) or Redis command.
STATEMENTS: Counter[str] = Counter()
PATH = "/__bench/counts"

# asyncpg protocol methods that are one round trip each.
_PROTOCOL_TRIPS = {
    "query": "pg_simple",
    "prepare": "pg_prepare",
    "bind_execute": "pg_execute",
    "bind_execute_many": "pg_execute",
    "bind": "pg_execute",
    "execute": "pg_execute",
    "close_statement": "pg_close",
    "copy_in": "pg_copy",
    "copy_out": "pg_copy",
}


class _CountingProtocol:
    """asyncpg's (compiled) protocol object, counted."""

    def __init__(self, inner: Any) -> None:
        object.__setattr__(self, "_inner", inner)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        kind = _PROTOCOL_TRIPS.get(name)
        if kind is None:
            return value

        def counted(*args: Any, **kwargs: Any) -> Any:
            COUNTS[kind] += 1
            COUNTS["pg_round_trips"] += 1
            STATEMENTS[f"{kind}: {_text([*args, *kwargs.values()])}"] += 1
            return value(*args, **kwargs)

        return counted

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)


def _text(args: Any) -> str:
    for arg in args:
        query = getattr(arg, "query", arg)  # a prepared statement's state
        if isinstance(query, str) and (" " in query or query.isupper() or query == ";"):
            return " ".join(query.split())[:100]
    return "?"


def install() -> None:
    import asyncpg.connection  # type: ignore[import-untyped]
    import redis.asyncio.connection as redis_connection
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from roost.db import fastread

    plain_init = asyncpg.connection.Connection.__init__

    def init(self: Any, protocol: Any, *args: Any, **kwargs: Any) -> None:
        plain_init(self, protocol, *args, **kwargs)
        self._protocol = _CountingProtocol(self._protocol)

    asyncpg.connection.Connection.__init__ = init

    @event.listens_for(Engine, "before_cursor_execute")
    def _statement(*_args: Any) -> None:
        COUNTS["sqlalchemy_statements"] += 1

    plain_all = fastread.FastReader.all

    async def all_(self: Any, *args: Any, **kwargs: Any) -> Any:
        COUNTS["prepared_reads"] += 1
        return await plain_all(self, *args, **kwargs)

    fastread.FastReader.all = all_  # type: ignore[method-assign]

    conn_class = redis_connection.AbstractConnection
    plain_send = conn_class.send_packed_command
    plain_pack = conn_class.pack_command
    plain_pack_many = conn_class.pack_commands

    async def send(self: Any, *args: Any, **kwargs: Any) -> Any:
        COUNTS["redis_round_trips"] += 1
        return await plain_send(self, *args, **kwargs)

    def pack(self: Any, *args: Any) -> Any:
        COUNTS["redis_commands"] += 1
        STATEMENTS[f"redis: {args[0]!r}"] += 1
        return plain_pack(self, *args)

    def pack_many(self: Any, commands: Any) -> Any:
        commands = list(commands)
        COUNTS["redis_commands"] += len(commands)
        for command in commands:
            STATEMENTS[f"redis (pipelined): {command[0]!r}"] += 1
        return plain_pack_many(self, commands)

    conn_class.send_packed_command = send  # type: ignore[method-assign]
    conn_class.pack_command = pack  # type: ignore[method-assign]
    conn_class.pack_commands = pack_many  # type: ignore[method-assign]


class _CountsApp:
    """The app, with ``GET /__bench/counts`` answered before it."""

    def __init__(self, app: Any) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == PATH:
            shown = STATEMENTS if scope.get("query_string") == b"statements" else COUNTS
            body = orjson.dumps(dict(shown))
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self._app(scope, receive, send)


def main() -> int:
    install()
    import roost.app

    plain_create = roost.app.create_app

    def create_app(*args: Any, **kwargs: Any) -> Any:
        return _CountsApp(plain_create(*args, **kwargs))

    roost.app.create_app = create_app
    from roost.cli.entry import main as roost_main

    sys.argv[0] = "roost"
    roost_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
