"""What refusing the ``no_access`` IP blocks (roost/api/ip_access.py) costs
per request that is let through.

    .venv/bin/python -m bench.ip_access_overhead [--seconds 5] [--ranges 100]

Two measurements:

1. In the process, without HTTP: the middleware in front of a trivial ASGI
   app, timed over many calls, with no range blocked and with ``--ranges``
   ranges blocked (none holding the caller's address, so every request is
   let through), from one address (its answer remembered) and from a new
   address each time; the time above the bare app is the middleware's work
   per request.
2. Against real servers (SQLite, embedded), one after the other on the same
   data: ``roost serve`` with no IP block, then with ``--ranges`` ``no_access``
   ranges, each loaded with ``GET /livez`` (the trivial endpoint). The
   overhead is the difference in time per request, printed in microseconds
   and as a share of the trivial request's time.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import _load, _seed, _server

TRIVIAL = "/livez"


def _ranges(count: int) -> list[str]:
    """``count`` /24 ranges in 10.0.0.0/8: none holds 127.0.0.1."""
    return [str(ipaddress.ip_network(f"10.{n // 256}.{n % 256}.0/24")) for n in range(count)]


def in_process(calls: int, ranges: int) -> tuple[float, float, float]:
    """Microseconds the middleware adds to one request: with no range, with
    ``ranges`` ranges from an address seen before, and from a new address."""
    from roost.api.ip_access import IpAccess
    from roost.domain.blocks.ip import AccessList, network

    async def trivial(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    scope = {
        "type": "http",
        "method": "GET",
        "path": TRIVIAL,
        "headers": [],
        "query_string": b"",
        "client": ("127.0.0.1", 5000),
    }

    async def send(message: Any) -> None:
        return None

    async def receive() -> Any:
        return {"type": "http.request"}

    def guarded(count: int) -> IpAccess:
        access = AccessList(ttl_s=3600)
        # As loaded: the ranges held in the process, fresh for the hour.
        access.hold([network(r) for r in _ranges(count)])
        return IpAccess(trivial, db=None, access=access)  # type: ignore[arg-type]

    # Every request from a new address: the remembered answers never help.
    strangers = [
        {**scope, "client": (f"127.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", 5000)}
        for n in range(calls)
    ]

    async def timed(app: Any, scopes: list[Any] | None = None) -> float:
        for _ in range(min(1000, calls)):
            await app(scope, receive, send)
        started = time.perf_counter()
        if scopes is None:
            for _ in range(calls):
                await app(scope, receive, send)
        else:
            for each in scopes:
                await app(each, receive, send)
        return (time.perf_counter() - started) / calls

    async def run() -> tuple[float, float, float]:
        bare = await timed(trivial)
        empty = await timed(guarded(0))
        full = await timed(guarded(ranges))
        new = await timed(guarded(ranges), strangers)
        return (empty - bare) * 1e6, (full - bare) * 1e6, (new - bare) * 1e6

    return asyncio.run(run())


def _block_ranges(data_dir: Path, count: int) -> None:
    from roost.db.engine import Database
    from roost.domain.blocks import ip

    async def body() -> None:
        db = Database(_seed._settings(data_dir))
        try:
            async with db.write() as tx:
                for cidr in _ranges(count):
                    await ip.do_block_ip(tx, ip.IpBlockChange(cidr, "no_access"))
        finally:
            await db.dispose()

    asyncio.run(body())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="servers of each kind")
    parser.add_argument("--calls", type=int, default=50_000, help="in-process calls")
    parser.add_argument("--ranges", type=int, default=100, help="no_access ranges blocked")
    parser.add_argument("--builtin", action="store_true", help="the asyncio load generator")
    args = parser.parse_args(argv)

    print(f"load generator: {_load.generator(builtin=args.builtin)}")
    print(_server.machine())
    empty_us, full_us, new_us = in_process(args.calls, args.ranges)
    print(
        f"in process: the middleware adds {empty_us:.2f} us per request with no range "
        f"blocked; with {args.ranges} ranges {full_us:.2f} us from an address seen before, "
        f"{new_us:.2f} us from a new one"
    )

    best: dict[str, _load.LoadResult] = {}
    with tempfile.TemporaryDirectory(prefix="roost-bench-") as scratch:
        plain = Path(scratch) / "plain"
        blocked = Path(scratch) / "blocked"
        _seed.migrate(plain)
        _seed.migrate(blocked)
        _block_ranges(blocked, args.ranges)
        for name, data_dir in (("none", plain), ("blocked", blocked)) * args.rounds:
            with _server.running(data_dir, **_server.CAPACITY) as server:
                _load.measure(
                    _server.HOST,
                    server.port,
                    TRIVIAL,
                    connections=args.connections,
                    seconds=1.0,
                    builtin=args.builtin,
                )
                result = _load.measure(
                    _server.HOST,
                    server.port,
                    TRIVIAL,
                    connections=args.connections,
                    seconds=args.seconds,
                    builtin=args.builtin,
                )
                if name not in best or result.rps > best[name].rps:
                    best[name] = result

    print(f"\n{'ranges':<10}{'endpoint':<16}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    failed = False
    for name, result in best.items():
        label = "0" if name == "none" else str(args.ranges)
        print(
            f"{label:<10}GET {TRIVIAL:<12}{result.rps:>10.1f}"
            f"{result.p50_ms:>9.2f}{result.p99_ms:>9.2f}"
        )
        failed |= bool(result.errors or result.bad_status)
    per_none = 1 / best["none"].rps
    per_blocked = 1 / best["blocked"].rps
    overhead = per_blocked - per_none
    print(f"\n{_server.machine()} (after)")
    print(
        f"over HTTP: {args.ranges} blocked ranges add {overhead * 1e6:.0f} us per request, "
        f"{overhead / per_none:+.1%} of a trivial request's time ({per_none * 1e6:.0f} us)"
    )
    print(
        f"in process: {full_us:.2f} us (new address: {new_us:.2f} us) per request = "
        f"{full_us / (per_none * 1e6):.2%} ({new_us / (per_none * 1e6):.2%}) "
        "of a trivial request's time"
    )
    if failed:
        print("some requests failed: these figures are not valid")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
