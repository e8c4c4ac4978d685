"""Overload: the home timeline at ten times the connections one process can serve.

    .venv/bin/python -m bench.overload [--seconds 10] [--factor 10] [--scaled]

Builds a fresh embedded data directory (the viewer of bench.http_timeline:
following 200 accounts that wrote 20,000 posts), starts ``roost serve`` on
127.0.0.1, and:

1. loads the home timeline at a few low connection counts (1, 2, 4, 8, 16),
   twice, keeping each count's better round (other work on the machine only
   takes throughput away), timing the answered (2xx) requests apart from
   refusals (503);
2. takes the knee: the fewest connections whose throughput is at least 90% of
   the best seen. Its p99 is the baseline: the latency of a server that is
   fully busy but not overloaded (below the knee the server idles between
   requests, above it requests only wait);
3. loads the home timeline at ``--factor`` times the knee's connections while
   a prober opens a fresh connection for ``GET /livez`` every 100 ms, as an
   orchestrator's liveness check does;
4. does the same against a server with admission control on.

Steps 1 to 3 run with admission control off (the server's own capacity, and
what overload did to it before).

Prints the p99 of the admitted requests against the baseline (target: within
2x), the share refused, and /livez's latency during the overload (target:
under 100 ms). Exits 1 if, with admission control on, any request failed or
timed out, or an answer other than 2xx or 503 came back.

``--scaled`` runs the same on PostgreSQL + Redis (bench/_scaled.py; one server
process, 5,000 posts by default there). ``--set NAME=VALUE`` gives the server
with admission on a setting (``--set max_in_flight=32``); ``--versus NAME=VALUE``
overloads one more server with other settings against the same knee
(``--set adaptive_in_flight=true --versus adaptive_in_flight=false``: the
adaptive limit against the fixed ones); ``--repeat N`` measures knee and overload N times on
the same data, the two servers taking turns at going first.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import _load, _results, _scaled, _seed, _server
from roost.db.engine import Database

HOME = "/api/v1/timelines/home"
SWEEP = (1, 2, 4, 8, 16)
KNEE_SHARE = 0.9
TARGET_RATIO = 2.0
TARGET_LIVEZ_MS = 100.0
PROBE_EVERY_S = 0.1
PROBE_TIMEOUT_S = 10.0
# Latencies are taken, and /livez probed, from the first second on: the
# figures wanted are those of the overload, not of the load generator's
# connections all opening at once (a busy server accepts them one per turn of
# its loop; docs/operations.md, "Overload").
SETTLE_S = 1.0
WARM_UP_S = 2.0


@dataclass(frozen=True)
class Probes:
    latencies_ms: list[float]  # sorted, of the probes answered 200
    failed: int  # not answered 200 within PROBE_TIMEOUT_S

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        index = min(len(self.latencies_ms) - 1, max(0, round(p / 100 * len(self.latencies_ms)) - 1))
        return self.latencies_ms[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--factor", type=int, default=10, help="times the knee's connections")
    parser.add_argument("--sweep", type=int, nargs="+", default=list(SWEEP))
    parser.add_argument("--rounds", type=int, default=2, help="of the sweep; the best kept")
    parser.add_argument(
        "--overload",
        type=int,
        default=0,
        help="connections to overload with (default: factor x knee)",
    )
    parser.add_argument("--authors", type=int, default=200)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--scaled", action="store_true", help="PostgreSQL + Redis")
    parser.add_argument("--no-compare", action="store_true", help="skip admission off")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the server with admission on, e.g. max_in_flight=32",
    )
    parser.add_argument(
        "--versus",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="also overload a server with these settings, against the same knee "
        "(e.g. adaptive_in_flight=false)",
    )
    parser.add_argument(
        "--builtin", action="store_true", help="use the asyncio load generator even if wrk is here"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure the knee and the overload this many times on the same data; "
        "with --versus, the two servers take turns at going first",
    )
    args = parser.parse_args(argv)
    print(f"load generator: {_load.generator(builtin=args.builtin)}")
    print(_server.machine())
    report = 0
    with _servers(args) as start:
        for run in range(args.repeat):
            if args.repeat > 1:
                print(f"\nrun {run + 1} of {args.repeat}; {_server.machine()}")
            report = max(report, _run(args, start, versus_first=run % 2 == 1))
    print(f"\n{_server.machine()} (after)")
    return report


class _Start:
    """Starts a server on the prepared data with extra settings; yields its port
    and the viewer's headers."""

    def __init__(self, data: Path | _scaled.Stack, token: str) -> None:
        self.data = data
        self.auth = {"Authorization": f"Bearer {token}"}

    @contextlib.contextmanager
    def __call__(self, **settings: str) -> Iterator[int]:
        if isinstance(self.data, Path):
            with _server.running(self.data, **settings) as server:
                yield server.port
        else:
            with _scaled.processes(self.data, ["serve"], **settings) as ports:
                yield ports[0]


