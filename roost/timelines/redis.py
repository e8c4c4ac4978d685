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

Every id read here is loaded through the privacy policy together with the
rules of now: for home the viewer's follows, mutes, blocks and exclusive
lists; for a list its members, replies policy and the owner's mutes and
blocks. A stale entry can only go missing, never show something it should
not. What would make a cached list miss posts (members added, a wider replies
policy, the owner following someone for a ``followed`` list) drops its key in
a job (``on_list_changed``, ``on_followed``), and the next read rebuilds it.
Any Redis error sends the read to ``SqlTimelineStore`` and trips the breaker
in ``RedisLink``.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from roost.config import Settings
from roost.db.engine import Database, ReadScope
from roost.db.fastread import IdList
from roost.domain.graph import mutes as mute_rules
from roost.domain.lists.queries import REPLIES_POLICIES, ListInfo, list_page, owned_list_read
from roost.domain.privacy import PolicyRead, Visible, timeline_reader
from roost.domain.statuses.feed import present
from roost.domain.types import Page, StatusView, Viewer
from roost.jobs.registry import RetryLater
from roost.observability.metrics import Metrics
from roost.redis_link import REDIS_DOWN, RedisLink
from roost.timelines import redis_queries as q
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


# The cached entries of a page that belong on the viewer's home now, through
# the policy, newest first (see redis_queries.shown_on_home_read).
_SHOWN_ON_HOME = PolicyRead(q.shown_on_home_read)
# The same for a list, one prepared read per replies policy.
_SHOWN_ON_LIST = {
    policy: PolicyRead(partial(q.shown_on_list_read, policy)) for policy in REPLIES_POLICIES
}


class _Timeline(Protocol):
    """One cached timeline: where it lives and what its rules are."""

    key: str
    lease: str

    async def fallback(self, reads: ReadScope, page: Page) -> list[Visible[StatusView]]:
        """The page from the database (the SQL store's answer)."""

    async def sources(self, conn: AsyncConnection) -> q.Sources:
        """What is merged in at read time instead of fanned out."""

    async def merged(
        self, conn: AsyncConnection, sources: q.Sources, bounds: q.Bounds, limit: int
    ) -> list[int]: ...

    async def shown(self, reads: ReadScope, ids: Sequence[int]) -> list[Visible[StatusView]]:
        """Those of ``ids`` that belong on it now, through the policy, newest first."""

    async def gone(self, conn: AsyncConnection, ids: Sequence[int]) -> list[int]:
        """Those of ``ids`` to remove from the cache (not merely hidden)."""

    async def contents(self, conn: AsyncConnection, limit: int) -> list[int]:
        """A rebuild's entries, newest first."""


@dataclass
class _Home:
    key: str
    lease: str
    viewer: Viewer
    sql: SqlTimelineStore
    threshold: int

    async def fallback(self, reads: ReadScope, page: Page) -> list[Visible[StatusView]]:
        return await self.sql.home(reads, self.viewer, page)

    async def sources(self, conn: AsyncConnection) -> q.Sources:
        assert self.viewer.account_id is not None
        return await q.merge_sources(conn, self.viewer.account_id, self.threshold)

    async def merged(
        self, conn: AsyncConnection, sources: q.Sources, bounds: q.Bounds, limit: int
    ) -> list[int]:
        assert self.viewer.account_id is not None
        return await q.merged_ids(conn, self.viewer.account_id, sources, bounds, limit)

    async def shown(self, reads: ReadScope, ids: Sequence[int]) -> list[Visible[StatusView]]:
        rows = await _SHOWN_ON_HOME.rows(
            reads.fast, self.viewer, raw=True, ids=IdList(ids), now=mute_rules.mute_time()
        )
        return await present(reads, self.viewer, rows)

    async def gone(self, conn: AsyncConnection, ids: Sequence[int]) -> list[int]:
        return (await q.check_entries(conn, self.viewer, ids)).gone

    async def contents(self, conn: AsyncConnection, limit: int) -> list[int]:
        return await q.home_ids(conn, self.viewer, limit)


