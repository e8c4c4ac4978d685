"""POST /api/v1/roost/export, then GET /api/v1/roost/export/{id}: a person
downloads an archive of their own data (roost/export/archive.py).

A Roost extension to the Mastodon API. Making an archive changes the server's
state (a file is written), so it needs a write scope, ``write:accounts`` (or
``write``), as Mastodon classifies changes to one's own account; downloading it
needs ``read``. The archive is built while the request waits (it holds one
account's data).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from roost.api.auth import services, user
from roost.api.openapi import answers
from roost.api.params import Id
from roost.api.responses import JSON, timestamp
from roost.domain.types import Viewer
from roost.errors import NotFound
from roost.export.requests import find_export, request_export

router = APIRouter()


class Export(BaseModel):
    id: str
    state: str = Field(description="ready: the archive can be downloaded at url")
    size: int = Field(description="In bytes")
    created_at: str
    url: str


@router.post("/api/v1/roost/export", responses=answers(Export))
async def create_export(request: Request, viewer: Viewer = Depends(user("write:accounts"))) -> JSON:
    svc = services(request)
    assert viewer.account_id is not None
    made = await request_export(svc.db, svc.settings, viewer.account_id)
    return JSON(
        {
            "id": str(made.id),
            "state": "ready",
            "size": made.size,
            "created_at": timestamp(made.created_at),
            "url": f"{svc.settings.base_url}/api/v1/roost/export/{made.id}",
        }
    )


@router.get(
    "/api/v1/roost/export/{export_id}",
    response_class=FileResponse,
    responses=answers(description="The archive (a zip)", media_type="application/zip"),
)
async def download_export(
    request: Request, export_id: Id, viewer: Viewer = Depends(user("read"))
) -> FileResponse:
    svc = services(request)
    assert viewer.account_id is not None
    path = find_export(svc.settings, viewer.account_id, export_id)
    if path is None:
        raise NotFound()
    return FileResponse(path, media_type="application/zip", filename=f"archive-{export_id}.zip")
