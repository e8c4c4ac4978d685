"""Drill (threats 24, 25): a flood of posts and uploads against real servers.

Eight accounts, each from its own loopback address (each client binds its own
source address in 127.0.0.0/8), send ten times what their limits allow:
uploads and posts (half of them with the media just uploaded), several at a
time. Meanwhile a staff account (exempt by ROOST_RATE_LIMIT_EXEMPT_STAFF)
reads its home timeline and /livez from another address, as a person and an
orchestrator would. Embedded mode runs one ``roost serve`` (in-process
counts); scaled mode runs two on PostgreSQL + Redis and splits every
account's requests between them (counts shared through Redis).

Then:
- every refusal is 429 with Retry-After and Mastodon's X-RateLimit-* headers,
  and every answer under /api/ carries the headers;
- no account had more requests or uploads served than its limits allow,
  across both servers, nor more bytes uploaded than its daily quota (which
  refuses the last upload the limits let through);
- the reader's home timeline and /livez kept their latency (generous bounds;
  the figures are printed);
- nothing is half-written: every post answered 2xx exists exactly once with
  exactly the media it was given, every upload answered 2xx has its row, and
  the media store holds the files of those rows and nothing else (a refused
  upload leaves no row and no file).
"""

from __future__ import annotations

import asyncio
import io
import os
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from roost.config import Settings, load_settings
from roost.db.engine import Database
from roost.db.migrate import upgrade
from roost.db.tables import media_attachments, statuses
from roost.domain.accounts.actions import NewAccount, do_create_account
from roost.domain.graph.actions import do_follow
from roost.domain.oauth.actions import do_issue_token
from roost.domain.oauth.scopes import parse as parse_scopes
from roost.media.store import media_root
from roost.process import prepare_process
from tests.drills.conftest import Stack, viewer
from tests.drills.support import ServerProcess, roost_env

ACCOUNTS = 8
REQUESTS = 20  # per account per window
UPLOADS = 3  # per account per window
FLOOD = 10 * REQUESTS  # what each account sends
UPLOAD_TRIES = 10 * UPLOADS
AT_ONCE = 4  # requests in flight per account
READER = "127.0.0.250"
# The daily upload quota lets two of the drill's images (117 to 120 bytes) in,
# not three: the third upload the limits let through is refused by the quota.
QUOTA = 300
LIMITS = {
    "upload_quota_bytes_per_day": str(QUOTA),
    "rate_limit_requests": str(REQUESTS),
    "rate_limit_window_s": "300",
    "rate_limit_address_requests": "1000",
    "rate_limit_media": str(UPLOADS),
    "rate_limit_media_window_s": "1800",
    "rate_limit_exempt_staff": "true",
    # Admission control off: the drill is of the rate limits, which must hold
    # with the whole flood reaching them.
    "max_queue_ms": "0",
    "max_in_flight": "0",
}
HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


def address(n: int) -> str:
    return f"127.0.1.{10 + n}"


