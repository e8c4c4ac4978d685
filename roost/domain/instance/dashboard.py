"""The admin dashboard's numbers (Mastodon's measures, dimensions and
retention cohorts), computed from Roost's own tables on request.

Measures, per UTC day between two dates (both included), with the total
over the period and over the period of the same length just before it:

- ``active_users``: accounts that did anything of their own (the meaning of
  roost/domain/instance/activity.py, and its approximation: the latest
  sign-in of an account counts, not every one);
- ``new_users``: accounts signed up;
- ``interactions``: favourites, boosts and replies;
- ``opened_reports`` and ``resolved_reports``;
- ``tag_accounts``, ``tag_uses`` and ``tag_servers``, about the hashtag
  each names (roost/domain/instance/dashboard_tags.py).

Dimensions over the period: ``languages`` (accounts that posted, by the
posts' language), ``sources`` (accounts that signed up, by the app they
signed up through, or ``web``), ``software_versions`` and ``space_usage``.

Retention: for each day or month of the period, the accounts that signed up
in it and how many of them were active in it and in each later one.

- ``instance_accounts``, ``instance_statuses``, ``instance_media_attachments``,
  ``instance_follows``, ``instance_followers`` and ``instance_reports``, about
  the server each names (roost/domain/instance/dashboard_instances.py).

Mastodon's ``servers`` dimension is not computed. Unknown keys are ignored,
as Mastodon ignores them.
"""

from __future__ import annotations

import platform
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, text, union
from sqlalchemy.ext.asyncio import AsyncConnection

from roost import __version__
from roost.db.tables import (
    accounts,
    applications,
    favourites,
    media_attachments,
    oauth_tokens,
    reports,
    statuses,
    users,
    web_sessions,
)
from roost.domain.instance.dashboard_instances import (
    INSTANCE_COUNTS,
    InstanceCount,
    normal_domain,
)
from roost.domain.instance.dashboard_tags import TAG_COUNTS, TagCount, check_tag
from roost.domain.instance.languages import LANGUAGES
from roost.errors import RuleBroken
from roost.ids import min_id_for_time

MAX_DAYS = 366
# Daily cohorts cost a query per pair of days: bounded.
MAX_COHORT_DAYS = 62
MEASURES = ("active_users", "new_users", "interactions", "opened_reports", "resolved_reports")
DIMENSIONS = ("languages", "sources", "software_versions", "space_usage")
_LANGUAGE_NAMES = dict(LANGUAGES)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @classmethod
    def of(cls, start: date, end: date) -> Period:
        if end < start:
            raise RuleBroken("The end of the period comes before its start")
        if (end - start).days >= MAX_DAYS:
            raise RuleBroken(f"A period is at most {MAX_DAYS} days")
        if start.year < 1971 or end.year > 9998:
            raise RuleBroken("A period lies between the years 1971 and 9998")
        return cls(start, end)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def before(self) -> Period:
        length = timedelta(days=(self.end - self.start).days + 1)
        return Period(self.start - length, self.end - length)

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return _at(self.start), _at(self.end + timedelta(days=1))


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class Measure:
    key: str
    total: int
    previous_total: int
    data: list[tuple[date, int]]
    unit: str | None = None


@dataclass(frozen=True)
class DimensionItem:
    key: str
    human_key: str
    value: int | str
    unit: str | None = None
    human_value: str | None = None


@dataclass(frozen=True)
class Dimension:
    key: str
    data: list[DimensionItem]


@dataclass(frozen=True)
class Cohort:
    period: date
    frequency: str
    data: list[tuple[date, float, int]]  # (date, rate, value)


Count = Callable[[AsyncConnection, datetime, datetime], Awaitable[int]]


