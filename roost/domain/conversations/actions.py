"""Direct-message conversations: delivering a direct post, reading, removing.

A direct post joins the conversation of the post it answers, or starts a new
one. Its author and every account it mentions take part; each gets (or keeps)
their own entry, marked unread for everyone but the author. An account that
blocks the author, or that the author blocks, is not delivered to: the post is
invisible to them anyway, and the conversation must not grow an entry that
says a message came.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import conversation_participants, status_conversations
from roost.domain import privacy
from roost.domain.types import Viewer
from roost.errors import NotFound
from roost.ids import new_id


async def do_deliver_direct(
    tx: Tx, *, status_id: int, author_id: int, in_reply_to_id: int | None, mentioned: Iterable[int]
) -> int:
    """File a just-written direct post into its conversation; returns the conversation id."""
    conversation_id: int | None = None
    if in_reply_to_id is not None:
        conversation_id = (
            await tx.execute(
                select(status_conversations.c.conversation_id).where(
                    status_conversations.c.status_id == in_reply_to_id
                )
            )
        ).scalar_one_or_none()
    if conversation_id is None:
        conversation_id = new_id()
    await tx.execute(
        status_conversations.insert().values(status_id=status_id, conversation_id=conversation_id)
    )
    recipients = []
    for account_id in dict.fromkeys(mentioned):
        if account_id == author_id:
            continue
        if await privacy.is_blocked_either_way(tx.conn, author_id, account_id):
            continue
        recipients.append(account_id)
    now = utcnow()
    for account_id in [author_id, *recipients]:
        values = {
            "id": new_id(),
            "conversation_id": conversation_id,
            "account_id": account_id,
            "last_status_id": status_id,
            "unread": account_id != author_id,
            "updated_at": now,
        }
        # One statement, so two posts landing at once cannot both insert.
        dialect = postgresql if tx.conn.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(conversation_participants).values(**values)
        await tx.execute(
            insert.on_conflict_do_update(
                index_elements=["account_id", "conversation_id"],
                set_={
                    "last_status_id": insert.excluded.last_status_id,
                    "unread": insert.excluded.unread,
                    "updated_at": insert.excluded.updated_at,
                },
            )
        )
    return conversation_id


async def do_join_direct(tx: Tx, *, status_id: int, author_id: int, joining: Iterable[int]) -> None:
    """Accounts an edit of a direct post newly mentions join its conversation
    (as they would have, named from the start); the entries of those it
    already reaches are left as they are."""
    conversation_id = (
        await tx.execute(
            select(status_conversations.c.conversation_id).where(
                status_conversations.c.status_id == status_id
            )
        )
    ).scalar_one_or_none()
    if conversation_id is None:
        return
    now = utcnow()
    dialect = postgresql if tx.conn.dialect.name == "postgresql" else sqlite
    for account_id in dict.fromkeys(joining):
        if account_id == author_id:
            continue
        if await privacy.is_blocked_either_way(tx.conn, author_id, account_id):
            continue
        insert = dialect.insert(conversation_participants).values(
            id=new_id(),
            conversation_id=conversation_id,
            account_id=account_id,
            last_status_id=status_id,
            unread=True,
            updated_at=now,
        )
        await tx.execute(
            insert.on_conflict_do_nothing(index_elements=["account_id", "conversation_id"])
        )


async def do_mark_read(tx: Tx, viewer: Viewer, entry_id: int) -> None:
    result = await tx.execute(
        update(conversation_participants)
        .where(
            conversation_participants.c.id == entry_id,
            conversation_participants.c.account_id == viewer.account_id,
        )
        .values(unread=False)
    )
    if not result.rowcount:
        raise NotFound()


async def do_remove(tx: Tx, viewer: Viewer, entry_id: int) -> None:
    """Remove a conversation from one's list; a new message brings it back."""
    result = await tx.execute(
        delete(conversation_participants).where(
            conversation_participants.c.id == entry_id,
            conversation_participants.c.account_id == viewer.account_id,
        )
    )
    if not result.rowcount:
        raise NotFound()