@dataclass
class _List:
    key: str
    lease: str
    viewer: Viewer  # the owner
    info: ListInfo
    threshold: int

    @property
    def ref(self) -> q.ListRef:
        assert self.viewer.account_id is not None
        return q.ListRef(self.viewer.account_id, self.info.id)

    async def fallback(self, reads: ReadScope, page: Page) -> list[Visible[StatusView]]:
        return await list_page(await reads.conn(), self.viewer, self.info, page)

    async def sources(self, conn: AsyncConnection) -> q.Sources:
        return await q.list_sources(conn, self.info.id, self.threshold)

    async def merged(
        self, conn: AsyncConnection, sources: q.Sources, bounds: q.Bounds, limit: int
    ) -> list[int]:
        return await q.list_merged_ids(
            conn, self.ref, self.info.replies_policy, sources, bounds, limit
        )

    async def shown(self, reads: ReadScope, ids: Sequence[int]) -> list[Visible[StatusView]]:
        rows = await _SHOWN_ON_LIST[self.info.replies_policy].rows(
            reads.fast,
            self.viewer,
            raw=True,
            ids=IdList(ids),
            list_id=self.info.id,
            now=mute_rules.mute_time(),
        )
        return await present(reads, self.viewer, rows)

    async def gone(self, conn: AsyncConnection, ids: Sequence[int]) -> list[int]:
        return await q.list_gone(conn, self.ref, self.info.replies_policy, ids)

    async def contents(self, conn: AsyncConnection, limit: int) -> list[int]:
        return await q.list_contents(conn, self.ref, self.info.replies_policy, limit)


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
        self._rebuild_script = client.register_script(REBUILD)
        self._state_script = client.register_script(STATE)

    def _key(self, account_id: int) -> str:
        return self.link.key("tl", "home", account_id)

    def _lease(self, account_id: int) -> str:
        return self.link.key("tl", "home", account_id, "lease")

    def _list_key(self, owner: int, list_id: int) -> str:
        return self.link.key("tl", "list", owner, list_id)

    def _list_keys(self, owner: int, list_id: int) -> list[str]:
        """Everything kept for one list: timeline, lease, merge sources."""
        key = self._list_key(owner, list_id)
        return [key, key + ":lease", key + ":src"]

    # -- reads ---------------------------------------------------------------

    async def home(self, reads: ReadScope, viewer: Viewer, page: Page) -> list[Visible[StatusView]]:
        me = viewer.account_id
        assert me is not None
        viewer = timeline_reader(viewer)
        if self.link.available:
            timeline = _Home(self._key(me), self._lease(me), viewer, self.sql, self.threshold)
            try:
                return await self._read(reads, timeline, page)
            except REDIS_DOWN as error:
                self.link.failed("home", error)
        self.metrics.timeline_reads.labels("database").inc()
        return await self.sql.home(reads, viewer, page)

    async def list_timeline(
        self, reads: ReadScope, viewer: Viewer, list_id: int, page: Page
    ) -> list[Visible[StatusView]]:
        me = viewer.account_id
        assert me is not None
        viewer = timeline_reader(viewer)
        info = await owned_list_read(reads, viewer, list_id)
        if self.link.available:
            key = self._list_key(me, list_id)
            timeline = _List(key, key + ":lease", viewer, info, self.threshold)
            try:
                return await self._read(reads, timeline, page)
            except REDIS_DOWN as error:
                self.link.failed("list", error)
        self.metrics.timeline_reads.labels("database").inc()
        return await list_page(await reads.conn(), viewer, info, page)

    async def _read(
        self, reads: ReadScope, timeline: _Timeline, page: Page
    ) -> list[Visible[StatusView]]:
        key = timeline.key
        ascending = page.min_id is not None
        lower = max(page.min_id or 0, page.since_id or 0) or None
        bounds = q.Bounds(lower=lower, upper=page.max_id, ascending=ascending)
        state = await self._state(key, bounds, page.limit)
        if state.complete:
            self.metrics.timeline_reads.labels("hit").inc()
        else:
            how = await self._build(await reads.conn(), timeline)
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
        shown, drained, last = await self._collect(reads, timeline, bounds, page.limit, state)
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

    async def _state(self, key: str, bounds: q.Bounds, count: int) -> _State:
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
        self, reads: ReadScope, timeline: _Timeline, cached: bytes | None
    ) -> q.Sources:
        """Where merged posts come from (for home: big accounts followed, hashtags
        followed; for a list: its big members), kept for SOURCES_TTL_S so that
        most reads need no query to know there are none. A new follow clears
        home's (``on_followed``); a followed hashtag shows within SOURCES_TTL_S."""
        if cached is not None:
            return q.Sources.from_json(cached)
        sources = await timeline.sources(await reads.conn())
        await self.link.client.set(timeline.key + ":src", sources.to_json(), ex=SOURCES_TTL_S)
        return sources

    async def _collect(
        self,
        reads: ReadScope,
        timeline: _Timeline,
        bounds: q.Bounds,
        limit: int,
        state: _State,
    ) -> tuple[list[Visible[StatusView]], bool, int | None]:
        """Walk the timeline from ``bounds`` until ``limit`` posts pass the checks.

        Returns the posts, whether Redis has no more entries in that direction,
        and the last id looked at.
        """
        key = timeline.key
        sources = await self._sources(reads, timeline, state.sources)
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
            merged = (
                await timeline.merged(await reads.conn(), sources, cursor, fetch)
                if sources.big_accounts or sources.tags
                else []
            )
            ids = sorted(set(cached) | set(merged), reverse=not cursor.ascending)[:fetch]
            drained = len(cached) < fetch
            if not ids:
                break
            last = ids[-1]
            shown += await self._load(reads, timeline, ids, cursor.ascending)
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
        reads: ReadScope,
        timeline: _Timeline,
        ids: Sequence[int],
        ascending: bool,
    ) -> list[Visible[StatusView]]:
        """The entries that pass the policy and the timeline's rules of now, in one
        query (plus the hydration every loaded post needs)."""
        views = await timeline.shown(reads, ids)
        if len(views) < len(ids):
            gone = await timeline.gone(await reads.conn(), ids)
            if gone:
                # Deleted, or left behind by an unfollow (a member removed):
                # tidy up so the next read does not look at them again.
                await self.link.client.zrem(timeline.key, *(member(i) for i in gone))
        if ascending:
            views.reverse()
        return views

    # -- rebuilds ------------------------------------------------------------

    async def _build(self, conn: AsyncConnection, timeline: _Timeline) -> str | None:
        """Make the timeline complete: rebuild it under the lease, or wait for
        whoever holds the lease. Returns how ("rebuilt", "waited") or None when
        the other rebuild did not finish in time (or this one lost its lease)."""
        lease, key = timeline.lease, timeline.key
        token = secrets.token_hex(8)
        client = self.link.client
        if await client.set(lease, token, nx=True, px=LEASE_MS):
            try:
                # Another reader may have finished a rebuild between our look
                # and taking the lease: check again, or it would be done twice.
                if await client.zscore(key, COMPLETE) is not None:
                    return "waited"
                if not await self._rebuild(conn, timeline, token):
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

    async def _rebuild(self, conn: AsyncConnection, timeline: _Timeline, token: str) -> bool:
        # The lease is taken before this query runs, and fan-out writes into a
        # leased timeline: a post committed after the query still lands.
        ids = await timeline.contents(conn, self.cap)
        written = await self._rebuild_script(
            keys=[timeline.key, timeline.lease],
            args=[token, self.cap, self.ttl_s, *(member(i) for i in ids), COMPLETE],
        )
        if not written:
            return False
        self.metrics.timeline_rebuilds.inc()
        return True

    # -- writes (from jobs) --------------------------------------------------

    def _usable(self) -> None:
        if not self.link.available:
            raise RetryLater("redis is unavailable")

    def _timelines(self, accounts: Sequence[int], lists: Sequence[Any]) -> list[str]:
        """Keys of home timelines and (owner, list id) lists."""
        keys = [self._key(a) for a in accounts]
        keys += [self._list_key(owner, list_id) for owner, list_id in lists]
        return keys

    async def on_published(self, status_id: int) -> None:
        self._usable()
        async with self.db.read() as conn:
            post = await q.post_for_fanout(conn, status_id)
            if post is None:
                return  # deleted before its fan-out ran
            followers: list[int] = []
            lists: list[Any] = []
            if post.author_followers <= self.threshold:
                followers = list((await conn.execute(q.receiving_followers(post))).scalars())
                lists = list((await conn.execute(q.receiving_lists(post))).all())
        timelines = self._timelines([post.account_id, *followers], lists)
        await self._write(self._add, timelines, [member(post.id)])

    async def on_deleted(self, status_id: int, account_id: int) -> None:
        self._usable()
        async with self.db.read() as conn:
            followers = list((await conn.execute(q.all_followers(account_id))).scalars())
            lists = list((await conn.execute(q.lists_holding(account_id))).all())
        timelines = self._timelines([account_id, *followers], lists)
        await self._write(self._remove, timelines, [member(status_id)])

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

    async def on_followed(self, account_id: int, target_id: int) -> None:
        """A new follow: bring the followed account's recent posts into the timeline
        (if it is cached; a missing timeline is rebuilt whole when next read),
        and drop the follower's lists that show replies to followed accounts
        (rebuilt when next read)."""
        self._usable()
        async with self.db.read() as conn:
            lists = (await conn.execute(q.lists_following_replies(account_id))).all()
        stale = [k for owner, list_id in lists for k in self._list_keys(owner, list_id)]
        try:
            await self.link.client.delete(self._key(account_id) + ":src", *stale)
        except REDIS_DOWN as error:
            self.link.failed("fanout", error)
            raise RetryLater("redis is unavailable") from error
        viewer = Viewer(account_id=account_id, scopes=frozenset())
        async with self.db.read() as conn:
            if await q.followers_of(conn, target_id) > self.threshold:
                return  # merged at read time, like everything this account posts
            ids = await q.author_home_ids(conn, viewer, target_id, self.cap)
        if ids:
            await self._write(self._add, [self._key(account_id)], [member(i) for i in ids])

    async def on_list_changed(self, owner: int, list_id: int) -> None:
        """A list's members or replies policy changed, or it was deleted: drop its
        cached timeline (and a rebuild in progress, whose lease goes with it), so
        that the next read rebuilds it from the database."""
        self._usable()
        try:
            await self.link.client.delete(*self._list_keys(owner, list_id))
        except REDIS_DOWN as error:
            self.link.failed("fanout", error)
            raise RetryLater("redis is unavailable") from error
        self.link.succeeded()

    async def _write(self, script: Any, timelines: list[str], members: list[str]) -> None:
        adding = script is self._add
        try:
            for batch in q.chunks(timelines, FANOUT_BATCH):
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
