"""The home timeline served from Redis, against a trivial endpoint of the same stack.

    .venv/bin/python -m bench.redis_timeline [--seconds 10] [--connections 64]

Scaled stack (PostgreSQL + Redis, see bench/_scaled.py), one ``roost serve``
process: one viewer following 200 accounts that wrote 5,000 posts. Loads
``GET /livez`` and ``GET /api/v1/timelines/home`` (20 posts) over keep-alive
connections and prints req/s, p50, p99 and the home timeline's req/s as a share
of /livez's, measured in this run. Targets: at least 30%, p99 under 50 ms. For
context it then measures the same home timeline with Redis switched off (the
SQL store on the same PostgreSQL), and the recovery after FLUSHALL under read
load by many viewers (bench/_recovery.py). Exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request

from bench import _load, _recovery, _results, _scaled, _server
from roost.db.engine import Database

TRIVIAL = "/livez"
HOME = "/api/v1/timelines/home"
TARGET_SHARE = 0.30
TARGET_P99_MS = 50.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--authors", type=int, default=200)
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--viewers", type=int, default=100, help="for the FLUSHALL recovery")
    parser.add_argument("--no-recovery", action="store_true")
    parser.add_argument(
        "--no-sql", action="store_true", help="skip the SQL-store comparison (slow on many posts)"
    )
    args = parser.parse_args(argv)
    print(f"load generator: {_load.generator()}")
    print(_server.machine())
    failed = False
    with _scaled.stack() as stack:
        token, author_ids = _scaled.run(
            stack.settings(), lambda db: _seed(db, args.authors, args.posts)
        )
        auth = {"Authorization": f"Bearer {token}"}
        results: dict[str, _load.LoadResult] = {}
        stores: list[tuple[str, dict[str, str]]] = [("redis", {})]
        if not args.no_sql:
            stores.append(("sql", {"redis_url": ""}))
        for label, env in stores:
            with _scaled.processes(stack, ["serve"], **_server.CAPACITY, **env) as ports:
                port = ports[0]
                _check_home(port, auth)

                def load(path: str, seconds: float, port: int = port) -> _load.LoadResult:
                    return _load.measure(
                        _server.HOST,
                        port,
                        path,
                        connections=args.connections,
                        seconds=seconds,
                        headers=auth if path == HOME else {},
                    )

                for path in (TRIVIAL, HOME):
                    load(path, 2.0)  # warm up
                if label == "redis":
                    results["livez"] = load(TRIVIAL, args.seconds)
                results[label] = load(HOME, args.seconds)
        recovery = None
        if not args.no_recovery:
            tokens = _scaled.run(
                stack.settings(), lambda db: _viewers(db, author_ids, args.viewers)
            )
            with _scaled.processes(stack, ["serve"], **_server.CAPACITY) as ports:
                for viewer_token in tokens:
                    _check_home(ports[0], {"Authorization": f"Bearer {viewer_token}"})
                recovery = _recovery.measure(
                    ports[0],
                    HOME,
                    tokens,
                    stack.redis_url,
                    connections=32,
                    flush_at_s=4.0,
                    seconds=12.0,
                )
    print(f"\n{'endpoint':<34}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for label in ("livez", "redis", "sql"):
        if label not in results:
            continue
        result = results[label]
        name = {"livez": "GET /livez", "redis": "home (Redis)", "sql": "home (SQL, no Redis)"}
        print(
            f"{name[label]:<34}{args.connections:>6}{result.rps:>10.1f}"
            f"{result.p50_ms:>9.2f}{result.p99_ms:>9.2f}"
        )
        failed |= bool(result.errors or result.bad_status)
    share = results["redis"].rps / results["livez"].rps if results["livez"].rps else 0.0
    p99 = results["redis"].p99_ms
    print(f"\n{_server.machine()} (after)")
    print(
        f"home from Redis / livez at {args.connections} connections: {share:.1%} "
        f"({'meets' if share >= TARGET_SHARE else 'BELOW'} the {TARGET_SHARE:.0%} target); "
        f"p99 {p99:.1f} ms ({'meets' if p99 < TARGET_P99_MS else 'ABOVE'} the "
        f"{TARGET_P99_MS:.0f} ms target)"
    )
    if recovery is not None:
        back = f"{recovery.recovered_s:.1f} s" if recovery.recovered_s is not None else "not"
        print(
            f"FLUSHALL under read load ({args.viewers} viewers, 32 connections, built-in "
            f"client): p99 {recovery.before_p99_ms:.1f} ms before, worst half-second "
            f"{recovery.worst_p99_ms:.1f} ms after; back within {_recovery.BACK_WITHIN}x "
            f"after {back}; {recovery.errors} errors in {recovery.requests} requests"
        )
        failed |= bool(recovery.errors)
    if failed:
        print("some requests failed: these figures are not valid", file=sys.stderr)
        return 1
    figures = {"home_redis_share": _results.higher(share)}
    for label, result in results.items():
        figures |= _results.load_figures(label, result)
    _results.record("redis_timeline", figures)
    return 0


async def _seed(db: Database, authors: int, posts: int) -> tuple[str, list[int]]:
    viewer, token = await _scaled.signed_in(db, "viewer")
    author_ids = await _scaled.bulk_accounts(db, "author", authors)
    for author in author_ids:
        await _scaled.bulk_follow(db, [viewer], author)
    await _scaled.bulk_posts(db, author_ids, posts)
    return token, author_ids


async def _viewers(db: Database, author_ids: list[int], count: int) -> list[str]:
    """``count`` more viewers, each following a quarter of the authors."""
    viewers = [await _scaled.signed_in(db, f"reader{n}") for n in range(count)]
    for index, author in enumerate(author_ids):
        followers = [v for n, (v, _) in enumerate(viewers) if (n + index) % 4 == 0]
        await _scaled.bulk_follow(db, followers, author)
    return [token for _, token in viewers]


def _check_home(port: int, headers: dict[str, str]) -> None:
    """A full page for the viewer (this first read also builds the Redis timeline)."""
    request = urllib.request.Request(f"http://{_server.HOST}:{port}{HOME}", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        page = json.load(response)
    if len(page) != 20:
        raise SystemExit(f"home timeline answered {len(page)} posts, expected 20")


if __name__ == "__main__":
    sys.exit(main())
