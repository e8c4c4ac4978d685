"""Creating and clearing notifications. Created only by outbox jobs, with a
unique key per event, so a job that runs twice still notifies once."""

from __future__ import annotations

from sqlalchemy import delete, select

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import accounts, notifications
from roost.domain.types import Viewer
from roost.errors import NotFound
from roost.ids import new_id

TYPES = (
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
)


async def do_notify(
    tx: Tx,
    *,
    type: str,
    account_id: int,
    from_account_id: int,
    status_id: int | None = None,
    event_key: str | None = None,
) -> bool:
    """Record one notification; False when this event was already recorded."""
    if account_id == from_account_id:
        return False
    if type not in TYPES:
        raise ValueError(f"unknown notification type {type!r}")
    recipient = (await tx.execute(select(accounts.c.id).where(accounts.c.id == account_id))).first()
    if recipient is None:
        return False
    key = event_key or f"{type}:{account_id}:{from_account_id}:{status_id or ''}"
    exists = (
        await tx.execute(select(notifications.c.id).where(notifications.c.dedupe_key == key))
    ).first()
    if exists is not None:
        return False
    await tx.execute(
        notifications.insert().values(
            id=new_id(),
            account_id=account_id,
            from_account_id=from_account_id,
            type=type,
            status_id=status_id,
            dedupe_key=key,
            created_at=utcnow(),
        )
    )
    return True


async def do_dismiss(tx: Tx, viewer: Viewer, notification_id: int) -> None:
    result = await tx.execute(
        delete(notifications).where(
            notifications.c.id == notification_id,
            notifications.c.account_id == viewer.account_id,
        )
    )
    if not result.rowcount:
        raise NotFound()


async def do_clear(tx: Tx, viewer: Viewer) -> None:
    await tx.execute(delete(notifications).where(notifications.c.account_id == viewer.account_id))
