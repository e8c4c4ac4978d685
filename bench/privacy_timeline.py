"""Home and public timelines for an account that mutes 100 and blocks 100 accounts.

    .venv/bin/python -m bench.privacy_timeline [--seconds 10] [--connections 16 64]

Builds a fresh embedded data directory (the viewer of bench.http_timeline,
following 400 accounts that wrote 20,000 posts), then has the viewer mute 100
of the followed accounts and block 100 others (a block also ends the follow),
through the real actions. A second account, "plain", follows the same 400 and
mutes and blocks nobody. Starts ``roost serve`` on 127.0.0.1 and loads
``GET /livez``, and the home and public timelines (20 posts) as each viewer.
Prints req/s, p50 and p99 for each, and each timeline's req/s as a share of
the trivial endpoint's and of the plain viewer's, measured in this run.
Exits 1 if any answer was an error, or if a muted or blocked account shows up
on the viewer's timelines (the figures would then mean nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench import _load, _results, _seed, _server
from roost.config import load_settings
from roost.db.engine import Database
from roost.domain.accounts.actions import NewAccount, do_create_account
from roost.domain.graph.actions import do_block, do_follow, do_mute
from roost.domain.oauth.actions import do_issue_token
from roost.domain.oauth.scopes import parse as parse_scopes
from roost.domain.types import Viewer
from roost.process import prepare_process

TRIVIAL = "/livez"
HOME = "/api/v1/timelines/home"
PUBLIC = "/api/v1/timelines/public"
MUTED = 100
BLOCKED = 100


async def _quiet_down(
    data_dir: Path, viewer_id: int, author_ids: list[int]
) -> tuple[str, set[str]]:
    """Mute and block as the viewer; make the plain viewer. Returns the plain
    viewer's token and the ids of the muted and blocked accounts."""
    settings = load_settings(data_dir=data_dir, database_url="", redis_url="", domain="localhost")
    prepare_process(settings)
    db = Database(settings)
    viewer = Viewer(account_id=viewer_id)
    muted, blocked = author_ids[:MUTED], author_ids[MUTED : MUTED + BLOCKED]
    try:
        async with db.write() as tx:
            for account_id in muted:
                await do_mute(tx, viewer, account_id)
            for account_id in blocked:
                await do_block(tx, viewer, account_id)
            plain_id = await do_create_account(
                tx, NewAccount("plain", "plain@example.org", "a long enough password")
            )
            for account_id in author_ids:
                await do_follow(tx, Viewer(account_id=plain_id), account_id)
            issued = await do_issue_token(tx, plain_id, None, parse_scopes("read"))
    finally:
        await db.dispose()
    return issued.token, {str(i) for i in muted + blocked}


def _page(url: str, token: str) -> list[dict[str, object]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        page: list[dict[str, object]] = json.loads(response.read())
    return page


def _check(base: str, token: str, quiet: set[str]) -> None:
    """Full pages, and nobody muted or blocked on them."""
    for path in (HOME, PUBLIC):
        page = _page(base + path, token)
        if len(page) != 20:
            raise RuntimeError(f"expected 20 posts on {path}, got {len(page)}")
        shown = {str(s["account"]["id"]) for s in page}  # type: ignore[index]
        if shown & quiet:
            raise RuntimeError(f"{path} shows muted or blocked accounts: {shown & quiet}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument(
        "--builtin", action="store_true", help="use the asyncio load generator even if wrk is here"
    )
    args = parser.parse_args(argv)
    authors = 2 * (MUTED + BLOCKED)

    print(f"load generator: {_load.generator(builtin=args.builtin)}")
    print(_server.machine())
    with tempfile.TemporaryDirectory(prefix="roost-bench-") as scratch:
        data_dir = Path(scratch) / "data"
        started = time.perf_counter()
        seeded = _seed.seed(data_dir, authors=authors, posts=args.posts)
        plain_token, quiet = asyncio.run(_quiet_down(data_dir, seeded.viewer_id, seeded.author_ids))
        print(
            f"seeded {seeded.posts} posts by {authors} accounts; the viewer mutes {MUTED} "
            f"and blocks {BLOCKED} of them ({time.perf_counter() - started:.1f}s)"
        )
        tokens = {"quiet": seeded.token, "plain": plain_token}
        with _server.running(data_dir, **_server.CAPACITY) as server:
            _check(server.base, seeded.token, quiet)

            def run(
                path: str, who: str | None, connections: int, seconds: float
            ) -> _load.LoadResult:
                headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
                return _load.measure(
                    _server.HOST,
                    server.port,
                    path,
                    connections=connections,
                    seconds=seconds,
                    headers=headers,
                    builtin=args.builtin,
                )

            cases = [
                (TRIVIAL, None),
                (HOME, "plain"),
                (HOME, "quiet"),
                (PUBLIC, "plain"),
                (PUBLIC, "quiet"),
            ]
            for path, who in cases:
                run(path, who, 16, 2.0)  # warm up
            header = f"{'endpoint':<30}{'viewer':>8}{'conns':>6}{'req/s':>10}"
            print(f"\n{header}{'p50 ms':>9}{'p99 ms':>9}")
            failed = False
            summary: list[str] = []
            figures: dict[str, _results.Figure] = {}
            for connections in args.connections:
                results = {case: run(*case, connections, args.seconds) for case in cases}
                for (path, who), result in results.items():
                    line = (
                        f"GET {path:<26}{who or '-':>8}{connections:>6}{result.rps:>10.1f}"
                        f"{result.p50_ms:>9.2f}{result.p99_ms:>9.2f}"
                    )
                    if result.errors or result.bad_status:
                        line += f"  ({result.errors} failed, {result.bad_status} non-2xx)"
                        failed = True
                    print(line)
                    name = path.strip("/").split("/")[-1] + (f"_{who}" if who else "")
                    figures |= _results.load_figures(f"{name}_c{connections}", result)
                trivial = results[(TRIVIAL, None)].rps or float("nan")
                for path in (HOME, PUBLIC):
                    quiet_rps = results[(path, "quiet")].rps
                    plain_rps = results[(path, "plain")].rps or float("nan")
                    tail = path.strip("/").split("/")[-1]
                    figures[f"{tail}_quiet_share_c{connections}"] = _results.higher(
                        quiet_rps / trivial
                    )
                    summary.append(
                        f"{path} at {connections} connections, muting {MUTED} and blocking "
                        f"{BLOCKED}: {quiet_rps / trivial:.1%} of /livez, "
                        f"{quiet_rps / plain_rps:.0%} of the same timeline without them"
                    )
            _check(server.base, seeded.token, quiet)
    print(f"\n{_server.machine()} (after)")
    print("\n".join(summary))
    if failed:
        print("some requests failed: these figures are not valid", file=sys.stderr)
        return 1
    _results.record("privacy_timeline", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
