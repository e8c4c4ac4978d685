"""Who a session cookie belongs to, and an account's list of sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.fastread import FastReader, Prepared
from roost.db.tables import accounts, users, web_sessions
from roost.domain.oauth.actions import digest
from roost.domain.roles.permissions import is_staff
from roost.domain.roles.queries import permissions_of


@dataclass(frozen=True)
class SessionOwner:
    """A live session of an active account."""

    session_id: int
    account_id: int
    username: str
    display_name: str
    is_admin: bool
    permissions: int
    last_used_at: datetime


def _lookup() -> Select[Any]:
    return (
        select(
            web_sessions.c.id,
            web_sessions.c.account_id,
            web_sessions.c.last_used_at,
            accounts.c.username,
            accounts.c.display_name,
            accounts.c.suspended_at,
            permissions_of(web_sessions.c.account_id).label("permissions"),
            users.c.approved,
            users.c.confirmed_at,
            users.c.disabled,
        )
        .select_from(
            web_sessions.join(accounts, accounts.c.id == web_sessions.c.account_id).join(
                users, users.c.account_id == web_sessions.c.account_id
            )
        )
        .where(web_sessions.c.token_hash == bindparam("token_hash"))
    )


_LOOKUP = Prepared(_lookup)


async def session_owner(reader: FastReader, token: str) -> SessionOwner | None:
    """None for an unknown or ended session, and for an account that may no
    longer use one (suspended, unconfirmed, awaiting approval, disabled)."""
    rows = await reader.all(_LOOKUP, token_hash=digest(token))
    if not rows:
        return None
    (sid, account_id, last_used, username, display_name, suspended, mask, approved, confirmed) = (
        rows[0][:9]
    )
    disabled = rows[0][9]
    if suspended is not None or not approved or confirmed is None or disabled:
        return None
    mask = int(mask or 0)
    return SessionOwner(
        session_id=sid,
        account_id=account_id,
        username=username,
        display_name=display_name,
        is_admin=is_staff(mask),
        permissions=mask,
        last_used_at=last_used,
    )


@dataclass(frozen=True)
class SessionInfo:
    id: int
    created_at: datetime
    last_used_at: datetime
    ip: str | None
    user_agent: str | None


async def sessions_of(conn: AsyncConnection, account_id: int) -> list[SessionInfo]:
    rows = await conn.execute(
        select(web_sessions)
        .where(web_sessions.c.account_id == account_id)
        .order_by(web_sessions.c.last_used_at.desc())
    )
    return [SessionInfo(r.id, r.created_at, r.last_used_at, r.ip, r.user_agent) for r in rows]
