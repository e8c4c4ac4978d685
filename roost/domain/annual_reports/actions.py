"""Annual reports: who may have one, asking for it, reading it.

As on Mastodon, a report is offered from the 10th to the 31st of December
(UTC) for that year (the "campaign"), to an account that posted or boosted
at least once in it. Asking for it (``do_request``) records the report as
"generating" and leaves a job that computes it (compute.py) from the
account's own data; the report then stays, "available", until the account
is erased. A report the account has marked read leaves the list of
reports (``GET /api/v1/annual_reports`` lists the unread ones, as Mastodon's
does) but is still answered by year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import annual_reports
from roost.domain.annual_reports.compute import SCHEMA_VERSION, activity_in, report_data
from roost.domain.annual_reports.jobs import GenerateAnnualReport
from roost.errors import NotFound
from roost.ids import new_id
from roost.jobs.outbox import enqueue

CAMPAIGN_MONTH = 12
CAMPAIGN_FIRST_DAY = 10
# Years a report can be about; any other is no report (404, "ineligible").
YEARS = range(2000, 10_000)


@dataclass(frozen=True)
class Report:
    account_id: int
    year: int
    schema_version: int
    data: dict[str, Any]


def campaign(now: datetime) -> int | None:
    """The year whose reports are offered now, if any."""
    if now.month == CAMPAIGN_MONTH and now.day >= CAMPAIGN_FIRST_DAY:
        return now.year
    return None


async def _row(conn: AsyncConnection, account_id: int, year: int) -> Any:
    return (
        await conn.execute(
            select(annual_reports).where(
                annual_reports.c.account_id == account_id, annual_reports.c.year == year
            )
        )
    ).first()


async def state(conn: AsyncConnection, account_id: int, year: int) -> str:
    """available, generating, eligible or ineligible (Mastodon's four)."""
    if year not in YEARS:
        return "ineligible"
    row = await _row(conn, account_id, year)
    if row is not None:
        return str(row.state)
    if campaign(utcnow()) == year and await activity_in(conn, account_id, year) > 0:
        return "eligible"
    return "ineligible"


async def do_request(tx: Tx, account_id: int, year: int) -> str:
    """Start computing the report if it is eligible; returns its state after."""
    now_state = await state(tx.conn, account_id, year)
    if now_state != "eligible":
        return now_state
    await tx.execute(
        annual_reports.insert().values(
            id=new_id(),
            account_id=account_id,
            year=year,
            state="generating",
            schema_version=SCHEMA_VERSION,
            data=None,
            created_at=utcnow(),
        )
    )
    await enqueue(tx, GenerateAnnualReport(account_id, year))
    return "generating"


async def do_generate(tx: Tx, account_id: int, year: int) -> None:
    """Compute and store the report (the job's work; again is harmless)."""
    row = await _row(tx.conn, account_id, year)
    if row is None or row.state == "available":
        return  # the account is gone, or it was done
    data = await report_data(tx.conn, account_id, year)
    await tx.execute(
        update(annual_reports)
        .where(annual_reports.c.id == row.id)
        .values(state="available", data=data, schema_version=SCHEMA_VERSION)
    )


async def do_mark_read(tx: Tx, account_id: int, year: int) -> None:
    row = await _row(tx.conn, account_id, year) if year in YEARS else None
    if row is None or row.state != "available":
        raise NotFound()
    if row.viewed_at is None:
        await tx.execute(
            update(annual_reports).where(annual_reports.c.id == row.id).values(viewed_at=utcnow())
        )


async def reports(conn: AsyncConnection, account_id: int, year: int | None = None) -> list[Report]:
    """The account's available reports: of ``year`` (NotFound if none), or
    all those not yet marked read."""
    query = select(annual_reports).where(
        annual_reports.c.account_id == account_id, annual_reports.c.state == "available"
    )
    if year is not None:
        if year not in YEARS:
            raise NotFound()
        query = query.where(annual_reports.c.year == year)
    else:
        query = query.where(annual_reports.c.viewed_at.is_(None))
    rows = (await conn.execute(query.order_by(annual_reports.c.year))).all()
    if year is not None and not rows:
        raise NotFound()
    return [Report(r.account_id, r.year, r.schema_version, dict(r.data or {})) for r in rows]
