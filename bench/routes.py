"""Every read route a client opens, and posting, against the home timeline and
``/livez`` on the same server, with the server's CPU time per request.

    .venv/bin/python -m bench.routes [--scaled] [--seconds 5] [--bulk 0]
    .venv/bin/python -m bench.routes --both [--scaled-posts 400]
    .venv/bin/python -m bench.routes --profile [--requests 300]

Seeds a fresh data directory through the domain actions the API calls
(accounts, follows, ~1,200 posts with hashtags and mentions, a 50-reply
thread, favourites, bookmarks, pins, media, a list; the jobs those leave are
drained, which makes the notifications and the search index), starts
``roost serve`` (``--scaled``: on a fresh PostgreSQL database and a private
Redis, with a ``roost worker``), and loads each route at 16 connections:
req/s, p50, p99, its req/s as a share of the home timeline's and of
``/livez``'s measured in the same run, and the server's CPU milliseconds per
request (its user + system time from /proc over the requests answered).
Posting is measured at 16 connections and at one.

``--profile`` measures no HTTP: it seeds the same way, then calls the app in
this process (an ASGI client) ``--requests`` times per route under cProfile,
the SQLite driver's threads included, and prints where each route's CPU time
goes: framework (FastAPI, Starlette, pydantic, asyncio), database (SQLAlchemy,
drivers, roost/db), presentation (building views and the Mastodon entities),
JSON (encoding), and the rest of the domain.

Targets: every read at least 50% of the home timeline's req/s with p99 under
50 ms; posting at least 25% of it, p50 at one connection under 10 ms. Exits 1
if any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import _load, _results, _server

WARM_UP_S = 1.0
READ_SHARE = 0.5
POST_SHARE = 0.25
P99_MS = 50.0
POST_P50_MS = 10.0
TAGS = [f"topic{n}" for n in range(12)]
WORDS = [
    "the",
    "a",
    "small",
    "sturdy",
    "roost",
    "bird",
    "feather",
    "morning",
    "evening",
    "garden",
    "river",
    "city",
    "train",
    "coffee",
    "book",
    "music",
    "walk",
    "rain",
    "sun",
    "cloud",
    "wind",
    "quiet",
    "busy",
    "today",
    "tomorrow",
    "again",
    "new",
    "old",
    "friend",
    "harbour",
    "lantern",
    "orchard",
    "meadow",
    "pebble",
    "kettle",
    "violin",
    "marble",
    "tunnel",
    "ladder",
    "basket",
]
POST_BODY = '{"status":"Benchmark post %d about the garden, for @author001 #topic3"}'


@dataclass
class Seeded:
    viewer_id: int
    viewer_token: str
    profile_id: int  # the account whose posts are read
    profile_name: str
    thread_focus: int  # a post in the middle of the 50-reply thread
    list_id: int
    web_post: str  # /@name/id of a public post
    posts: int
    notes: list[str] = field(default_factory=list)


# -- seeding through the actions ----------------------------------------------


def _png(n: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), ((n * 37) % 256, (n * 91) % 256, 120)).save(out, "PNG")
    return out.getvalue()


async def seed(settings: Any, *, posts: int, bulk: int, rng: random.Random) -> Seeded:
    from roost.db.engine import Database
    from roost.db.migrate import upgrade
    from roost.domain.accounts import passwords
    from roost.domain.accounts.actions import NewAccount, do_create_account
    from roost.domain.graph.actions import do_follow
    from roost.domain.lists.actions import ListChange, do_add_members, do_create_list
    from roost.domain.media.actions import do_create_media, prepare_upload
    from roost.domain.oauth.actions import do_issue_token, do_register_app
    from roost.domain.oauth.scopes import parse as parse_scopes
    from roost.domain.statuses import actions
    from roost.domain.types import Viewer, Visibility
    from roost.jobs.runner import JobRunner
    from roost.media.store import media_store
    from roost.process import prepare_process
    from roost.services import build_services

    passwords.use_fast_hashing_for_tests()
    prepare_process(settings)
    db = Database(settings)
    base_url = settings.base_url
    max_chars = settings.max_post_chars
    try:
        await upgrade(db)
        async with db.write() as tx:
            viewer_id = await do_create_account(
                tx, NewAccount("viewer", "viewer@example.org", "a long enough password")
            )
            author_ids = [
                await do_create_account(
                    tx, NewAccount(f"author{n:03d}", f"a{n:03d}@example.org", "another password")
                )
                for n in range(30)
            ]
            client = await do_register_app(
                tx, "Bench Client", "urn:ietf:wg:oauth:2.0:oob", "read write follow", None
            )
        viewer = Viewer(account_id=viewer_id, application_id=client.id)
        as_author = {a: Viewer(account_id=a, application_id=client.id) for a in author_ids}
        async with db.write() as tx:
            for author_id in author_ids:
                await do_follow(tx, viewer, author_id)
            for author_id in author_ids[:12]:
                await do_follow(tx, as_author[author_id], viewer_id)
            issued = await do_issue_token(
                tx, viewer_id, client.id, parse_scopes("read write follow")
            )
        profile_id = author_ids[0]
        store = media_store(settings)

        async def post(author: Viewer, text: str, **extra: Any) -> int:
            async with db.write() as tx:
                return await actions.do_create_status(
                    tx,
                    author,
                    actions.NewStatus(text=text, **extra),
                    base_url=base_url,
                    max_chars=max_chars,
                )

        made: list[tuple[int, int, Visibility]] = []  # (id, author, visibility)
        for n in range(posts):
            author_id = (
                viewer_id
                if rng.random() < 0.1
                else profile_id
                if rng.random() < 0.15
                else rng.choice(author_ids)
            )
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))
            text = f"{words[:1].upper()}{words[1:]} ({n})."
            if rng.random() < 0.3:
                text += f" #{rng.choice(TAGS)}"
            if rng.random() < 0.2:
                named = rng.choice(["viewer", *(f"author{k:03d}" for k in range(30))])
                text = f"@{named} {text}"
            visibility = rng.choices(
                [Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE], [80, 10, 10]
            )[0]
            extra: dict[str, Any] = {"visibility": visibility}
            if made and rng.random() < 0.1:
                parent = rng.choice(made[-200:])
                if parent[2] != Visibility.PRIVATE:
                    extra["in_reply_to_id"] = parent[0]
            if author_id == profile_id and rng.random() < 0.25:
                author = as_author[profile_id]
                prepared = await prepare_upload(store, settings, io.BytesIO(_png(n)), 0)
                async with db.write() as tx:
                    media_id = await do_create_media(
                        tx,
                        author,
                        prepared,
                        description="a square of colour",
                        focus=None,
                        process_later=False,
                    )
                extra["media_ids"] = (media_id,)
            who = viewer if author_id == viewer_id else as_author[author_id]
            made.append((await post(who, text, **extra), author_id, visibility))
        # Boosts, by the followed authors, of recent public posts.
        public = [m for m in made if m[2] == Visibility.PUBLIC]
        for original, author_id, _ in rng.sample(public[-400:], min(60, len(public) // 2)):
            booster = rng.choice([a for a in author_ids if a != author_id])
            async with db.write() as tx:
                await actions.do_reblog(tx, as_author[booster], original, Visibility.PUBLIC)
        # A thread of 50 replies under one of the profile's posts.
        root = await post(as_author[profile_id], "A question for everyone: which bird is best?")
        thread = [root]
        for n in range(50):
            parent = thread[-1] if rng.random() < 0.7 else rng.choice(thread)
            replier = as_author[rng.choice(author_ids)]
            thread.append(
                await post(
                    replier,
                    f"My answer, number {n}: the {rng.choice(WORDS)} one.",
                    in_reply_to_id=parent,
                )
            )
        # The viewer's marks, others' favourites of the viewer's posts
        # (notifications), the profile's pins, a list.
        others = [m for m in made if m[1] != viewer_id and m[2] == Visibility.PUBLIC]
        own = [m for m in made if m[1] == viewer_id and m[2] == Visibility.PUBLIC]
        async with db.write() as tx:
            for status_id, _, _ in rng.sample(others, min(80, len(others))):
                await actions.do_favourite(tx, viewer, status_id)
            for status_id, _, _ in rng.sample(others, min(40, len(others))):
                await actions.do_bookmark(tx, viewer, status_id)
            for status_id, _, _ in own[-40:]:
                for fan in rng.sample(author_ids, 2):
                    await actions.do_favourite(tx, as_author[fan], status_id)
            for status_id, author_id, visibility in made:
                if author_id == profile_id and visibility == Visibility.PUBLIC:
                    await actions.do_pin(tx, as_author[profile_id], status_id)
                    break
            list_id = await do_create_list(tx, viewer, ListChange(title="Close friends"))
            await do_add_members(tx, viewer, list_id, author_ids[:10])
        notes: list[str] = []
        if bulk:
            notes.append(await _bulk(db, viewer_id, author_ids, client.id, bulk, rng))
        await JobRunner(build_services(settings, db).job_context()).drain()
        web_post = next(
            m for m in reversed(made) if m[1] == profile_id and m[2] == Visibility.PUBLIC
        )
    finally:
        await db.dispose()
    return Seeded(
        viewer_id=viewer_id,
        viewer_token=issued.token,
        profile_id=profile_id,
        profile_name="author000",
        thread_focus=thread[10],
        list_id=list_id,
        web_post=f"/@author000/{web_post[0]}",
        posts=len(made) + 60 + len(thread),
        notes=notes,
    )


async def _bulk(
    db: Any, viewer_id: int, author_ids: list[int], app_id: int, count: int, rng: random.Random
) -> str:
    """Volume on top of the actions' posts: bench/_seed.py's bulk rows."""
    from bench import _seed

    async with db.write() as tx:
        await _seed._write_posts(tx.conn, viewer_id, author_ids, app_id, count, rng)
    return f"plus {count} posts inserted in bulk (bench/_seed.py)"


# -- the routes -----------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    auth: bool = True
    post_json: str | None = None
    kind: str = "read"  # read, post, home, trivial


def routes(s: Seeded) -> list[Route]:
    account = f"/api/v1/accounts/{s.profile_id}/statuses"
    return [
        Route("livez", "/livez", auth=False, kind="trivial"),
        Route("home", "/api/v1/timelines/home", kind="home"),
        Route("account statuses", account),
        Route("account, no replies", account + "?exclude_replies=true"),
        Route("account, pinned", account + "?pinned=true"),
        Route("account, media only", account + "?only_media=true"),
        Route("thread context", f"/api/v1/statuses/{s.thread_focus}/context"),
        Route("notifications", "/api/v1/notifications"),
        Route("favourites", "/api/v1/favourites"),
        Route("bookmarks", "/api/v1/bookmarks"),
        Route("tag timeline", f"/api/v1/timelines/tag/{TAGS[3]}"),
        Route("list timeline", f"/api/v1/timelines/list/{s.list_id}"),
        Route("search", "/api/v2/search?q=garden&type=statuses"),
        Route("web profile", f"/@{s.profile_name}", auth=False),
        Route("web post", s.web_post, auth=False),
        Route("post a status", "/api/v1/statuses", post_json=POST_BODY, kind="post"),
    ]


def _check(base: str, route: Route, token: str) -> None:
    """Each route answers 2xx (and a read, something) before it is loaded."""
    headers = {"Authorization": f"Bearer {token}"} if route.auth else {}
    data = None
    if route.post_json is not None:
        data = (route.post_json % 0).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + route.path, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
    if route.path.startswith("/api/") and route.kind == "read":
        parsed = json.loads(body)
        empty = not parsed or (isinstance(parsed, dict) and not any(parsed.values()))
        if empty:
            raise RuntimeError(f"{route.name}: {route.path} answered nothing to read")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # After the command: state is field 3, utime 14 and stime 15 (1-based).
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Measured:
    route: Route
    connections: int
    result: _load.LoadResult
    cpu_ms: float
    backend_cpu_ms: float = 0.0  # scaled: PostgreSQL's backends and Redis


# Scaled: CPU seconds so far of the stack's PostgreSQL backends and Redis, by
# pid (set while ``scaled`` runs; see bench/_scaled.py).
_backend_cpu: list[Any] = []


def _backend_seconds() -> dict[int, float]:
    return _backend_cpu[0]() if _backend_cpu else {}


def measure_all(
    host: str,
    port: int,
    pids: list[int],
    seeded: Seeded,
    seconds: float,
    builtin: bool,
    only: list[str] | None = None,
) -> list[Measured]:
    auth = {"Authorization": f"Bearer {seeded.viewer_token}"}
    out: list[Measured] = []

    def run(route: Route, connections: int, length: float) -> Measured:
        before = sum(cpu_seconds(p) for p in pids)
        backend_before = _backend_seconds()
        result = _load.measure(
            host,
            port,
            route.path,
            connections=connections,
            seconds=length,
            headers=auth if route.auth else {},
            builtin=builtin,
            post_json=route.post_json,
        )
        spent = sum(cpu_seconds(p) for p in pids) - before
        per = spent * 1000 / result.requests if result.requests else float("nan")
        backend = _backend_spent(backend_before, _backend_seconds())
        backend_per = backend * 1000 / result.requests if result.requests else float("nan")
        return Measured(route, connections, result, per, backend_per)

    every = [
        r for r in routes(seeded) if not only or r.kind in ("home", "trivial") or r.name in only
    ]
    for route in every:
        # Not posting: the jobs its posts leave (run by the worker when
        # scaled) would still be running during the next routes' figures.
        if route.kind != "post":
            run(route, 16, WARM_UP_S)
    for route in every:
        out.append(run(route, 16, seconds))
        if route.kind == "post":
            out.append(run(route, 1, seconds))
    return out


def report(measured: list[Measured]) -> tuple[dict[str, _results.Figure], list[str], bool]:
    home = next(m for m in measured if m.route.kind == "home").result.rps
    livez = next(m for m in measured if m.route.kind == "trivial").result.rps
    scaled_run = any(m.backend_cpu_ms for m in measured)
    print(
        f"\n{'route':<22}{'conns':>6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'/home':>8}{'/livez':>8}{'CPU ms':>8}" + (f"{'+db/redis':>10}" if scaled_run else "")
    )
    figures: dict[str, _results.Figure] = {}
    misses: list[str] = []
    failed = False
    for m in measured:
        r = m.result
        line = (
            f"{m.route.name:<22}{m.connections:>6}{r.rps:>9.1f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}"
            f"{r.rps / home if home else 0:>8.0%}{r.rps / livez if livez else 0:>8.1%}"
            f"{m.cpu_ms:>8.2f}" + (f"{m.backend_cpu_ms:>10.2f}" if scaled_run else "")
        )
        if r.errors or r.bad_status:
            line += f"  ({r.errors} failed, {r.bad_status} non-2xx)"
            failed = True
        print(line)
        key = m.route.name.replace(",", "").replace(" ", "_") + f"_c{m.connections}"
        figures |= _results.load_figures(key, r)
        figures[f"{key}_home_share"] = _results.higher(r.rps / home if home else 0)
        figures[f"{key}_cpu_ms"] = _results.lower(m.cpu_ms, "ms")
        if scaled_run:
            figures[f"{key}_backend_cpu_ms"] = _results.lower(m.backend_cpu_ms, "ms")
        share = r.rps / home if home else 0
        if m.route.kind == "read":
            if share < READ_SHARE:
                misses.append(f"{m.route.name}: {share:.0%} of home (target {READ_SHARE:.0%})")
            if r.p99_ms >= P99_MS:
                misses.append(f"{m.route.name}: p99 {r.p99_ms:.1f} ms (target < {P99_MS:.0f})")
        elif m.route.kind == "post" and m.connections == 16 and share < POST_SHARE:
            misses.append(f"posting: {share:.0%} of home (target {POST_SHARE:.0%})")
        elif m.route.kind == "post" and m.connections == 1 and r.p50_ms >= POST_P50_MS:
            misses.append(f"posting: p50 {r.p50_ms:.1f} ms at 1 connection (target < 10)")
    return figures, misses, failed


# -- embedded and scaled ----------------------------------------------------------


@contextlib.contextmanager
def embedded(
    scratch: Path, posts: int, bulk: int, kept: Path | None = None
) -> Iterator[tuple[int, list[int], Seeded]]:
    from roost.config import load_settings

    data_dir = scratch / "data"
    if kept is not None:
        # A copy, so that posting leaves the kept data as it was for the next
        # run (before and after a change, measured on the same data).
        shutil.copytree(kept / "data", data_dir)
        seeded = Seeded(**json.loads((data_dir / "bench-seeded.json").read_text()))
        with _server.running(data_dir, **_server.CAPACITY) as server:
            yield server.port, [server.process.pid], seeded
        return
    settings = load_settings(data_dir=data_dir, database_url="", redis_url="", domain="localhost")
    seeded = asyncio.run(seed(settings, posts=posts, bulk=bulk, rng=random.Random(11)))
    with _server.running(data_dir, **_server.CAPACITY) as server:
        yield server.port, [server.process.pid], seeded


@contextlib.contextmanager
def scaled(posts: int, bulk: int) -> Iterator[tuple[int, list[int], Seeded]]:
    from bench import _scaled

    with _scaled.stack() as stack:
        settings = stack.settings(domain="localhost")
        seeded = asyncio.run(seed(settings, posts=posts, bulk=bulk, rng=random.Random(11)))
        with _scaled.serving(stack, counting=True) as (port, pids):
            _backend_cpu.append(stack.backend_cpu_seconds)
            try:
                yield port, pids, seeded
            finally:
                _backend_cpu.clear()


def _backend_spent(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(spent - before.get(pid, 0.0) for pid, spent in after.items())


# -- round trips per request (scaled) ----------------------------------------------

TRIP_KINDS = (
    "pg_round_trips",
    "pg_simple",
    "pg_prepare",
    "pg_execute",
    "sqlalchemy_statements",
    "prepared_reads",
    "redis_round_trips",
    "redis_commands",
)


def _counts(base: str) -> dict[str, int]:
    with urllib.request.urlopen(base + "/__bench/counts", timeout=30) as response:
        counted: dict[str, int] = json.loads(response.read())
    return counted


def count_trips(base: str, seeded: Seeded, requests: int = 40) -> dict[str, _results.Figure]:
    """Round trips per request, per route, one request at a time on the
    server started by ``scaled`` (bench/_counting.py): PostgreSQL round trips
    (simple queries such as BEGIN/COMMIT/ROLLBACK and pings, prepares,
    executions), SQLAlchemy statements, prepared reads, Redis round trips
    and commands. Posting's jobs run on the worker, not counted here."""
    print(f"\nround trips per request, scaled ({requests} requests per route, one at a time)")
    print(f"{'route':<22}" + "".join(f"{k.replace('_', ' ')[:11]:>12}" for k in TRIP_KINDS))
    figures: dict[str, _results.Figure] = {}
    for route in routes(seeded):
        if route.kind == "trivial":
            continue
        for n in range(3):  # caches as warm as under load
            _one(base, route, seeded.viewer_token, 4_000_000 + n)
        before = _counts(base)
        for n in range(requests):
            _one(base, route, seeded.viewer_token, 5_000_000 + n)
        after = _counts(base)
        per = {k: (after.get(k, 0) - before.get(k, 0)) / requests for k in TRIP_KINDS}
        print(f"{route.name:<22}" + "".join(f"{per[k]:>12.2f}" for k in TRIP_KINDS))
        key = route.name.replace(",", "").replace(" ", "_")
        for kind in TRIP_KINDS:
            figures[f"{key}_{kind}"] = _results.lower(per[kind], "per request")
    return figures


