"""What each moderator looked at: reports opened and media revealed, per UTC
day and report category, and the daily limit that follows from it.

Reading reports wears people down, and the one who reads most on a small
instance is usually the one nobody relieves. So the queue counts: a report
opened counts once a day (``moderation_views`` remembers which), each media
item revealed counts each time (media is shown blurred and in greyscale
until the moderator asks for that one item). The moderator sees their own
counts; an administrator (a role granting ``manage_roles``: Owner, Admin)
sees everyone's.

``ROOST_MODERATION_DAILY_LIMIT`` (0: none) is the number of exposures (reports
plus media) after which the queue suggests a break and assigns the moderator
no more reports until the next UTC day. Reading an assigned report, and the
actions on it, stay open: a moderator in the middle of one can finish it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import accounts, moderation_exposures, moderation_views
from roost.domain.reports.model import CATEGORIES
from roost.domain.reports.queries import check_staff
from roost.domain.roles.permissions import Permission
from roost.domain.types import Viewer
from roost.errors import Forbidden

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Who sees every moderator's counts: whoever may give and take roles.
OVERSEES = Permission.MANAGE_ROLES


def day_of(moment: datetime) -> int:
    """Days since 1970-01-01 (UTC)."""
    return (moment - _EPOCH).days


def day_date(day: int) -> str:
    return (_EPOCH + timedelta(days=day)).date().isoformat()


def today() -> int:
    return day_of(utcnow())


async def _count(tx: Tx, account_id: int, category: str, *, reports: int, media: int) -> None:
    dialect = postgresql if tx.conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(moderation_exposures).values(
        account_id=account_id, day=today(), category=category, reports=reports, media=media
    )
    await tx.execute(
        insert.on_conflict_do_update(
            index_elements=["account_id", "day", "category"],
            set_={
                "reports": moderation_exposures.c.reports + insert.excluded.reports,
                "media": moderation_exposures.c.media + insert.excluded.media,
            },
        )
    )


async def count_report_opened(tx: Tx, viewer: Viewer, report_id: int, category: str) -> bool:
    """Count a report opened by a moderator, once a day; True when it counted."""
    check_staff(viewer)
    assert viewer.account_id is not None
    dialect = postgresql if tx.conn.dialect.name == "postgresql" else sqlite
    seen = await tx.execute(
        dialect.insert(moderation_views)
        .values(account_id=viewer.account_id, report_id=report_id, day=today())
        .on_conflict_do_nothing()
    )
    if not seen.rowcount:
        return False
    await _count(tx, viewer.account_id, category, reports=1, media=0)
    return True


async def count_media_revealed(tx: Tx, viewer: Viewer, category: str) -> None:
    check_staff(viewer)
    assert viewer.account_id is not None
    await _count(tx, viewer.account_id, category, reports=0, media=1)


@dataclass(frozen=True)
class DayCounts:
    """One moderator's exposures on one day, by category."""

    account_id: int
    username: str
    day: int
    reports: dict[str, int]
    media: dict[str, int]

    @property
    def date(self) -> str:
        return day_date(self.day)

    @property
    def total(self) -> int:
        return sum(self.reports.values()) + sum(self.media.values())


async def exposures(
    conn: AsyncConnection, viewer: Viewer, *, days: int = 14, everyone: bool = False
) -> list[DayCounts]:
    """The viewer's own counts for the last ``days`` days, newest first; with
    ``everyone`` (administrators only: ``OVERSEES``) every moderator's."""
    check_staff(viewer)
    if everyone and not viewer.may(OVERSEES):
        raise Forbidden("Only administrators see every moderator's counts")
    query = (
        select(moderation_exposures, accounts.c.username)
        .join(accounts, accounts.c.id == moderation_exposures.c.account_id)
        .where(moderation_exposures.c.day > today() - days)
        .order_by(moderation_exposures.c.day.desc(), accounts.c.username)
    )
    if not everyone:
        query = query.where(moderation_exposures.c.account_id == viewer.account_id)
    found: dict[tuple[int, int], DayCounts] = {}
    for row in await conn.execute(query):
        counts = found.get((row.day, row.account_id))
        if counts is None:
            counts = DayCounts(
                row.account_id,
                row.username,
                row.day,
                dict.fromkeys(CATEGORIES, 0),
                dict.fromkeys(CATEGORIES, 0),
            )
            found[(row.day, row.account_id)] = counts
        counts.reports[row.category] = row.reports
        counts.media[row.category] = row.media
    return list(found.values())


async def exposed_today(conn: AsyncConnection, account_id: int) -> int:
    total = (
        await conn.execute(
            select(
                func.coalesce(
                    func.sum(moderation_exposures.c.reports + moderation_exposures.c.media), 0
                )
            ).where(
                moderation_exposures.c.account_id == account_id,
                moderation_exposures.c.day == today(),
            )
        )
    ).scalar_one()
    return int(total)


@dataclass(frozen=True)
class Allowance:
    exposed: int
    limit: int  # 0: none

    @property
    def reached(self) -> bool:
        return self.limit > 0 and self.exposed >= self.limit


async def allowance(conn: AsyncConnection, viewer: Viewer, limit: int) -> Allowance:
    assert viewer.account_id is not None
    return Allowance(await exposed_today(conn, viewer.account_id), limit)
