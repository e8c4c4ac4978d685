"""``roost check derived``: the stores computed from the tables, checked against them.

Threat 52 again, inside one installation: counters kept on rows by the actions
(roost/db/tables.py says why they are stored), and the search index kept by a
job, can drift from the rows they summarise (a crash between two systems, a
hand-edited row, a bug). Each is recomputed here from the rows that define it
and compared; ``repair`` writes the recomputed values (counters) or syncs the
posts concerned (search index), through the same code the actions use. In
scaled mode the cached home timelines and posts in Redis are compared too
(roost/ops/derived_redis.py).

Counters, as the actions keep them:
- accounts.followers_count / following_count: follows from / to accounts that
  are not suspended (roost/domain/graph/counts.py);
- accounts.statuses_count: the account's posts, boosts included;
- statuses.replies_count / reblogs_count / favourites_count: replies, boosts
  and favourites of the post.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import Database
from roost.db.tables import accounts, favourites, follows, statuses
from roost.ops.derived_redis import (
    TimelineDrift,
    repair_redis,
    stale_cached_posts,
    timeline_drift,
)
from roost.search.index import index_for
from roost.services import Services

_BATCH = 500


@dataclass(frozen=True)
class CounterDrift:
    table: str
    id: int
    column: str
    stored: int
    actual: int


@dataclass
class DerivedReport:
    counters: list[CounterDrift] = field(default_factory=list)
    index_missing: list[int] = field(default_factory=list)  # posts not in the index
    index_stale: list[int] = field(default_factory=list)  # entries for no post
    timelines: list[TimelineDrift] = field(default_factory=list)  # Redis home timelines
    cached_posts_stale: list[int] = field(default_factory=list)  # Redis post cache
    repaired: bool = False

    @property
    def clean(self) -> bool:
        return not (
            self.counters
            or self.index_missing
            or self.index_stale
            or self.timelines
            or self.cached_posts_stale
        )


def _counter_queries() -> list[tuple[str, str, Any]]:
    follower = accounts.alias("follower")
    target = accounts.alias("target")
    other = statuses.alias("other")
    followers = (
        select(func.count())
        .select_from(follows.join(follower, follower.c.id == follows.c.account_id))
        .where(follows.c.target_account_id == accounts.c.id, follower.c.suspended_at.is_(None))
        .scalar_subquery()
    )
    following = (
        select(func.count())
        .select_from(follows.join(target, target.c.id == follows.c.target_account_id))
        .where(follows.c.account_id == accounts.c.id, target.c.suspended_at.is_(None))
        .scalar_subquery()
    )
    posts = select(func.count()).where(other.c.account_id == accounts.c.id).scalar_subquery()
    replies = select(func.count()).where(other.c.in_reply_to_id == statuses.c.id).scalar_subquery()
    boosts = select(func.count()).where(other.c.reblog_of_id == statuses.c.id).scalar_subquery()
    favs = select(func.count()).where(favourites.c.status_id == statuses.c.id).scalar_subquery()
    return [
        ("accounts", "followers_count", followers),
        ("accounts", "following_count", following),
        ("accounts", "statuses_count", posts),
        ("statuses", "replies_count", replies),
        ("statuses", "reblogs_count", boosts),
        ("statuses", "favourites_count", favs),
    ]


_TABLES = {"accounts": accounts, "statuses": statuses}


async def _counter_drift(conn: AsyncConnection) -> list[CounterDrift]:
    found = []
    for name, column, actual in _counter_queries():
        table = _TABLES[name]
        stored = table.c[column]
        rows = await conn.execute(
            select(table.c.id, stored, actual.label("actual")).where(stored != actual)
        )
        found += [CounterDrift(name, int(r.id), column, int(r[1]), int(r.actual)) for r in rows]
    return sorted(found, key=lambda d: (d.table, d.id, d.column))


async def _index_ids(conn: AsyncConnection, is_sqlite: bool) -> set[int]:
    column = "rowid" if is_sqlite else "status_id"
    rows = await conn.execute(text(f"SELECT {column} FROM search_statuses"))
    return {int(r[0]) for r in rows}


async def _indexable_ids(conn: AsyncConnection) -> set[int]:
    rows = await conn.execute(
        select(statuses.c.id)
        .join(accounts, accounts.c.id == statuses.c.account_id)
        .where(statuses.c.reblog_of_id.is_(None))
    )
    return {int(r.id) for r in rows}


async def check_derived(services: Services, *, repair: bool = False) -> DerivedReport:
    """Compare (and with ``repair``, mend) the counters, the search index and,
    in scaled mode, Redis's home timelines and post cache."""
    db = services.db
    report = DerivedReport()
    async with db.read() as conn:
        report.counters = await _counter_drift(conn)
        indexed = await _index_ids(conn, db.is_sqlite)
        wanted = await _indexable_ids(conn)
    report.index_missing = sorted(wanted - indexed)
    report.index_stale = sorted(indexed - wanted)
    report.timelines = await timeline_drift(services)
    report.cached_posts_stale = await stale_cached_posts(services)
    if repair and not report.clean:
        await _repair(db, report)
        await repair_redis(services, report.timelines, report.cached_posts_stale)
        report.repaired = True
    return report


async def _repair(db: Database, report: DerivedReport) -> None:
    queries = {(name, column): actual for name, column, actual in _counter_queries()}
    index = index_for("sqlite" if db.is_sqlite else "postgresql")
    posts = report.index_missing + report.index_stale
    async with db.write() as tx:
        for drift in report.counters:
            table = _TABLES[drift.table]
            await tx.execute(
                update(table)
                .where(and_(table.c.id == drift.id))
                .values({drift.column: queries[(drift.table, drift.column)]})
            )
        for start in range(0, len(posts), _BATCH):
            await index.sync(tx, posts[start : start + _BATCH])