def _one(base: str, route: Route, token: str, n: int) -> None:
    headers = {"Authorization": f"Bearer {token}"} if route.auth else {}
    data = None
    if route.post_json is not None:
        data = (route.post_json % n).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + route.path, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


# -- where the time goes (in process) ---------------------------------------------

SHARES = ("framework", "event loop", "database", "presentation", "JSON", "domain", "other")


def _share_of(filename: str, function: str) -> str:
    f = filename.replace("\\", "/")
    if any(part in f for part in ("/httpx/", "/httpcore/", "/bench/")):
        return "client"
    if "put_nowait" in function and "SimpleQueue" in function:
        return "database"  # handing a statement to the SQLite driver's thread
    if "orjson" in f or "/json/" in f or function in ("<built-in method orjson.dumps>",):
        return "JSON"
    if "orjson" in function or "json.dumps" in function or "json.loads" in function:
        return "JSON"
    if any(
        part in f
        for part in ("/sqlalchemy/", "/aiosqlite/", "/asyncpg/", "sqlite3", "/roost/db/", "/redis/")
    ) or any(part in function for part in ("sqlite3", "asyncpg", "_sqlite")):
        return "database"
    if (
        "site-packages" not in f and any(part in f for part in ("/asyncio/", "/selectors.py"))
    ) or any(
        part in function for part in ("_socket.socket", "select.epoll", "_contextvars.Context")
    ):
        # The standard library's loop: turns, futures, tasks and sockets,
        # what each round trip to a server (PostgreSQL, Redis) costs beyond
        # its driver's own work. (redis-py's and SQLAlchemy's asyncio
        # packages are the database's, above.)
        return "event loop"
    if any(
        part in f
        for part in (
            "/fastapi/",
            "/starlette/",
            "/pydantic",
            "/anyio/",
            "/httpx/",
            "/httpcore/",
            "/roost/api/middleware",
            "/roost/api/auth",
            "/roost/api/admission",
            "/roost/api/ratelimits",
            "/roost/api/ip_access",
            "/roost/api/early_refusal",
            "/roost/api/token_cache",
            "/roost/api/params",
            "/roost/api/routing",
            "/roost/observability/",
            "/roost/ratelimit",
            "/contextlib",
            "/typing",
        )
    ):
        return "framework"
    if any(
        part in f
        for part in (
            "/roost/api/mastodon/serializers",
            "/roost/api/mastodon/entities",
            "/roost/api/mastodon/json_cache",
            "/roost/api/mastodon/quote_entity",
            "/roost/api/responses",
            "/roost/domain/statuses/feed",
            "/roost/domain/statuses/assembly",
            "/roost/domain/statuses/shared",
            "/roost/domain/statuses/extras",
            "/roost/web/",
            "/jinja2/",
            "/markupsafe/",
            "/dataclasses",
        )
    ):
        return "presentation"
    if "/roost/" in f:
        return "domain"
    return "other"


