"""/api/v1/markers: saved reading positions for home and notifications."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlalchemy.exc import IntegrityError

from roost.api.auth import services, user
from roost.api.mastodon import entities, schema
from roost.api.openapi import answers
from roost.api.params import Many, OptionalId, Params, body, query
from roost.api.responses import JSON
from roost.domain.markers import actions, queries
from roost.domain.types import Viewer
from roost.errors import RoostError

router = APIRouter()


class StaleMarker(RoostError):
    status = 409


class WantedMarkers(Params):
    timeline: Many[str] = Field(default=[], description="home and/or notifications")


class Position(Params):
    last_read_id: OptionalId = None


class MarkerParams(Params):
    home: Position | None = None
    notifications: Position | None = None


@router.get("/api/v1/markers", responses=answers(schema.Markers))
async def get_markers(
    request: Request,
    viewer: Viewer = Depends(user("read:statuses")),
    params: WantedMarkers = Depends(query(WantedMarkers)),
) -> JSON:
    async with services(request).db.read() as conn:
        found = await queries.markers_of(conn, viewer, params.timeline)
    return JSON({name: entities.marker(m) for name, m in found.items()})


@router.post("/api/v1/markers", responses=answers(schema.Markers, errors=(409,)))
async def save_markers(
    request: Request,
    viewer: Viewer = Depends(user("write:statuses")),
    params: MarkerParams = Depends(body(MarkerParams)),
) -> JSON:
    positions: dict[str, int] = {}
    for timeline in queries.TIMELINES:
        entry: Position | None = getattr(params, timeline)
        if entry is not None and entry.last_read_id is not None:
            positions[timeline] = entry.last_read_id
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
