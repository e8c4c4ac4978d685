"""Reading strikes and appeals: an account's own, and the appeals staff decide.

An account reads only its own strikes; staff read any with ``manage_users``
(strikes) or ``manage_appeals`` (appeals). Anyone else is answered NotFound
for a strike that is not theirs, so ids say nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import account_warnings, accounts, appeals
from roost.domain import privacy
from roost.domain.roles.permissions import Permission
from roost.domain.strikes.model import Appeal, Warning
from roost.domain.types import Viewer
from roost.errors import Forbidden, NotFound


def _query() -> Select[Any]:
    return select(
        account_warnings,
        appeals.c.id.label("appeal_id"),
        appeals.c.text.label("appeal_text"),
        appeals.c.created_at.label("appeal_created_at"),
        appeals.c.approved_at,
        appeals.c.rejected_at,
    ).select_from(
        account_warnings.outerjoin(appeals, appeals.c.account_warning_id == account_warnings.c.id)
    )


def _warning(row: Any) -> Warning:
    appeal = None
    if row.appeal_id is not None:
        appeal = Appeal(
            id=int(row.appeal_id),
            account_id=int(row.account_id),
            warning_id=int(row.id),
            text=row.appeal_text or "",
            created_at=row.appeal_created_at,
            approved_at=row.approved_at,
            rejected_at=row.rejected_at,
        )
    return Warning(
        id=int(row.id),
        account_id=int(row.account_id),
        action=row.action,
        text=row.text or "",
        report_id=row.report_id,
        created_at=row.created_at,
        overruled_at=row.overruled_at,
        appeal=appeal,
    )


async def own_warnings(conn: AsyncConnection, viewer: Viewer) -> list[Warning]:
    """The viewer's strikes, newest first."""
    if viewer.account_id is None:
        return []
    rows = await conn.execute(
        _query()
        .where(account_warnings.c.account_id == viewer.account_id)
        .order_by(account_warnings.c.id.desc())
    )
    return [_warning(row) for row in rows]


async def warning(conn: AsyncConnection, viewer: Viewer | None, warning_id: int) -> Warning:
    """One strike: the account's own, or any for staff with ``manage_users`` or
    ``manage_appeals`` (None: the operator)."""
    row = (await conn.execute(_query().where(account_warnings.c.id == warning_id))).first()
    if row is None:
        raise NotFound()
    found = _warning(row)
    if viewer is None or viewer.account_id == found.account_id:
        return found
    if viewer.may(Permission.MANAGE_USERS) or viewer.may(Permission.MANAGE_APPEALS):
        return found
    raise NotFound()


async def warnings_by_id(
    conn: AsyncConnection, viewer: Viewer, ids: Iterable[int]
) -> dict[int, Warning]:
    """The viewer's own strikes among ``ids`` (for their notifications)."""
    wanted = list(set(ids))
    if not wanted or viewer.account_id is None:
        return {}
    rows = await conn.execute(
        _query().where(
            account_warnings.c.id.in_(wanted),
            account_warnings.c.account_id == viewer.account_id,
        )
    )
    return {int(row.id): _warning(row) for row in rows}


async def appeals_to_decide(
    conn: AsyncConnection, viewer: Viewer | None, *, every: bool = False
) -> list[Warning]:
    """Strikes with an appeal, oldest appeal first: those awaiting a decision,
    or ``every`` one. Staff need ``manage_appeals`` (None: the operator)."""
    if viewer is not None and not viewer.may(Permission.MANAGE_APPEALS):
        raise Forbidden("This action is not allowed")
    query = _query().where(appeals.c.id.is_not(None))
    if not every:
        query = query.where(appeals.c.approved_at.is_(None), appeals.c.rejected_at.is_(None))
    rows = await conn.execute(query.order_by(appeals.c.id))
    return [_warning(row) for row in rows]


async def usernames(
    conn: AsyncConnection, viewer: Viewer, account_ids: Iterable[int]
) -> dict[int, str]:
    """The usernames of the accounts ``account_ids``, as the policy shows them
    to ``viewer`` (staff: suspended ones too), for the appeals page."""
    wanted = list(set(account_ids))
    if not wanted:
        return {}
    rows = await privacy.visible_accounts(
        conn, viewer, select(accounts).where(accounts.c.id.in_(wanted)), include_blocked=True
    )
    return {int(row.value["id"]): str(row.value["username"]) for row in rows}
