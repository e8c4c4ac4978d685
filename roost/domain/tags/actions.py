"""Following and unfollowing hashtags. Both are idempotent, as in Mastodon 4.1+."""

from __future__ import annotations

from sqlalchemy import delete, select

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import followed_tags
from roost.domain.tags.lookup import find_tag_id, tag_ids, tag_key
from roost.domain.types import Viewer
from roost.errors import NotFound
from roost.ids import new_id


def _key(name: str) -> str:
    key = tag_key(name)
    if key is None:
        raise NotFound()
    return key


async def do_follow_tag(tx: Tx, viewer: Viewer, name: str) -> str:
    """Follow the tag (made if nobody used it yet); returns its key."""
    assert viewer.account_id is not None
    key = _key(name)
    tag_id = (await tag_ids(tx, [name]))[key]
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
    return key


async def do_unfollow_tag(tx: Tx, viewer: Viewer, name: str) -> str:
    assert viewer.account_id is not None
    key = _key(name)
    tag_id = await find_tag_id(tx.conn, name)
    if tag_id is not None:
        await tx.execute(
            delete(followed_tags).where(
                followed_tags.c.account_id == viewer.account_id, followed_tags.c.tag_id == tag_id
            )
        )
    return key
