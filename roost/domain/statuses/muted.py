"""Which posts of a page belong to threads the viewer muted: Mastodon's
``muted`` flag, shown on every post a viewer reads.

A muted thread is kept by its root's id (roost/domain/conversations/threads.py):
a post is in it when its root, or the deleted parent its chain stops at, is
that id. Most people mute no thread, so the readers first ask (on the same
row as the post, for timelines) whether the viewer has any; only then are the
page's chains walked, all in one recursive query.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import conversation_mutes, statuses
from roost.domain.conversations.threads import MAX_DEPTH


async def has_muted_threads(conn: AsyncConnection, account_id: int) -> bool:
    row = (
        await conn.execute(
            select(conversation_mutes.c.id)
            .where(conversation_mutes.c.account_id == account_id)
            .limit(1)
        )
    ).first()
    return row is not None


async def muted_among(
    conn: AsyncConnection, account_id: int, status_ids: Collection[int]
) -> set[int]:
    """The ids of ``status_ids`` whose thread ``account_id`` muted."""
    if not status_ids:
        return set()
    start = (
        select(
            statuses.c.id.label("start_id"),
            statuses.c.id,
            statuses.c.in_reply_to_id,
            literal(0).label("depth"),
        )
        .where(statuses.c.id.in_(list(status_ids)))
        .cte("muted_chain", recursive=True)
    )
    parent = statuses.alias("muted_parent")
    chain = start.union_all(
        select(start.c.start_id, parent.c.id, parent.c.in_reply_to_id, start.c.depth + 1).where(
            parent.c.id == start.c.in_reply_to_id, start.c.depth < MAX_DEPTH
        )
    )
    roots = select(conversation_mutes.c.thread_root_id).where(
        conversation_mutes.c.account_id == account_id
    )
    found = await conn.execute(
        select(chain.c.start_id)
        .where(chain.c.id.in_(roots) | chain.c.in_reply_to_id.in_(roots))
        .distinct()
    )
    return {int(row.start_id) for row in found}