@contextlib.contextmanager
def _servers(args: argparse.Namespace) -> Iterator[_Start]:
    if args.scaled:
        with _scaled.stack() as stack:
            token = _scaled.run(stack.settings(), lambda db: _seed_scaled(db, args))
            print(f"seeded {args.posts} posts by {args.authors} followed accounts (PostgreSQL)")
            yield _Start(stack, token)
        return
    with tempfile.TemporaryDirectory(prefix="roost-bench-") as scratch:
        data_dir = Path(scratch) / "data"
        started = time.perf_counter()
        seeded = _seed.seed(data_dir, authors=args.authors, posts=args.posts)
        print(
            f"seeded {seeded.posts} posts by {len(seeded.author_ids)} followed accounts "
            f"in {time.perf_counter() - started:.1f}s (SQLite)"
        )
        yield _Start(data_dir, seeded.token)


async def _seed_scaled(db: Database, args: argparse.Namespace) -> str:
    viewer, token = await _scaled.signed_in(db, "viewer")
    author_ids = await _scaled.bulk_accounts(db, "author", args.authors)
    for author in author_ids:
        await _scaled.bulk_follow(db, [viewer], author)
    await _scaled.bulk_posts(db, author_ids, args.posts)
    return token


def _run(args: argparse.Namespace, start: _Start, *, versus_first: bool = False) -> int:
    def load(port: int, connections: int, seconds: float) -> _load.AdmittedResult:
        return _load.measure_admitted(
            _server.HOST,
            port,
            HOME,
            connections=connections,
            seconds=seconds,
            headers=start.auth,
            builtin=args.builtin,
            settle_s=SETTLE_S,
        )

    settings = dict(item.split("=", 1) for item in args.set)
    if settings:
        print(f"admission on with {settings}")
    print(f"\n{'home timeline':<22}{'conns':>6}{'2xx/s':>9}{'503s':>8}{'p50 ms':>9}{'p99 ms':>9}")
    off = off_probes = None
    with start(**_server.CAPACITY) as port:
        # The server's own capacity and latency, with nothing refused.
        _check_home(port, start.auth)
        load(port, 8, WARM_UP_S)
        # Other work on the machine only ever takes throughput away: each
        # count is measured in every round and its best round kept.
        sweep: dict[int, _load.AdmittedResult] = {}
        for _ in range(args.rounds):
            for connections in args.sweep:
                result = load(port, connections, args.seconds)
                print(_row("admission off", connections, result))
                kept = sweep.get(connections)
                if kept is None or result.admitted_rps > kept.admitted_rps:
                    sweep[connections] = result
        best = max(result.admitted_rps for result in sweep.values())
        knee, baseline = next(
            (c, r) for c, r in sorted(sweep.items()) if r.admitted_rps >= KNEE_SHARE * best
        )
        first = min(sweep)
        idle = sweep[first]
        overload = args.overload or args.factor * knee
        if not args.no_compare:
            off, off_probes = _overloaded(port, overload, args.seconds, load)
            print(_row("admission off", overload, off))
    versus = dict(item.split("=", 1) for item in args.versus)
    other = other_probes = None

    def overload_versus() -> tuple[_load.AdmittedResult, Probes]:
        with start(**versus) as port:
            load(port, 8, WARM_UP_S)
            result = _overloaded(port, overload, args.seconds, load)
            print(_row("versus", overload, result[0]))
            return result

    if versus and versus_first:
        other, other_probes = overload_versus()
    with start(**settings) as port:
        load(port, 8, WARM_UP_S)
        on, on_probes = _overloaded(port, overload, args.seconds, load)
        print(_row("admission on", overload, on))
    if versus and not versus_first:
        other, other_probes = overload_versus()

    ratio = on.p99_ms / baseline.p99_ms if baseline.p99_ms else float("inf")
    print(
        f"\nknee: {knee} connections ({baseline.admitted_rps:.0f} answers/s, "
        f"p99 {baseline.p99_ms:.2f} ms; at {first} connection p99 {idle.p99_ms:.2f} ms)"
    )
    print(_summary("admission on", on, baseline, idle, first, knee, overload))
    print(_probe_line("admission on", on_probes))
    if other is not None and other_probes is not None:
        print(_summary(f"versus {versus}", other, baseline, idle, first, knee, overload))
        print(_probe_line("versus", other_probes))
    if off is not None and off_probes is not None:
        print(
            f"at {overload} connections, admission off: {off.admitted_rps:.0f} answers/s, "
            f"p99 {off.p99_ms:.2f} ms, max {off.max_ms:.0f} ms, "
            f"{off.errors} failed or timed out"
        )
        print(_probe_line("admission off", off_probes))
    if on.errors or on.other or on_probes.failed:
        print("with admission on, some requests failed: see above", file=sys.stderr)
        return 1
    _results.record(
        "overload_scaled" if args.scaled else "overload",
        {
            "knee_rps": _results.higher(baseline.admitted_rps, "req/s"),
            "knee_p99_ms": _results.lower(baseline.p99_ms, "ms"),
            "overloaded_admitted_rps": _results.higher(on.admitted_rps, "req/s"),
            "overloaded_p99_ms": _results.lower(on.p99_ms, "ms"),
            "overloaded_p99_over_knee": _results.lower(ratio),
        },
        extra={"knee_connections": knee, "overload_connections": overload},
    )
    return 0