def image(account: int, n: int) -> bytes:
    """A distinct small PNG (files are shared by content: each must be its own)."""
    out = io.BytesIO()
    Image.new("RGB", (48, 32), (account * 20 % 256, n * 7 % 256, 90)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Flood:
    """What one account was answered."""

    posts: list[tuple[str, list[str]]] = field(default_factory=list)  # (post id, media ids)
    uploads: list[str] = field(default_factory=list)
    uploaded_bytes: int = 0
    over_quota: int = 0
    served: int = 0
    refused: int = 0
    statuses: list[int] = field(default_factory=list)


def check_answer(response: httpx.Response) -> None:
    assert all(h in response.headers for h in HEADERS), dict(response.headers)
    assert response.headers["x-ratelimit-reset"].endswith("Z")
    if response.status_code == 429:
        assert int(response.headers["retry-after"]) >= 1
        if response.json() != {"error": "Too many requests"}:
            # Past the daily upload quota: the request itself was within limits.
            assert response.json()["error"].startswith("Daily upload quota reached")
        else:
            assert response.headers["x-ratelimit-remaining"] == "0"


async def flood_one(n: int, token: str, urls: list[str]) -> Flood:
    found = Flood()
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.AsyncHTTPTransport(local_address=address(n))
    turn = iter(range(10**6))
    gate = asyncio.Semaphore(AT_ONCE)
    async with httpx.AsyncClient(transport=transport, timeout=60, headers=headers) as client:

        async def one(i: int) -> None:
            async with gate:
                url = urls[next(turn) % len(urls)]
                media: list[str] = []
                if i < UPLOAD_TRIES:
                    data = image(n, i)
                    uploaded = await client.post(
                        url + "/api/v2/media", files={"file": (f"{i}.png", data, "image/png")}
                    )
                    check_answer(uploaded)
                    found.statuses.append(uploaded.status_code)
                    if uploaded.status_code == 429 and "quota" in uploaded.text:
                        found.over_quota += 1
                    if uploaded.status_code == 200:
                        found.uploaded_bytes += len(data)
                        found.uploads.append(uploaded.json()["id"])
                        if i % 2 == 0:
                            media = [uploaded.json()["id"]]
                url = urls[next(turn) % len(urls)]
                posted = await client.post(
                    url + "/api/v1/statuses",
                    json={"status": f"flood {n}/{i}", "media_ids": media},
                )
                check_answer(posted)
                found.statuses.append(posted.status_code)
                if posted.status_code == 200:
                    found.posts.append((posted.json()["id"], media))

        await asyncio.gather(*(one(i) for i in range(FLOOD - UPLOAD_TRIES)))
    found.served = sum(1 for s in found.statuses if s < 400)
    found.refused = found.statuses.count(429)
    return found


@dataclass
class Reads:
    home: list[float] = field(default_factory=list)
    livez: list[float] = field(default_factory=list)

    def p95(self, samples: list[float]) -> float:
        return sorted(samples)[int(len(samples) * 0.95) - 1] if samples else 0.0


async def read_while(token: str, urls: list[str], until: asyncio.Event, reads: Reads) -> None:
    transport = httpx.AsyncHTTPTransport(local_address=READER)
    async with httpx.AsyncClient(transport=transport, timeout=60) as client:
        n = 0
        while not until.is_set() or n < 5:
            url = urls[n % len(urls)]
            started = time.perf_counter()
            home = await client.get(
                url + "/api/v1/timelines/home", headers={"Authorization": f"Bearer {token}"}
            )
            reads.home.append(time.perf_counter() - started)
            assert home.status_code == 200, home.text[:200]
            # Staff is exempt: no count, no headers.
            assert "x-ratelimit-limit" not in home.headers
            started = time.perf_counter()
            live = await client.get(url + "/livez")
            reads.livez.append(time.perf_counter() - started)
            assert live.status_code == 200
            n += 1
            await asyncio.sleep(0.05)


def baseline(token: str, urls: list[str]) -> Reads:
    reads = Reads()

    async def run() -> None:
        done = asyncio.Event()
        done.set()
        await read_while(token, urls, done, reads)

    asyncio.run(run())
    return reads


def flood(tokens: list[str], reader: str, urls: list[str]) -> tuple[list[Flood], Reads]:
    reads = Reads()

    async def run() -> list[Flood]:
        done = asyncio.Event()
        reading = asyncio.create_task(read_while(reader, urls, done, reads))
        started = time.perf_counter()
        floods = await asyncio.gather(
            *(flood_one(n, token, urls) for n, token in enumerate(tokens))
        )
        print(f"\nflood: {ACCOUNTS * FLOOD} requests in {time.perf_counter() - started:.1f} s")
        done.set()
        await reading
        return list(floods)

    return asyncio.run(run()), reads


async def prepare(db: Database) -> tuple[list[str], str]:
    """The flooding accounts (each followed by the reader) and their tokens."""
    async with db.write() as tx:
        reader_id = await do_create_account(
            tx,
            NewAccount(username="reader", email="r@example.org", password="x" * 12, admin=True),
        )
        reader = await do_issue_token(tx, reader_id, None, parse_scopes("read write"))
        tokens = []
        for n in range(ACCOUNTS):
            account = await do_create_account(
                tx,
                NewAccount(username=f"flood{n}", email=f"f{n}@example.org", password="x" * 12),
            )
            await do_follow(tx, viewer(reader_id), account)
            issued = await do_issue_token(tx, account, None, parse_scopes("read write"))
            tokens.append(issued.token)
    return tokens, reader.token


async def written(db: Database) -> tuple[dict[int, int], dict[int, int | None], set[str]]:
    """Posts per id, media rows (id -> post), and the file keys the rows name."""
    async with db.read() as conn:
        posts: dict[int, int] = {}
        for row in await conn.execute(select(statuses.c.id)):
            posts[row.id] = posts.get(row.id, 0) + 1
        media: dict[int, int | None] = {}
        keys: set[str] = set()
        for row in await conn.execute(
            select(
                media_attachments.c.id,
                media_attachments.c.status_id,
                media_attachments.c.file_key,
                media_attachments.c.preview_key,
            )
        ):
            media[row.id] = row.status_id
            keys.add(row.file_key)
            if row.preview_key:
                keys.add(row.preview_key)
    return posts, media, keys


def stored_files(settings: Settings) -> set[str]:
    root = media_root(settings)
    return {
        os.path.relpath(os.path.join(d, name), root)
        for d, _, names in os.walk(root)
        for name in names
        if ".incoming" not in Path(d).parts
    }


def verify(
    floods: list[Flood],
    reads: Reads,
    calm: Reads,
    state: tuple[dict[int, int], dict[int, int | None], set[str]],
    files: set[str],
) -> None:
    posts, media, keys = state
    for n, found in enumerate(floods):
        assert set(found.statuses) <= {200, 429}, sorted(set(found.statuses))
        assert found.refused > 0, f"account {n} was never refused"
        # Across every server, no more than the limits allow.
        assert found.served <= REQUESTS, (n, found.served)
        assert len(found.uploads) <= UPLOADS, (n, found.uploads)
        assert found.uploaded_bytes <= QUOTA, (n, found.uploaded_bytes)
        for post_id, given in found.posts:
            assert posts.get(int(post_id)) == 1, f"post {post_id} is not there exactly once"
            attached = sorted(str(m) for m, s in media.items() if s == int(post_id))
            assert attached == sorted(given), (post_id, attached, given)
    served_uploads = {int(m) for found in floods for m in found.uploads}
    assert set(media) == served_uploads, "a media row without a served upload, or one missing"
    assert len(posts) == sum(len(found.posts) for found in floods)
    assert files == keys, f"files without rows: {files - keys}; rows without files: {keys - files}"
    assert any(found.over_quota for found in floods), "the upload quota never refused"

    served = sum(f.served for f in floods)
    refused = sum(f.refused for f in floods)
    print(
        f"served {served}, refused {refused} (429); reader's home timeline: "
        f"median {statistics.median(reads.home) * 1000:.0f} ms, "
        f"p95 {reads.p95(reads.home) * 1000:.0f} ms (calm: median "
        f"{statistics.median(calm.home) * 1000:.0f} ms); /livez median "
        f"{statistics.median(reads.livez) * 1000:.0f} ms, "
        f"p95 {reads.p95(reads.livez) * 1000:.0f} ms"
    )
    # Generous bounds: two shared cores run the servers, their database, the
    # flood and this test (measured on a machine with a load average of 9:
    # p95 0.3 s embedded, 1.9 to 2.2 s scaled; calm medians 9 to 32 ms).
    assert reads.p95(reads.home) < 5.0
    assert reads.p95(reads.livez) < 2.0


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def test_given_an_embedded_server_when_accounts_flood_posts_and_uploads_then_limits_hold(
    tmp_path: Path, servers: list[ServerProcess]
) -> None:
    env = roost_env(data_dir=str(tmp_path / "data"), secret_key="f" * 40, **LIMITS)
    settings = load_settings(data_dir=tmp_path / "data", secret_key="f" * 40)
    prepare_process(settings)

    async def setup() -> tuple[list[str], str]:
        db = Database(settings)
        try:
            await upgrade(db)
            return await prepare(db)
        finally:
            await db.dispose()

    tokens, reader = asyncio.run(setup())
    servers.append(ServerProcess(env, tmp_path / "server.log", log_level="warning"))
    urls = [servers[0].url]
    calm = baseline(reader, urls)
    floods, reads = flood(tokens, reader, urls)

    async def state() -> tuple[dict[int, int], dict[int, int | None], set[str]]:
        db = Database(settings)
        try:
            return await written(db)
        finally:
            await db.dispose()

    verify(floods, reads, calm, asyncio.run(state()), stored_files(settings))
    assert "Traceback" not in servers[0].log()


def test_given_two_scaled_servers_when_accounts_flood_them_then_shared_limits_hold(
    stack: Stack, servers: list[ServerProcess]
) -> None:
    tokens, reader = stack.run(lambda: prepare(stack.db))
    env = stack.env(**LIMITS, run_jobs_in_process="true")
    for name in ("one", "two"):
        servers.append(ServerProcess(env, stack.tmp / f"{name}.log", log_level="warning"))
    urls = [s.url for s in servers]
    calm = baseline(reader, urls)
    floods, reads = flood(tokens, reader, urls)
    state: Any = stack.run(lambda: written(stack.db))
    verify(floods, reads, calm, state, stored_files(stack.settings))
    for server in servers:
        assert "Traceback" not in server.log()
