"""Reading one's notifications. The account and the post each notification
points at are cleared through the privacy policy for the recipient; one whose
post the recipient may no longer see is not shown."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import accounts, notifications
from roost.domain import privacy
from roost.domain.pagination import newest_first, page_of
from roost.domain.privacy import Visible
from roost.domain.statuses.queries import statuses_by_ids
from roost.domain.types import Account, NotificationView, Page, Viewer
from roost.errors import NotFound


async def notification_list(
    conn: AsyncConnection,
    viewer: Viewer,
    page: Page,
    *,
    types: list[str] | None = None,
    exclude_types: list[str] | None = None,
    from_account_id: int | None = None,
) -> tuple[list[Visible[NotificationView]], int | None, int | None]:
    assert viewer.account_id is not None
    query = select(notifications).where(notifications.c.account_id == viewer.account_id)
    if types:
        query = query.where(notifications.c.type.in_(types))
    if exclude_types:
        query = query.where(notifications.c.type.not_in(exclude_types))
    if from_account_id is not None:
        query = query.where(notifications.c.from_account_id == from_account_id)
    rows = newest_first(
        (await conn.execute(page_of(query, notifications.c.id, page))).mappings().all(), page
    )
    views = await _views(conn, viewer, rows)
    if not rows:
        return views, None, None
    return views, rows[0]["id"], rows[-1]["id"]


async def notification(
    conn: AsyncConnection, viewer: Viewer, notification_id: int
) -> Visible[NotificationView]:
    row = (
        (
            await conn.execute(
                select(notifications).where(
                    notifications.c.id == notification_id,
                    notifications.c.account_id == viewer.account_id,
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


async def unread_count(conn: AsyncConnection, viewer: Viewer, since_id: int | None) -> int:
    query = (
        select(func.count())
        .select_from(notifications)
        .where(notifications.c.account_id == viewer.account_id)
    )
    if since_id is not None:
        query = query.where(notifications.c.id > since_id)
    return int((await conn.execute(query)).scalar_one())


async def _views(
    conn: AsyncConnection, viewer: Viewer, rows: list[object]
) -> list[Visible[NotificationView]]:
    if not rows:
        return []
    from_ids = {r["from_account_id"] for r in rows}  # type: ignore[index]
    senders = {
        r.value["id"]: r
        for r in await privacy.visible_accounts(
            conn, viewer, select(accounts).where(accounts.c.id.in_(from_ids))
        )
    }
    status_ids = [r["status_id"] for r in rows if r["status_id"] is not None]  # type: ignore[index]
    posts = {v.value.status.id: v for v in await statuses_by_ids(conn, viewer, status_ids)}
    result = []
    for r in rows:
        sender = senders.get(r["from_account_id"])  # type: ignore[index]
        if sender is None:
            continue
        post = None
        if r["status_id"] is not None:  # type: ignore[index]
            cleared = posts.get(r["status_id"])  # type: ignore[index]
            if cleared is None:
                continue
            post = cleared.value
        result.append(
            sender.derive(
                lambda acc, r=r, post=post: NotificationView(
                    id=r["id"],
                    type=r["type"],
                    created_at=r["created_at"],  # type: ignore[index]
                    account=Account.from_row(acc),
                    status=post,
                )
            )
        )
    return result
