"""roost jobs list | retry | discard | run"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import RowMapping

from roost.cli.base import fail, jobs_app, run_with_db
from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import jobs


@jobs_app.command("list")
def list_jobs(
    parked: bool = typer.Option(False, "--parked", help="Show each parked job and its error"),
) -> None:
    """Counts of queued and parked jobs by kind, and the oldest waiting."""

    async def body(settings: Settings, db: Database) -> Any:
        async with db.read() as conn:
            counts = (
                await conn.execute(
                    select(jobs.c.kind, jobs.c.state, func.count(), func.min(jobs.c.created_at))
                    .group_by(jobs.c.kind, jobs.c.state)
                    .order_by(jobs.c.kind)
                )
            ).all()
            details: Sequence[RowMapping] = []
            if parked:
                details = (
                    (
                        await conn.execute(
                            select(jobs).where(jobs.c.state == "parked").order_by(jobs.c.id)
                        )
                    )
                    .mappings()
                    .all()
                )
            return counts, details

    counts, details = run_with_db(body)
    console = Console()
    table = Table("kind", "state", "count", "oldest")
    now = utcnow()
    for kind, state, count, oldest in counts:
        age = f"{(now - oldest).total_seconds():.0f}s ago" if oldest else "-"
        table.add_row(kind, state, str(count), age)
    console.print(table if counts else "no jobs waiting")
    for job in details:
        console.print(
            f"[bold]{job['id']}[/bold] {job['kind']} after {job['attempts']} "
            f"attempts: {job['last_error']}"
        )


@jobs_app.command("retry")
def retry(
    job_id: int = typer.Argument(None, help="A parked job's id"),
    all_parked: bool = typer.Option(False, "--all-parked", help="Retry every parked job"),
) -> None:
    """Put parked jobs back in the queue (after fixing what made them fail)."""
    if job_id is None and not all_parked:
        raise fail("name a job id, or pass --all-parked")

    async def body(settings: Settings, db: Database) -> int:
        query = update(jobs).where(jobs.c.state == "parked")
        if job_id is not None:
            query = query.where(jobs.c.id == job_id)
        async with db.write() as tx:
            result = await tx.execute(
                query.values(
                    state="queued", attempts=0, run_at=utcnow(), locked_until=None, locked_by=None
                )
            )
            return int(result.rowcount)

    changed = run_with_db(body)
    if job_id is not None and changed == 0:
        raise fail(f"no parked job with id {job_id} (see `roost jobs list --parked`)")
    typer.echo(f"requeued {changed} job(s)")


@jobs_app.command("discard")
def discard(job_id: int = typer.Argument(..., help="A parked job's id")) -> None:
    """Drop a parked job for good."""

    async def body(settings: Settings, db: Database) -> int:
        async with db.write() as tx:
            result = await tx.execute(
                delete(jobs).where(jobs.c.id == job_id, jobs.c.state == "parked")
            )
            return int(result.rowcount)

    if run_with_db(body) == 0:
        raise fail(f"no parked job with id {job_id} (see `roost jobs list --parked`)")
    typer.echo(f"discarded job {job_id}")