def _summary(
    label: str,
    on: _load.AdmittedResult,
    baseline: _load.AdmittedResult,
    idle: _load.AdmittedResult,
    first: int,
    knee: int,
    overload: int,
) -> str:
    ratio = on.p99_ms / baseline.p99_ms if baseline.p99_ms else float("inf")
    return (
        f"at {overload} connections ({overload / knee:g}x the knee), {label}: "
        f"{on.admitted_rps:.0f} answers/s ({on.admitted_rps / baseline.admitted_rps:.0%} of the "
        f"knee's), {on.refused_share:.1%} refused with 503, "
        f"admitted p99 {on.p99_ms:.2f} ms = {ratio:.2f}x the knee's "
        f"({'meets' if ratio <= TARGET_RATIO else 'ABOVE'} the {TARGET_RATIO:g}x target; "
        f"{on.p99_ms / idle.p99_ms:.2f}x the p99 at {first} connection), "
        f"max {on.max_ms:.0f} ms, {on.errors} failed or timed out"
    )


def _overloaded(
    port: int,
    connections: int,
    seconds: float,
    load: Callable[[int, int, float], _load.AdmittedResult],
) -> tuple[_load.AdmittedResult, Probes]:
    """The load at ``connections`` with /livez probed alongside."""
    stop = threading.Event()
    latencies: list[float] = []
    failed = [0]

    def probe() -> None:
        if stop.wait(SETTLE_S):
            return
        while not stop.is_set():
            took = _livez(port)
            if took is None:
                failed[0] += 1
            else:
                latencies.append(took)
            stop.wait(PROBE_EVERY_S)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    try:
        result = load(port, connections, seconds)
    finally:
        stop.set()
        prober.join(PROBE_TIMEOUT_S + 1)
    return result, Probes(sorted(latencies), failed[0])


def _livez(port: int) -> float | None:
    """Milliseconds from connecting to the status line of a 200, or None."""
    started = time.perf_counter()
    try:
        with socket.create_connection((_server.HOST, port), timeout=PROBE_TIMEOUT_S) as conn:
            conn.sendall(b"GET /livez HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
            head = conn.recv(64)
    except OSError:
        return None
    if not head.startswith(b"HTTP/1.1 200"):
        return None
    return (time.perf_counter() - started) * 1e3


def _probe_line(label: str, probes: Probes) -> str:
    if not probes.latencies_ms:
        return f"/livez during the overload, {label}: no probe answered ({probes.failed} failed)"
    p99 = probes.pct(99)
    return (
        f"/livez during the overload, {label}: {len(probes.latencies_ms)} probes, "
        f"p50 {probes.pct(50):.1f} ms, p99 {p99:.1f} ms, max {probes.latencies_ms[-1]:.1f} ms, "
        f"{probes.failed} unanswered "
        f"({'meets' if p99 < TARGET_LIVEZ_MS and not probes.failed else 'MISSES'} "
        f"the {TARGET_LIVEZ_MS:.0f} ms target)"
    )


def _row(label: str, connections: int, result: _load.AdmittedResult) -> str:
    line = (
        f"{label:<22}{connections:>6}{result.admitted_rps:>9.1f}{result.refused:>8}"
        f"{result.p50_ms:>9.2f}{result.p99_ms:>9.2f}"
    )
    if result.errors or result.other:
        line += f"  ({result.errors} failed or timed out, {result.other} other answers)"
    return line


def _check_home(port: int, headers: dict[str, str]) -> None:
    """A full page for the viewer before any load (in scaled mode this read
    also builds the Redis timeline)."""
    request = urllib.request.Request(f"http://{_server.HOST}:{port}{HOME}", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        page = json.load(response)
    if len(page) != 20:
        raise SystemExit(f"home timeline answered {len(page)} posts, expected 20")


if __name__ == "__main__":
    sys.exit(main())