def _seeded_in(data_dir: Path, settings: Any, posts: int) -> Seeded:
    """Seeded once per data directory: a second run on it reuses it."""
    saved = data_dir / "bench-seeded.json"
    if saved.is_file():
        return Seeded(**json.loads(saved.read_text()))
    seeded = asyncio.run(seed(settings, posts=posts, bulk=0, rng=random.Random(11)))
    saved.write_text(json.dumps(seeded.__dict__))
    return seeded


async def call_in_process(client: Any, route: Route, token: str, n: int) -> None:
    """One request of ``route`` through an in-process client (``n`` numbers a
    post's text); anything but success stops the run."""
    headers = {"Authorization": f"Bearer {token}"}
    if route.post_json is not None:
        answer = await client.post(
            route.path,
            content=route.post_json % n,
            headers={**headers, "Content-Type": "application/json"},
        )
    else:
        answer = await client.get(route.path, headers=headers if route.auth else {})
    if answer.status_code >= 300:
        raise RuntimeError(f"{route.name}: {answer.status_code} {answer.text[:200]}")


def profile(
    scratch: Path, posts: int, requests: int, only: list[str], top: int, *, scaled_mode: bool
) -> int:
    """Each route called ``requests`` times in process under cProfile: on
    SQLite in ``scratch``, or (``scaled_mode``) on a fresh PostgreSQL
    database and a private Redis, as ``roost serve`` runs when scaled (jobs
    left to a worker, which is not started: posting's jobs wait)."""
    from roost.config import load_settings

    if not scaled_mode:
        data_dir = scratch / "data"
        settings = load_settings(
            data_dir=data_dir, database_url="", redis_url="", domain="localhost"
        )
        seeded = _seeded_in(data_dir, settings, posts)
        os.environ.update(
            {
                k: v
                for k, v in _server.server_env(data_dir, **_server.CAPACITY).items()
                if k.startswith("ROOST_")
            }
        )
        return _profiled(load_settings(data_dir=data_dir), seeded, requests, only, top)
    from bench import _scaled

    with _scaled.stack() as stack:
        settings = stack.settings(domain="localhost")
        seeded = asyncio.run(seed(settings, posts=posts, bulk=0, rng=random.Random(11)))
        os.environ.update(
            {k: v for k, v in stack.env(**_server.CAPACITY).items() if k.startswith("ROOST_")}
            | {"ROOST_DOMAIN": "localhost"}
        )
        return _profiled(
            load_settings(data_dir=stack.data_dir),
            seeded,
            requests,
            only,
            top,
            backends=stack.backend_cpu_seconds,
        )


