"""The profile directory: local accounts that chose to be discoverable.

Only approved accounts with a confirmed address are listed, and the privacy
policy's list rule applies (no suspended account, none on either side of a
block with the viewer). Every account is local until federation brings remote
ones, so ``local`` changes nothing yet.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import accounts, users
from roost.domain import privacy
from roost.domain.privacy import Visible
from roost.domain.types import Viewer


def discoverable_people() -> Select[Any]:
    """Accounts that may be offered to strangers: discoverable, approved, confirmed."""
    return (
        select(accounts)
        .join(users, users.c.account_id == accounts.c.id)
        .where(
            accounts.c.discoverable.is_(True),
            accounts.c.silenced_at.is_(None),
            users.c.approved.is_(True),
            users.c.confirmed_at.is_not(None),
        )
    )


async def directory(
    conn: AsyncConnection, viewer: Viewer, *, order: str, offset: int, limit: int
) -> list[Visible[RowMapping]]:
    """A page of the directory. ``active``: most recent post first (accounts
    that never posted last); ``new``: newest account first."""
    query = discoverable_people()
    if order == "new":
        query = query.order_by(accounts.c.id.desc())
    else:
        query = query.order_by(
            accounts.c.last_status_at.is_(None),
            accounts.c.last_status_at.desc(),
            accounts.c.id.desc(),
        )
    return await privacy.visible_accounts(conn, viewer, query.offset(offset).limit(limit))
