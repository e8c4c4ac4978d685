"""The admin dashboard's measures of one other server (Mastodon's
``instance_*`` keys), each asked with the server's domain
(``instance_accounts[domain]=example.org``), per UTC day like the other
measures (roost/domain/instance/dashboard.py).

What each counts, for the accounts of that domain that this server knows
(roost/domain/federation/remote.py):

- ``instance_accounts``: those first seen here;
- ``instance_statuses``: their posts received here (boosts left out);
- ``instance_media_attachments``: the bytes of their media stored here (in
  bytes, as Mastodon's unit says; 0 while media of other servers is not
  fetched);
- ``instance_follows``: follows they made of accounts here;
- ``instance_followers``: follows of them by accounts here;
- ``instance_reports``: reports made here about them.

A domain nobody here knows counts 0 everywhere, as on Mastodon. The period's
total is the sum of its days for each of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import accounts, follows, media_attachments, reports, statuses
from roost.ids import min_id_for_time

INSTANCE_MEASURES = (
    "instance_accounts",
    "instance_statuses",
    "instance_media_attachments",
    "instance_follows",
    "instance_followers",
    "instance_reports",
)

InstanceCount = Callable[[AsyncConnection, str, datetime, datetime], Awaitable[int]]


def _of_domain(domain: str) -> Any:
    return select(accounts.c.id).where(func.lower(accounts.c.domain) == domain)


async def _count(conn: AsyncConnection, query: Any) -> int:
    return int((await conn.execute(query)).scalar_one() or 0)


async def _accounts(conn: AsyncConnection, domain: str, start: datetime, end: datetime) -> int:
    return await _count(
        conn,
        select(func.count())
        .select_from(accounts)
        .where(
            func.lower(accounts.c.domain) == domain,
            accounts.c.created_at >= start,
            accounts.c.created_at < end,
        ),
    )


async def _statuses(conn: AsyncConnection, domain: str, start: datetime, end: datetime) -> int:
    return await _count(
        conn,
        select(func.count())
        .select_from(statuses)
        .where(
            statuses.c.account_id.in_(_of_domain(domain)),
            statuses.c.reblog_of_id.is_(None),
            statuses.c.id >= min_id_for_time(start),
            statuses.c.id < min_id_for_time(end),
        ),
    )


async def _media(conn: AsyncConnection, domain: str, start: datetime, end: datetime) -> int:
    return await _count(
        conn,
        select(func.coalesce(func.sum(media_attachments.c.file_size), 0)).where(
            media_attachments.c.account_id.in_(_of_domain(domain)),
            media_attachments.c.created_at >= start,
            media_attachments.c.created_at < end,
        ),
    )


async def _follows(conn: AsyncConnection, domain: str, start: datetime, end: datetime) -> int:
    return await _count(
        conn,
        select(func.count())
        .select_from(follows)
        .where(
            follows.c.account_id.in_(_of_domain(domain)),
            follows.c.created_at >= start,
            follows.c.created_at < end,
        ),
    )


async def _followers(conn: AsyncConnection, domain: str, start: datetime, end: datetime) -> int:
    return await _count(
        conn,
        select(func.count())
        .select_from(follows)
        .where(
            follows.c.target_account_id.in_(_of_domain(domain)),
            follows.c.created_at >= start,
            follows.c.created_at < end,
        ),
    )


async def _reports(conn: AsyncConnection, domain: str, start: datetime, end: datetime) -> int:
    return await _count(
        conn,
        select(func.count())
        .select_from(reports)
        .where(
            reports.c.target_account_id.in_(_of_domain(domain)),
            reports.c.created_at >= start,
            reports.c.created_at < end,
        ),
    )


INSTANCE_COUNTS: dict[str, InstanceCount] = {
    "instance_accounts": _accounts,
    "instance_statuses": _statuses,
    "instance_media_attachments": _media,
    "instance_follows": _follows,
    "instance_followers": _followers,
    "instance_reports": _reports,
}


def normal_domain(domain: str) -> str:
    """A domain as accounts store it: lower case, no trailing dot."""
    return domain.strip().lower().rstrip(".")
