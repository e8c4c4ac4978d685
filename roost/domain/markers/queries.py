"""Where an account stopped reading its home timeline and notifications."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import markers
from roost.domain.types import Viewer

TIMELINES = ("home", "notifications")


@dataclass(frozen=True)
class Marker:
    timeline: str
    last_read_id: int
    version: int
    updated_at: datetime


async def markers_of(
    conn: AsyncConnection, viewer: Viewer, timelines: Sequence[str]
) -> dict[str, Marker]:
    wanted = [t for t in timelines if t in TIMELINES]
    if not wanted:
        return {}
    rows = await conn.execute(
        select(markers).where(
            markers.c.account_id == viewer.account_id, markers.c.timeline.in_(wanted)
        )
    )
    return {
        r.timeline: Marker(
            timeline=r.timeline,
            last_read_id=int(r.last_read_id),
            version=int(r.version),
            updated_at=r.updated_at,
        )
        for r in rows
    }
