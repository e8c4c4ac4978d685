"""What the operators and the health checks ask of the job queue: how much
waits and for how long, which jobs are parked, and putting a parked job back
or dropping it (``roost jobs``, the staff pages' jobs page, /readyz and the
doctor), and which deliveries wait (``roost federation status``). Claiming and
running jobs is roost/jobs/runner.py's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Database, Tx
from roost.db.tables import jobs


@dataclass(frozen=True)
class Backlog:
    queued: int
    parked: int
    oldest_due_s: float


async def job_backlog(db: Database) -> Backlog:
    """Jobs queued and parked, and how long the oldest due job has waited."""
    now = utcnow()
    async with db.read() as conn:
        rows = (await conn.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state))).all()
        oldest = (
            await conn.execute(
                select(func.min(jobs.c.run_at)).where(
                    jobs.c.state == "queued", jobs.c.run_at <= now
                )
            )
        ).scalar_one()
    counts = {state: int(count) for state, count in rows}
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return Backlog(counts.get("queued", 0), counts.get("parked", 0), age)


PARKED = "parked"


@dataclass(frozen=True)
class QueueCount:
    kind: str
    state: str
    count: int
    oldest: datetime | None


@dataclass(frozen=True)
class ParkedJob:
    id: int
    kind: str
    attempts: int
    last_error: str
    created_at: datetime | None


async def queue_counts(conn: AsyncConnection) -> list[QueueCount]:
    """Jobs by kind and state, with the oldest one's creation time."""
    rows = await conn.execute(
        select(jobs.c.kind, jobs.c.state, func.count(), func.min(jobs.c.created_at))
        .group_by(jobs.c.kind, jobs.c.state)
        .order_by(jobs.c.kind, jobs.c.state)
    )
    return [QueueCount(str(k), str(s), int(n), oldest) for k, s, n, oldest in rows]


async def queued_payloads(conn: AsyncConnection, kinds: Sequence[str]) -> list[dict[str, Any]]:
    """The payloads of the queued jobs of ``kinds`` (a payload that is no
    JSON object reads as empty)."""
    rows = await conn.execute(
        select(jobs.c.payload).where(jobs.c.kind.in_(kinds), jobs.c.state == "queued")
    )
    return [row.payload if isinstance(row.payload, dict) else {} for row in rows]


async def parked_jobs(conn: AsyncConnection, limit: int | None = None) -> list[ParkedJob]:
    query = select(jobs).where(jobs.c.state == PARKED).order_by(jobs.c.id)
    if limit is not None:
        query = query.limit(limit)
    rows = (await conn.execute(query)).mappings().all()
    return [
        ParkedJob(
            id=int(r["id"]),
            kind=str(r["kind"]),
            attempts=int(r["attempts"]),
            last_error=str(r["last_error"] or ""),
            created_at=r["created_at"],
        )
        for r in rows
    ]


async def do_requeue_parked(tx: Tx, job_id: int | None) -> int:
    """Put the parked job ``job_id`` (None: every parked job) back in the
    queue with its attempts reset; how many were."""
    query = update(jobs).where(jobs.c.state == PARKED)
    if job_id is not None:
        query = query.where(jobs.c.id == job_id)
    result = await tx.execute(
        query.values(state="queued", attempts=0, run_at=utcnow(), locked_until=None, locked_by=None)
    )
    return int(result.rowcount)


async def do_discard_parked(tx: Tx, job_id: int) -> int:
    """Drop the parked job ``job_id`` for good; 1 if it was there, else 0."""
    result = await tx.execute(delete(jobs).where(jobs.c.id == job_id, jobs.c.state == PARKED))
    return int(result.rowcount)
