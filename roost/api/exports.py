"""POST /api/v1/roost/export, then GET /api/v1/roost/export/{id}: a person
downloads an archive of their own data (roost/export/archive.py).

A Roost extension to the Mastodon API; the token needs the ``read`` scope.
The archive is built while the request waits (it holds one account's data).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from roost.api.auth import services, user
from roost.api.mastodon.serializers import timestamp
from roost.api.params import parse_id
from roost.api.responses import JSON
from roost.domain.types import Viewer
from roost.errors import NotFound
from roost.export.requests import find_export, request_export

router = APIRouter()


@router.post("/api/v1/roost/export")
async def create_export(request: Request, viewer: Viewer = Depends(user("read"))) -> JSON:
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


@router.get("/api/v1/roost/export/{export_id}")
async def download_export(
    request: Request, export_id: str, viewer: Viewer = Depends(user("read"))
) -> FileResponse:
    svc = services(request)
    assert viewer.account_id is not None
    path = find_export(svc.settings, viewer.account_id, parse_id(export_id))
    if path is None:
        raise NotFound()
    return FileResponse(path, media_type="application/zip", filename=f"archive-{export_id}.zip")
