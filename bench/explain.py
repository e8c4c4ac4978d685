"""Each SQL read of one request per route: its time and SQLite's plan.

    .venv/bin/python -m bench.explain --keep DIR [--route home] [--slowest 5]

For a data directory kept by ``bench.growth --keep DIR`` (or
``bench.routes --profile --keep DIR``), calls each route of bench.routes once
in process (after one warm-up call), records every statement SQLite was
given with its arguments (prepared reads and SQLAlchemy's), then runs each
``SELECT`` again alone on a read-only connection, timed, and prints the
slowest with ``EXPLAIN QUERY PLAN``. This is how a route that is slow only
on a grown database is taken apart: which statement, and which plan.
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


def explain(where: Path, only: list[str], slowest: int) -> int:
    import httpx

    from roost.app import create_app
    from roost.config import load_settings

    data_dir = where / "data"
    saved = data_dir / "bench-seeded.json"
    if not saved.is_file():
        print(f"{saved} is missing: build with bench.growth --keep {where}", file=sys.stderr)
        return 2
    seeded = Seeded(**json.loads(saved.read_text()))
    os.environ.update(
        {
            k: v
            for k, v in _server.server_env(data_dir, **_server.CAPACITY).items()
            if k.startswith("ROOST_")
        }
    )
    statements: list[tuple[str, Any]] = []
    _recording(statements)
    app = create_app(load_settings(data_dir=data_dir))
    chosen = [r for r in routes(seeded) if r.kind != "trivial" and (not only or r.name in only)]

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
        return found

    db = data_dir / "roost.sqlite3"
    for name, (wall_ms, seen) in asyncio.run(body()).items():
        reads = [s for s in seen if s[0].lstrip().upper().startswith(("SELECT", "WITH"))]
        timed = sorted(
            ((*_timed(db, sql, arguments), sql) for sql, arguments in reads),
            key=lambda t: t[0],
            reverse=True,
        )
        total = sum(t[0] for t in timed)
        print(
            f"\n== {name}: {wall_ms:.1f} ms in process; {len(seen)} statements,"
            f" {len(reads)} reads taking {total:.1f} ms alone"
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
    args = parser.parse_args(argv)
    return explain(args.keep, args.route, args.slowest)


if __name__ == "__main__":
    sys.exit(main())
