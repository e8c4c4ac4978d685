"""Home and list timelines kept in Redis (scaled mode), with the database as the fallback.

Each active account's home timeline, and each list of an active owner, is a
sorted set of at most ``timeline_max_entries`` post ids, written by fan-out
when a post is published (in a job). Layout, under the configured prefix:

    tl:home:<account>         members are ids zero-padded to 20 digits, all with
                              score 0, so the set sorts by id exactly (a float
                              score would round 64-bit ids); the member "~"
                              sorts last and marks the set as complete
    tl:home:<account>:lease   held by the one process rebuilding that timeline
    tl:home:<account>:src     for a minute: which followed accounts and hashtags
                              are merged at read time (usually none)
    tl:list:<owner>:<list>    a list's timeline, laid out as a home timeline,
    tl:list:<owner>:<list>:lease   with its lease
    tl:list:<owner>:<list>:src     and its members merged at read time

Activity is the key's own life: every read renews its TTL
(``timeline_active_days``); fan-out writes only to timelines that exist (or are
being rebuilt), so an account that stopped reading costs nothing until it comes
back and its timeline is rebuilt from the database, under the lease, once.

Authors with more than ``fanout_max_followers`` followers are not fanned out,
to home timelines or lists; their posts are merged in from the database at
read time.

The store knows ids, not rules: each read is of a ``Timeline`` the domain
describes (roost/domain/timelines/cached.py), whose reads apply the rules of
now (for home the viewer's follows, mutes, blocks and exclusive lists; for a
list its members, replies policy and the owner's mutes and blocks) and the
privacy policy to every id read here. A stale entry can only go missing, never
show something it should not. What would make a cached list miss posts
(members added, a wider replies policy, the owner following someone for a
``followed`` list) is dropped by the domain's jobs (``invalidate``), and the
next read rebuilds it. Any Redis error sends the read to the timeline's own
database read (``fallback``) and trips the breaker in ``RedisLink``.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from roost.config import Settings
from roost.db.engine import ReadScope
from roost.errors import RetryLater
from roost.observability.metrics import Metrics
from roost.paging import Page
from roost.redis_link import REDIS_DOWN, RedisLink
from roost.timelines.redis_keys import (
    ADD,
    COMPLETE,
    REBUILD,
    RELEASE,
    REMOVE,
    STATE,
    ids_of,
    lex_range,
    member,
)
from roost.timelines.store import Bounds, ListRef, Sources, Timeline

T = TypeVar("T")
_I = TypeVar("_I")

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
    caches = True

    def __init__(self, settings: Settings, link: RedisLink, metrics: Metrics) -> None:
        self.link = link
        self.metrics = metrics
        self.cap = self.max_entries = settings.timeline_max_entries
        self.ttl_s = settings.timeline_active_days * 86_400
        self.fanout_max_followers = settings.fanout_max_followers
        client = link.client
        self._add = client.register_script(ADD)
        self._remove = client.register_script(REMOVE)
        self._release = client.register_script(RELEASE)
        self._rebuild_script = client.register_script(REBUILD)
        self._state_script = client.register_script(STATE)

    def _key(self, account_id: int) -> str:
        return self.link.key("tl", "home", account_id)

    def _list_key(self, owner: int, list_id: int) -> str:
        return self.link.key("tl", "list", owner, list_id)

    def _list_keys(self, owner: int, list_id: int) -> list[str]:
        """Everything kept for one list: timeline, lease, merge sources."""
        key = self._list_key(owner, list_id)
        return [key, key + ":lease", key + ":src"]

    # -- reads ---------------------------------------------------------------

    def _timeline_key(self, timeline: Timeline[Any]) -> str:
        if timeline.list_id is None:
            return self._key(timeline.owner)
        return self._list_key(timeline.owner, timeline.list_id)

    async def read(self, reads: ReadScope, timeline: Timeline[T], page: Page) -> list[T]:
        if self.link.available:
            try:
                return await self._read(reads, timeline, page)
            except REDIS_DOWN as error:
                self.link.failed("home" if timeline.list_id is None else "list", error)
        self.metrics.timeline_reads.labels("database").inc()
        return await timeline.fallback(reads, page)

    async def _read(self, reads: ReadScope, timeline: Timeline[T], page: Page) -> list[T]:
        key = self._timeline_key(timeline)
        ascending = page.min_id is not None
        lower = max(page.min_id or 0, page.since_id or 0) or None
        bounds = Bounds(lower=lower, upper=page.max_id, ascending=ascending)
        state = await self._state(key, bounds, page.limit)
        if state.complete:
            self.metrics.timeline_reads.labels("hit").inc()
        else:
            how = await self._build(await reads.conn(), timeline, key)
            if how is None:
                self.metrics.timeline_reads.labels("database").inc()
                return await timeline.fallback(reads, page)
            self.metrics.timeline_reads.labels(how).inc()
            state = await self._state(key, bounds, page.limit)
        self.link.succeeded()
        # A set at its cap has lost its oldest entries: a page that reaches
        # below them is the database's to answer.
        truncated = state.size > self.cap
        oldest = state.oldest
        if ascending and truncated and oldest is not None and lower is not None and lower < oldest:
            return await timeline.fallback(reads, page)
        shown, drained, last = await self._collect(reads, timeline, key, bounds, page.limit, state)
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
            shown += await timeline.fallback(reads, rest)
        return shown

    async def _state(self, key: str, bounds: Bounds, count: int) -> _State:
        """One round trip (the STATE script): completeness, size, oldest entry,
        the first window of the page, the cached merge sources, and a renewed
        TTL (reading is what keeps a timeline active)."""
        start, stop = lex_range(bounds)
        marker, size, first, window, sources = await self._state_script(
            keys=[key, key + ":src"],
            args=[start, stop, "0" if bounds.ascending else "1", count, self.ttl_s],
        )
        oldest = int(first) if first and first != COMPLETE.encode() else None
        return _State(bool(marker), int(size), oldest, ids_of(window), sources or None)

    async def _sources(
        self, reads: ReadScope, timeline: Timeline[Any], key: str, cached: bytes | None
    ) -> Sources:
        """Where merged posts come from (for home: big accounts followed, hashtags
        followed; for a list: its big members), kept for SOURCES_TTL_S so that
        most reads need no query to know there are none. A new follow clears
        home's (``invalidate``); a followed hashtag shows within SOURCES_TTL_S."""
        if cached is not None:
            return Sources.from_json(cached)
        sources = await timeline.sources(await reads.conn(), self.fanout_max_followers)
        await self.link.client.set(key + ":src", sources.to_json(), ex=SOURCES_TTL_S)
        return sources

    async def _collect(
        self,
        reads: ReadScope,
        timeline: Timeline[T],
        key: str,
        bounds: Bounds,
        limit: int,
        state: _State,
    ) -> tuple[list[T], bool, int | None]:
        """Walk the timeline from ``bounds`` until ``limit`` posts pass the checks.

        Returns the posts, whether Redis has no more entries in that direction,
        and the last id looked at.
        """
        sources = await self._sources(reads, timeline, key, state.sources)
        first = state.window
        shown: list[T] = []
        cursor = bounds
        last: int | None = None
        drained = False
        for round_ in range(_MAX_ROUNDS):
            want = limit - len(shown)
            # Later rounds mean entries are being filtered out (mutes): look
            # further ahead per round rather than inch along.
            fetch = want if round_ == 0 else want * 4
            cached = first if round_ == 0 else await self._range(key, cursor, fetch)
            merged = (
                await timeline.merged(reads, sources, cursor, fetch)
                if sources.big_accounts or sources.tags
                else []
            )
            ids = sorted(set(cached) | set(merged), reverse=not cursor.ascending)[:fetch]
            drained = len(cached) < fetch
            if not ids:
                break
            last = ids[-1]
            shown += await self._load(reads, timeline, key, ids, cursor.ascending)
            if len(shown) >= limit or (drained and len(merged) < fetch):
                break
            cursor = (
                Bounds(last, cursor.upper, True)
                if cursor.ascending
                else Bounds(cursor.lower, last, False)
            )
        else:
            drained = False
        return shown[:limit], drained, last

    async def _range(self, key: str, bounds: Bounds, count: int) -> list[int]:
        raw = await self.link.client.zrange(
            key, *lex_range(bounds), desc=not bounds.ascending, bylex=True, offset=0, num=count
        )
        return ids_of(raw)

    async def _load(
        self,
        reads: ReadScope,
        timeline: Timeline[T],
        key: str,
        ids: Sequence[int],
        ascending: bool,
    ) -> list[T]:
        """The entries that pass the policy and the timeline's rules of now, in one
        query (plus the hydration every loaded post needs)."""
        views = await timeline.shown(reads, ids)
        if len(views) < len(ids):
            gone = await timeline.gone(reads, ids)
            if gone:
                # Deleted, or left behind by an unfollow (a member removed):
                # tidy up so the next read does not look at them again.
                await self.link.client.zrem(key, *(member(i) for i in gone))
        if ascending:
            views.reverse()
        return views

    # -- rebuilds ------------------------------------------------------------

    async def _build(self, conn: AsyncConnection, timeline: Timeline[Any], key: str) -> str | None:
        """Make the timeline complete: rebuild it under the lease, or wait for
        whoever holds the lease. Returns how ("rebuilt", "waited") or None when
        the other rebuild did not finish in time (or this one lost its lease)."""
        lease = key + ":lease"
        token = secrets.token_hex(8)
        client = self.link.client
        if await client.set(lease, token, nx=True, px=LEASE_MS):
            try:
                # Another reader may have finished a rebuild between our look
                # and taking the lease: check again, or it would be done twice.
                if await client.zscore(key, COMPLETE) is not None:
                    return "waited"
                if not await self._rebuild(conn, timeline, key, token):
                    return None
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

    async def _rebuild(
        self, conn: AsyncConnection, timeline: Timeline[Any], key: str, token: str
    ) -> bool:
        # The lease is taken before this query runs, and fan-out writes into a
        # leased timeline: a post committed after the query still lands.
        ids = await timeline.contents(conn, self.cap)
        written = await self._rebuild_script(
            keys=[key, key + ":lease"],
            args=[token, self.cap, self.ttl_s, *(member(i) for i in ids), COMPLETE],
        )
        if not written:
            return False
        self.metrics.timeline_rebuilds.inc()
        return True

    # -- writes (from the domain's jobs) ------------------------------------

    def _usable(self) -> None:
        if not self.link.available:
            raise RetryLater("redis is unavailable")

    def _timelines(self, homes: Sequence[int], lists: Sequence[ListRef]) -> list[str]:
        """Keys of home timelines (by owner) and lists."""
        keys = [self._key(a) for a in homes]
        keys += [self._list_key(ref.owner, ref.list_id) for ref in lists]
        return keys

    async def deliver(
        self, status_ids: Sequence[int], homes: Sequence[int], lists: Sequence[ListRef]
    ) -> None:
        """Into those of the timelines that exist (or are being rebuilt): a
        timeline nobody reads is not written, and is rebuilt whole when read."""
        self._usable()
        timelines = self._timelines(homes, lists)
        if timelines and status_ids:
            await self._write(self._add, timelines, [member(i) for i in status_ids])

    async def withdraw(
        self, status_ids: Sequence[int], homes: Sequence[int], lists: Sequence[ListRef]
    ) -> None:
        self._usable()
        timelines = self._timelines(homes, lists)
        if timelines and status_ids:
            await self._write(self._remove, timelines, [member(i) for i in status_ids])

    async def invalidate(self, *, sources_of: Sequence[int], lists: Sequence[ListRef]) -> None:
        """Drop the merge sources of homes, and lists whole (with a rebuild in
        progress, whose lease goes with it, so its contents are not written)."""
        self._usable()
        keys = [self._key(owner) + ":src" for owner in sources_of]
        keys += [k for ref in lists for k in self._list_keys(ref.owner, ref.list_id)]
        if not keys:
            return
        try:
            await self.link.client.delete(*keys)
        except REDIS_DOWN as error:
            self.link.failed("fanout", error)
            raise RetryLater("redis is unavailable") from error
        self.link.succeeded()

    async def forget(self, status_ids: Sequence[int]) -> int:
        """Remove posts from every cached timeline, home and list, whoever follows
        whom now (erasure: by the time it purges, the author's follows and list
        memberships are gone, so the timelines cannot be looked up). Walks every
        timeline key: seconds for 100,000 timelines, which an erasure can
        afford. Returns the timelines changed."""
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

        for kind in ("home", "list"):
            async for key in client.scan_iter(match=self.link.key("tl", kind, "*"), count=1000):
                if key.endswith((b":lease", b":src")):
                    continue
                batch.append(key)
                if len(batch) >= 1000:
                    changed += await remove(batch)
                    batch = []
        if batch:
            changed += await remove(batch)
        return changed

    async def _write(self, script: Any, timelines: list[str], members: list[str]) -> None:
        adding = script is self._add
        try:
            for batch in chunks(timelines, FANOUT_BATCH):
                if adding:
                    keys = [k for t in batch for k in (t, t + ":lease")]
                    written = await script(keys=keys, args=[self.cap, *members])
                    self.metrics.fanout_entries.inc(int(written) * len(members))
                else:
                    await script(keys=list(batch), args=members)
        except REDIS_DOWN as error:
            self.link.failed("fanout", error)
            # Every write here is idempotent (ZADD, ZREM): running the whole job
            # again once Redis answers is safe.
            raise RetryLater("redis is unavailable") from error
        self.link.succeeded()


def chunks(ids: Sequence[_I], size: int) -> Iterable[Sequence[_I]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
