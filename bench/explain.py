"""Each SQL read of one request per route: its time and SQLite's plan.

    .venv/bin/python -m bench.explain --keep DIR [--route home] [--slowest 5]

For a data directory kept by ``bench.growth --keep DIR`` (or
``bench.routes --profile --keep DIR``), calls each route of bench.routes once
in process (after one warm-up call), records every statement SQLite was
given on any connection (``sqlite3``'s trace hook, with the values filled
in), then runs each ``SELECT`` again alone on a read-only connection, timed,
and prints the slowest with ``EXPLAIN QUERY PLAN``. This is how a route that
is slow only on a grown database is taken apart: which statement, and
which plan.
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
from bench.routes import Route, Seeded, routes


def _traced(statements: list[str]) -> Any:
    """``sqlite3.connect`` that records what every new connection runs."""
    plain = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = plain(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    return connect


def _timed(db: Path, sql: str) -> tuple[float, int, list[str]]:
    """Milliseconds to read every row, how many rows, and the plan."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
        started = time.perf_counter()
        count = len(conn.execute(sql).fetchall())
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
    statements: list[str] = []
    sqlite3.connect = _traced(statements)
    app = create_app(load_settings(data_dir=data_dir))
    chosen = [r for r in routes(seeded) if r.kind != "trivial" and (not only or r.name in only)]

    async def body() -> dict[str, tuple[float, list[str]]]:
        found: dict[str, tuple[float, list[str]]] = {}
        headers = {"Authorization": f"Bearer {seeded.viewer_token}"}
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
        ):

            async def call(route: Route, n: int) -> None:
                if route.post_json is not None:
                    answer = await client.post(
                        route.path,
                        content=route.post_json % (2_000_000 + n),
                        headers={**headers, "Content-Type": "application/json"},
                    )
                else:
                    answer = await client.get(route.path, headers=headers if route.auth else {})
                if answer.status_code >= 300:
                    raise RuntimeError(f"{route.name}: {answer.status_code} {answer.text[:200]}")

            for n, route in enumerate(chosen):
                await call(route, 2 * n)
                statements.clear()
                started = time.perf_counter()
                await call(route, 2 * n + 1)
                found[route.name] = ((time.perf_counter() - started) * 1000, list(statements))
        return found

    db = data_dir / "roost.sqlite3"
    for name, (wall_ms, seen) in asyncio.run(body()).items():
        reads = [s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))]
        timed = sorted(((*_timed(db, sql), sql) for sql in reads), reverse=True)
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
