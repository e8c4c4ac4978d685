"""Each SQL read of one request per route: its time and the database's plan.

    .venv/bin/python -m bench.explain --keep DIR [--route home] [--slowest 5] [--top 15]

For a data directory kept by ``bench.growth --keep DIR`` (or
``bench.routes --profile --keep DIR``), calls each route of bench.routes once
in process (after one warm-up call), records every statement the database was
given with its arguments (prepared reads and SQLAlchemy's), then runs each
``SELECT`` again alone, timed, and prints the slowest with its plan. This is
how a route that is slow only on a grown database is taken apart: which
statement, and which plan.

Embedded: each read on a read-only SQLite connection, with ``EXPLAIN QUERY
PLAN``. Scaled (a directory ``bench.growth --scaled --keep DIR`` made, with
its ``stack.json``): the kept PostgreSQL database and Redis snapshot are
served in process, and each read runs under ``EXPLAIN (ANALYZE, BUFFERS)``;
its time is the plan's execution time.

Each route is also called ``--calls`` more times for its CPU ms per request
in this process (Roost's own share: the database's is in its own processes
when scaled), and ``--top N`` prints the functions it spent most in.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from bench import _server
from bench.routes import Route, Seeded, call_in_process, routes


def _recording(statements: list[tuple[str, Any]]) -> None:
    """Record every statement with its arguments as the driver gets them:
    the prepared reads' (roost/db/fastread.py) and SQLAlchemy's. With the
    values written into the text instead, SQLite may plan differently."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from roost.db import fastread

    plain = fastread._Compiled.statement

    def statement(self: Any, values: dict[str, Any]) -> tuple[str, list[Any]]:
        sql, arguments = plain(self, values)
        statements.append((sql, list(arguments)))
        return sql, arguments

    fastread._Compiled.statement = statement  # type: ignore[method-assign]

    @event.listens_for(Engine, "before_cursor_execute")
    def seen(conn: Any, cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        statements.append((sql, parameters))


def _timed(db: Path, sql: str, arguments: Any) -> tuple[float, int, list[str]]:
    """Milliseconds to read every row, how many rows, and the plan."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, arguments)]
        started = time.perf_counter()
        count = len(conn.execute(sql, arguments).fetchall())
        return (time.perf_counter() - started) * 1000, count, plan
    finally:
        conn.close()


async def _timed_postgresql(
    url: str, reads: list[tuple[str, Any]]
) -> list[tuple[float, int, list[str], str]]:
    """Each read under EXPLAIN (ANALYZE, BUFFERS): (ms, rows, plan, sql)."""
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(url)
    # EXPLAIN ANALYZE runs the statement: whatever it would change (a
    # recorded statement that writes after all) is rolled back.
    transaction = conn.transaction()
    await transaction.start()
    try:
        found = []
        for sql, arguments in reads:
            values = list(arguments.values()) if isinstance(arguments, dict) else list(arguments)
            plan = [
                row[0] for row in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *values)
            ]
            ms = next(
                (float(line.split(":")[1].split()[0]) for line in plan if "Execution Time" in line),
                0.0,
            )
            rows = len(await conn.fetch(sql, *values))
            found.append((ms, rows, plan, sql))
        return found
    finally:
        await transaction.rollback()
        await conn.close()


def explain(where: Path, only: list[str], slowest: int, calls: int, top: int) -> int:
    data_dir = where / "data"
    saved = data_dir / "bench-seeded.json"
    if not saved.is_file():
        print(f"{saved} is missing: build with bench.growth --keep {where}", file=sys.stderr)
        return 2
    seeded = Seeded(**json.loads(saved.read_text()))
    if not (where / "stack.json").is_file():
        env = _server.server_env(data_dir, **_server.CAPACITY)
        os.environ.update({k: v for k, v in env.items() if k.startswith("ROOST_")})
        return _explain(data_dir, seeded, only, slowest, calls, top, None)
    from bench import _scaled

    with _scaled.kept(where) as (stack, _):
        env = stack.env(**_server.CAPACITY)
        env["ROOST_DOMAIN"] = "localhost"
        os.environ.update({k: v for k, v in env.items() if k.startswith("ROOST_")})
        return _explain(data_dir, seeded, only, slowest, calls, top, stack.database_url)


def _explain(
    data_dir: Path,
    seeded: Seeded,
    only: list[str],
    slowest: int,
    calls: int,
    top: int,
    postgresql: str | None,
) -> int:
    import cProfile

    import httpx

    from bench.routes import _print_top
    from roost.app import create_app
    from roost.config import load_settings

    statements: list[tuple[str, Any]] = []
    _recording(statements)
    app = create_app(load_settings(data_dir=data_dir))
    chosen = [r for r in routes(seeded) if r.kind != "trivial" and (not only or r.name in only)]

    cpu_ms: dict[str, float] = {}

    async def body() -> dict[str, tuple[float, list[tuple[str, Any]]]]:
        found: dict[str, tuple[float, list[tuple[str, Any]]]] = {}
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
        ):

            async def call(route: Route, n: int) -> None:
                await call_in_process(client, route, seeded.viewer_token, 2_000_000 + n)

            for n, route in enumerate(chosen):
                await call(route, 2 * n)
                statements.clear()
                started = time.perf_counter()
                await call(route, 2 * n + 1)
                found[route.name] = ((time.perf_counter() - started) * 1000, list(statements))
                profiler = cProfile.Profile()
                cpu_before = time.process_time()
                profiler.enable()
                for n2 in range(calls):
                    await call(route, 10_000 * (n + 1) + n2)
                profiler.disable()
                cpu_ms[route.name] = (time.process_time() - cpu_before) * 1000 / max(calls, 1)
                if top:
                    _print_top(route.name, profiler, top)
                statements.clear()
        return found

    db = data_dir / "roost.sqlite3"
    for name, (wall_ms, seen) in asyncio.run(body()).items():
        reads = [s for s in seen if s[0].lstrip().upper().startswith(("SELECT", "WITH"))]
        if postgresql is None:
            unsorted = [(*_timed(db, sql, arguments), sql) for sql, arguments in reads]
        else:
            unsorted = asyncio.run(_timed_postgresql(postgresql, reads))
        timed = sorted(unsorted, key=lambda t: t[0], reverse=True)
        total = sum(t[0] for t in timed)
        print(
            f"\n== {name}: {wall_ms:.1f} ms in process, {cpu_ms.get(name, 0.0):.2f} CPU ms a call"
            f" over {calls}; {len(seen)} statements, {len(reads)} reads taking {total:.1f} ms"
            " alone"
        )
        for ms, count, plan, sql in timed[:slowest]:
            print(f"-- {ms:.2f} ms, {count} rows: {sql[:300]}{'...' if len(sql) > 300 else ''}")
            for step in plan:
                print(f"     {step}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, required=True, help="a kept data directory's parent")
    parser.add_argument("--route", action="append", default=[], help="only these routes")
    parser.add_argument("--slowest", type=int, default=5, help="statements shown per route")
    parser.add_argument("--calls", type=int, default=20, help="calls per route for its CPU ms")
    parser.add_argument("--top", type=int, default=0, help="the top functions of those calls")
    args = parser.parse_args(argv)
    return explain(args.keep, args.route, args.slowest, args.calls, args.top)


if __name__ == "__main__":
    sys.exit(main())
