"""Anonymous profile and post pages against a trivial endpoint, over HTTP, on
the same server.

    .venv/bin/python -m bench.web_pages [--seconds 10] [--connections 16 64]

Builds a fresh embedded data directory (accounts with posts, written through
the domain's actions as the API's are), starts ``roost serve`` on 127.0.0.1,
and loads ``GET /livez``, a profile page (``/@author000``, its 20 newest
posts) and a post page (``/@author000/ID``, with its thread) as nobody, at
each connection count. Prints req/s, p50 and p99 for each, and each page's
req/s as a share of the trivial endpoint's measured in this run. Pages for
nobody in particular come from the page cache (roost/web/cache.py) after the
first view, which is what a visitor meets (until something on the page
changes). Exits 1 if any answer was an error.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench import _load, _results, _seed, _server

TRIVIAL = "/livez"
WARM_UP_S = 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--authors", type=int, default=50)
    parser.add_argument("--posts", type=int, default=5_000)
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
            f"seeded {seeded.posts} posts by {len(seeded.author_ids)} accounts "
            f"in {time.perf_counter() - started:.1f}s"
        )
        with _server.running(data_dir, **_server.CAPACITY) as server:
            post_id = _newest_post(server.base, seeded.token, seeded.author_ids[0])
            pages = {"profile": "/@author000", "post": f"/@author000/{post_id}"}
            for path in pages.values():
                _check_page(server.base + path)

            def run(path: str, connections: int, seconds: float) -> _load.LoadResult:
                return _load.measure(
                    _server.HOST,
                    server.port,
                    path,
                    connections=connections,
                    seconds=seconds,
                    headers={},
                    builtin=args.builtin,
                )

            for path in (TRIVIAL, *pages.values()):
                run(path, 16, WARM_UP_S)
            print(f"\n{'endpoint':<40}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
            ratios: list[tuple[str, int, float]] = []
            figures: dict[str, _results.Figure] = {}
            failed = False
            for connections in args.connections:
                trivial = run(TRIVIAL, connections, args.seconds)
                print(_row(TRIVIAL, connections, trivial))
                failed |= bool(trivial.errors or trivial.bad_status)
                for name, path in pages.items():
                    result = run(path, connections, args.seconds)
                    print(_row(path, connections, result))
                    failed |= bool(result.errors or result.bad_status)
                    share = result.rps / trivial.rps if trivial.rps else 0.0
                    ratios.append((name, connections, share))
                    key = re.sub(r"\W+", "_", name).strip("_")
                    figures |= _results.load_figures(f"{key}_c{connections}", result)
                    figures[f"{key}_share_c{connections}"] = _results.higher(share)
    print(f"\n{_server.machine()} (after)")
    for name, connections, ratio in ratios:
        print(f"{name} page / trivial at {connections} connections: {ratio:.1%}")
    if failed:
        print("some requests failed: these figures are not valid", file=sys.stderr)
        return 1
    _results.record("web_pages", figures)
    return 0


def _row(path: str, connections: int, result: _load.LoadResult) -> str:
    line = (
        f"GET {path:<36}{connections:>6}{result.rps:>10.1f}"
        f"{result.p50_ms:>9.2f}{result.p99_ms:>9.2f}"
    )
    if result.errors or result.bad_status:
        line += f"  ({result.errors} failed, {result.bad_status} non-2xx)"
    return line


def _newest_post(base: str, token: str, account_id: int) -> str:
    request = urllib.request.Request(
        f"{base}/api/v1/accounts/{account_id}/statuses?limit=1&exclude_replies=true",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        posts = json.loads(response.read())
    if not posts:
        raise RuntimeError("the seeded account has no posts")
    return str(posts[0]["id"])


def _check_page(url: str) -> None:
    """The page answers a visitor with HTML and may be cached publicly."""
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read()
        policy = response.headers.get("Cache-Control", "")
    if b"<article" not in body or not policy.startswith("public"):
        raise RuntimeError(f"{url} did not answer as a cacheable page with posts")


if __name__ == "__main__":
    sys.exit(main())
