"""What the API rate limits (roost/api/ratelimits.py) cost per request.

    .venv/bin/python -m bench.ratelimit_overhead [--seconds 5] [--connections 4]
    .venv/bin/python -m bench.ratelimit_overhead --redis redis://127.0.0.1:6379/0

Two measurements:

1. In the process, without HTTP: the middleware's own work for one request
   (the token looked up in the per-process cache, the limits chosen, one
   reservation in the in-process limiter, the three headers written), timed
   over many calls against a trivial ASGI app; with ``--redis``, the same
   with the shared limiter (one Lua script per request).
2. Against real servers (SQLite, embedded), one after the other on the same
   data: ``roost serve`` with every limit off, then with Mastodon's limits
   set so high that nothing is refused but every request is counted. Each is
   loaded with ``GET /livez`` (the trivial endpoint, never limited) and
   ``GET /api/v1/instance/rules`` with a bearer token (counted per account and
   per address). The overhead per request is the difference between the API
   endpoint's time per request with and without limits; it is printed in
   microseconds and as a share of the trivial endpoint's time per request on
   the same server.

Figures from a busy machine move by several per cent between runs: compare
the in-process figure first, and repeat the HTTP one.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import _load, _results, _seed, _server

API = "/api/v1/instance/rules"
TRIVIAL = "/livez"
OFF = {
    "rate_limit_requests": "0",
    "rate_limit_address_requests": "0",
    "rate_limit_media": "0",
    "rate_limit_deletes": "0",
    "rate_limit_follows": "0",
    "rate_limit_sign_ups": "0",
}
# Every request counted, none refused.
ON = {"rate_limit_requests": "100000000", "rate_limit_address_requests": "100000000"}


def in_process(calls: int, redis_url: str = "") -> float:
    """Microseconds the middleware adds to one request, in this process."""
    from roost.api.ratelimits import RateLimits
    from roost.config import load_settings
    from roost.db.engine import Database
    from roost.domain.timelines.reads import Timelines
    from roost.domain.types import Viewer
    from roost.ratelimit import MemoryRateLimiter
    from roost.services import Services
    from roost.timelines.sql import SqlTimelineStore

    async def trivial(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def run() -> float:
        with tempfile.TemporaryDirectory(prefix="roost-bench-") as scratch:
            settings = load_settings(
                data_dir=Path(scratch),
                secret_key="b" * 40,
                rate_limit_requests=100_000_000,
                rate_limit_address_requests=100_000_000,
            )
            db = Database(settings)
            limiter: Any = MemoryRateLimiter()
            link = None
            if redis_url:
                from roost.observability.metrics import Metrics
                from roost.ratelimit_redis import RedisRateLimiter
                from roost.redis_link import RedisLink

                link = RedisLink(
                    settings.model_copy(
                        update={"redis_url": redis_url, "redis_prefix": "roost-bench:"}
                    ),
                    Metrics(),
                )
                limiter = RedisRateLimiter(link, namespace="bench")
            services = Services(
                settings=settings,
                db=db,
                timelines=Timelines(SqlTimelineStore()),
                api_limiter=limiter,
            )
            middleware = RateLimits(trivial, services)
            viewer = Viewer(account_id=1, scopes=frozenset({"read"}))

            async def resolved(scope: Any) -> Viewer:
                return viewer  # the token cache's hit, without a database

            middleware._viewer = resolved  # type: ignore[method-assign]
            scope = {
                "type": "http",
                "method": "GET",
                "path": API,
                "headers": [(b"authorization", b"Bearer x")],
                "query_string": b"",
                "client": ("127.0.0.1", 5000),
            }

            async def send(message: Any) -> None:
                return None

            async def receive() -> Any:
                return {"type": "http.request"}

            async def timed(app: Any) -> float:
                for _ in range(min(1000, calls)):
                    await app(scope, receive, send)
                started = time.perf_counter()
                for _ in range(calls):
                    await app(scope, receive, send)
                return (time.perf_counter() - started) / calls

            bare = await timed(trivial)
            limited = await timed(middleware)
            if link is not None:
                await limiter.reset("api:account:1")
                await limiter.reset("api-all:addr:127.0.0.1")
                await link.close()
            await db.dispose()
            return (limited - bare) * 1e6

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="servers of each kind")
    parser.add_argument("--calls", type=int, default=50_000, help="in-process calls")
    parser.add_argument("--redis", default="", help="also time the shared limiter on this Redis")
    parser.add_argument("--builtin", action="store_true", help="the asyncio load generator")
    args = parser.parse_args(argv)

    print(f"load generator: {_load.generator(builtin=args.builtin)}")
    print(_server.machine())
    memory_us = in_process(args.calls)
    print(f"in process: the middleware adds {memory_us:.1f} us per request (in-process limiter)")
    if args.redis:
        redis_us = in_process(max(1000, args.calls // 10), args.redis)
        print(f"in process: {redis_us:.1f} us per request with the shared limiter (Redis)")

    results: dict[str, dict[str, _load.LoadResult]] = {}
    with tempfile.TemporaryDirectory(prefix="roost-bench-") as scratch:
        data_dir = Path(scratch) / "data"
        seeded = _seed.seed(data_dir, authors=5, posts=500)
        auth = {"Authorization": f"Bearer {seeded.token}"}
        # Alternately, twice each, keeping each one's better round: other work
        # on the machine only takes throughput away.
        for name, limits in (("off", OFF), ("on", ON)) * args.rounds:
            with _server.running(data_dir, **_server.CAPACITY, **limits) as server:

                def run(path: str, seconds: float, port: int = server.port) -> _load.LoadResult:
                    return _load.measure(
                        _server.HOST,
                        port,
                        path,
                        connections=args.connections,
                        seconds=seconds,
                        headers=auth if path == API else {},
                        builtin=args.builtin,
                    )

                run(TRIVIAL, 1.0)
                run(API, 1.0)
                best = results.setdefault(name, {})
                for path in (TRIVIAL, API):
                    result = run(path, args.seconds)
                    if path not in best or result.rps > best[path].rps:
                        best[path] = result

    print(f"\n{'limits':<8}{'endpoint':<28}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    failed = False
    for name, measured in results.items():
        for path, result in measured.items():
            print(
                f"{name:<8}GET {path:<24}{result.rps:>10.1f}"
                f"{result.p50_ms:>9.2f}{result.p99_ms:>9.2f}"
            )
            failed |= bool(result.errors or result.bad_status)
    per_off = 1 / results["off"][API].rps
    per_on = 1 / results["on"][API].rps
    trivial = 1 / max(results["on"][TRIVIAL].rps, results["off"][TRIVIAL].rps)
    overhead = per_on - per_off
    print(f"\n{_server.machine()} (after)")
    print(
        f"over HTTP: limits add {overhead * 1e6:.0f} us per API request "
        f"({overhead / per_off:+.1%} of the API endpoint's time), "
        f"{overhead / trivial:.1%} of a trivial request's time on the same server "
        f"({trivial * 1e6:.0f} us)"
    )
    print(
        f"in process: {memory_us:.1f} us per request = "
        f"{memory_us / (trivial * 1e6):.1%} of a trivial request's time"
    )
    if failed:
        print("some requests failed: these figures are not valid")
        return 1
    figures = {"in_process_us": _results.lower(memory_us, "us")}
    if args.redis:
        figures["in_process_redis_us"] = _results.lower(redis_us, "us")
    for name, measured in results.items():
        figures |= _results.load_figures(f"api_limits_{name}", measured[API])
    _results.record("ratelimit_overhead", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
