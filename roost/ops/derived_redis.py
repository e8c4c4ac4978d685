"""The Redis side of ``roost check derived``: cached home timelines and posts.

A complete home timeline in Redis (roost/timelines/redis.py) should hold what
a rebuild from the database would put there (``HomeTimeline.contents``), less
the posts of followed accounts too big to fan out (merged in at read time):
an entry the database does not give is stale (a deleted post, an unfollow
whose withdrawal was lost), a post the database gives but the set lacks is
missing (a fan-out that never ran). Only the window the set covers is
compared: a set at its cap has lost its oldest entries on purpose. Repair
drops the timeline; its owner's next read rebuilds it from the database under
the lease, as after any loss of Redis.

A post cached in Redis (roost/timelines/redis_posts.py) whose post no longer
exists is stale; repair forgets it. Timelines being rebuilt (no completion
marker) and list timelines are not compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import accounts, statuses
from roost.domain.timelines.cached import HomeTimeline
from roost.domain.types import Viewer
from roost.services import Services
from roost.timelines.redis_keys import COMPLETE, ids_of

_SUFFIXES = (b":lease", b":src")


@dataclass(frozen=True)
class TimelineDrift:
    account_id: int
    missing: list[int]
    stale: list[int]


async def _big_authors_posts(
    conn: AsyncConnection, ids: set[int], owner: int, threshold: int
) -> set[int]:
    if not ids:
        return set()
    rows = await conn.execute(
        select(statuses.c.id)
        .join(accounts, accounts.c.id == statuses.c.account_id)
        .where(
            statuses.c.id.in_(sorted(ids)),
            statuses.c.account_id != owner,
            accounts.c.followers_count > threshold,
        )
    )
    return {int(r.id) for r in rows}


async def _home_keys(services: Services) -> list[tuple[bytes, int]]:
    assert services.redis is not None
    link = services.redis
    head = link.key("tl", "home", "").encode()
    found = []
    async for key in link.client.scan_iter(match=link.key("tl", "home", "*"), count=1000):
        raw = key if isinstance(key, bytes) else str(key).encode()
        if raw.endswith(_SUFFIXES) or not raw.startswith(head):
            continue
        rest = raw[len(head) :]
        if rest.isdigit():
            found.append((raw, int(rest)))
    return sorted(found, key=lambda pair: pair[1])


async def timeline_drift(services: Services) -> list[TimelineDrift]:
    if services.redis is None:
        return []
    client = services.redis.client
    settings = services.settings
    cap = settings.timeline_max_entries
    drifts = []
    for key, owner in await _home_keys(services):
        members: list[Any] = await client.zrange(key, 0, -1)
        if COMPLETE.encode() not in members:
            continue
        cached = set(ids_of(members))
        async with services.db.read() as conn:
            timeline = HomeTimeline(Viewer(account_id=owner, scopes=frozenset({"read"})))
            wanted = set(await timeline.contents(conn, cap))
            merged_at_read = await _big_authors_posts(
                conn, wanted | cached, owner, settings.fanout_max_followers
            )
        wanted -= merged_at_read
        cached -= merged_at_read
        if len(cached) >= cap and cached:
            floor = min(cached)
            wanted = {i for i in wanted if i >= floor}
        missing, stale = sorted(wanted - cached), sorted(cached - wanted)
        if missing or stale:
            drifts.append(TimelineDrift(owner, missing, stale))
    return drifts


async def stale_cached_posts(services: Services) -> list[int]:
    if services.redis is None:
        return []
    link = services.redis
    head = link.key("post", "").encode()
    cached: list[int] = []
    async for key in link.client.scan_iter(match=link.key("post", "*"), count=1000):
        raw = key if isinstance(key, bytes) else str(key).encode()
        rest = raw[len(head) :] if raw.startswith(head) else b""
        if rest.isdigit():
            cached.append(int(rest))
    stale: list[int] = []
    async with services.db.read() as conn:
        for start in range(0, len(cached), 500):
            chunk = cached[start : start + 500]
            rows = await conn.execute(select(statuses.c.id).where(statuses.c.id.in_(chunk)))
            exist = {int(r.id) for r in rows}
            stale += [i for i in chunk if i not in exist]
    return sorted(stale)


async def repair_redis(
    services: Services, timelines: list[TimelineDrift], posts: list[int]
) -> None:
    if services.redis is None:
        return
    link = services.redis
    if timelines:
        await link.client.delete(*(link.key("tl", "home", d.account_id) for d in timelines))
    if posts and services.db.shared_bytes is not None:
        await services.db.shared_bytes.forget(posts)
