"""What an annual report says, computed from the account's own data for the
year (Mastodon's schema version 2):

- ``archetype``: a playful label for how the account posted, by the rules
  Mastodon uses: fewer than 113 posts, boosts and replies to others in the
  year (the average of an active account) is a ``lurker``; else more than
  twice as many boosts as posts of its own is a ``booster``; polls in more
  than a tenth of its posts a ``pollster``; more than twice as many replies to
  others as posts a ``replier``; otherwise an ``oracle``.
- ``time_series``: each month, the posts and boosts it made and the followers
  it gained (follows of it still standing, by when they were made).
- ``top_hashtags``: its most used hashtag in its own posts (schema version 2
  keeps one), with how many posts carried it.
- ``top_statuses``: its public or unlisted post most boosted, most favourited
  and most replied to in the year (null where none was).

Posts count by when they were written (UTC). Percentiles among the
instance's posters (schema version 1) are not computed: version 2 dropped them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, extract, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import follows, polls, status_tags, statuses, tags
from roost.domain import privacy

SCHEMA_VERSION = 2
AVERAGE_PER_YEAR = 113
BOOSTS_OVER_POSTS = 2
POLLS_OVER_POSTS = 0.1
REPLIES_OVER_POSTS = 2


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def _in_year(column: Any, year: int) -> Any:
    start, end = year_bounds(year)
    return and_(column >= start, column < end)


async def activity_in(conn: AsyncConnection, account_id: int, year: int) -> int:
    """How many posts and boosts the account made in the year."""
    return int(
        (
            await conn.execute(
                select(func.count()).where(
                    statuses.c.account_id == account_id, _in_year(statuses.c.created_at, year)
                )
            )
        ).scalar_one()
    )


async def _archetype(conn: AsyncConnection, account_id: int, year: int) -> str:
    mine = and_(statuses.c.account_id == account_id, _in_year(statuses.c.created_at, year))
    boosts = func.sum(case((statuses.c.reblog_of_id.is_not(None), 1), else_=0))
    replies_to_others = func.sum(
        case(
            (
                and_(
                    statuses.c.in_reply_to_id.is_not(None),
                    statuses.c.in_reply_to_account_id != account_id,
                ),
                1,
            ),
            else_=0,
        )
    )
    standalone = func.sum(
        case(
            (
                and_(
                    statuses.c.reblog_of_id.is_(None),
                    # A reply to itself (a thread) counts as a post of its own.
                    or_(
                        statuses.c.in_reply_to_id.is_(None),
                        statuses.c.in_reply_to_account_id == account_id,
                    ),
                ),
                1,
            ),
            else_=0,
        )
    )
    row = (await conn.execute(select(boosts, replies_to_others, standalone).where(mine))).one()
    boosted, replied, alone = (int(v or 0) for v in row)
    with_polls = int(
        (
            await conn.execute(
                select(func.count())
                .select_from(statuses.join(polls, polls.c.status_id == statuses.c.id))
                .where(mine)
            )
        ).scalar_one()
    )
    if alone + replied + boosted < AVERAGE_PER_YEAR:
        return "lurker"
    if boosted > alone * BOOSTS_OVER_POSTS:
        return "booster"
    if with_polls > alone * POLLS_OVER_POSTS:
        return "pollster"
    if replied > alone * REPLIES_OVER_POSTS:
        return "replier"
    return "oracle"


async def _time_series(conn: AsyncConnection, account_id: int, year: int) -> list[dict[str, int]]:
    month = extract("month", statuses.c.created_at)
    posted = dict(
        (
            await conn.execute(
                select(month, func.count())
                .where(statuses.c.account_id == account_id, _in_year(statuses.c.created_at, year))
                .group_by(month)
            )
        ).all()
    )
    follow_month = extract("month", follows.c.created_at)
    gained = dict(
        (
            await conn.execute(
                select(follow_month, func.count())
                .where(
                    follows.c.target_account_id == account_id,
                    _in_year(follows.c.created_at, year),
                )
                .group_by(follow_month)
            )
        ).all()
    )
    posted = {int(k): int(v) for k, v in posted.items()}
    gained = {int(k): int(v) for k, v in gained.items()}
    return [
        {"month": m, "statuses": posted.get(m, 0), "followers": gained.get(m, 0)}
        for m in range(1, 13)
    ]


async def _top_hashtags(conn: AsyncConnection, account_id: int, year: int) -> list[dict[str, Any]]:
    used = func.count()
    rows = (
        await conn.execute(
            select(tags.c.name, used)
            .select_from(
                status_tags.join(statuses, statuses.c.id == status_tags.c.status_id).join(
                    tags, tags.c.id == status_tags.c.tag_id
                )
            )
            .where(
                statuses.c.account_id == account_id,
                statuses.c.reblog_of_id.is_(None),
                _in_year(statuses.c.created_at, year),
            )
            .group_by(tags.c.name)
            .order_by(used.desc(), tags.c.name)
            .limit(1)
        )
    ).all()
    return [{"name": name, "count": int(count)} for name, count in rows]


async def _top_status(
    conn: AsyncConnection, account_id: int, year: int, counter: Any
) -> str | None:
    found = (
        await conn.execute(
            select(statuses.c.id)
            .where(
                statuses.c.account_id == account_id,
                statuses.c.reblog_of_id.is_(None),
                privacy.listed(statuses.c.visibility),
                _in_year(statuses.c.created_at, year),
                counter > 0,
            )
            .order_by(counter.desc(), statuses.c.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return None if found is None else str(found)


async def report_data(conn: AsyncConnection, account_id: int, year: int) -> dict[str, Any]:
    return {
        "archetype": await _archetype(conn, account_id, year),
        "time_series": await _time_series(conn, account_id, year),
        "top_hashtags": await _top_hashtags(conn, account_id, year),
        "top_statuses": {
            "by_reblogs": await _top_status(conn, account_id, year, statuses.c.reblogs_count),
            "by_favourites": await _top_status(conn, account_id, year, statuses.c.favourites_count),
            "by_replies": await _top_status(conn, account_id, year, statuses.c.replies_count),
        },
    }