def _profiled(
    settings: Any,
    seeded: Seeded,
    requests: int,
    only: list[str],
    top: int,
    *,
    backends: Callable[[], dict[int, float]] | None = None,
) -> int:
    """``profile``'s measurement, on an app made from ``settings``;
    ``backends`` gives the database's and Redis's CPU seconds by process
    (scaled), counted per request apart from the app's."""
    import aiosqlite.core
    import httpx

    from roost.app import create_app

    profilers: list[cProfile.Profile] = []
    plain_worker = aiosqlite.core._connection_worker_thread

    def profiled_worker(*args: Any) -> None:
        # The SQLite driver's thread: its time is the database's too.
        mine = cProfile.Profile()
        profilers.append(mine)
        mine.enable()
        try:
            plain_worker(*args)
        finally:
            mine.disable()

    aiosqlite.core._connection_worker_thread = profiled_worker
    app = create_app(settings)
    every = [r for r in routes(seeded) if r.kind != "trivial" and (not only or r.name in only)]

    async def body() -> dict[str, dict[str, float]]:
        table: dict[str, dict[str, float]] = {}
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
        ):

            async def call(route: Route, n: int) -> None:
                await call_in_process(client, route, seeded.viewer_token, 1_000_000 + n)

            for route in every:
                for n in range(20):
                    await call(route, n)
                for old in profilers:
                    old.create_stats()
                    old.stats = {}  # type: ignore[attr-defined]
                mine = cProfile.Profile()
                backend_before = backends() if backends else {}
                cpu_before = time.process_time()
                mine.enable()
                for n in range(requests):
                    await call(route, 100 + n)
                mine.disable()
                cpu = time.process_time() - cpu_before
                backend = _backend_spent(backend_before, backends()) if backends else 0.0
                table[route.name] = _split(mine, profilers) | {
                    "cpu_ms": cpu * 1000 / requests,
                    "backend_ms": backend * 1000 / requests,
                }
                if top:
                    _print_top(route.name, mine, top)
        return table

    table = asyncio.run(body())
    mode = "scaled" if backends else "embedded"
    print(f"\nwhere the time goes, in process, {mode} ({requests} requests per route, cProfile)")
    print(
        f"{'route':<22}{'CPU ms':>8}"
        + (f"{'+db/redis':>10}" if backends else "")
        + "".join(f"{s:>13}" for s in SHARES)
    )
    for name, split in table.items():
        total = sum(split[s] for s in SHARES) or 1.0
        print(
            f"{name:<22}{split['cpu_ms']:>8.2f}"
            + (f"{split['backend_ms']:>10.2f}" if backends else "")
            + "".join(f"{split[s] / total:>13.0%}" for s in SHARES)
        )
    figures = {
        f"{name.replace(',', '').replace(' ', '_')}_{share}": _results.higher(split[share])
        for name, split in table.items()
        for share in (*SHARES, "cpu_ms", *(("backend_ms",) if backends else ()))
    }
    _results.record(
        "routes_profile_scaled" if backends else "routes_profile",
        figures,
        extra={"requests": requests},
    )
    return 0


