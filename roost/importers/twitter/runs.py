"""Import runs: one row each, with its options, progress and report.

States: ``queued`` (an upload waiting for its job), ``running``, ``done`` and
``failed`` (refused, with the one-sentence reason in ``error``). A run that
stopped while ``running`` (a crash, a killed process) is picked up again by
the next import of the same archive, or by its job's next attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import twitter_imports
from roost.domain.types import Visibility
from roost.errors import Conflict, RuleBroken
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.jobs.registry import Job

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
# A running import writes after every batch; one silent for longer than this
# has stopped, and may be taken over.
STALE_AFTER = timedelta(minutes=2)
IMPORT_VISIBILITIES = (Visibility.PUBLIC, Visibility.UNLISTED, Visibility.PRIVATE)


@dataclass(frozen=True)
class ImportArchive(Job, kind="import.twitter"):
    """Import an uploaded archive (roost/importers/twitter/job.py runs it)."""

    import_id: int


@dataclass(frozen=True, slots=True)
class ImportOptions:
    visibility: Visibility = Visibility.PUBLIC
    skip_retweets: bool = False
    include_dms: bool = False
    force: bool = False

    def __post_init__(self) -> None:
        if self.visibility not in IMPORT_VISIBILITIES:
            raise RuleBroken("imported posts can be public, unlisted or private")

    def to_json(self) -> dict[str, Any]:
        return {
            "visibility": self.visibility.label,
            "skip_retweets": self.skip_retweets,
            "include_dms": self.include_dms,
            "force": self.force,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportOptions:
        return cls(
            visibility=Visibility.parse(str(data.get("visibility", "public"))),
            skip_retweets=bool(data.get("skip_retweets")),
            include_dms=bool(data.get("include_dms")),
            force=bool(data.get("force")),
        )


@dataclass(frozen=True, slots=True)
class ImportRun:
    id: int
    account_id: int
    state: str
    source: str
    uploaded: bool
    fingerprint: str | None
    twitter_account_id: int | None
    twitter_username: str | None
    options: ImportOptions
    progress: dict[str, Any]
    report: dict[str, Any]
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    positions: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Any) -> ImportRun:
        progress = dict(row.progress or {})
        return cls(
            id=int(row.id),
            account_id=int(row.account_id),
            state=row.state,
            source=row.source,
            uploaded=bool(row.uploaded),
            fingerprint=row.fingerprint,
            twitter_account_id=row.twitter_account_id,
            twitter_username=row.twitter_username,
            options=ImportOptions.from_json(row.options or {}),
            progress=progress,
            report=dict(row.report or {}),
            error=row.error,
            created_at=row.created_at,
            updated_at=row.updated_at,
            finished_at=row.finished_at,
            positions={k: int(v) for k, v in (progress.get("positions") or {}).items()},
        )


async def do_create_run(
    tx: Tx,
    account_id: int,
    source: str,
    options: ImportOptions,
    *,
    uploaded: bool,
    state: str = QUEUED,
    run_id: int | None = None,
) -> int:
    now = utcnow()
    run_id = run_id or new_id()
    await tx.execute(
        twitter_imports.insert().values(
            id=run_id,
            account_id=account_id,
            state=state,
            source=source,
            uploaded=uploaded,
            options=options.to_json(),
            progress={"phase": "waiting", "done": 0, "total": 0, "positions": {}},
            report={},
            created_at=now,
            updated_at=now,
        )
    )
    return run_id


async def do_queue_upload(
    tx: Tx, run_id: int, account_id: int, path: str, options: ImportOptions
) -> None:
    """An uploaded archive's run, and the job that will import it, together."""
    await do_create_run(tx, account_id, path, options, uploaded=True, state=QUEUED, run_id=run_id)
    await enqueue(tx, ImportArchive(run_id))


async def do_update_run(tx: Tx, run_id: int, **values: Any) -> None:
    """Change a run's columns (``updated_at`` too: it is the run's heartbeat)."""
    if values.get("state") in (DONE, FAILED):
        values.setdefault("finished_at", utcnow())
    await tx.execute(
        update(twitter_imports)
        .where(twitter_imports.c.id == run_id)
        .values(updated_at=utcnow(), **values)
    )


async def get_run(conn: AsyncConnection, run_id: int) -> ImportRun | None:
    query = select(twitter_imports).where(twitter_imports.c.id == run_id)
    row = (await conn.execute(query)).first()
    return ImportRun.from_row(row) if row is not None else None


async def runs_of(conn: AsyncConnection, account_id: int, limit: int = 20) -> list[ImportRun]:
    rows = await conn.execute(
        select(twitter_imports)
        .where(twitter_imports.c.account_id == account_id)
        .order_by(twitter_imports.c.id.desc())
        .limit(limit)
    )
    return [ImportRun.from_row(r) for r in rows]


async def unfinished_run(
    conn: AsyncConnection, account_id: int, fingerprint: str
) -> ImportRun | None:
    """The newest import of this archive into this account that did not finish."""
    row = (
        await conn.execute(
            select(twitter_imports)
            .where(
                twitter_imports.c.account_id == account_id,
                twitter_imports.c.fingerprint == fingerprint,
                twitter_imports.c.state.in_((QUEUED, RUNNING)),
            )
            .order_by(twitter_imports.c.id.desc())
            .limit(1)
        )
    ).first()
    return ImportRun.from_row(row) if row is not None else None


async def check_not_running(conn: AsyncConnection, account_id: int, run_id: int) -> None:
    """Conflict when another import into the account is at work right now."""
    row = (
        await conn.execute(
            select(twitter_imports.c.id).where(
                twitter_imports.c.account_id == account_id,
                twitter_imports.c.state == RUNNING,
                twitter_imports.c.id != run_id,
                twitter_imports.c.updated_at > utcnow() - STALE_AFTER,
            )
        )
    ).first()
    if row is not None:
        raise Conflict(
            f"Another import into this account is running (import {row.id}); wait for it to finish"
        )


async def linked_twitter_account(conn: AsyncConnection, account_id: int) -> tuple[int, str] | None:
    """The Twitter account whose history this account already holds, if any."""
    row = (
        await conn.execute(
            select(twitter_imports.c.twitter_account_id, twitter_imports.c.twitter_username)
            .where(
                twitter_imports.c.account_id == account_id,
                twitter_imports.c.twitter_account_id.is_not(None),
                twitter_imports.c.state.in_((RUNNING, DONE)),
            )
            .order_by(twitter_imports.c.id)
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return int(row.twitter_account_id), str(row.twitter_username or "")
