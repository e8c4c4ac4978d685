"""Federation's periodic work, as a job queued every interval.

``FederationUpkeep`` probes the servers marked unavailable whose next probe
is due (roost/domain/federation/probes.py), and prunes other servers' cached
media files beyond their budget or retention (roost/domain/federation/
remote_media.py). Every process that runs jobs (the server in embedded
mode, `roost worker`) keeps ``keep_upkeep`` going beside its runner: every
``ROOST_FEDERATION_UPKEEP_INTERVAL_S`` (300) it queues the job unless one is
queued already, so several processes make one run, and a job stays queued
only until a runner takes it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import func, select

from roost.config import Settings
from roost.db.engine import Database, Tx
from roost.db.tables import jobs
from roost.domain.federation import probes, remote_media
from roost.domain.jobs import JobContext
from roost.jobs.outbox import enqueue
from roost.jobs.registry import Job, handles

log = logging.getLogger("roost.federation")


@dataclass(frozen=True)
class FederationUpkeep(Job, kind="federation.upkeep"):
    """Federation's periodic work (see the module docstring)."""


async def _queued(tx: Tx) -> int:
    found = await tx.execute(
        select(func.count()).where(jobs.c.kind == FederationUpkeep.kind, jobs.c.state == "queued")
    )
    return int(found.scalar_one())


async def ensure_upkeep(db: Database) -> None:
    async with db.write() as tx:
        if not await _queued(tx):
            await enqueue(tx, FederationUpkeep())


async def keep_upkeep(db: Database, settings: Settings) -> None:
    """Queue the upkeep now and every interval (until cancelled)."""
    while True:
        try:
            await ensure_upkeep(db)
        except Exception:  # the database away for a moment: next interval
            log.exception("federation upkeep: could not be queued")
        await asyncio.sleep(settings.federation_upkeep_interval_s)


@handles(FederationUpkeep)
async def upkeep(ctx: JobContext, job: FederationUpkeep) -> None:
    settings = ctx.settings
    if settings.federation:
        back = await probes.probe_due(ctx.db, settings)
        if back:
            log.info("unavailable servers answering again: %s", back)
    if settings.remote_media_budget or settings.remote_media_retention_days:
        pruned = await remote_media.prune(ctx.db, settings, ctx.media)
        if pruned.files:
            log.info("remote media pruned: %s files, %s bytes", pruned.files, pruned.bytes)
