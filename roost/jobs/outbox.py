"""Writing jobs: in the caller's transaction, so work and cause commit together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import jobs
from roost.ids import new_id
from roost.jobs.registry import Job

# The running runner (if any) registers here to be woken after a commit, so an
# embedded server handles a new post's jobs at once instead of at the next poll.
_wakers: list[Callable[[], None]] = []


def on_enqueue(waker: Callable[[], None]) -> Callable[[], None]:
    _wakers.append(waker)
    return lambda: _wakers.remove(waker)


def _wake() -> None:
    for waker in list(_wakers):
        waker()


async def enqueue(
    tx: Tx,
    job: Job,
    *,
    run_at: datetime | None = None,
    max_attempts: int = 8,
) -> int:
    """Queue ``job`` (its kind and its fields as the payload); returns its id."""
    now = utcnow()
    job_id = new_id()
    await tx.execute(
        jobs.insert().values(
            id=job_id,
            kind=job.kind,
            payload=job.payload(),
            state="queued",
            attempts=0,
            max_attempts=max_attempts,
            run_at=run_at or now,
            created_at=now,
        )
    )
    tx.after_commit(_wake)
    return job_id


async def enqueue_all(tx: Tx, *queued: Job, max_attempts: int = 8) -> list[int]:
    """Queue several jobs to run now in one statement (``enqueue`` each, as
    one insert of several rows); returns their ids in order."""
    if not queued:
        return []
    now = utcnow()
    ids = [new_id() for _ in queued]
    rows = [
        {
            "id": job_id,
            "kind": job.kind,
            "payload": job.payload(),
            "state": "queued",
            "attempts": 0,
            "max_attempts": max_attempts,
            "run_at": now,
            "created_at": now,
        }
        for job_id, job in zip(ids, queued, strict=True)
    ]
    await tx.execute(jobs.insert(), rows)
    tx.after_commit(_wake)
    return ids
