"""Reading direct-message conversations and the direct timeline.

Each entry shows the newest post of its conversation that the viewer may see,
chosen by the privacy policy now (a deleted post, or one from an account the
viewer has since blocked, is skipped); an entry with none is not shown. The
other participants are taken from that post (its author and mentions), which
hydration has already cleared.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import conversation_participants, mentions, status_conversations, statuses
from roost.domain import privacy
from roost.domain.pagination import newest_first, page_of
from roost.domain.privacy import Visible
from roost.domain.statuses.queries import paged, statuses_by_ids
from roost.domain.types import Account, ConversationView, Page, StatusView, Viewer, Visibility
from roost.errors import NotFound


async def conversation_list(
    conn: AsyncConnection, viewer: Viewer, page: Page
) -> tuple[list[Visible[ConversationView]], int | None, int | None]:
    """The viewer's conversations, newest message first, paged by that message's id."""
    assert viewer.account_id is not None
    query = select(conversation_participants).where(
        conversation_participants.c.account_id == viewer.account_id
    )
    key = conversation_participants.c.last_status_id
    rows = newest_first(list((await conn.execute(page_of(query, key, page))).mappings()), page)
    views = await _views(conn, viewer, rows)
    if not rows:
        return views, None, None
    return views, int(rows[0]["last_status_id"]), int(rows[-1]["last_status_id"])


async def conversation(
    conn: AsyncConnection, viewer: Viewer, entry_id: int
) -> Visible[ConversationView]:
    row = (
        (
            await conn.execute(
                select(conversation_participants).where(
                    conversation_participants.c.id == entry_id,
                    conversation_participants.c.account_id == viewer.account_id,
                )
            )
        )
        .mappings()
        .first()
    )
    views = await _views(conn, viewer, [row] if row is not None else [])
    if not views:
        raise NotFound()
    return views[0]


async def _views(
    conn: AsyncConnection, viewer: Viewer, rows: list[RowMapping]
) -> list[Visible[ConversationView]]:
    if not rows:
        return []
    newest = (
        select(status_conversations.c.conversation_id, func.max(statuses.c.id).label("last"))
        .join(statuses, statuses.c.id == status_conversations.c.status_id)
        .where(
            status_conversations.c.conversation_id.in_([r["conversation_id"] for r in rows]),
            privacy.status_clause(viewer),
        )
        .group_by(status_conversations.c.conversation_id)
    )
    last_of = {r.conversation_id: r.last for r in await conn.execute(newest)}
    posts = {
        v.value.status.id: v for v in await statuses_by_ids(conn, viewer, list(last_of.values()))
    }
    result = []
    for row in rows:
        post = posts.get(last_of.get(row["conversation_id"], -1))
        if post is not None:
            result.append(post.derive(_conversation_view(row, viewer)))
    return result


def _conversation_view(row: RowMapping, viewer: Viewer) -> Callable[[StatusView], ConversationView]:
    def make(post: StatusView) -> ConversationView:
        others: dict[int, Account] = {}
        for account in [post.account, *post.mentions]:
            if account.id != viewer.account_id:
                others.setdefault(account.id, account)
        return ConversationView(
            id=int(row["id"]),
            unread=bool(row["unread"]),
            accounts=list(others.values()),
            last_status=post,
        )

    return make


async def direct_timeline(
    conn: AsyncConnection, viewer: Viewer, page: Page
) -> list[Visible[StatusView]]:
    """Direct posts the viewer wrote or was mentioned in, newest first."""
    me = viewer.account_id
    assert me is not None
    query = select(statuses).where(
        statuses.c.visibility == int(Visibility.DIRECT),
        or_(
            statuses.c.account_id == me,
            statuses.c.id.in_(select(mentions.c.status_id).where(mentions.c.account_id == me)),
        ),
    )
    return await paged(conn, viewer, query, page)