def statements(scratch: Path, posts: int, count: int) -> int:
    """Posting in process: SQL statements and CPU ms per post on the request
    path, then the same for the jobs the posts left, run apart (as the worker
    runs them when scaled; embedded, the server process runs them)."""
    import httpx
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from roost.app import create_app
    from roost.config import load_settings
    from roost.jobs.runner import JobRunner

    data_dir = scratch / "data"
    settings = load_settings(data_dir=data_dir, database_url="", redis_url="", domain="localhost")
    seeded = _seeded_in(data_dir, settings, posts)
    os.environ.update(
        {
            k: v
            for k, v in _server.server_env(data_dir, **_server.CAPACITY).items()
            if k.startswith("ROOST_")
        }
        | {"ROOST_RUN_JOBS_IN_PROCESS": "false"}
    )
    settings = load_settings(data_dir=data_dir)
    app = create_app(settings)
    seen: list[str] = []

    def counted(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split())[:90])

    async def body() -> None:
        transport = httpx.ASGITransport(app=app)
        headers = {
            "Authorization": f"Bearer {seeded.viewer_token}",
            "Content-Type": "application/json",
        }
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
        ):
            runner = JobRunner(app.state.services.job_context())
            for n in range(10):  # warm
                await client.post(
                    "/api/v1/statuses", content=POST_BODY % (2_000_000 + n), headers=headers
                )
            await runner.drain()
            event.listen(Engine, "before_cursor_execute", counted)
            cpu = time.process_time()
            for n in range(count):
                answer = await client.post(
                    "/api/v1/statuses", content=POST_BODY % (3_000_000 + n), headers=headers
                )
                if answer.status_code >= 300:
                    raise RuntimeError(f"posting: {answer.status_code} {answer.text[:200]}")
            request_cpu, request_sql = time.process_time() - cpu, list(seen)
            seen.clear()
            by_kind: dict[str, list[float]] = {}
            run_job = runner.run_job

            async def timed(job: dict[str, Any]) -> bool:
                began, statements_before = time.process_time(), len(seen)
                try:
                    return await run_job(job)
                finally:
                    spent = by_kind.setdefault(job["kind"], [0.0, 0.0, 0.0])
                    spent[0] += 1
                    spent[1] += time.process_time() - began
                    spent[2] += len(seen) - statements_before

            runner.run_job = timed  # type: ignore[method-assign]
            cpu = time.process_time()
            await runner.drain()
            jobs_cpu, jobs_sql = time.process_time() - cpu, list(seen)
            print("\nthe jobs a post leaves, by kind (CPU ms and statements per post):")
            for kind, (runs, spent, sql) in sorted(by_kind.items(), key=lambda kv: -kv[1][1]):
                print(
                    f"  {kind:<28}{spent * 1000 / count:>8.2f} ms"
                    f"{sql / count:>6.1f} statements  ({runs / count:.1f} per post)"
                )
            event.remove(Engine, "before_cursor_execute", counted)
        for label, spent, sql in (
            ("request", request_cpu, request_sql),
            ("its jobs", jobs_cpu, jobs_sql),
        ):
            print(
                f"\n{label}: {spent * 1000 / count:.2f} CPU ms and "
                f"{len(sql) / count:.1f} SQLAlchemy statements per post"
            )
            tally: dict[str, int] = {}
            for text in sql:
                tally[text] = tally.get(text, 0) + 1
            for text, times in sorted(tally.items(), key=lambda kv: -kv[1])[:25]:
                print(f"  {times / count:5.1f}  {text}")
        _results.record(
            "routes_posting",
            {
                "request_cpu_ms": _results.lower(request_cpu * 1000 / count, "ms"),
                "request_statements": _results.lower(len(request_sql) / count),
                "jobs_cpu_ms": _results.lower(jobs_cpu * 1000 / count, "ms"),
                "jobs_statements": _results.lower(len(jobs_sql) / count),
            },
            extra={"posts": count},
        )

    asyncio.run(body())
    return 0


