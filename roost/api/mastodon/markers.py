"""/api/v1/markers: saved reading positions for home and notifications."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.exc import IntegrityError

from roost.api.auth import services, user
from roost.api.mastodon import entities
from roost.api.params import read_params
from roost.api.responses import JSON
from roost.domain.markers import actions, queries
from roost.domain.types import Viewer
from roost.errors import Invalid, RoostError

router = APIRouter()


class StaleMarker(RoostError):
    status = 409


def _timelines(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


@router.get("/api/v1/markers")
async def get_markers(request: Request, viewer: Viewer = Depends(user("read:statuses"))) -> JSON:
    wanted = _timelines((await read_params(request)).get("timeline"))
    async with services(request).db.read() as conn:
        found = await queries.markers_of(conn, viewer, wanted)
    return JSON({name: entities.marker(m) for name, m in found.items()})


@router.post("/api/v1/markers")
async def save_markers(request: Request, viewer: Viewer = Depends(user("write:statuses"))) -> JSON:
    raw = await read_params(request)
    positions: dict[str, int] = {}
    for timeline in queries.TIMELINES:
        entry = raw.get(timeline)
        if isinstance(entry, dict) and entry.get("last_read_id") not in (None, ""):
            value = str(entry["last_read_id"])
            if not value.isdigit() or len(value) > 19:
                raise Invalid("Validation failed: last_read_id must be an id")
            positions[timeline] = int(value)
    svc = services(request)
    try:
        async with svc.db.write() as tx:
            saved = await actions.do_save_markers(tx, viewer, positions)
    except IntegrityError:
        # Two saves of a new marker at once (PostgreSQL): as Mastodon answers.
        raise StaleMarker("Conflict during update, please try again") from None
    async with svc.db.read() as conn:
        found = await queries.markers_of(conn, viewer, saved)
    return JSON({name: entities.marker(m) for name, m in found.items()})
