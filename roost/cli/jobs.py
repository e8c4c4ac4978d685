"""roost jobs list | retry | discard | run"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from roost.cli.base import fail, jobs_app, run_with_db
from roost.cli.staff import acting, as_option, audited
from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database
from roost.jobs import queue


@jobs_app.command("list")
def list_jobs(
    parked: bool = typer.Option(False, "--parked", help="Show each parked job and its error"),
) -> None:
    """Counts of queued and parked jobs by kind, and the oldest waiting."""

    async def body(
        settings: Settings, db: Database
    ) -> tuple[list[queue.QueueCount], list[queue.ParkedJob]]:
        async with db.read() as conn:
            counts = await queue.queue_counts(conn)
            details = await queue.parked_jobs(conn) if parked else []
            return counts, details

    counts, details = run_with_db(body)
    console = Console()
    table = Table("kind", "state", "count", "oldest")
    now = utcnow()
    for row in counts:
        age = f"{(now - row.oldest).total_seconds():.0f}s ago" if row.oldest else "-"
        table.add_row(row.kind, row.state, str(row.count), age)
    console.print(table if counts else "no jobs waiting")
    for job in details:
        console.print(
            f"[bold]{job.id}[/bold] {job.kind} after {job.attempts} attempts: {job.last_error}"
        )


@jobs_app.command("retry")
def retry(
    job_id: int = typer.Argument(None, help="A parked job's id"),
    all_parked: bool = typer.Option(False, "--all-parked", help="Retry every parked job"),
    actor: str | None = as_option(),
) -> None:
    """Put parked jobs back in the queue (after fixing what made them fail)."""
    if job_id is None and not all_parked:
        raise fail("name a job id, or pass --all-parked")

    async def body(settings: Settings, db: Database) -> int:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "jobs retry")
            changed = await queue.do_requeue_parked(tx, job_id)
            if changed:
                await audited(
                    tx, by, "jobs retry", action="job.retry", subject_type="job",
                    subject_id=job_id, details={"jobs": changed},
                )  # fmt: skip
            return changed

    changed = run_with_db(body)
    if job_id is not None and changed == 0:
        raise fail(f"no parked job with id {job_id} (see `roost jobs list --parked`)")
    typer.echo(f"requeued {changed} job(s)")


@jobs_app.command("discard")
def discard(
    job_id: int = typer.Argument(..., help="A parked job's id"), actor: str | None = as_option()
) -> None:
    """Drop a parked job for good."""

    async def body(settings: Settings, db: Database) -> int:
        async with db.write() as tx:
            by = await acting(tx.conn, actor, "jobs discard")
            changed = await queue.do_discard_parked(tx, job_id)
            if changed:
                await audited(
                    tx, by, "jobs discard", action="job.discard", subject_type="job",
                    subject_id=job_id, details={"jobs": changed},
                )  # fmt: skip
            return changed

    if run_with_db(body) == 0:
        raise fail(f"no parked job with id {job_id} (see `roost jobs list --parked`)")
    typer.echo(f"discarded job {job_id}")