def _print_top(name: str, main: cProfile.Profile, top: int) -> None:
    out = io.StringIO()
    stats = pstats.Stats(main, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(f"== {name}\n{out.getvalue()}")


def _split(main: cProfile.Profile, threads: list[cProfile.Profile]) -> dict[str, float]:
    """Own time (tottime) per share, the main thread's and the driver threads'.

    Built-in functions (``~``: dict lookups, isinstance, socket calls) are
    shared out among their callers' shares, in proportion to the calls."""
    split = dict.fromkeys(SHARES, 0.0)
    for profiler in [main, *threads]:
        profiler.create_stats()
        stats = pstats.Stats(profiler, stream=io.StringIO()).stats  # type: ignore[attr-defined]
        for (filename, _line, function), (_cc, _nc, tottime, _ct, callers) in stats.items():
            if function in ("<method 'poll' of 'select.epoll' objects>",) or (
                "get' of '_queue.SimpleQueue" in function
                or "lock' objects" in function
                or ("acquire" in function and "thread" in function)
            ):
                continue  # waiting, not working
            share = _share_of(filename, function)
            if filename == "~" and share in ("other", "framework") and callers:
                calls = sum(c[1] for c in callers.values()) or 1
                for (c_file, _c_line, c_function), c in callers.items():
                    by = _share_of(c_file, c_function)
                    if by != "client":
                        split[by] += tottime * c[1] / calls
                continue
            if share != "client":
                split[share] += tottime
    return split


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--posts", type=int, default=1200, help="posts made through the actions")
    parser.add_argument("--bulk", type=int, default=0, help="posts added in bulk on top")
    parser.add_argument("--scaled", action="store_true", help="PostgreSQL + Redis")
    parser.add_argument(
        "--both", action="store_true", help="embedded, then scaled; one table of both"
    )
    parser.add_argument(
        "--scaled-posts", type=int, default=0, help="posts for the scaled run (default --posts)"
    )
    parser.add_argument("--builtin", action="store_true", help="the asyncio load generator")
    parser.add_argument("--profile", action="store_true", help="in process, under cProfile")
    parser.add_argument(
        "--statements", type=int, default=0, help="post N times in process: SQL and CPU per post"
    )
    parser.add_argument("--requests", type=int, default=300, help="per route, with --profile")
    parser.add_argument(
        "--route", action="append", default=[], help="only these (and home, /livez when loaded)"
    )
    parser.add_argument("--top", type=int, default=0, help="with --profile: the top functions")
    parser.add_argument(
        "--keep",
        type=Path,
        help="with --profile: seed into this directory once, reuse it after; embedded"
        " over HTTP: serve a copy of it as seeded (a directory --profile or"
        " bench.growth --keep made)",
    )
    args = parser.parse_args(argv)

    if args.statements:
        with tempfile.TemporaryDirectory(prefix="roost-bench-") as scratch:
            return statements(args.keep or Path(scratch), args.posts, args.statements)
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="roost-bench-") as scratch:
            where = args.keep or Path(scratch)
            return profile(
                where, args.posts, args.requests, args.route, args.top, scaled_mode=args.scaled
            )
    print(f"load generator: {_load.generator(builtin=args.builtin)}")
    modes = [False, True] if args.both else [args.scaled]
    runs: dict[str, list[Measured]] = {}
    for scaled_mode in modes:
        measured = _run(args, scaled_mode)
        if measured is None:
            return 1
        runs["scaled" if scaled_mode else "embedded"] = measured
    if args.both:
        both_table(runs)
    return 0


