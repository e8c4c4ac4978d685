"""The jobs uploads leave in the outbox: finishing video and audio, and
removing uploads that no post took."""

from __future__ import annotations

from typing import Any

from roost.domain.media import actions
from roost.jobs.registry import JobContext, handles
from roost.media.store import media_store


@handles("media.process")
async def process(ctx: JobContext, payload: dict[str, Any]) -> None:
    await actions.finish_processing(
        ctx.db, media_store(ctx.settings), ctx.settings, int(payload["media_id"])
    )


@handles("media.sweep")
async def sweep(ctx: JobContext, payload: dict[str, Any]) -> None:
    await actions.sweep_unattached(ctx.db, media_store(ctx.settings))
