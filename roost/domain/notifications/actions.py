"""Creating and clearing notifications.

Created by outbox jobs, with a unique key per event, so a job that runs twice
still notifies once; a strike's ``moderation_warning`` is created in the
staff action's own transaction (roost/domain/strikes/actions.py), keyed by
the strike. Nothing is recorded that the recipient could not be
shown: not from or to a suspended account, not across a block, not from an
account whose notifications the recipient muted, not from an account of a
domain the recipient blocks unless they follow it, not about a post the
recipient may not see or a thread they muted, and not for a follow or request
that was undone before the job ran. The recipient's notification policy
(policy.py) may then drop it, or hold it back in a request (requests.py);
one it lets through goes to the stream and to the recipient's push
subscriptions (roost/domain/push/).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import accounts, follow_requests, follows, notifications, statuses
from roost.domain import privacy
from roost.domain.conversations.threads import is_thread_muted
from roost.domain.discovery.domain_hiding import hides_domain_of
from roost.domain.events import NotificationCreated
from roost.domain.graph.mutes import is_muting
from roost.domain.notifications.groups import group_key_for
from roost.domain.notifications.policy import answer_for
from roost.domain.notifications.requests import do_hold
from roost.domain.push.subscriptions import enqueue_pushes
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
    "quote",
    "quoted_update",
    "admin.report",
    "moderation_warning",
)
# Told to the account itself (a poll's end, a strike against it).
_TO_SELF = ("poll", "moderation_warning")


async def _both_active(tx: Tx, one: int, other: int) -> bool:
    rows = await tx.execute(
        select(accounts.c.id).where(
            accounts.c.id.in_([one, other]), accounts.c.suspended_at.is_(None)
        )
    )
    return len(rows.all()) == len({one, other})


async def _follows(tx: Tx, follower: int, followed: int) -> bool:
    return await _pair_id(tx, follows, follower, followed) is not None


async def _pair_id(tx: Tx, table: Any, account_id: int, target_id: int) -> int | None:
    row = (
        await tx.execute(
            select(table.c.id).where(
                table.c.account_id == account_id, table.c.target_account_id == target_id
            )
        )
    ).first()
    return None if row is None else int(row.id)


async def _wanted(
    tx: Tx, type: str, recipient: int, sender: int, status_id: int | None
) -> str | None:
    """The event's key when the recipient should hear of it, else None."""
    if not await _both_active(tx, recipient, sender):
        return None
    if await privacy.is_blocked_either_way(tx.conn, recipient, sender):
        return None
    if await is_muting(tx.conn, recipient, sender, hiding_notifications=True):
        return None
    if await hides_domain_of(tx.conn, recipient, sender) and not await _follows(
        tx, recipient, sender
    ):
        # As Mastodon: the server of a domain one blocks is heard only
        # through the accounts of it one follows.
        return None
    if type == "follow":
        # Keyed by the follow itself: a later follow (after an unfollow) is a new event.
        follow_id = await _pair_id(tx, follows, sender, recipient)
        return None if follow_id is None else f"follow:{follow_id}"
    if type == "follow_request":
        request_id = await _pair_id(tx, follow_requests, sender, recipient)
        return None if request_id is None else f"follow_request:{request_id}"
    if status_id is not None:
        exists = await tx.execute(select(statuses.c.id).where(statuses.c.id == status_id))
        if exists.first() is None:
            return None
        recipient_view = Viewer(account_id=recipient)
        visible = await privacy.visible_status_ids(tx.conn, recipient_view, [status_id])
        if not visible or await is_thread_muted(tx.conn, recipient, status_id):
            return None
    return f"{type}:{recipient}:{sender}:{status_id or ''}"


async def do_notify(
    tx: Tx,
    *,
    type: str,
    account_id: int,
    from_account_id: int,
    status_id: int | None = None,
    event_key: str | None = None,
    report_id: int | None = None,
    account_warning_id: int | None = None,
) -> bool:
    """Record one notification; False when it was already recorded or is not wanted.
    Only a poll's end and a strike are told to the one who caused them."""
    if account_id == from_account_id and type not in _TO_SELF:
        return False
    if type not in TYPES:
        raise ValueError(f"unknown notification type {type!r}")
    key = await _wanted(tx, type, account_id, from_account_id, status_id)
    if key is None:
        return False
    key = event_key or key
    exists = (
        await tx.execute(select(notifications.c.id).where(notifications.c.dedupe_key == key))
    ).first()
    if exists is not None:
        return False
    answer = await answer_for(
        tx, type=type, recipient=account_id, sender=from_account_id, status_id=status_id
    )
    if answer == "drop":
        return False
    now = utcnow()
    notification_id = new_id()
    await tx.execute(
        notifications.insert().values(
            id=notification_id,
            account_id=account_id,
            from_account_id=from_account_id,
            type=type,
            status_id=status_id,
            report_id=report_id,
            account_warning_id=account_warning_id,
            dedupe_key=key,
            created_at=now,
            group_key=await group_key_for(tx, type, account_id, status_id, now),
            filtered=answer == "filter",
        )
    )
    if answer == "filter":
        # Held back in a request: no stream event, no push.
        await do_hold(
            tx, recipient=account_id, sender=from_account_id, status_id=status_id, now=now
        )
        return True
    tx.emit(NotificationCreated(notification_id=notification_id, recipient_id=account_id))
    await enqueue_pushes(
        tx, notification_id=notification_id, type=type, recipient=account_id, sender=from_account_id
    )
    return True


async def do_forget(tx: Tx, *, type: str, account_id: int, from_account_id: int) -> None:
    """Remove the notifications of an event that was undone (a withdrawn request,
    an unfollow): they would point at something that no longer is."""
    await tx.execute(
        delete(notifications).where(
            notifications.c.type == type,
            notifications.c.account_id == account_id,
            notifications.c.from_account_id == from_account_id,
        )
    )


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
