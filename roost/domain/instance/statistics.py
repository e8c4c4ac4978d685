"""What the instance tells about itself: how many users and posts it holds,
and whom to contact (the first owner, as anyone may see them)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import account_roles, accounts, statuses, users
from roost.domain import privacy
from roost.domain.privacy import Visible
from roost.domain.roles.permissions import OWNER_ROLE_ID
from roost.domain.types import ANONYMOUS, Account


@dataclass(frozen=True)
class Statistics:
    users: int
    statuses: int
    contact: Visible[Account] | None


async def statistics(conn: AsyncConnection) -> Statistics:
    user_count = (await conn.execute(select(func.count()).select_from(users))).scalar_one()
    # This server's posts: those of other servers have their own id (``uri``).
    status_count = (
        await conn.execute(
            select(func.count()).select_from(statuses).where(statuses.c.uri.is_(None))
        )
    ).scalar_one()
    admins = await privacy.visible_accounts(
        conn,
        ANONYMOUS,
        select(accounts)
        .join(account_roles, account_roles.c.account_id == accounts.c.id)
        .where(account_roles.c.role_id == OWNER_ROLE_ID)
        .order_by(accounts.c.id)
        .limit(1),
    )
    contact = admins[0].derive(Account.from_row) if admins else None
    return Statistics(int(user_count), int(status_count), contact)
