"""/api/v1/admin/roost/quarantine: media refused as known images, for staff
whose role grants ``view_quarantine`` (no built-in role but the owner's).

    GET /api/v1/admin/roost/quarantine             the newest refused files, described
    GET /api/v1/admin/roost/quarantine/{id}/file   one file's bytes; an audit entry

The list never carries the bytes; the file is sent as a download that no
cache may keep (roost/domain/known_images/quarantine.py seals it at rest).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from roost.api.auth import services
from roost.api.mastodon.admin import staff
from roost.api.openapi import answers
from roost.api.params import Id, Params, query
from roost.api.responses import JSON, timestamp
from roost.domain.audit.chain import Staff
from roost.domain.known_images import quarantine
from roost.domain.types import Viewer

router = APIRouter()
_OPEN = quarantine.PERMISSION


class QuarantineParams(Params):
    limit: int = Field(default=40, ge=1, le=200, description="How many, newest first")


class QuarantinedEntity(BaseModel):
    id: str
    account_id: str | None
    origin: str
    content_type: str
    file_size: int
    sha256: str
    list: str
    label: str | None
    distance: int
    report_id: str | None
    created_at: str | None


def _entity(item: quarantine.QuarantinedMedia) -> dict[str, object]:
    return {
        "id": str(item.id),
        "account_id": None if item.account_id is None else str(item.account_id),
        "origin": item.origin,
        "content_type": item.content_type,
        "file_size": item.file_size,
        "sha256": item.sha256,
        "list": item.list_name,
        "label": item.label,
        "distance": item.distance,
        "report_id": None if item.report_id is None else str(item.report_id),
        "created_at": timestamp(item.created_at),
    }


@router.get("/api/v1/admin/roost/quarantine", responses=answers(list[QuarantinedEntity]))
async def list_quarantine(
    request: Request,
    viewer: Viewer = Depends(staff("admin:read", _OPEN)),
    params: QuarantineParams = Depends(query(QuarantineParams)),
) -> JSON:
    async with services(request).db.read() as conn:
        found = await quarantine.quarantined(conn, limit=params.limit)
    return JSON([_entity(item) for item in found])


@router.get("/api/v1/admin/roost/quarantine/{id}/file")
async def open_quarantined(
    request: Request,
    id: Id,
    viewer: Viewer = Depends(staff("admin:read", _OPEN)),
) -> Response:
    async with services(request).db.write() as tx:
        item, data = await quarantine.do_open(tx, Staff(viewer.account_id, "api"), id)
    return Response(
        data,
        media_type=item.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="quarantine-{item.id}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
