"""Every route of bench.routes measured as the installation grows: 10k, 100k, 1M posts.

    .venv/bin/python -m bench.growth [--sizes 10k,100k,1m] [--seconds 3] [--scaled]
    .venv/bin/python -m bench.growth --sizes 1m --build-only
    .venv/bin/python -m bench.growth --scaled --sizes 1m --keep DIR   (then --measure)

For each size (bench/_grow.py: 10k posts and 1k accounts, 100k and 10k, 1M
and 100k) a fresh data directory in a temporary directory (``--scaled``: a
fresh PostgreSQL database and a private Redis, with a ``roost worker``) is
seeded through the domain actions as ``bench.routes`` seeds, grown in bulk,
served by ``roost serve``, and every route of ``bench.routes`` is loaded at
16 connections (posting also at one) with bench.routes' own measuring code.
The data is deleted before the next size is built.

Prints each size's build time and database size, then a table of req/s and
p99 per route per size, and checks the target: from 100k to 1M posts no
route loses more than 20% of its req/s and no p99 more than doubles. A route
that does is listed as MISSED. Results: bench/results/growth.json (or
growth_scaled.json).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import _grow, _load, _results, _server, routes

RPS_LOSS = 0.20
P99_GROWTH = 2.0


def _db_size(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in data_dir.glob("roost.sqlite3*") if p.is_file())


def _template(scratch: Path) -> tuple[Path, routes.Seeded, float]:
    """One data directory seeded by the actions, copied for each size."""
    from roost.config import load_settings

    data_dir = scratch / "seeded"
    settings = load_settings(data_dir=data_dir, database_url="", redis_url="", domain="localhost")
    started = time.perf_counter()
    seeded = asyncio.run(_grow.seed(settings))
    return data_dir, seeded, time.perf_counter() - started


@contextlib.contextmanager
def _embedded(
    scratch: Path, size: _grow.Size, template: tuple[Path, routes.Seeded, float], recent: float
) -> Iterator[tuple[int, list[int], _grow.Built, str]]:
    from roost.config import load_settings

    data_dir = scratch / f"data-{size.name}"
    shutil.copytree(template[0], data_dir)
    settings = load_settings(data_dir=data_dir, database_url="", redis_url="", domain="localhost")
    seeded = routes.Seeded(**copy.deepcopy(template[1].__dict__))
    built = asyncio.run(_grow.build(settings, size, seeded=seeded, recent=recent))
    built.seed_s = template[2]
    stored = f"{_db_size(data_dir) / 1e6:.0f} MB of SQLite"
    with _server.running(data_dir, **_server.CAPACITY) as server:
        yield server.port, [server.process.pid], built, stored


@contextlib.contextmanager
def _scaled(size: _grow.Size, recent: float) -> Iterator[tuple[int, list[int], _grow.Built, str]]:
    from bench import _scaled

    with _scaled.stack() as stack:
        settings = stack.settings(domain="localhost")
        built = asyncio.run(_grow.build(settings, size, recent=recent))
        with _scaled.serving(stack) as (port, pids):
            yield port, pids, built, "PostgreSQL"


def measure_kept(where: Path, seconds: float, builtin: bool, only: list[str]) -> int:
    """Serve a stack ``keep --scaled`` built and measure its routes (``only``:
    these, with home and /livez for the ratios). Posting adds its posts to it."""
    from bench import _scaled

    if not (where / "stack.json").is_file():
        print(f"{where} holds no scaled stack: build it with --scaled --keep", file=sys.stderr)
        return 2
    seeded = routes.Seeded(**json.loads((where / "data" / "bench-seeded.json").read_text()))
    with _scaled.kept(where) as (stack, _), _scaled.serving(stack) as (port, pids):
        print(_server.machine())
        measured = routes.measure_all(_server.HOST, port, pids, seeded, seconds, builtin, only)
    print(f"\n{_server.machine()} (after)")
    _, misses, failed = routes.report(measured)
    for miss in misses:
        print(f"MISSED {miss}")
    return 1 if failed else 0


def _key(name: str) -> str:
    return name.replace(",", "").replace(" ", "_")


def _one_size(
    args: argparse.Namespace,
    scratch: Path,
    size: _grow.Size,
    template: tuple[Path, routes.Seeded, float] | None,
    figures: dict[str, _results.Figure],
) -> list[routes.Measured] | None:
    """Build ``size``, serve it, measure every route; None with --build-only."""
    try:
        started = time.perf_counter()
        context = (
            _scaled(size, args.interleave)
            if template is None
            else _embedded(scratch, size, template, args.interleave)
        )
        with context as (port, pids, built, stored):
            build_s = time.perf_counter() - started
            print(
                f"\n{size.name}: built in {build_s:.0f}s (actions' seed {built.seed_s:.0f}s,"
                f" bulk {built.bulk_s:.0f}s, search index {built.index_s:.0f}s), {stored};"
                f" {built.seeded.posts} posts; bulk rows: "
                + ", ".join(f"{k} {v}" for k, v in sorted(built.rows.items()))
            )
            print(_server.machine())
            figures[f"{size.name}_build_s"] = _results.lower(build_s, "s")
            figures[f"{size.name}_bulk_s"] = _results.lower(built.bulk_s, "s")
            figures[f"{size.name}_index_s"] = _results.lower(built.index_s, "s")
            if args.build_only:
                return None
            base = f"http://{_server.HOST}:{port}"
            for route in routes.routes(built.seeded):
                routes._check(base, route, built.seeded.viewer_token)
            return routes.measure_all(
                _server.HOST, port, pids, built.seeded, args.seconds, args.builtin
            )
    finally:
        if template is not None:
            shutil.rmtree(scratch / f"data-{size.name}", ignore_errors=True)


def keep(where: Path, size: _grow.Size, recent: float, *, scaled: bool = False) -> int:
    """Build ``size`` into ``where`` and leave it there, with the seed's
    description (``where/data/bench-seeded.json``) that ``bench.routes
    --profile --keep where`` and ``bench.explain --keep where`` read.
    Scaled: a PostgreSQL database and a Redis snapshot (bench/_scaled.py,
    ``kept``)."""
    from roost.config import load_settings

    data_dir = where / "data"
    if (data_dir / "bench-seeded.json").is_file():
        print(f"{data_dir} is built already")
        return 0
    if scaled:
        from bench import _scaled

        with _scaled.kept(where) as (stack, _):
            settings = stack.settings(domain="localhost")
            built = asyncio.run(_grow.build(settings, size, recent=recent))
            stored = f"PostgreSQL database {stack.database_name}"
    else:
        settings = load_settings(
            data_dir=data_dir, database_url="", redis_url="", domain="localhost"
        )
        built = asyncio.run(_grow.build(settings, size, recent=recent))
        stored = f"{_db_size(data_dir) / 1e6:.0f} MB"
    (data_dir / "bench-seeded.json").write_text(json.dumps(built.seeded.__dict__))
    print(
        f"{size.name} in {data_dir}: actions' seed {built.seed_s:.0f}s, bulk {built.bulk_s:.0f}s,"
        f" search index {built.index_s:.0f}s, {stored}"
    )
    return 0


def markdown(run: dict[str, Any]) -> str:
    """A recorded run as a table: req/s, p99 and CPU ms per route per size."""
    sizes = run["settings"]["sizes"]
    figures = run["figures"]
    names = [
        key.removeprefix(f"{sizes[0]}_").removesuffix("_rps")
        for key in figures
        if key.startswith(f"{sizes[0]}_") and key.endswith("_rps")
    ]
    lines = [
        "| route | " + " | ".join(f"{s}: req/s, p99 ms, CPU ms" for s in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for name in names:
        cells = []
        for size in sizes:
            rps = figures.get(f"{size}_{name}_rps", {}).get("value", float("nan"))
            p99 = figures.get(f"{size}_{name}_p99_ms", {}).get("value", float("nan"))
            cpu = figures.get(f"{size}_{name}_cpu_ms", {}).get("value", float("nan"))
            cells.append(f"{rps:.0f}, {p99:.0f}, {cpu:.2f}")
        lines.append(f"| {name.replace('_', ' ')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _name(args: argparse.Namespace) -> str:
    return (
        "growth" + ("_interleaved" if args.interleave else "") + ("_scaled" if args.scaled else "")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k,1m", help="of " + ", ".join(_grow.SIZES))
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--scaled", action="store_true", help="PostgreSQL + Redis")
    parser.add_argument("--builtin", action="store_true", help="the asyncio load generator")
    parser.add_argument("--build-only", action="store_true", help="build each size, measure none")
    parser.add_argument(
        "--keep",
        type=Path,
        help="build the one size of --sizes into this directory and keep it (for"
        " bench.routes --profile --keep DIR, EXPLAIN QUERY PLAN)",
    )
    parser.add_argument(
        "--measure",
        action="store_true",
        help="with --keep DIR of a scaled build: serve it and measure its routes",
    )
    parser.add_argument("--route", action="append", default=[], help="with --measure: only these")
    parser.add_argument(
        "--interleave",
        type=float,
        default=0.0,
        help="this share of the bulk posts written among the seed's (0: all older)",
    )
    parser.add_argument(
        "--table", action="store_true", help="print the newest recorded run as a Markdown table"
    )
    args = parser.parse_args(argv)
    if args.table:
        name = _name(args)
        print(markdown(_results.load(_results.RESULTS / f"{name}.json")[-1]))
        return 0
    sizes = [_grow.SIZES[s.strip().lower()] for s in args.sizes.split(",")]
    if args.keep and args.measure:
        return measure_kept(args.keep, args.seconds, args.builtin, args.route)
    if args.keep:
        return keep(args.keep, sizes[0], args.interleave, scaled=args.scaled)

    print(f"load generator: {_load.generator(builtin=args.builtin)}")
    print(_server.machine())
    table: dict[str, dict[str, routes.Measured]] = {}
    figures: dict[str, _results.Figure] = {}
    failed = False
    with tempfile.TemporaryDirectory(prefix="roost-growth-") as scratch:
        template = None if args.scaled else _template(Path(scratch))
        if template is not None:
            print(f"seeded through the actions in {template[2]:.0f}s (copied for each size)")
        for size in sizes:
            measured = _one_size(args, Path(scratch), size, template, figures)
            if measured is None:
                continue
            table[size.name] = {}
            for m in measured:
                name = m.route.name + ("" if m.connections == 16 else f" (c{m.connections})")
                table[size.name][name] = m
                figures |= _results.load_figures(f"{size.name}_{_key(name)}", m.result)
                figures[f"{size.name}_{_key(name)}_cpu_ms"] = _results.lower(m.cpu_ms, "ms")
                if m.result.errors or m.result.bad_status:
                    failed = True
                if not m.result.requests:
                    # A route that answered nothing in the whole run (one
                    # slow request holding the process, say) is a failure,
                    # not a figure of 0 req/s.
                    print(f"{size.name} {name}: NO ANSWER in {args.seconds}s", file=sys.stderr)
                    failed = True
            # Each size's figures as soon as they are measured: a 1M build on
            # a busy machine can outlast the time one has.
            for name, m in table[size.name].items():
                print(
                    f"{size.name} {name:<24}{m.result.rps:>9.1f} req/s  p99 {m.result.p99_ms:>7.1f}"
                    f" ms  CPU {m.cpu_ms:>6.2f} ms",
                    flush=True,
                )
    if args.build_only:
        _results.record("growth_build", figures, extra={"interleave": args.interleave})
        return 0
    names = list(next(iter(table.values())))
    header = f"{'route':<24}" + "".join(
        f"{s + ' req/s':>12}{'p99 ms':>9}{'CPU ms':>8}" for s in table
    )
    print(f"\n{_server.machine()} (after)\n{header}")
    for name in names:
        print(
            f"{name:<24}"
            + "".join(
                f"{table[s][name].result.rps:>12.1f}{table[s][name].result.p99_ms:>9.1f}"
                f"{table[s][name].cpu_ms:>8.2f}"
                for s in table
            )
        )
    misses = []
    if "100k" in table and "1m" in table:
        for name in names:
            small, big = table["100k"][name].result, table["1m"][name].result
            if big.rps < small.rps * (1 - RPS_LOSS):
                misses.append(f"{name}: {small.rps:.0f} -> {big.rps:.0f} req/s (100k -> 1M)")
            if big.p99_ms > small.p99_ms * P99_GROWTH:
                misses.append(f"{name}: p99 {small.p99_ms:.1f} -> {big.p99_ms:.1f} ms")
            # The steadier figure on a shared machine: a 20% loss of req/s on
            # an idle one is 25% more CPU per request.
            cpu_small, cpu_big = table["100k"][name].cpu_ms, table["1m"][name].cpu_ms
            if cpu_big > cpu_small / (1 - RPS_LOSS):
                misses.append(f"{name}: CPU {cpu_small:.2f} -> {cpu_big:.2f} ms per request")
    for miss in misses:
        print(f"MISSED {miss}")
    if failed:
        print("some requests failed: these figures are not valid", file=sys.stderr)
        return 1
    extra: dict[str, Any] = {
        "generator": _load.generator(builtin=args.builtin),
        "sizes": [s.name for s in sizes],
        "seconds": args.seconds,
        "interleave": args.interleave,
        "missed": misses,
    }
    _results.record(_name(args), figures, extra=extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
