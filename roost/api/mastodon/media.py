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

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import services, user
from roost.api.mastodon import schema, serializers
from roost.api.mastodon.accounts import credential_json
from roost.api.mastodon.uploads import upload_params
from roost.api.openapi import answers
from roost.api.params import Id, Params, Reader, Upload, body
from roost.api.responses import JSON
from roost.domain.media import actions, queries, quotas
from roost.domain.types import Viewer
from roost.errors import RuleBroken
from roost.media.store import media_store
from roost.media.upload_size import size_of

router = APIRouter()


class MediaParams(Params):
    description: str | None = Field(default=None, description="Alt text")
    focus: str | None = Field(default=None, description="x,y: each from -1.0 to 1.0")
    thumbnail: Upload = Field(default=None, description="Ignored: Roost makes its own")


class UploadParams(MediaParams):
    file: Upload = Field(description="The image, video or audio")


# Read from multipart only, its size checked before the body is read.
_upload_form = Reader(UploadParams, "body", upload_params, media_types=("multipart/form-data",))


async def _upload(
    request: Request, viewer: Viewer, params: UploadParams, *, process_later: bool
) -> JSON:
    svc = services(request)
    upload = params.file
    try:
        if upload is None:
            raise RuleBroken("File can't be blank")
        assert viewer.account_id is not None
        size = size_of(upload)
        # The account's daily quota (429) and the instance's budget (507).
        async with quotas.upload_allowance(svc.db, svc.settings, viewer.account_id, size):
            media_id = await actions.create_media(
                svc.db,
                media_store(svc.settings),
                svc.settings,
                viewer,
                upload.file,
                size,
                description=params.description,
                focus=params.focus,
                process_later=process_later,
            )
    finally:
        for spooled in (upload, params.thumbnail):
            if spooled is not None:
                await spooled.close()
    return await _media_json(request, viewer, media_id, while_processing=202)


async def _media_json(
    request: Request, viewer: Viewer, media_id: int, *, while_processing: int = 206
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        media = await queries.own_unattached(conn, viewer, media_id)
    status = 200 if media.ready else while_processing
    return JSON(serializers.own_upload(media, svc.settings.base_url), status_code=status)


_STORAGE_ERRORS = (411, 429, 507)


@router.post("/api/v1/media", responses=answers(schema.MediaAttachment, errors=_STORAGE_ERRORS))
async def upload_v1(
    request: Request,
    viewer: Viewer = Depends(user("write:media")),
    params: UploadParams = Depends(_upload_form),
) -> JSON:
    return await _upload(request, viewer, params, process_later=False)


@router.post(
    "/api/v2/media",
    responses=answers(
        schema.MediaAttachment,
        also={202: schema.MediaAttachment},
        description="200: an image, ready; 202: video or audio, url null until processed",
        errors=_STORAGE_ERRORS,
    ),
)
async def upload_v2(
    request: Request,
    viewer: Viewer = Depends(user("write:media")),
    params: UploadParams = Depends(_upload_form),
) -> JSON:
    return await _upload(request, viewer, params, process_later=True)


@router.get(
    "/api/v1/media/{media_id}",
    responses=answers(
        schema.MediaAttachment,
        also={206: schema.MediaAttachment},
        description="200: processed; 206: still processing (url null)",
    ),
)
async def get_media(
    request: Request, media_id: Id, viewer: Viewer = Depends(user("write:media"))
) -> JSON:
    return await _media_json(request, viewer, media_id)


@router.put(
    "/api/v1/media/{media_id}",
    responses=answers(schema.MediaAttachment, also={206: schema.MediaAttachment}),
)
async def update_media(
    request: Request,
    media_id: Id,
    viewer: Viewer = Depends(user("write:media")),
    params: MediaParams = Depends(body(MediaParams)),
) -> JSON:
    if params.thumbnail is not None:
        # A custom thumbnail, if an app sends one, is not supported: dropped.
        await params.thumbnail.close()
    async with services(request).db.write() as tx:
        await actions.do_update_media(
            tx,
            viewer,
            media_id,
            description=params.description,
            focus=actions.parse_focus(params.focus),
        )
    return await _media_json(request, viewer, media_id)


@router.delete("/api/v1/media/{media_id}", responses=answers(schema.Empty))
async def delete_media(
    request: Request, media_id: Id, viewer: Viewer = Depends(user("write:media"))
) -> JSON:
    svc = services(request)
    await actions.delete_media(svc.db, media_store(svc.settings), viewer, media_id)
    return JSON({})


async def _clear(request: Request, viewer: Viewer, role: str) -> JSON:
    svc = services(request)
    assert viewer.account_id is not None
    await actions.set_profile_image(
        svc.db, media_store(svc.settings), svc.settings, viewer.account_id, role, None
    )
    return JSON(await credential_json(request, viewer))


@router.delete("/api/v1/profile/avatar", responses=answers(schema.CredentialAccount))
async def delete_avatar(request: Request, viewer: Viewer = Depends(user("write:accounts"))) -> JSON:
    return await _clear(request, viewer, "avatar")


@router.delete("/api/v1/profile/header", responses=answers(schema.CredentialAccount))
async def delete_header(request: Request, viewer: Viewer = Depends(user("write:accounts"))) -> JSON:
    return await _clear(request, viewer, "header")
