"""The instance's numbers from its own rows: weekly activity
(``GET /api/v1/instance/activity``) and NodeInfo's usage.

Only local accounts count (every account is local until federation). An
account counts as active in a period when it posted, signed in with its
password, used a browser session, or was given an access token in it. Roost
keeps the latest sign-in of each account and of each browser session, not
every one: a past week counts the accounts that posted in it or whose latest
sign-in or session use fell in it, which is never more than really came.
Suspended and not-yet-approved accounts are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import accounts, oauth_tokens, statuses, users, web_sessions
from roost.ids import min_id_for_time

WEEKS = 12


@dataclass(frozen=True)
class Week:
    start: datetime  # Monday 00:00 UTC
    statuses: int
    logins: int
    registrations: int


@dataclass(frozen=True)
class Usage:
    users: int
    active_month: int
    active_halfyear: int
    local_posts: int


async def _active(conn: AsyncConnection, start: datetime, end: datetime) -> int:
    """Accounts that did anything of their own between ``start`` and ``end``."""
    who = union(
        select(statuses.c.account_id.label("account_id")).where(
            statuses.c.id >= min_id_for_time(start), statuses.c.id < min_id_for_time(end)
        ),
        select(users.c.account_id).where(
            users.c.last_sign_in_at >= start, users.c.last_sign_in_at < end
        ),
        select(web_sessions.c.account_id).where(
            web_sessions.c.last_used_at >= start, web_sessions.c.last_used_at < end
        ),
        select(oauth_tokens.c.account_id).where(
            oauth_tokens.c.account_id.is_not(None),
            or_(
                and_(oauth_tokens.c.created_at >= start, oauth_tokens.c.created_at < end),
                and_(oauth_tokens.c.last_used_at >= start, oauth_tokens.c.last_used_at < end),
            ),
        ),
    ).subquery()
    query = (
        select(func.count())
        .select_from(who)
        .join(users, users.c.account_id == who.c.account_id)
        .join(accounts, accounts.c.id == who.c.account_id)
        .where(accounts.c.suspended_at.is_(None), users.c.approved.is_(True))
    )
    return int((await conn.execute(query)).scalar_one())


async def _posts(conn: AsyncConnection, start: datetime | None, end: datetime | None) -> int:
    query = select(func.count()).select_from(statuses).where(statuses.c.reblog_of_id.is_(None))
    if start is not None:
        query = query.where(statuses.c.id >= min_id_for_time(start))
    if end is not None:
        query = query.where(statuses.c.id < min_id_for_time(end))
    return int((await conn.execute(query)).scalar_one())


async def weekly_activity(conn: AsyncConnection, now: datetime) -> list[Week]:
    """The last ``WEEKS`` weeks, this one first: posts written (boosts not
    counted), active accounts, and accounts signed up."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday())
    weeks = []
    for n in range(WEEKS):
        start = monday - timedelta(weeks=n)
        end = start + timedelta(weeks=1)
        registrations = (
            await conn.execute(
                select(func.count())
                .select_from(users)
                .where(users.c.created_at >= start, users.c.created_at < end)
            )
        ).scalar_one()
        weeks.append(
            Week(
                start=start,
                statuses=await _posts(conn, start, end),
                logins=await _active(conn, start, end),
                registrations=int(registrations),
            )
        )
    return weeks


async def usage(conn: AsyncConnection, now: datetime) -> Usage:
    """NodeInfo's usage: accounts, those active in 30 and 180 days, and posts."""
    total = (
        await conn.execute(
            select(func.count())
            .select_from(users)
            .join(accounts, accounts.c.id == users.c.account_id)
            .where(accounts.c.suspended_at.is_(None), users.c.approved.is_(True))
        )
    ).scalar_one()
    later = now + timedelta(seconds=1)
    return Usage(
        users=int(total),
        active_month=await _active(conn, now - timedelta(days=30), later),
        active_halfyear=await _active(conn, now - timedelta(days=180), later),
        local_posts=await _posts(conn, None, None),
    )
