"""Following and unfollowing hashtags. Both are idempotent, as in Mastodon 4.1+."""

from __future__ import annotations

from sqlalchemy import delete, select

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import followed_tags, tags
from roost.domain.tags.queries import normalise
from roost.domain.types import Viewer
from roost.errors import NotFound
from roost.ids import new_id


async def _tag_id(tx: Tx, name: str, *, create: bool) -> int | None:
    key = normalise(name)
    if key is None:
        raise NotFound()
    row = (await tx.execute(select(tags.c.id).where(tags.c.name_key == key))).first()
    if row is not None:
        return int(row.id)
    if not create:
        return None
    tag_id = new_id()
    await tx.execute(
        tags.insert().values(
            id=tag_id, name=name.strip().lstrip("#"), name_key=key, created_at=utcnow()
        )
    )
    return tag_id


async def do_follow_tag(tx: Tx, viewer: Viewer, name: str) -> str:
    """Follow the tag (made if nobody used it yet); returns its key."""
    assert viewer.account_id is not None
    tag_id = await _tag_id(tx, name, create=True)
    exists = (
        await tx.execute(
            select(followed_tags.c.id).where(
                followed_tags.c.account_id == viewer.account_id, followed_tags.c.tag_id == tag_id
            )
        )
    ).first()
    if exists is None:
        await tx.execute(
            followed_tags.insert().values(
                id=new_id(), account_id=viewer.account_id, tag_id=tag_id, created_at=utcnow()
            )
        )
    return str(normalise(name))


async def do_unfollow_tag(tx: Tx, viewer: Viewer, name: str) -> str:
    assert viewer.account_id is not None
    tag_id = await _tag_id(tx, name, create=False)
    if tag_id is not None:
        await tx.execute(
            delete(followed_tags).where(
                followed_tags.c.account_id == viewer.account_id, followed_tags.c.tag_id == tag_id
            )
        )
    return str(normalise(name))
