"""Reading hashtags: one tag with its recent use, and the tags an account follows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.tables import followed_tags, status_tags, statuses, tags
from roost.domain.pagination import newest_first, page_of
from roost.domain.tags.lookup import tag_key
from roost.domain.types import Page, Viewer, Visibility
from roost.ids import min_id_for_time

HISTORY_DAYS = 7


@dataclass(frozen=True)
class DayUse:
    day: datetime  # midnight UTC
    uses: int
    accounts: int


@dataclass(frozen=True)
class TagView:
    """A hashtag as one viewer sees it. ``id`` is None for a tag nobody used yet."""

    id: int | None
    name: str
    history: list[DayUse]
    following: bool | None  # None when nobody is signed in


async def _history(conn: AsyncConnection, tag_ids: Sequence[int]) -> dict[int, list[DayUse]]:
    """Public uses per day over the last week. Only public posts count: a
    count must not reveal followers-only or direct posts."""
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=n) for n in range(HISTORY_DAYS)]
    seen: dict[tuple[int, datetime], set[int]] = {}
    uses: dict[tuple[int, datetime], int] = {}
    if tag_ids:
        rows = await conn.execute(
            select(status_tags.c.tag_id, statuses.c.account_id, statuses.c.created_at)
            .join(statuses, statuses.c.id == status_tags.c.status_id)
            .where(
                status_tags.c.tag_id.in_(list(tag_ids)),
                statuses.c.id >= min_id_for_time(days[-1]),
                statuses.c.visibility == int(Visibility.PUBLIC),
            )
        )
        for row in rows:
            created: datetime = row.created_at
            day = datetime(created.year, created.month, created.day, tzinfo=UTC)
            key = (row.tag_id, day)
            uses[key] = uses.get(key, 0) + 1
            seen.setdefault(key, set()).add(row.account_id)
    return {
        tag_id: [
            DayUse(day=d, uses=uses.get((tag_id, d), 0), accounts=len(seen.get((tag_id, d), ())))
            for d in days
        ]
        for tag_id in tag_ids
    }


async def tag_views(conn: AsyncConnection, viewer: Viewer, rows: Sequence[Any]) -> list[TagView]:
    """Views of tag rows (id, name), with history and the viewer's following."""
    ids = [int(r.id) for r in rows]
    history = await _history(conn, ids)
    followed: set[int] = set()
    if viewer.account_id is not None and ids:
        followed = {
            int(r.tag_id)
            for r in await conn.execute(
                select(followed_tags.c.tag_id).where(
                    followed_tags.c.account_id == viewer.account_id,
                    followed_tags.c.tag_id.in_(ids),
                )
            )
        }
    return [
        TagView(
            id=int(r.id),
            name=r.name,
            history=history[int(r.id)],
            following=None if viewer.account_id is None else int(r.id) in followed,
        )
        for r in rows
    ]


async def tag(conn: AsyncConnection, viewer: Viewer, key: str) -> TagView:
    """A tag by its key (roost/domain/tags/lookup.py's ``tag_key``); a
    well-formed name nobody used yet is a tag with no uses."""
    row = (await conn.execute(select(tags.c.id, tags.c.name).where(tags.c.name_key == key))).first()
    if row is None:
        empty = (await _history(conn, [0]))[0]
        return TagView(
            id=None,
            name=key,
            history=empty,
            following=None if viewer.account_id is None else False,
        )
    return (await tag_views(conn, viewer, [row]))[0]


async def followed(
    conn: AsyncConnection, viewer: Viewer, page: Page
) -> tuple[list[TagView], int | None, int | None]:
    """The viewer's followed tags, most recently followed first, paged by the
    follow's id (for Link headers)."""
    assert viewer.account_id is not None
    query = (
        select(followed_tags.c.id.label("key"), tags.c.id, tags.c.name)
        .join(tags, tags.c.id == followed_tags.c.tag_id)
        .where(followed_tags.c.account_id == viewer.account_id)
    )
    rows = newest_first((await conn.execute(page_of(query, followed_tags.c.id, page))).all(), page)
    views = await tag_views(conn, viewer, rows)
    if not rows:
        return views, None, None
    return views, int(rows[0].key), int(rows[-1].key)


async def search(
    conn: AsyncConnection, viewer: Viewer, text: str, *, limit: int, offset: int
) -> list[TagView]:
    """Tags whose name starts with the query: the exact name first, then the
    shortest (closest) names."""
    key = tag_key(text)
    if key is None:
        return []
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = (
        await conn.execute(
            select(tags.c.id, tags.c.name)
            .where(tags.c.name_key.like(escaped + "%", escape="\\"))
            .order_by(
                case((tags.c.name_key == key, 0), else_=1),
                func.length(tags.c.name_key),
                tags.c.name_key,
            )
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return await tag_views(conn, viewer, rows)
