"""Claiming and running jobs, with leases, retries and parking.

A job is claimed by setting a lease (``locked_until``, ``ROOST_JOB_LEASE_S``)
that the runner renews while the handler works. If the process dies mid-job,
the lease runs out and another runner claims it again: at-least-once, which is
why handlers are idempotent. A job that fails is retried with exponential
backoff and jitter; after ``max_attempts`` it is parked (state ``parked``) where
``roost jobs list`` and /metrics show it, instead of being retried forever. A
handler that finds a dependency down raises ``RetryLater``: the job waits a few
seconds and the attempt does not count.

A runner that is told to stop finishes the job in hand and releases the rest of
its batch at once, so another worker need not wait out their leases.

The runner knows no job kind: it reads each row into the job class registered
for its kind (roost/jobs/registry.py) and hands it, with the context it was
given, to that class's handler. The context is whatever the handlers expect
(roost/domain/jobs.py's ``JobContext``); the runner itself needs only the
database, the settings and the metrics of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import and_, delete, or_, select, update

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database, background_work
from roost.db.tables import jobs
from roost.errors import RetryLater, Unavailable
from roost.jobs import outbox
from roost.jobs.registry import dispatch, job_class
from roost.observability.metrics import Metrics

log = logging.getLogger("roost.jobs")

BASE_BACKOFF_S = 2.0
# Concurrent jobs (``Job.concurrent``: deliveries to other servers) running
# at once in one runner.
MAX_CONCURRENT = 32
MAX_BACKOFF_S = 3600.0


def backoff_seconds(attempts: int) -> float:
    """Exponential with jitter: the n-th failure waits between half and all of
    2**(n-1) * BASE_BACKOFF_S (capped), so retries of a failed dependency spread."""
    ceiling = min(MAX_BACKOFF_S, BASE_BACKOFF_S * float(2 ** max(0, attempts - 1)))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


class RunnerContext(Protocol):
    """What the runner reads of the context it passes to handlers."""

    @property
    def db(self) -> Database: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def metrics(self) -> Metrics | None: ...


class JobRunner:
    def __init__(self, context: RunnerContext, *, batch: int = 20, poll_s: float = 1.0) -> None:
        self.context = context
        self.db: Database = context.db
        self.batch = batch
        self.poll_s = poll_s
        self.lease = timedelta(seconds=context.settings.job_lease_s)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.metrics: Metrics | None = context.metrics
        self._wake = asyncio.Event()
        self._stopping = False
        self._running: set[asyncio.Task[bool]] = set()
        self.processed = 0
        self.failed = 0

    def _ready(self, now: Any) -> Any:
        return and_(
            jobs.c.state == "queued",
            jobs.c.run_at <= now,
            or_(jobs.c.locked_until.is_(None), jobs.c.locked_until < now),
        )

    async def claim(self) -> list[dict[str, Any]]:
        now = utcnow()
        ready = self._ready(now)
        candidates = select(jobs.c.id).where(ready).order_by(jobs.c.run_at).limit(self.batch)
        taken = {
            "locked_until": now + self.lease,
            "locked_by": self.worker_id,
            "attempts": jobs.c.attempts + 1,
        }
        returned = (jobs.c.id, jobs.c.kind, jobs.c.payload, jobs.c.attempts, jobs.c.max_attempts)
        if self.db.is_sqlite:
            claim = (
                update(jobs)
                .where(jobs.c.id.in_(candidates.scalar_subquery()), ready)
                .values(**taken)
                .returning(*returned)
            )
        else:
            # Concurrent workers each take different rows instead of queueing
            # on the same ones (SKIP LOCKED). The rows are picked in a CTE,
            # which PostgreSQL runs once: written as ``id IN (subquery)``,
            # the generic plan of the prepared statement (after five runs)
            # took the queue for one row and ran the locking subquery again
            # for every ready job, so a claim over a backlog of 7,000 jobs,
            # skipping the rows other workers held, took 3 to 10 s and hit
            # the statement timeout: the queue slowed as it grew.
            picked = candidates.with_for_update(skip_locked=True).cte("picked")
            claim = (
                update(jobs).where(jobs.c.id == picked.c.id).values(**taken).returning(*returned)
            )
        async with self.db.write() as tx:
            result = await tx.execute(claim)
            claimed = [dict(row) for row in result.mappings()]
        claimed.sort(key=lambda job: job["id"])
        return claimed

    def _mine(self, job: dict[str, Any]) -> Any:
        return and_(jobs.c.id == job["id"], jobs.c.locked_by == self.worker_id)

    async def run_job(self, job: dict[str, Any]) -> bool:
        with background_work():
            return await self._run_job(job)

    async def _run_job(self, job: dict[str, Any]) -> bool:
        kind = job_class(job["kind"])
        started = time.monotonic()
        keeper = asyncio.create_task(self._keep_lease(job), name=f"lease-{job['id']}")
        try:
            if kind is None:
                raise LookupError(f"no handler for job kind {job['kind']!r}")
            await dispatch(self.context, kind.from_payload(job["payload"]))
        except asyncio.CancelledError:
            await self._stop_keeping(keeper)
            await asyncio.shield(self._release(job))
            raise
        except RetryLater as later:
            await self._stop_keeping(keeper)
            await self._defer(job, later)
            return False
        except Exception as error:
            await self._stop_keeping(keeper)
            self.failed += 1
            await self._failed(job, error)
            return False
        await self._stop_keeping(keeper)
        async with self.db.write() as tx:
            # Only while the lease is still ours: a job whose lease ran out
            # may be running elsewhere, and stays for that run to finish.
            await tx.execute(delete(jobs).where(self._mine(job)))
        self.processed += 1
        if self.metrics is not None:
            self.metrics.jobs_run.labels(job["kind"]).inc()
            self.metrics.job_seconds.labels(job["kind"]).observe(time.monotonic() - started)
        return True

    async def _keep_lease(self, job: dict[str, Any]) -> None:
        """Renew the lease while the handler runs, so a long job is not taken
        over by a second worker while the first is still on it."""
        interval = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.db.write() as tx:
                    renewed = await tx.execute(
                        update(jobs)
                        .where(self._mine(job))
                        .values(locked_until=utcnow() + self.lease)
                    )
                if not renewed.rowcount:
                    log.warning("job %s: lease lost to another worker", job["id"])
                    return
            except Exception:
                log.warning("job %s: could not renew its lease", job["id"], exc_info=True)

    @staticmethod
    async def _stop_keeping(keeper: asyncio.Task[None]) -> None:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper

    async def _failed(self, job: dict[str, Any], error: Exception) -> None:
        message = f"{type(error).__name__}: {error}"[:2000]
        parked = job["attempts"] >= job["max_attempts"]
        values: dict[str, Any] = {"locked_until": None, "locked_by": None, "last_error": message}
        if parked:
            values["state"] = "parked"
            log.error(
                "job %s (%s) parked after %s attempts: %s",
                job["id"],
                job["kind"],
                job["attempts"],
                message,
            )
        else:
            values["run_at"] = utcnow() + timedelta(seconds=backoff_seconds(job["attempts"]))
            log.warning("job %s (%s) failed, will retry: %s", job["id"], job["kind"], message)
        if self.metrics is not None:
            self.metrics.job_failures.labels(job["kind"], "parked" if parked else "retry").inc()
        async with self.db.write() as tx:
            await tx.execute(update(jobs).where(self._mine(job)).values(**values))

    async def _defer(self, job: dict[str, Any], later: RetryLater) -> None:
        delay = later.delay_s * random.uniform(0.5, 1.5)
        log.debug("job %s (%s) deferred %.1fs: %s", job["id"], job["kind"], delay, later)
        if self.metrics is not None:
            self.metrics.job_failures.labels(job["kind"], "deferred").inc()
        async with self.db.write() as tx:
            await tx.execute(
                update(jobs)
                .where(self._mine(job))
                .values(
                    locked_until=None,
                    locked_by=None,
                    attempts=jobs.c.attempts - 1,
                    run_at=utcnow() + timedelta(seconds=delay),
                    last_error=f"deferred: {later}"[:2000],
                )
            )

    async def _release(self, job: dict[str, Any]) -> None:
        """Give a claimed job back at once (graceful stop), not after its lease."""
        async with self.db.write() as tx:
            await tx.execute(
                update(jobs)
                .where(self._mine(job))
                .values(locked_until=None, locked_by=None, attempts=jobs.c.attempts - 1)
            )

    async def run_once(self) -> int:
        """Claim one batch and run it; returns how many jobs were claimed.

        Jobs of a kind that waits on other servers (``Job.concurrent``) are
        started beside the rest and left running (up to
        ``MAX_CONCURRENT`` at once): one that waits out a dead server's
        timeout holds up neither the rest of its batch nor the next one."""
        while len(self._running) >= MAX_CONCURRENT:
            await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
        with background_work():
            batch = await self.claim()
        for job in batch:
            if self._stopping:
                await self._release(job)
                continue
            kind = job_class(job["kind"])
            if kind is not None and kind.concurrent:
                task = asyncio.create_task(self.run_job(job), name=f"job-{job['id']}")
                self._running.add(task)
                task.add_done_callback(self._running.discard)
                continue
            await self.run_job(job)
        return len(batch)

    async def settle(self) -> None:
        """Wait for the concurrent jobs still running."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def drain(self, max_rounds: int = 1000) -> None:
        """Run until nothing is ready (tests, and the CLI's `jobs run`)."""
        for _ in range(max_rounds):
            if await self.run_once() == 0:
                if not self._running:
                    return
                await self.settle()
        await self.settle()

    async def run_forever(self) -> None:
        unsubscribe = outbox.on_enqueue(self._wake.set)
        try:
            while not self._stopping:
                try:
                    claimed = await self.run_once()
                except Unavailable as down:
                    # The database is away or its disk is full: said once per
                    # poll, without a traceback that would say nothing more.
                    log.warning("job runner: claiming failed (%s); backing off", down.message)
                    claimed = 0
                    await asyncio.sleep(self.poll_s)
                except Exception:
                    log.exception("job runner: claiming failed; backing off")
                    claimed = 0
                    await asyncio.sleep(self.poll_s)
                if claimed == 0 and not self._stopping:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)
            # Told to stop: the concurrent jobs in hand finish too.
            await self.settle()
        finally:
            unsubscribe()
            # Cancelled: each releases its job for another runner (run_job).
            for running in list(self._running):
                running.cancel()
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)

    def stop(self) -> None:
        """Finish the job in hand, release the rest of the batch, then return."""
        self._stopping = True
        self._wake.set()
