"""Hashtags an account features on its profile (Mastodon's featured tags).

At most ``MAX_FEATURED_TAGS`` per account, as Mastodon allows. The counts shown
with each (how many posts, the newest) are of the account's public and
unlisted posts only: a count must not reveal followers-only or direct posts.
Featuring is idempotent: featuring a featured tag answers the same one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import featured_tags, status_tags, statuses, tags
from roost.domain import privacy
from roost.domain.events import AccountChanged
from roost.domain.tags.lookup import find_tag_id, tag_ids, tag_key
from roost.domain.types import Viewer
from roost.errors import NotFound, RuleBroken
from roost.ids import new_id

MAX_FEATURED_TAGS = 10
SUGGESTIONS = 10


@dataclass(frozen=True)
class FeaturedTag:
    id: int
    tag_id: int
    name: str
    statuses_count: int
    last_status_at: datetime | None


async def featured_of(conn: AsyncConnection, account_id: int) -> list[FeaturedTag]:
    """The account's featured tags, oldest featured first (the profile's order)."""
    rows = (
        await conn.execute(
            select(featured_tags.c.id, featured_tags.c.tag_id, tags.c.name)
            .join(tags, tags.c.id == featured_tags.c.tag_id)
            .where(featured_tags.c.account_id == account_id)
            .order_by(featured_tags.c.id)
        )
    ).all()
    if not rows:
        return []
    counts = {
        int(r.tag_id): (int(r.n), r.last)
        for r in await conn.execute(
            select(
                status_tags.c.tag_id,
                func.count().label("n"),
                func.max(statuses.c.created_at).label("last"),
            )
            .join(statuses, statuses.c.id == status_tags.c.status_id)
            .where(
                statuses.c.account_id == account_id,
                status_tags.c.tag_id.in_([int(r.tag_id) for r in rows]),
                privacy.listed(statuses.c.visibility),
                statuses.c.reblog_of_id.is_(None),
            )
            .group_by(status_tags.c.tag_id)
        )
    }
    return [
        FeaturedTag(
            id=int(r.id),
            tag_id=int(r.tag_id),
            name=r.name,
            statuses_count=counts.get(int(r.tag_id), (0, None))[0],
            last_status_at=counts.get(int(r.tag_id), (0, None))[1],
        )
        for r in rows
    ]


async def do_feature_tag(tx: Tx, viewer: Viewer, name: str) -> int:
    """Feature ``name`` on the viewer's profile; returns the featured tag's id.

    Invalid (422) for a name that cannot be a hashtag or past the limit."""
    me = viewer.account_id
    assert me is not None
    key = tag_key(name)
    if key is None:
        raise RuleBroken("Tag is invalid")
    tag_id = (await tag_ids(tx, [name]))[key]
    existing = (
        await tx.execute(
            select(featured_tags.c.id).where(
                featured_tags.c.account_id == me, featured_tags.c.tag_id == tag_id
            )
        )
    ).first()
    if existing is not None:
        return int(existing.id)
    count = (
        await tx.execute(
            select(func.count()).select_from(featured_tags).where(featured_tags.c.account_id == me)
        )
    ).scalar_one()
    if count >= MAX_FEATURED_TAGS:
        raise RuleBroken(f"You can feature at most {MAX_FEATURED_TAGS} hashtags")
    featured_id = new_id()
    await tx.execute(
        featured_tags.insert().values(
            id=featured_id, account_id=me, tag_id=tag_id, created_at=utcnow()
        )
    )
    tx.emit(AccountChanged(me))  # the profile page shows them
    return featured_id


async def do_unfeature(tx: Tx, viewer: Viewer, featured_id: int) -> None:
    """Stop featuring one of the viewer's featured tags; NotFound for anyone else's."""
    result = await tx.execute(
        delete(featured_tags).where(
            featured_tags.c.id == featured_id, featured_tags.c.account_id == viewer.account_id
        )
    )
    if not result.rowcount:
        raise NotFound()
    assert viewer.account_id is not None
    tx.emit(AccountChanged(viewer.account_id))


async def do_unfeature_tag(tx: Tx, viewer: Viewer, name: str) -> str:
    """Stop featuring the tag ``name`` (idempotent); returns its key."""
    key = tag_key(name)
    if key is None:
        raise NotFound()
    tag_id = await find_tag_id(tx.conn, name)
    if tag_id is not None:
        result = await tx.execute(
            delete(featured_tags).where(
                featured_tags.c.account_id == viewer.account_id, featured_tags.c.tag_id == tag_id
            )
        )
        if result.rowcount and viewer.account_id is not None:
            tx.emit(AccountChanged(viewer.account_id))
    return key


async def is_featured(conn: AsyncConnection, viewer: Viewer, tag_id: int | None) -> bool:
    if viewer.account_id is None or tag_id is None:
        return False
    row = (
        await conn.execute(
            select(featured_tags.c.id).where(
                featured_tags.c.account_id == viewer.account_id, featured_tags.c.tag_id == tag_id
            )
        )
    ).first()
    return row is not None


async def suggested_tags(conn: AsyncConnection, viewer: Viewer) -> list[tuple[int, str]]:
    """(id, name) of the hashtags the viewer used most in their own posts and
    does not feature yet, most used first (Mastodon suggests the same)."""
    me = viewer.account_id
    assert me is not None
    used = func.count().label("n")
    rows = await conn.execute(
        select(tags.c.id, tags.c.name, used)
        .join(status_tags, status_tags.c.tag_id == tags.c.id)
        .join(statuses, statuses.c.id == status_tags.c.status_id)
        .where(
            statuses.c.account_id == me,
            statuses.c.reblog_of_id.is_(None),
            tags.c.id.not_in(
                select(featured_tags.c.tag_id).where(featured_tags.c.account_id == me)
            ),
        )
        .group_by(tags.c.id, tags.c.name)
        .order_by(used.desc(), tags.c.id.desc())
        .limit(SUGGESTIONS)
    )
    return [(int(r.id), r.name) for r in rows]
