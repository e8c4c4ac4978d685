"""Federation's periodic work, as one job that queues its own next run.

``FederationUpkeep`` runs every ``ROOST_FEDERATION_UPKEEP_INTERVAL_S``
(300): it probes the servers marked unavailable whose next probe is due
(roost/domain/federation/probes.py), and prunes other servers' cached
media files beyond their budget or retention (roost/domain/federation/
remote_media.py). ``ensure_upkeep`` queues
the first run when none is queued; the server and `roost worker` call it as
they start, so whichever process runs jobs keeps it going. A second one
queued by a race ends itself rather than queueing another.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from roost.clock import utcnow
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


@handles(FederationUpkeep)
async def upkeep(ctx: JobContext, job: FederationUpkeep) -> None:
    settings = ctx.settings
    try:
        if settings.federation:
            back = await probes.probe_due(ctx.db, settings)
            if back:
                log.info("unavailable servers answering again: %s", back)
        if settings.remote_media_budget or settings.remote_media_retention_days:
            pruned = await remote_media.prune(ctx.db, settings, ctx.media)
            if pruned.files:
                log.info("remote media pruned: %s files, %s bytes", pruned.files, pruned.bytes)
    finally:
        async with ctx.db.write() as tx:
            # This run's own row is still queued while it runs: one more
            # means another was queued beside it, which goes on instead.
            if await _queued(tx) <= 1:
                later = utcnow() + timedelta(seconds=settings.federation_upkeep_interval_s)
                await enqueue(tx, FederationUpkeep(), run_at=later)
