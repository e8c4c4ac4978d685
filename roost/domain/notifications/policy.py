"""What an account does with notifications from strangers (Mastodon 4.3's
notification policy, v2).

Five kinds of stranger, each answered with ``accept`` (shown as usual),
``filter`` (held back in a notification request, roost/domain/notifications/
requests.py) or ``drop`` (never recorded). When several apply, the strictest
answer wins. A sender whose request the account accepted is never filtered
again, and one it follows is no stranger: of the five, only "not followers"
can still apply to it. ``for_limited_accounts`` applies to a sender staff
silenced (roost/domain/accounts/limits.py) whom the account does not follow;
it applies even when the other four accept.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import timedelta
from typing import Literal, cast

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import (
    accounts,
    follows,
    notification_permissions,
    notification_policies,
    statuses,
)
from roost.domain.types import Viewer
from roost.visibility import Visibility

Answer = Literal["accept", "filter", "drop"]
ANSWERS: tuple[Answer, ...] = ("accept", "filter", "drop")
# Types a policy never holds back (Mastodon: polls ended, moderation notices,
# reports to staff: a silenced reporter's report still reaches them).
UNFILTERED_TYPES = frozenset({"poll", "moderation_warning", "admin.report"})
NEW_ACCOUNT_AGE = timedelta(days=30)
_STRICTNESS = {"accept": 0, "filter": 1, "drop": 2}


@dataclass(frozen=True, slots=True)
class NotificationPolicy:
    for_not_following: Answer = "accept"
    for_not_followers: Answer = "accept"
    for_new_accounts: Answer = "accept"
    for_private_mentions: Answer = "filter"
    for_limited_accounts: Answer = "filter"


FIELDS = tuple(f.name for f in fields(NotificationPolicy))


async def policy_of(conn: AsyncConnection, account_id: int) -> NotificationPolicy:
    row = (
        (
            await conn.execute(
                select(notification_policies).where(
                    notification_policies.c.account_id == account_id
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return NotificationPolicy()
    return NotificationPolicy(**{name: cast(Answer, row[name]) for name in FIELDS})


async def do_update_policy(
    tx: Tx, viewer: Viewer, changes: dict[str, Answer]
) -> NotificationPolicy:
    """Change the named answers; the others stay."""
    me = viewer.account_id
    assert me is not None
    current = await policy_of(tx.conn, me)
    updated = replace(current, **{k: v for k, v in changes.items() if k in FIELDS})
    values = {name: getattr(updated, name) for name in FIELDS}
    await tx.execute(notification_policies.delete().where(notification_policies.c.account_id == me))
    await tx.execute(
        notification_policies.insert().values(account_id=me, updated_at=utcnow(), **values)
    )
    return updated


async def _follows(tx: Tx, follower: int, followed: int) -> bool:
    query = select(
        exists().where(follows.c.account_id == follower, follows.c.target_account_id == followed)
    )
    return bool((await tx.execute(query)).scalar())


async def _silenced(tx: Tx, account_id: int) -> bool:
    query = select(accounts.c.silenced_at).where(accounts.c.id == account_id)
    return (await tx.execute(query)).scalar() is not None


async def _permitted(tx: Tx, recipient: int, sender: int) -> bool:
    query = select(
        exists().where(
            notification_permissions.c.account_id == recipient,
            notification_permissions.c.from_account_id == sender,
        )
    )
    return bool((await tx.execute(query)).scalar())


async def _private_mention(tx: Tx, recipient: int, status_id: int) -> bool:
    """A direct post that is not an answer to the recipient."""
    row = (
        await tx.execute(
            select(statuses.c.visibility, statuses.c.in_reply_to_account_id).where(
                statuses.c.id == status_id
            )
        )
    ).first()
    if row is None:
        return False
    return bool(
        row.visibility == int(Visibility.DIRECT) and row.in_reply_to_account_id != recipient
    )


async def answer_for(
    tx: Tx, *, type: str, recipient: int, sender: int, status_id: int | None
) -> Answer:
    """What the recipient's policy does with this notification."""
    if type in UNFILTERED_TYPES:
        return "accept"
    policy = await policy_of(tx.conn, recipient)
    limited = policy.for_limited_accounts != "accept" and await _silenced(tx, sender)
    if not limited and all(getattr(policy, name) == "accept" for name in FIELDS[:4]):
        return "accept"
    if await _permitted(tx, recipient, sender):
        return "accept"
    answers: list[Answer] = []
    follows_sender = await _follows(tx, recipient, sender)
    if limited and not follows_sender:
        answers.append(policy.for_limited_accounts)
    if not follows_sender:
        answers.append(policy.for_not_following)
    if not await _follows(tx, sender, recipient):
        answers.append(policy.for_not_followers)
    if policy.for_new_accounts != "accept" and not follows_sender:
        created = (
            await tx.execute(select(accounts.c.created_at).where(accounts.c.id == sender))
        ).scalar_one()
        if created > utcnow() - NEW_ACCOUNT_AGE:
            answers.append(policy.for_new_accounts)
    if (
        type == "mention"
        and status_id is not None
        and not follows_sender
        and await _private_mention(tx, recipient, status_id)
    ):
        answers.append(policy.for_private_mentions)
    return max(answers, key=_STRICTNESS.__getitem__, default="accept")
