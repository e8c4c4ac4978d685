"""Saving reading positions. Each save of a timeline's marker bumps its
version, as Mastodon's optimistic lock does, so apps can tell saves apart."""

from __future__ import annotations

from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import markers
from roost.domain.markers.queries import TIMELINES
from roost.domain.types import Viewer
from roost.errors import RuleBroken
from roost.ids import new_id


async def do_save_markers(tx: Tx, viewer: Viewer, positions: dict[str, int]) -> list[str]:
    """Save ``timeline -> last read id``; returns the timelines saved."""
    assert viewer.account_id is not None
    unknown = [t for t in positions if t not in TIMELINES]
    if unknown:
        raise RuleBroken(f"unknown timeline {unknown[0]!r}")
    now = utcnow()
    for timeline, last_read_id in positions.items():
        if not 0 < last_read_id < 2**63:
            raise RuleBroken("last_read_id must be an id")
        row = (
            await tx.execute(
                select(markers.c.id).where(
                    markers.c.account_id == viewer.account_id, markers.c.timeline == timeline
                )
            )
        ).first()
        if row is None:
            await tx.execute(
                markers.insert().values(
                    id=new_id(),
                    account_id=viewer.account_id,
                    timeline=timeline,
                    last_read_id=last_read_id,
                    version=0,
                    updated_at=now,
                )
            )
        else:
            await tx.execute(
                update(markers)
                .where(markers.c.id == row.id)
                .values(last_read_id=last_read_id, version=markers.c.version + 1, updated_at=now)
            )
    return list(positions)
