"""Which accounts a person has muted, as SQL for the filters that honour mutes.

A mute is not a visibility rule (see roost/domain/privacy.py): the muter's home
and public timelines and notifications leave the muted account out; everything
stays readable when asked for directly. A mute with an end stops counting at
its ``expires_at``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.tables import mutes


def mute_time() -> datetime:
    """The time mutes with an expiry are judged against."""
    return utcnow()


def muted_ids(me: int, *, hiding_notifications: bool = False, now: Any = None) -> Select[Any]:
    """Ids of the accounts ``me`` mutes now (only those whose notifications are
    hidden too, when ``hiding_notifications``). ``now``: a bound parameter in
    statements compiled once (roost/db/fastread.py); the clock otherwise."""
    query = select(mutes.c.target_account_id).where(
        mutes.c.account_id == me,
        or_(mutes.c.expires_at.is_(None), mutes.c.expires_at > (utcnow() if now is None else now)),
    )
    if hiding_notifications:
        query = query.where(mutes.c.hide_notifications.is_(True))
    return query


async def is_muting(
    conn: AsyncConnection, me: int, other: int, *, hiding_notifications: bool = False
) -> bool:
    query = muted_ids(me, hiding_notifications=hiding_notifications).where(
        mutes.c.target_account_id == other
    )
    return (await conn.execute(query)).first() is not None
