"""/api/v1/media and /api/v2/media: uploads, alt text and focus; profile images.

An upload arrives as multipart/form-data with the file in ``file``. Its size
is checked from Content-Length before the body is read, and again from the
file itself; what the file is comes from its bytes (roost/media/sniff.py).

POST /api/v2/media answers 200 for images, processed at once, and 202 for
video and audio, which a job finishes; until then GET /api/v1/media/:id
answers 206 with ``url`` null, then 200. POST /api/v1/media finishes before it
answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from roost.api.auth import services, user
from roost.api.mastodon import serializers
from roost.api.mastodon.accounts import credential_json
from roost.api.mastodon.uploads import checked_form, file_field, size_of, text_field
from roost.api.params import parse_id
from roost.api.responses import JSON
from roost.domain.media import actions, queries
from roost.domain.types import Viewer
from roost.errors import Invalid
from roost.media.store import media_store

router = APIRouter()


async def _upload(request: Request, viewer: Viewer, *, process_later: bool) -> JSON:
    svc = services(request)
    form = await checked_form(request, svc.settings)
    upload = file_field(form, "file")
    if upload is None:
        raise Invalid("Validation failed: File can't be blank")
    store = media_store(svc.settings)
    try:
        media_id = await actions.create_media(
            svc.db,
            store,
            svc.settings,
            viewer,
            upload.file,
            size_of(upload),
            description=text_field(form, "description"),
            focus=text_field(form, "focus"),
            process_later=process_later,
        )
    finally:
        await form.close()
    return await _media_json(request, viewer, media_id, while_processing=202)


async def _media_json(
    request: Request, viewer: Viewer, media_id: int, *, while_processing: int = 206
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        media = await queries.own_unattached(conn, viewer, media_id)
    status = 200 if media.ready else while_processing
    return JSON(serializers.own_upload(media, svc.settings.base_url), status_code=status)


@router.post("/api/v1/media")
async def upload_v1(request: Request, viewer: Viewer = Depends(user("write:media"))) -> JSON:
    return await _upload(request, viewer, process_later=False)


@router.post("/api/v2/media")
async def upload_v2(request: Request, viewer: Viewer = Depends(user("write:media"))) -> JSON:
    return await _upload(request, viewer, process_later=True)


@router.get("/api/v1/media/{media_id}")
async def get_media(
    request: Request, media_id: str, viewer: Viewer = Depends(user("write:media"))
) -> JSON:
    return await _media_json(request, viewer, parse_id(media_id))


async def _update_fields(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if "application/json" in content_type:
        body = await request.json()
        return body if isinstance(body, dict) else {}
    fields: dict[str, Any] = dict(request.query_params)
    if "form" in content_type:
        form = await request.form(max_files=4, max_fields=50)
        fields.update({k: v for k, v in form.items() if isinstance(v, str)})
        # A custom thumbnail, if an app sends one, is not supported: drop it.
        await form.close()
    return fields


@router.put("/api/v1/media/{media_id}")
async def update_media(
    request: Request, media_id: str, viewer: Viewer = Depends(user("write:media"))
) -> JSON:
    mid = parse_id(media_id)
    fields = await _update_fields(request)
    description, focus = fields.get("description"), fields.get("focus")
    if description is not None and not isinstance(description, str):
        raise Invalid("Validation failed: description must be text")
    async with services(request).db.write() as tx:
        await actions.do_update_media(
            tx,
            viewer,
            mid,
            description=description,
            focus=actions.parse_focus(focus if isinstance(focus, str) else None),
        )
    return await _media_json(request, viewer, mid)


@router.delete("/api/v1/media/{media_id}")
async def delete_media(
    request: Request, media_id: str, viewer: Viewer = Depends(user("write:media"))
) -> JSON:
    svc = services(request)
    await actions.delete_media(svc.db, media_store(svc.settings), viewer, parse_id(media_id))
    return JSON({})


async def _clear(request: Request, viewer: Viewer, role: str) -> JSON:
    svc = services(request)
    assert viewer.account_id is not None
    await actions.set_profile_image(
        svc.db, media_store(svc.settings), svc.settings, viewer.account_id, role, None
    )
    return JSON(await credential_json(request, viewer))


@router.delete("/api/v1/profile/avatar")
async def delete_avatar(request: Request, viewer: Viewer = Depends(user("write:accounts"))) -> JSON:
    return await _clear(request, viewer, "avatar")


@router.delete("/api/v1/profile/header")
async def delete_header(request: Request, viewer: Viewer = Depends(user("write:accounts"))) -> JSON:
    return await _clear(request, viewer, "header")
