"""Upload quotas: bytes per account per day, and the instance's media budget.

Two settings, each 0 for none:

- ``ROOST_UPLOAD_QUOTA_BYTES_PER_DAY``: what one account may upload in a UTC
  day. Mastodon has no such quota; Roost answers past it as a rate limit
  does, 429 with ``Retry-After`` (the seconds until the day ends, when the
  quota is whole again) and a message that says which limit it is, because
  waiting is what helps. The bytes are counted atomically *before* the upload
  is processed (one upsert whose condition is the quota, so concurrent
  uploads cannot together pass it) and taken back when the upload is refused
  for any reason: a refused upload costs no quota.
- ``ROOST_MEDIA_BUDGET_BYTES``: the bytes of media files the whole instance
  may keep (the attachments' stored files). An upload that would pass it
  answers 507, as the disk guard does (roost/ops/disk.py), but well before
  the disk must be guarded; posts without media go on. The sum is read from
  the database for each upload, plus the uploads in flight in this process,
  so one process cannot overshoot it; several servers together may by at
  most what they have in flight at once.

Applied to uploads through the API (``POST /api/v1/media``, ``/api/v2/media``);
the operator's Twitter imports are not counted.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import media_attachments, upload_quotas
from roost.errors import RateLimited, StorageFull

BUDGET_SPENT = (
    "This server has no room for more media; posts without media still work. "
    "Try again after the operator has made room."
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _day(now: datetime) -> int:
    return (now - _EPOCH).days


def _until_tomorrow(now: datetime) -> int:
    tomorrow = _EPOCH + timedelta(days=_day(now) + 1)
    return max(1, int((tomorrow - now).total_seconds()) + 1)


def _size(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


class Budget:
    """Bytes being uploaded in this process right now (counted against the
    media budget until their rows exist)."""

    def __init__(self) -> None:
        self.in_flight = 0


_budgets: dict[int, Budget] = {}


def _budget(db: Database) -> Budget:
    return _budgets.setdefault(id(db), Budget())


async def _reserve_quota(db: Database, settings: Settings, account_id: int, size: int) -> int:
    """Count ``size`` bytes against today's quota; the day. RateLimited past it."""
    quota = settings.upload_quota_bytes_per_day
    now = utcnow()
    day = _day(now)
    refusal = RateLimited(
        f"Daily upload quota reached: at most {_size(quota)} a day may be uploaded "
        "from one account; try again tomorrow (UTC)",
        _until_tomorrow(now),
    )
    if size > quota:
        raise refusal
    async with db.write() as tx:
        dialect = postgresql if tx.conn.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(upload_quotas).values(account_id=account_id, day=day, bytes=size)
        counted = await tx.execute(
            insert.on_conflict_do_update(
                index_elements=["account_id", "day"],
                set_={"bytes": upload_quotas.c.bytes + insert.excluded.bytes},
                where=upload_quotas.c.bytes + insert.excluded.bytes <= quota,
            ).returning(upload_quotas.c.bytes)
        )
        if counted.first() is None:
            raise refusal
    return day


async def _refund_quota(db: Database, account_id: int, day: int, size: int) -> None:
    async with db.write() as tx:
        # The row holds at least ``size``: this upload added it.
        await tx.execute(
            update(upload_quotas)
            .where(upload_quotas.c.account_id == account_id, upload_quotas.c.day == day)
            .values(bytes=upload_quotas.c.bytes - size)
        )


async def media_bytes(db: Database) -> int:
    """The bytes of every local attachment's stored file. Files cached from
    other servers have their own budget (ROOST_REMOTE_MEDIA_BUDGET, pruned by
    the federation upkeep) and must not refuse local uploads."""
    async with db.read() as conn:
        total = await conn.execute(
            select(func.coalesce(func.sum(media_attachments.c.file_size), 0)).where(
                media_attachments.c.remote_url.is_(None)
            )
        )
    return int(total.scalar_one())


@contextlib.asynccontextmanager
async def upload_allowance(
    db: Database, settings: Settings, account_id: int, size: int
) -> AsyncIterator[None]:
    """Hold quota and budget for an upload of ``size`` bytes while it is
    processed and written; what the body raises gives the quota back."""
    budget = _budget(db)
    day = None
    # Counted in flight before the sum is read: concurrent uploads in this
    # process each see the others (a row written and not yet let go of is
    # counted twice for a moment, which errs on the side of the disk).
    budget.in_flight += size
    try:
        budgeted = settings.media_budget_bytes
        if budgeted and await media_bytes(db) + budget.in_flight > budgeted:
            raise StorageFull(BUDGET_SPENT, retry_after=3600)
        if settings.upload_quota_bytes_per_day:
            day = await _reserve_quota(db, settings, account_id, size)
        try:
            yield
        except BaseException:
            if day is not None:
                await _refund_quota(db, account_id, day, size)
            raise
    finally:
        budget.in_flight -= size


async def uploaded_today(db: Database, account_id: int) -> int:
    """Bytes ``account_id`` has uploaded so far today (UTC)."""
    async with db.read() as conn:
        found = await conn.execute(
            select(upload_quotas.c.bytes).where(
                upload_quotas.c.account_id == account_id,
                upload_quotas.c.day == _day(utcnow()),
            )
        )
    return int(found.scalar() or 0)
