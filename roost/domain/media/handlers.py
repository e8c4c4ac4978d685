"""Handling the jobs uploads leave (roost/domain/media/jobs.py)."""

from __future__ import annotations

from roost.domain.jobs import JobContext
from roost.domain.media import actions
from roost.domain.media.jobs import DiscardMediaFiles, ProcessMedia, SweepMedia
from roost.jobs.registry import handles


@handles(ProcessMedia)
async def process(ctx: JobContext, job: ProcessMedia) -> None:
    await actions.finish_processing(ctx.db, ctx.media, ctx.settings, job.media_id)


@handles(SweepMedia)
async def sweep(ctx: JobContext, job: SweepMedia) -> None:
    await actions.sweep_unattached(ctx.db, ctx.media)


@handles(DiscardMediaFiles)
async def discard(ctx: JobContext, job: DiscardMediaFiles) -> None:
    await actions.discard_files(ctx.db, ctx.media, [str(key) for key in job.keys])
