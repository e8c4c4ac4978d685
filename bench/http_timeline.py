"""The home timeline against a trivial endpoint, over HTTP, on the same server.

    .venv/bin/python -m bench.http_timeline [--seconds 10] [--connections 16 64]

Builds a fresh embedded data directory (one viewer following 200 accounts that
wrote 20,000 posts), starts ``roost serve`` on 127.0.0.1, and loads
``GET /livez`` and ``GET /api/v1/timelines/home`` (20 posts, the viewer's token)
at each connection count. Prints req/s, p50 and p99 for each, and the home
timeline's req/s as a share of the trivial endpoint's measured in this run.
Target: at least 15%. Exits 1 if any answer was an error (the figures would
then mean nothing).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench import _load, _results, _seed, _server

TRIVIAL = "/livez"
HOME = "/api/v1/timelines/home"
TARGET = 0.15
WARM_UP_S = 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--authors", type=int, default=200)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument(
        "--builtin", action="store_true", help="use the asyncio load generator even if wrk is here"
    )
    args = parser.parse_args(argv)

    print(f"load generator: {_load.generator(builtin=args.builtin)}")
    print(_server.machine())
    with tempfile.TemporaryDirectory(prefix="roost-bench-") as scratch:
        data_dir = Path(scratch) / "data"
        started = time.perf_counter()
        seeded = _seed.seed(data_dir, authors=args.authors, posts=args.posts)
        print(
            f"seeded {seeded.posts} posts by {len(seeded.author_ids)} followed accounts "
            f"in {time.perf_counter() - started:.1f}s"
        )
        auth = {"Authorization": f"Bearer {seeded.token}"}
        with _server.running(data_dir, **_server.CAPACITY) as server:
            _check_home(server.base + HOME, auth)

            def run(path: str, connections: int, seconds: float) -> _load.LoadResult:
                return _load.measure(
                    _server.HOST,
                    server.port,
                    path,
                    connections=connections,
                    seconds=seconds,
                    headers=auth if path == HOME else {},
                    builtin=args.builtin,
                )

            for path in (TRIVIAL, HOME):
                run(path, 16, WARM_UP_S)
            print(f"\n{'endpoint':<28}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
            ratios: list[tuple[int, float]] = []
            figures: dict[str, _results.Figure] = {}
            failed = False
            for connections in args.connections:
                trivial = run(TRIVIAL, connections, args.seconds)
                home = run(HOME, connections, args.seconds)
                for path, result in ((TRIVIAL, trivial), (HOME, home)):
                    print(_row(path, connections, result))
                    failed |= bool(result.errors or result.bad_status)
                ratios.append((connections, home.rps / trivial.rps if trivial.rps else 0.0))
                figures |= _results.load_figures(f"livez_c{connections}", trivial)
                figures |= _results.load_figures(f"home_c{connections}", home)
                figures[f"home_share_c{connections}"] = _results.higher(ratios[-1][1])
    print(f"\n{_server.machine()} (after)")
    for connections, ratio in ratios:
        verdict = "meets" if ratio >= TARGET else "BELOW"
        print(
            f"home / trivial at {connections} connections: {ratio:.1%} "
            f"({verdict} the {TARGET:.0%} target)"
        )
    if failed:
        print("some requests failed: these figures are not valid", file=sys.stderr)
        return 1
    generator = _load.generator(builtin=args.builtin)
    _results.record("http_timeline", figures, extra={"generator": generator})
    return 0


def _row(path: str, connections: int, result: _load.LoadResult) -> str:
    line = (
        f"GET {path:<24}{connections:>6}{result.rps:>10.1f}"
        f"{result.p50_ms:>9.2f}{result.p99_ms:>9.2f}"
    )
    if result.errors or result.bad_status:
        line += f"  ({result.errors} failed, {result.bad_status} non-2xx)"
    return line


def _check_home(url: str, headers: dict[str, str]) -> None:
    """The timeline answers the viewer with a full page before it is loaded."""
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        posts = json.loads(response.read())
    if len(posts) != 20:
        raise RuntimeError(f"expected 20 posts on the home timeline, got {len(posts)}")


if __name__ == "__main__":
    sys.exit(main())
