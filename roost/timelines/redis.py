"""Home timelines kept in Redis (scaled mode), with the database as the fallback.

Each active account's home timeline is a sorted set of at most
``timeline_max_entries`` post ids, written by fan-out when a post is published
(in a job). Layout, under the configured prefix:

    tl:home:<account>         members are ids zero-padded to 20 digits, all with
                              score 0, so the set sorts by id exactly (a float
                              score would round 64-bit ids); the member "~"
                              sorts last and marks the set as complete
    tl:home:<account>:lease   held by the one process rebuilding that timeline
    tl:home:<account>:src     for a minute: which followed accounts and hashtags
                              are merged at read time (usually none)

Activity is the key's own life: every read renews its TTL
(``timeline_active_days``); fan-out writes only to timelines that exist (or are
being rebuilt), so an account that stopped reading costs nothing until it comes
back and its timeline is rebuilt from the database, under the lease, once.

Authors with more than ``fanout_max_followers`` followers are not fanned out;
their posts are merged in from the database at read time.

Every id read here is loaded through ``paged`` (the privacy policy, as
``statuses_by_ids`` applies it) together with the home rules of now: the
viewer's follows, mutes, blocks and exclusive lists. A stale entry can only go
missing, never show something it should not. Any Redis error sends the read to
``SqlTimelineStore`` and trips the breaker in ``RedisLink``.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from roost.config import Settings
from roost.db.engine import Database, ReadScope
from roost.domain.privacy import Visible
from roost.domain.statuses.queries import paged
from roost.domain.types import Page, StatusView, Viewer
from roost.jobs.registry import RetryLater
from roost.observability.metrics import Metrics
from roost.redis_link import REDIS_DOWN, RedisLink
from roost.timelines import redis_queries as q
from roost.timelines.redis_keys import ADD, COMPLETE, RELEASE, REMOVE, ids_of, lex_range, member
from roost.timelines.sql import SqlTimelineStore

# Followers handled per Redis script call: large enough that a 100,000-follower
# fan-out is a few dozen calls, small enough that one call blocks Redis for
# only a few milliseconds.
FANOUT_BATCH = 2000
LEASE_MS = 30_000
# A reader that finds another process rebuilding waits this long for it before
# answering from the database itself.
REBUILD_WAIT_S = 2.0
_MAX_ROUNDS = 4
SOURCES_TTL_S = 60


@dataclass(frozen=True)
class _State:
    complete: bool
    size: int  # entries, the COMPLETE marker included
    oldest: int | None
    window: list[int]  # the first ids of the page asked for
    sources: bytes | None  # the cached merge sources, if any


class RedisTimelineStore:
    def __init__(self, settings: Settings, db: Database, link: RedisLink, metrics: Metrics) -> None:
        self.db = db
        self.link = link
        self.metrics = metrics
        self.sql = SqlTimelineStore()
        self.cap = settings.timeline_max_entries
        self.ttl_s = settings.timeline_active_days * 86_400
        self.threshold = settings.fanout_max_followers
        client = link.client
        self._add = client.register_script(ADD)
        self._remove = client.register_script(REMOVE)
        self._release = client.register_script(RELEASE)

    def _key(self, account_id: int) -> str:
        return self.link.key("tl", "home", account_id)

    def _lease(self, account_id: int) -> str:
        return self.link.key("tl", "home", account_id, "lease")

    # -- reads ---------------------------------------------------------------

    async def home(self, reads: ReadScope, viewer: Viewer, page: Page) -> list[Visible[StatusView]]:
        assert viewer.account_id is not None
        if self.link.available:
            try:
                return await self._home(reads, viewer, page)
            except REDIS_DOWN as error:
                self.link.failed("home", error)
        self.metrics.timeline_reads.labels("database").inc()
        return await self.sql.home(reads, viewer, page)

    async def _home(
        self, reads: ReadScope, viewer: Viewer, page: Page
    ) -> list[Visible[StatusView]]:
        conn = await reads.conn()
        me = viewer.account_id
        assert me is not None
        key = self._key(me)
        ascending = page.min_id is not None
        lower = max(page.min_id or 0, page.since_id or 0) or None
        bounds = q.Bounds(lower=lower, upper=page.max_id, ascending=ascending)
        state = await self._state(key, bounds, page.limit)
        if state.complete:
            self.metrics.timeline_reads.labels("hit").inc()
        else:
            how = await self._build(conn, viewer)
            if how is None:
                self.metrics.timeline_reads.labels("database").inc()
                return await self.sql.home(reads, viewer, page)
            self.metrics.timeline_reads.labels(how).inc()
            state = await self._state(key, bounds, page.limit)
        self.link.succeeded()
        # A set at its cap has lost its oldest entries: a page that reaches
        # below them is the database's to answer.
        truncated = state.size > self.cap
        oldest = state.oldest
        if ascending and truncated and oldest is not None and lower is not None and lower < oldest:
            return await self.sql.home(reads, viewer, page)
        shown, drained, last = await self._collect(conn, viewer, key, bounds, page.limit, state)
        if ascending:
            shown.reverse()
        elif len(shown) < page.limit and (truncated or not drained):
            # Redis holds no more of this page (it was trimmed, or too much of
            # it was filtered out): the database answers the rest.
            rest = Page(
                max_id=last if last is not None else page.max_id,
                since_id=page.since_id,
                limit=page.limit - len(shown),
            )
            shown += await self.sql.home(reads, viewer, rest)
        return shown

    async def _state(self, key: str, bounds: q.Bounds, count: int) -> _State:
        """One round trip: completeness, size, oldest entry, the first window of
        the page, and a renewed TTL (reading is what keeps a timeline active)."""
        pipe = self.link.client.pipeline(transaction=False)
        pipe.zscore(key, COMPLETE)
        pipe.zcard(key)
        pipe.zrange(key, 0, 0)
        pipe.zrange(
            key, *lex_range(bounds), desc=not bounds.ascending, bylex=True, offset=0, num=count
        )
        pipe.expire(key, self.ttl_s)
        pipe.get(key + ":src")
        marker, size, first, window, _, sources = await pipe.execute()
        oldest = int(first[0]) if first and first[0] != COMPLETE.encode() else None
        return _State(marker is not None, int(size), oldest, ids_of(window), sources)

    async def _sources(self, conn: AsyncConnection, me: int, cached: bytes | None) -> q.Sources:
        """Where merged posts come from (big accounts followed, hashtags followed),
        kept for SOURCES_TTL_S so that most reads need no query to know there
        are none. A new follow clears it (``on_followed``); a followed hashtag
        shows within SOURCES_TTL_S."""
        if cached is not None:
            return q.Sources.from_json(cached)
        sources = await q.merge_sources(conn, me, self.threshold)
        await self.link.client.set(self._key(me) + ":src", sources.to_json(), ex=SOURCES_TTL_S)
        return sources

    async def _collect(
        self,
        conn: AsyncConnection,
        viewer: Viewer,
        key: str,
        bounds: q.Bounds,
        limit: int,
        state: _State,
    ) -> tuple[list[Visible[StatusView]], bool, int | None]:
        """Walk the timeline from ``bounds`` until ``limit`` posts pass the checks.

        Returns the posts, whether Redis has no more entries in that direction,
        and the last id looked at.
        """
        me = viewer.account_id
        assert me is not None
        sources = await self._sources(conn, me, state.sources)
        first = state.window
        shown: list[Visible[StatusView]] = []
        cursor = bounds
        last: int | None = None
        drained = False
        for round_ in range(_MAX_ROUNDS):
            want = limit - len(shown)
            # Later rounds mean entries are being filtered out (mutes): look
            # further ahead per round rather than inch along.
            fetch = want if round_ == 0 else want * 4
            cached = first if round_ == 0 else await self._range(key, cursor, fetch)
            merged = await q.merged_ids(conn, me, sources, cursor, fetch)
            ids = sorted(set(cached) | set(merged), reverse=not cursor.ascending)[:fetch]
            drained = len(cached) < fetch
            if not ids:
                break
            last = ids[-1]
            shown += await self._load(conn, viewer, key, ids, cursor.ascending)
            if len(shown) >= limit or (drained and len(merged) < fetch):
                break
            cursor = (
                q.Bounds(last, cursor.upper, True)
                if cursor.ascending
                else q.Bounds(cursor.lower, last, False)
            )
        else:
            drained = False
        return shown[:limit], drained, last

    async def _range(self, key: str, bounds: q.Bounds, count: int) -> list[int]:
        raw = await self.link.client.zrange(
            key, *lex_range(bounds), desc=not bounds.ascending, bylex=True, offset=0, num=count
        )
        return ids_of(raw)

    async def _load(
        self,
        conn: AsyncConnection,
        viewer: Viewer,
        key: str,
        ids: Sequence[int],
        ascending: bool,
    ) -> list[Visible[StatusView]]:
        """The entries that pass the policy and the home rules of now, in one query
        (plus the hydration every loaded post needs)."""
        views = await paged(conn, viewer, q.shown_on_home(viewer, ids), Page(limit=len(ids)))
        if len(views) < len(ids):
            checked = await q.check_entries(conn, viewer, ids)
            if checked.gone:
                # Deleted, or left behind by an unfollow: tidy up so the next
                # read does not look at them again.
                await self.link.client.zrem(key, *(member(i) for i in checked.gone))
        if ascending:
            views.reverse()
        return views

    # -- rebuilds ------------------------------------------------------------

    async def _build(self, conn: AsyncConnection, viewer: Viewer) -> str | None:
        """Make the viewer's timeline complete: rebuild it under the lease, or wait
        for whoever holds the lease. Returns how ("rebuilt", "waited") or None
        when the other rebuild did not finish in time."""
        me = viewer.account_id
        assert me is not None
        lease, key = self._lease(me), self._key(me)
        token = secrets.token_hex(8)
        client = self.link.client
        if await client.set(lease, token, nx=True, px=LEASE_MS):
            try:
                # Another reader may have finished a rebuild between our look
                # and taking the lease: check again, or it would be done twice.
                if await client.zscore(key, COMPLETE) is not None:
                    return "waited"
                await self._rebuild(conn, viewer, key)
            finally:
                await self._release(keys=[lease], args=[token])
            return "rebuilt"
        deadline = time.monotonic() + REBUILD_WAIT_S
        delay = 0.01
        while time.monotonic() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
            if await client.zscore(key, COMPLETE) is not None:
                return "waited"
        return None

    async def _rebuild(self, conn: AsyncConnection, viewer: Viewer, key: str) -> None:
        # The lease is taken before this query runs, and fan-out writes into a
        # leased timeline: a post committed after the query still lands.
        ids = await q.home_ids(conn, viewer, self.cap)
        entries: dict[str, float] = {member(i): 0 for i in ids}
        entries[COMPLETE] = 0
        pipe = self.link.client.pipeline(transaction=True)
        pipe.zadd(key, entries)
        pipe.zremrangebyrank(key, 0, -(self.cap + 2))
        pipe.expire(key, self.ttl_s)
        await pipe.execute()
        self.metrics.timeline_rebuilds.inc()

    # -- writes (from jobs) --------------------------------------------------

    def _usable(self) -> None:
        if not self.link.available:
            raise RetryLater("redis is unavailable")

    async def on_published(self, status_id: int) -> None:
        self._usable()
        async with self.db.read() as conn:
            post = await q.post_for_fanout(conn, status_id)
            if post is None:
                return  # deleted before its fan-out ran
            followers: list[int] = []
            if post.author_followers <= self.threshold:
                followers = list((await conn.execute(q.receiving_followers(post))).scalars())
        await self._write(self._add, [post.account_id, *followers], [member(post.id)])

    async def on_deleted(self, status_id: int, account_id: int) -> None:
        self._usable()
        async with self.db.read() as conn:
            followers = list((await conn.execute(q.all_followers(account_id))).scalars())
        await self._write(self._remove, [account_id, *followers], [member(status_id)])

    async def forget(self, status_ids: Sequence[int]) -> int:
        """Remove posts from every cached timeline, whoever follows whom now
        (erasure: by the time it purges, the author's follows are gone, so the
        followers cannot be looked up). Walks every timeline key: seconds for
        100,000 timelines, which an erasure can afford. Returns the timelines
        changed."""
        if not status_ids:
            return 0
        client = self.link.client
        members = [member(i) for i in status_ids]
        changed = 0
        batch: list[bytes] = []

        async def remove(keys: list[bytes]) -> int:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.zrem(key, *members)
            return sum(1 for removed in await pipe.execute() if removed)

        async for key in client.scan_iter(match=self.link.key("tl", "home", "*"), count=1000):
            if key.endswith((b":lease", b":src")):
                continue
            batch.append(key)
            if len(batch) >= 1000:
                changed += await remove(batch)
                batch = []
        if batch:
            changed += await remove(batch)
        return changed

    async def on_followed(self, account_id: int, target_id: int) -> None:
        """A new follow: bring the followed account's recent posts into the timeline
        (if it is cached; a missing timeline is rebuilt whole when next read)."""
        self._usable()
        try:
            await self.link.client.delete(self._key(account_id) + ":src")
        except REDIS_DOWN as error:
            self.link.failed("fanout", error)
            raise RetryLater("redis is unavailable") from error
        viewer = Viewer(account_id=account_id, scopes=frozenset())
        async with self.db.read() as conn:
            if await q.followers_of(conn, target_id) > self.threshold:
                return  # merged at read time, like everything this account posts
            ids = await q.author_home_ids(conn, viewer, target_id, self.cap)
        if ids:
            await self._write(self._add, [account_id], [member(i) for i in ids])

    async def _write(self, script: Any, accounts: list[int], members: list[str]) -> None:
        adding = script is self._add
        try:
            for batch in q.chunks(accounts, FANOUT_BATCH):
                if adding:
                    keys = [k for a in batch for k in (self._key(a), self._lease(a))]
                    written = await script(keys=keys, args=[self.cap, *members])
                    self.metrics.fanout_entries.inc(int(written) * len(members))
                else:
                    await script(keys=[self._key(a) for a in batch], args=members)
        except REDIS_DOWN as error:
            self.link.failed("fanout", error)
            # Every write here is idempotent (ZADD, ZREM): running the whole job
            # again once Redis answers is safe.
            raise RetryLater("redis is unavailable") from error
        self.link.succeeded()

    # -- the rest is the database's ------------------------------------------

    async def public(
        self,
        reads: ReadScope,
        viewer: Viewer,
        page: Page,
        *,
        local_only: bool,
        remote_only: bool,
        only_media: bool,
    ) -> list[Visible[StatusView]]:
        return await self.sql.public(
            reads,
            viewer,
            page,
            local_only=local_only,
            remote_only=remote_only,
            only_media=only_media,
        )

    async def tag(
        self,
        reads: ReadScope,
        viewer: Viewer,
        page: Page,
        *,
        any_of: list[str],
        all_of: list[str],
        none_of: list[str],
        local_only: bool,
        remote_only: bool,
        only_media: bool,
    ) -> list[Visible[StatusView]]:
        return await self.sql.tag(
            reads,
            viewer,
            page,
            any_of=any_of,
            all_of=all_of,
            none_of=none_of,
            local_only=local_only,
            remote_only=remote_only,
            only_media=only_media,
        )
