"""Who hears of a new or edited post: the rules, as actions run by its jobs.

A new post (not a boost) notifies the accounts it mentions ("mention") and the
followers who asked to hear of its author's posts ("status"); an edit
notifies those who boosted the post ("update", once per edit). Whether each
one is then recorded is ``do_notify``'s rule (blocks, mutes, visibility...).
A boost and a follow announce themselves: their actions leave a ``Notify``
job for the one account concerned.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select

from roost.db.engine import Tx
from roost.db.tables import accounts, follows, mentions, statuses
from roost.domain.notifications.actions import do_notify

Published = Literal["post", "boost", "gone"]


async def do_announce_post(tx: Tx, status_id: int) -> Published:
    """Notify of a new post; what it turned out to be: a post, a boost, or
    gone (deleted before this ran). The caller goes on by that, without
    reading the row again."""
    row = (
        await tx.execute(
            select(statuses.c.account_id, statuses.c.reblog_of_id).where(statuses.c.id == status_id)
        )
    ).first()
    if row is None:
        return "gone"
    if row.reblog_of_id is not None:
        return "boost"
    # Accounts of other servers are told by their own server (the post is
    # delivered to it), not here.
    mentioned = await tx.execute(
        select(mentions.c.account_id)
        .join(accounts, accounts.c.id == mentions.c.account_id)
        .where(mentions.c.status_id == status_id, accounts.c.domain.is_(None))
    )
    for (account_id,) in mentioned.all():
        await do_notify(
            tx,
            type="mention",
            account_id=account_id,
            from_account_id=row.account_id,
            status_id=status_id,
        )
    subscribers = await tx.execute(
        select(follows.c.account_id).where(
            follows.c.target_account_id == row.account_id, follows.c.notify.is_(True)
        )
    )
    for (account_id,) in subscribers.all():
        await do_notify(
            tx,
            type="status",
            account_id=account_id,
            from_account_id=row.account_id,
            status_id=status_id,
        )
    return "post"


async def do_announce_edit(tx: Tx, status_id: int) -> None:
    """Notify those who boosted the post of its latest edit."""
    row = (
        await tx.execute(
            select(statuses.c.account_id, statuses.c.edited_at).where(statuses.c.id == status_id)
        )
    ).first()
    if row is None:
        return
    boosters = await tx.execute(
        select(statuses.c.account_id).where(statuses.c.reblog_of_id == status_id)
    )
    for (account_id,) in boosters.all():
        await do_notify(
            tx,
            type="update",
            account_id=account_id,
            from_account_id=row.account_id,
            status_id=status_id,
            event_key=f"update:{account_id}:{status_id}:{row.edited_at.isoformat()}",
        )
