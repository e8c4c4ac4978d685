"""The admin dashboard's measures of one hashtag (Mastodon's ``tag_accounts``,
``tag_uses`` and ``tag_servers``), each asked with the tag's id
(``tag_uses[id]=…``), per UTC day like the other measures
(roost/domain/instance/dashboard.py).

A use is a post with the hashtag that everyone may read, public or unlisted,
not a boost: what Mastodon counts in a tag's history. Deleted posts no longer
count (their rows are gone). ``tag_accounts`` counts distinct authors (one who
used it on two days counts once in the period's total), ``tag_uses`` the
posts, ``tag_servers`` the distinct servers of the authors (this one counting
once for all its accounts; posts of other servers count as they arrive).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import accounts, status_tags, statuses, tags
from roost.domain import privacy
from roost.errors import NotFound
from roost.ids import min_id_for_time

TAG_MEASURES = ("tag_accounts", "tag_uses", "tag_servers")

TagCount = Callable[[AsyncConnection, int, datetime, datetime], Awaitable[int]]


def _uses(tag_id: int, start: datetime, end: datetime) -> Any:
    return (
        select(statuses.c.id, statuses.c.account_id)
        .select_from(status_tags.join(statuses, statuses.c.id == status_tags.c.status_id))
        .where(
            status_tags.c.tag_id == tag_id,
            statuses.c.id >= min_id_for_time(start),
            statuses.c.id < min_id_for_time(end),
            statuses.c.reblog_of_id.is_(None),
            privacy.listed(statuses.c.visibility),
        )
        .subquery()
    )


async def _count(conn: AsyncConnection, query: Any) -> int:
    return int((await conn.execute(query)).scalar_one() or 0)


async def _tag_uses(conn: AsyncConnection, tag_id: int, start: datetime, end: datetime) -> int:
    return await _count(conn, select(func.count()).select_from(_uses(tag_id, start, end)))


async def _tag_accounts(conn: AsyncConnection, tag_id: int, start: datetime, end: datetime) -> int:
    used = _uses(tag_id, start, end)
    return await _count(conn, select(func.count(func.distinct(used.c.account_id))))


async def _tag_servers(conn: AsyncConnection, tag_id: int, start: datetime, end: datetime) -> int:
    # This server's own accounts have no domain: they count as one server.
    used = _uses(tag_id, start, end)
    server = func.coalesce(accounts.c.domain, "")
    return await _count(
        conn,
        select(func.count(func.distinct(server))).select_from(
            used.join(accounts, accounts.c.id == used.c.account_id)
        ),
    )


# How to count one span, and whether the period's total is the sum of its
# days (uses are; authors and servers are counted once over the period).
TAG_COUNTS: dict[str, tuple[TagCount, bool]] = {
    "tag_accounts": (_tag_accounts, False),
    "tag_uses": (_tag_uses, True),
    "tag_servers": (_tag_servers, False),
}


async def check_tag(conn: AsyncConnection, tag_id: int | None, key: str) -> int:
    """The tag a measure names; NotFound (404, as Mastodon's ``Tag.find``)
    when there is no such hashtag or no id was given."""
    if tag_id is not None:
        found = (await conn.execute(select(tags.c.id).where(tags.c.id == tag_id))).scalar()
        if found is not None:
            return int(found)
    raise NotFound(f"Record not found: {key}[id] names no hashtag")
