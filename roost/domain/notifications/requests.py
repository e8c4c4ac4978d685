"""Notification requests: what the notification policy held back, by sender.

A filtered notification is recorded (``filtered``) and its sender's request
for the recipient made or brought forward. Accepting a request shows its
notifications in the list and lets the sender through from then on;
dismissing it removes the request and the notifications it held. Reads
count only notifications the recipient is shown now, and a request from a
sender the recipient may not see in a list (suspended, blocked either way) is
left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import Tx
from roost.db.tables import (
    accounts,
    notification_permissions,
    notification_requests,
    notifications,
)
from roost.domain import privacy
from roost.domain.events import NotificationsMerged
from roost.domain.notifications.queries import shown_query
from roost.domain.pagination import newest_first, page_of
from roost.domain.privacy import Visible
from roost.domain.statuses.queries import statuses_by_ids
from roost.domain.types import Account, Page, StatusView, Viewer
from roost.errors import NotFound
from roost.ids import new_id


@dataclass(frozen=True, slots=True)
class RequestView:
    id: int
    created_at: datetime
    updated_at: datetime
    account: Account
    notifications_count: int
    last_status: StatusView | None


async def do_hold(
    tx: Tx, *, recipient: int, sender: int, status_id: int | None, now: datetime
) -> None:
    """Record that a notification from ``sender`` was held back for ``recipient``."""
    found = (
        await tx.execute(
            select(notification_requests.c.id, notification_requests.c.last_status_id).where(
                notification_requests.c.account_id == recipient,
                notification_requests.c.from_account_id == sender,
            )
        )
    ).first()
    if found is None:
        await tx.execute(
            notification_requests.insert().values(
                id=new_id(),
                account_id=recipient,
                from_account_id=sender,
                last_status_id=status_id,
                created_at=now,
                updated_at=now,
            )
        )
        return
    await tx.execute(
        update(notification_requests)
        .where(notification_requests.c.id == found.id)
        .values(last_status_id=status_id or found.last_status_id, updated_at=now)
    )


def _held(viewer: Viewer, sender: int | None = None) -> Any:
    query = shown_query(
        select(notifications.c.from_account_id, func.count().label("held")),
        viewer,
        None,
        None,
        sender,
        include_filtered=True,
    ).where(notifications.c.filtered.is_(True))
    return query.group_by(notifications.c.from_account_id)


def _requests(viewer: Viewer) -> Any:
    return select(notification_requests).where(
        notification_requests.c.account_id == viewer.account_id,
        privacy.listed_account_id(viewer, notification_requests.c.from_account_id),
    )


async def request_list(
    conn: AsyncConnection, viewer: Viewer, page: Page
) -> tuple[list[Visible[RequestView]], int | None, int | None]:
    rows = newest_first(
        list(
            (await conn.execute(page_of(_requests(viewer), notification_requests.c.id, page)))
            .mappings()
            .all()
        ),
        page,
    )
    views = await _views(conn, viewer, rows)
    if not rows:
        return views, None, None
    return views, int(rows[0]["id"]), int(rows[-1]["id"])


async def request(conn: AsyncConnection, viewer: Viewer, request_id: int) -> Visible[RequestView]:
    query = _requests(viewer).where(notification_requests.c.id == request_id)
    row = (await conn.execute(query)).mappings().first()
    views = await _views(conn, viewer, [row] if row is not None else [])
    if not views:
        raise NotFound()
    return views[0]


async def summary(conn: AsyncConnection, viewer: Viewer) -> tuple[int, int]:
    """(pending requests, notifications they hold), as the policy's summary counts."""
    requests = (
        await conn.execute(select(func.count()).select_from(_requests(viewer).subquery()))
    ).scalar_one()
    held = (
        await conn.execute(select(func.coalesce(func.sum(_held(viewer).subquery().c.held), 0)))
    ).scalar_one()
    return int(requests), int(held)


async def _views(
    conn: AsyncConnection, viewer: Viewer, rows: list[RowMapping]
) -> list[Visible[RequestView]]:
    if not rows:
        return []
    senders = {r["from_account_id"] for r in rows}
    cleared = {
        r.value["id"]: r
        for r in await privacy.visible_accounts(
            conn, viewer, select(accounts).where(accounts.c.id.in_(senders))
        )
    }
    counts = {
        int(r.from_account_id): int(r.held)
        for r in (
            await conn.execute(_held(viewer).where(notifications.c.from_account_id.in_(senders)))
        ).all()
    }
    status_ids = [r["last_status_id"] for r in rows if r["last_status_id"] is not None]
    posts = {v.value.status.id: v.value for v in await statuses_by_ids(conn, viewer, status_ids)}
    result: list[Visible[RequestView]] = []
    for row in rows:
        sender = cleared.get(row["from_account_id"])
        if sender is None:
            continue
        post = posts.get(row["last_status_id"]) if row["last_status_id"] is not None else None
        result.append(
            sender.derive(_request_view(row, counts.get(row["from_account_id"], 0), post))
        )
    return result


def _request_view(
    row: RowMapping, count: int, post: StatusView | None
) -> Callable[[RowMapping], RequestView]:
    def make(sender: RowMapping) -> RequestView:
        return RequestView(
            id=row["id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            account=Account.from_row(sender),
            notifications_count=count,
            last_status=post,
        )

    return make


async def _own(tx: Tx, viewer: Viewer, request_ids: list[int]) -> list[tuple[int, int]]:
    rows = await tx.execute(
        select(notification_requests.c.id, notification_requests.c.from_account_id).where(
            notification_requests.c.account_id == viewer.account_id,
            notification_requests.c.id.in_(request_ids),
        )
    )
    return [(int(r.id), int(r.from_account_id)) for r in rows.all()]


async def do_accept(
    tx: Tx, viewer: Viewer, request_ids: list[int], *, now: datetime, strict: bool = True
) -> None:
    """Show the requests' notifications and let their senders through from now
    on. NotFound when ``strict`` and one id is not the viewer's request."""
    me = viewer.account_id
    found = await _own(tx, viewer, request_ids)
    if strict and len(found) != len(set(request_ids)):
        raise NotFound()
    for request_id, sender in found:
        await tx.execute(
            update(notifications)
            .where(notifications.c.account_id == me, notifications.c.from_account_id == sender)
            .values(filtered=False)
        )
        exists = (
            await tx.execute(
                select(notification_permissions.c.id).where(
                    notification_permissions.c.account_id == me,
                    notification_permissions.c.from_account_id == sender,
                )
            )
        ).first()
        if exists is None:
            await tx.execute(
                notification_permissions.insert().values(
                    id=new_id(), account_id=me, from_account_id=sender, created_at=now
                )
            )
        await tx.execute(
            delete(notification_requests).where(notification_requests.c.id == request_id)
        )
    if found and me is not None:
        tx.emit(NotificationsMerged(me))


async def do_dismiss(
    tx: Tx, viewer: Viewer, request_ids: list[int], *, strict: bool = True
) -> None:
    """Remove the requests and the notifications they held back."""
    me = viewer.account_id
    found = await _own(tx, viewer, request_ids)
    if strict and len(found) != len(set(request_ids)):
        raise NotFound()
    for request_id, sender in found:
        await tx.execute(
            delete(notifications).where(
                notifications.c.account_id == me,
                notifications.c.from_account_id == sender,
                notifications.c.filtered.is_(True),
            )
        )
        await tx.execute(
            delete(notification_requests).where(notification_requests.c.id == request_id)
        )