def _who_acted(start: datetime, end: datetime) -> Any:
    return union(
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


async def _active(
    conn: AsyncConnection, start: datetime, end: datetime, among: Sequence[int] | None = None
) -> int:
    who = _who_acted(start, end)
    query = (
        select(func.count())
        .select_from(who)
        .join(users, users.c.account_id == who.c.account_id)
        .join(accounts, accounts.c.id == who.c.account_id)
        .where(accounts.c.suspended_at.is_(None), users.c.approved.is_(True))
    )
    if among is not None:
        query = query.where(who.c.account_id.in_(list(among)))
    return int((await conn.execute(query)).scalar_one())


async def _scalar(conn: AsyncConnection, query: Any) -> int:
    return int((await conn.execute(query)).scalar_one() or 0)


async def _new_users(conn: AsyncConnection, start: datetime, end: datetime) -> int:
    return await _scalar(
        conn,
        select(func.count())
        .select_from(users)
        .where(users.c.created_at >= start, users.c.created_at < end),
    )


async def _interactions(conn: AsyncConnection, start: datetime, end: datetime) -> int:
    low, high = min_id_for_time(start), min_id_for_time(end)
    faves = await _scalar(
        conn,
        select(func.count())
        .select_from(favourites)
        .where(favourites.c.created_at >= start, favourites.c.created_at < end),
    )
    boosts_and_replies = await _scalar(
        conn,
        select(func.count())
        .select_from(statuses)
        .where(
            statuses.c.id >= low,
            statuses.c.id < high,
            or_(statuses.c.reblog_of_id.is_not(None), statuses.c.in_reply_to_id.is_not(None)),
        ),
    )
    return faves + boosts_and_replies


async def _opened(conn: AsyncConnection, start: datetime, end: datetime) -> int:
    return await _scalar(
        conn,
        select(func.count())
        .select_from(reports)
        .where(reports.c.created_at >= start, reports.c.created_at < end),
    )


async def _resolved(conn: AsyncConnection, start: datetime, end: datetime) -> int:
    return await _scalar(
        conn,
        select(func.count())
        .select_from(reports)
        .where(reports.c.action_taken_at >= start, reports.c.action_taken_at < end),
    )


# For each measure: how to count one span, and whether the period's total is
# the sum of its days (not for active accounts: one active on two days is
# one active account in the period).
_COUNTS: dict[str, tuple[Count, bool]] = {
    "active_users": (_active, False),
    "new_users": (_new_users, True),
    "interactions": (_interactions, True),
    "opened_reports": (_opened, True),
    "resolved_reports": (_resolved, True),
}


async def measures(
    conn: AsyncConnection,
    keys: Sequence[str],
    period: Period,
    tag_ids: Mapping[str, int | None] | None = None,
    domains: Mapping[str, str] | None = None,
) -> list[Measure]:
    """The measures named in ``keys`` that Roost computes, in their order.
    ``tag_ids``: the hashtag each ``tag_*`` key is about (its ``[id]``
    parameter); NotFound when a ``tag_*`` key names none. ``domains``: the
    server each ``instance_*`` key is about (its ``[domain]``); a key
    without one is left out."""
    found = []
    for name in dict.fromkeys(keys):
        if name in INSTANCE_COUNTS:
            domain = (domains or {}).get(name)
            if domain is None:
                continue
            count, summed = _for_domain(INSTANCE_COUNTS[name], normal_domain(domain)), True
        elif name in TAG_COUNTS:
            tag_id = await check_tag(conn, (tag_ids or {}).get(name), name)
            tag_count, summed = TAG_COUNTS[name]
            count = _for_tag(tag_count, tag_id)
        elif name in _COUNTS:
            count, summed = _COUNTS[name]
        else:
            continue
        data = [
            (day, await count(conn, _at(day), _at(day + timedelta(days=1)))) for day in period.days
        ]
        total = sum(v for _, v in data) if summed else await count(conn, *period.bounds)
        previous = await count(conn, *period.before().bounds)
        unit = "bytes" if name == "instance_media_attachments" else None
        found.append(Measure(name, total, previous, data, unit))
    return found


def _for_domain(count: InstanceCount, domain: str) -> Count:
    async def counted(conn: AsyncConnection, start: datetime, end: datetime) -> int:
        return await count(conn, domain, start, end)

    return counted


def _for_tag(count: TagCount, tag_id: int) -> Count:
    async def counted(conn: AsyncConnection, start: datetime, end: datetime) -> int:
        return await count(conn, tag_id, start, end)

    return counted


async def _languages(conn: AsyncConnection, period: Period, limit: int) -> list[DimensionItem]:
    start, end = period.bounds
    rows = await conn.execute(
        select(statuses.c.language, func.count(func.distinct(statuses.c.account_id)).label("n"))
        .where(
            statuses.c.id >= min_id_for_time(start),
            statuses.c.id < min_id_for_time(end),
            statuses.c.reblog_of_id.is_(None),
            statuses.c.language.is_not(None),
        )
        .group_by(statuses.c.language)
        .order_by(text("n DESC"), statuses.c.language)
        .limit(limit)
    )
    return [
        DimensionItem(r.language, _LANGUAGE_NAMES.get(r.language, r.language), int(r.n))
        for r in rows
    ]


async def _sources(conn: AsyncConnection, period: Period, limit: int) -> list[DimensionItem]:
    """Sign-ups by the app they came through: the application of the
    account's first token, if it was made at sign-up; else the web."""
    start, end = period.bounds
    first_token = (
        select(oauth_tokens.c.account_id, func.min(oauth_tokens.c.id).label("token_id"))
        .where(oauth_tokens.c.account_id.is_not(None))
        .group_by(oauth_tokens.c.account_id)
        .subquery()
    )
    rows = await conn.execute(
        select(
            users.c.account_id,
            applications.c.name,
            oauth_tokens.c.created_at,
            users.c.created_at.label("joined"),
        )
        .select_from(
            users.outerjoin(first_token, first_token.c.account_id == users.c.account_id)
            .outerjoin(oauth_tokens, oauth_tokens.c.id == first_token.c.token_id)
            .outerjoin(applications, applications.c.id == oauth_tokens.c.application_id)
        )
        .where(users.c.created_at >= start, users.c.created_at < end)
    )
    counts: dict[str, int] = {}
    for r in rows:
        at_sign_up = (
            r.name is not None
            and r.created_at is not None
            and abs((r.created_at - r.joined).total_seconds()) < 60
        )
        source = str(r.name) if at_sign_up else "web"
        counts[source] = counts.get(source, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [DimensionItem(k, "Web" if k == "web" else k, v) for k, v in ranked]


async def _software(conn: AsyncConnection, redis_version: str | None) -> list[DimensionItem]:
    items = [
        DimensionItem("roost", "Roost", __version__, human_value=__version__),
        DimensionItem(
            "python", "Python", platform.python_version(), human_value=platform.python_version()
        ),
    ]
    if conn.dialect.name == "postgresql":
        version = str((await conn.execute(text("SHOW server_version"))).scalar_one()).split()[0]
        items.append(DimensionItem("postgresql", "PostgreSQL", version, human_value=version))
    else:
        version = str((await conn.execute(text("SELECT sqlite_version()"))).scalar_one())
        items.append(DimensionItem("sqlite", "SQLite", version, human_value=version))
    if redis_version:
        items.append(DimensionItem("redis", "Redis", redis_version, human_value=redis_version))
    return items


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


async def _space(conn: AsyncConnection) -> list[DimensionItem]:
    if conn.dialect.name == "postgresql":
        size = await _scalar(conn, text("SELECT pg_database_size(current_database())"))
        database = DimensionItem("postgresql", "PostgreSQL", size, "bytes", human_bytes(size))
    else:
        pages = await _scalar(conn, text("PRAGMA page_count"))
        page_size = await _scalar(conn, text("PRAGMA page_size"))
        size = pages * page_size
        database = DimensionItem("sqlite", "SQLite", size, "bytes", human_bytes(size))
    media = await _scalar(conn, select(func.coalesce(func.sum(media_attachments.c.file_size), 0)))
    return [database, DimensionItem("media", "Media files", media, "bytes", human_bytes(media))]


async def dimensions(
    conn: AsyncConnection,
    keys: Sequence[str],
    period: Period,
    limit: int = 10,
    redis_version: str | None = None,
) -> list[Dimension]:
    """The dimensions named in ``keys`` that Roost computes, in their order."""
    found = []
    for name in dict.fromkeys(keys):
        if name == "languages":
            found.append(Dimension(name, await _languages(conn, period, limit)))
        elif name == "sources":
            found.append(Dimension(name, await _sources(conn, period, limit)))
        elif name == "software_versions":
            found.append(Dimension(name, await _software(conn, redis_version)))
        elif name == "space_usage":
            found.append(Dimension(name, await _space(conn)))
    return found


def _periods(period: Period, frequency: str) -> list[tuple[date, date]]:
    """[start, end) of each day or month the period touches."""
    if frequency == "day":
        return [(d, d + timedelta(days=1)) for d in period.days]
    spans = []
    month = period.start.replace(day=1)
    while month <= period.end:
        following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        spans.append((month, following))
        month = following
    return spans


async def retention(conn: AsyncConnection, period: Period, frequency: str) -> list[Cohort]:
    """For each day (or month) of the period, the accounts that signed up in
    it, and the share of them active in it and in every later one."""
    if frequency not in ("day", "month"):
        raise RuleBroken("Frequency must be day or month")
    if frequency == "day" and len(period.days) > MAX_COHORT_DAYS:
        raise RuleBroken(f"Daily cohorts cover at most {MAX_COHORT_DAYS} days; ask by month")
    spans = _periods(period, frequency)
    cohorts = []
    for i, (start, end) in enumerate(spans):
        joined = [
            int(a)
            for a in (
                await conn.execute(
                    select(users.c.account_id).where(
                        users.c.created_at >= _at(start), users.c.created_at < _at(end)
                    )
                )
            ).scalars()
        ]
        data = []
        for later_start, later_end in spans[i:]:
            value = await _active(conn, _at(later_start), _at(later_end), joined) if joined else 0
            data.append((later_start, value / len(joined) if joined else 0.0, value))
        cohorts.append(Cohort(start, frequency, data))
    return cohorts
