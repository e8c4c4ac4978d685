"""Reading announcements: the ones running now, with each viewer's read state
and the reactions on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.tables import (
    announcement_dismissals,
    announcement_reactions,
    announcements,
    custom_emojis,
)
from roost.domain.types import Viewer
from roost.errors import NotFound


@dataclass(frozen=True)
class Reaction:
    name: str
    count: int
    me: bool
    emoji_file: str | None  # a custom emoji's image file name


@dataclass(frozen=True)
class AnnouncementView:
    id: int
    text: str
    content: str
    starts_at: datetime | None
    ends_at: datetime | None
    all_day: bool
    published_at: datetime
    updated_at: datetime
    read: bool
    reactions: list[Reaction]


def _running(now: datetime) -> ColumnElement[bool]:
    return and_(
        or_(announcements.c.starts_at.is_(None), announcements.c.starts_at <= now),
        or_(announcements.c.ends_at.is_(None), announcements.c.ends_at > now),
    )


async def check_active(conn: AsyncConnection, announcement_id: int) -> None:
    row = (
        await conn.execute(
            select(announcements.c.id).where(
                announcements.c.id == announcement_id, _running(utcnow())
            )
        )
    ).first()
    if row is None:
        raise NotFound()


async def _reactions(
    conn: AsyncConnection, viewer: Viewer, ids: list[int]
) -> dict[int, list[Reaction]]:
    if not ids:
        return {}
    files = {
        r.shortcode: r.file_name
        for r in await conn.execute(select(custom_emojis.c.shortcode, custom_emojis.c.file_name))
    }
    mine = {
        (r.announcement_id, r.name)
        for r in await conn.execute(
            select(announcement_reactions.c.announcement_id, announcement_reactions.c.name).where(
                announcement_reactions.c.announcement_id.in_(ids),
                announcement_reactions.c.account_id == viewer.account_id,
            )
        )
    }
    result: dict[int, list[Reaction]] = {}
    for r in await conn.execute(
        select(
            announcement_reactions.c.announcement_id,
            announcement_reactions.c.name,
            func.count().label("total"),
            func.min(announcement_reactions.c.id).label("first"),
        )
        .where(announcement_reactions.c.announcement_id.in_(ids))
        .group_by(announcement_reactions.c.announcement_id, announcement_reactions.c.name)
        .order_by("first")
    ):
        result.setdefault(r.announcement_id, []).append(
            Reaction(
                name=r.name,
                count=int(r.total),
                me=(r.announcement_id, r.name) in mine,
                emoji_file=files.get(r.name),
            )
        )
    return result


async def running(
    conn: AsyncConnection, viewer: Viewer, *, with_dismissed: bool = True
) -> list[AnnouncementView]:
    """Announcements running now, oldest first (Mastodon's order)."""
    rows = (
        await conn.execute(
            select(announcements).where(_running(utcnow())).order_by(announcements.c.published_at)
        )
    ).all()
    ids = [int(r.id) for r in rows]
    read = {
        int(r.announcement_id)
        for r in await conn.execute(
            select(announcement_dismissals.c.announcement_id).where(
                announcement_dismissals.c.account_id == viewer.account_id,
                announcement_dismissals.c.announcement_id.in_(ids),
            )
        )
    }
    reactions = await _reactions(conn, viewer, ids)
    return [
        AnnouncementView(
            id=int(r.id),
            text=r.text,
            content=r.content,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            all_day=r.all_day,
            published_at=r.published_at,
            updated_at=r.updated_at,
            read=int(r.id) in read,
            reactions=reactions.get(int(r.id), []),
        )
        for r in rows
        if with_dismissed or int(r.id) not in read
    ]


async def running_one(
    conn: AsyncConnection, viewer: Viewer, announcement_id: int
) -> AnnouncementView | None:
    """The announcement as ``viewer`` reads it, if it is running now."""
    found = [v for v in await running(conn, viewer) if v.id == announcement_id]
    return found[0] if found else None


async def reaction_count(conn: AsyncConnection, announcement_id: int, name: str) -> int:
    """How many people reacted to the announcement with ``name``."""
    total = await conn.execute(
        select(func.count()).where(
            announcement_reactions.c.announcement_id == announcement_id,
            announcement_reactions.c.name == name,
        )
    )
    return int(total.scalar_one())


async def all_announcements(conn: AsyncConnection) -> list[AnnouncementView]:
    """Every announcement, past and future (for the operator)."""
    rows = (await conn.execute(select(announcements).order_by(announcements.c.id))).all()
    return [
        AnnouncementView(
            id=int(r.id),
            text=r.text,
            content=r.content,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            all_day=r.all_day,
            published_at=r.published_at,
            updated_at=r.updated_at,
            read=False,
            reactions=[],
        )
        for r in rows
    ]
