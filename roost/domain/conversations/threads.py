"""Threads, and muting one: no more notifications from a conversation.

A thread is named by its root post, found by walking ``in_reply_to_id`` up.
When a post in the middle of the chain is deleted, the root as seen from below
it is the deleted post's id: replies keep pointing at it, so every post below
still names the same root.
"""

from __future__ import annotations

from sqlalchemy import delete, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import conversation_mutes, statuses
from roost.domain import privacy
from roost.domain.types import Viewer
from roost.ids import new_id

# Deeper threads exist only as abuse; the walk stops there and calls it the root.
MAX_DEPTH = 1000


async def thread_root(conn: AsyncConnection, status_id: int) -> int:
    start = (
        select(statuses.c.id, statuses.c.in_reply_to_id, literal(0).label("depth"))
        .where(statuses.c.id == status_id)
        .cte("thread_chain", recursive=True)
    )
    parent = statuses.alias("thread_parent")
    chain = start.union_all(
        select(parent.c.id, parent.c.in_reply_to_id, start.c.depth + 1).where(
            parent.c.id == start.c.in_reply_to_id, start.c.depth < MAX_DEPTH
        )
    )
    top = (
        await conn.execute(
            select(chain.c.id, chain.c.in_reply_to_id).order_by(chain.c.depth.desc()).limit(1)
        )
    ).first()
    if top is None:
        return status_id
    if top.in_reply_to_id is not None:
        # The parent is gone; its id still names the thread.
        return int(top.in_reply_to_id)
    return int(top.id)


async def is_thread_muted(conn: AsyncConnection, account_id: int, status_id: int) -> bool:
    root = await thread_root(conn, status_id)
    row = (
        await conn.execute(
            select(conversation_mutes.c.id).where(
                conversation_mutes.c.account_id == account_id,
                conversation_mutes.c.thread_root_id == root,
            )
        )
    ).first()
    return row is not None


async def do_mute_thread(tx: Tx, viewer: Viewer, status_id: int) -> int:
    """Mute the thread of a post the viewer can see; returns the post's id."""
    assert viewer.account_id is not None
    await privacy.check_status(tx.conn, viewer, status_id)
    root = await thread_root(tx.conn, status_id)
    if not await is_thread_muted(tx.conn, viewer.account_id, status_id):
        await tx.execute(
            conversation_mutes.insert().values(
                id=new_id(),
                account_id=viewer.account_id,
                thread_root_id=root,
                created_at=utcnow(),
            )
        )
    return status_id


async def do_unmute_thread(tx: Tx, viewer: Viewer, status_id: int) -> int:
    assert viewer.account_id is not None
    await privacy.check_status(tx.conn, viewer, status_id)
    root = await thread_root(tx.conn, status_id)
    await tx.execute(
        delete(conversation_mutes).where(
            conversation_mutes.c.account_id == viewer.account_id,
            conversation_mutes.c.thread_root_id == root,
        )
    )
    return status_id