def _run(args: argparse.Namespace, scaled_mode: bool) -> list[Measured] | None:
    """One backend's table: seeded, served, measured, printed and recorded."""
    mode = "scaled" if scaled_mode else "embedded"
    print(f"\n== {mode}\n{_server.machine()}")
    posts = args.scaled_posts if scaled_mode and args.scaled_posts else args.posts
    with tempfile.TemporaryDirectory(prefix="roost-bench-") as scratch:
        started = time.perf_counter()
        context = (
            scaled(posts, args.bulk)
            if scaled_mode
            else embedded(Path(scratch), posts, args.bulk, args.keep)
        )
        with context as (port, pids, seeded):
            print(
                f"seeded {seeded.posts} posts through the actions in "
                f"{time.perf_counter() - started:.0f}s ({mode})"
                + "".join(f"; {note}" for note in seeded.notes)
            )
            base = f"http://{_server.HOST}:{port}"
            for route in routes(seeded):
                _check(base, route, seeded.viewer_token)
            measured = measure_all(
                _server.HOST, port, pids, seeded, args.seconds, args.builtin, args.route
            )
            trips = count_trips(base, seeded) if scaled_mode else {}
    print(f"\n{_server.machine()} (after)")
    figures, misses, failed = report(measured)
    for miss in misses:
        print(f"MISSED {miss}")
    if failed:
        print("some requests failed: these figures are not valid", file=sys.stderr)
        return None
    _results.record(
        "routes_scaled" if scaled_mode else "routes",
        figures | trips,
        extra={
            "generator": _load.generator(builtin=args.builtin),
            "posts": posts,
            "bulk": args.bulk,
            "query": urllib.parse.quote(" ".join(sys.argv[1:])),
        },
    )
    return measured


def both_table(runs: dict[str, list[Measured]]) -> None:
    """Embedded and scaled side by side, as a Markdown table (the README's),
    and kept as ``bench/results/routes_both.json`` with the commit."""
    rows: dict[str, dict[str, Measured]] = {}
    for mode, measured in runs.items():
        for m in measured:
            rows.setdefault(f"{m.route.name} (c{m.connections})", {})[mode] = m
    homes = {
        mode: next(m for m in measured if m.route.kind == "home").result.rps
        for mode, measured in runs.items()
    }
    cores = os.cpu_count() or 1
    print(
        "\n| route (connections) | embedded req/s | / home | p99 ms | CPU ms "
        "| scaled req/s | / home | p99 ms | CPU ms + db/redis | scaled / embedded "
        "| bound: scaled / embedded |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    figures: dict[str, _results.Figure] = {}
    for name, by_mode in rows.items():
        slug = "".join(c for c in name if c not in ",()").replace(" ", "_")
        cells: list[str] = []
        for mode in ("embedded", "scaled"):
            found = by_mode.get(mode)
            if found is None:
                cells += ["", "", "", ""]
                continue
            m, r = found, found.result
            share = r.rps / homes[mode] if homes[mode] else 0.0
            shown_share = f"{share:.0%}" if m.route.kind in ("read", "post", "home") else ""
            cpu = f"{m.cpu_ms:.2f}" + (f" + {m.backend_cpu_ms:.2f}" if mode == "scaled" else "")
            cells += [f"{r.rps:.1f}", shown_share, f"{r.p99_ms:.1f}", cpu]
            key = f"{mode}_{slug}"
            figures |= _results.load_figures(key, r)
            figures[f"{key}_home_share"] = _results.higher(share)
            figures[f"{key}_cpu_ms"] = _results.lower(m.cpu_ms, "ms")
        one, other = by_mode.get("embedded"), by_mode.get("scaled")
        ratio = (
            f"{other.result.rps / one.result.rps:.0%}" if one and other and one.result.rps else ""
        )
        bound = ""
        if one and other and one.cpu_ms and other.cpu_ms:
            # The most each could serve on this machine's CPU alone: embedded
            # is one process's one core (its reads run in that process);
            # scaled, the smaller of its server's one core (its CPU ms count
            # the worker's too, idle during reads) and every core shared with
            # PostgreSQL and Redis. Their ratio is what scaled / embedded
            # could be at best (the load generator's CPU is left out of both).
            embedded_bound = 1000 / one.cpu_ms
            scaled_bound = min(
                cores * 1000 / (other.cpu_ms + other.backend_cpu_ms), 1000 / other.cpu_ms
            )
            bound = f"{scaled_bound / embedded_bound:.0%}"
            figures[f"bound_{slug}"] = _results.higher(scaled_bound / embedded_bound)
        print(f"| {name} | " + " | ".join(cells) + f" | {ratio} | {bound} |")
    _results.record("routes_both", figures, extra={"modes": list(runs)})


if __name__ == "__main__":
    sys.exit(main())
