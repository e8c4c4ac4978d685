"""Reading uploaded files from multipart requests, within the size limits.

The size is checked from Content-Length before the body is read (and again
from each file, roost/domain/media/actions.py), so an oversized upload is
refused before it fills a disk. Used by /api/v*/media and by
update_credentials (avatar and header).
"""

from __future__ import annotations

import io
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from roost.api.auth import services
from roost.api.params import BadRequest, nest, read_params
from roost.config import Settings
from roost.domain.media import actions
from roost.domain.types import Viewer
from roost.errors import RoostError, RuleBroken
from roost.media.store import media_store
from roost.media.upload_size import size_of
from roost.ops.disk import check_upload_space

# Room for the multipart boundaries and the small fields beside the file.
_FORM_OVERHEAD = 64 * 1024


class LengthRequired(RoostError):
    status = 411


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def is_multipart(request: Request) -> bool:
    return "multipart/form-data" in request.headers.get("content-type", "")


async def checked_form(request: Request, settings: Settings) -> FormData:
    """The multipart form, refused before it is read when it is too large (or
    the media volume is nearly full: 507, roost/ops/disk.py)."""
    check_upload_space(settings)
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        raise LengthRequired("An upload must state its size in a Content-Length header")
    largest = max(settings.media_max_image_bytes, settings.media_max_video_bytes)
    if int(declared) > largest + _FORM_OVERHEAD:
        raise RuleBroken(f"the upload is larger than the {_megabytes(largest)} limit")
    if not is_multipart(request):
        raise RuleBroken("send the file as multipart/form-data, in a field 'file'")
    try:
        return await request.form(max_files=4, max_fields=50)
    except Exception:
        raise BadRequest("The request body is not a valid multipart form") from None


async def upload_params(request: Request) -> dict[str, Any]:
    """A media upload's fields (the file left spooled: params.Upload), its size
    checked before the form is read (checked_form)."""
    form = await checked_form(request, services(request).settings)
    found: dict[str, Any] = nest(request.query_params.multi_items())
    found.update(nest(form.multi_items()))
    return found


def file_field(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) else None


async def profile_params(request: Request) -> dict[str, Any]:
    """update_credentials' parameters, with the avatar and header files a
    multipart update carries as their bytes (params.File).

    The form's size is checked before it is read (checked_form); the files are
    read into memory (they are images, within the image size limit) and the
    form closed at once, so its temporary files never outlive the request.
    """
    if not is_multipart(request):
        return await read_params(request)
    settings = services(request).settings
    form = await checked_form(request, settings)
    found: dict[str, Any] = nest(request.query_params.multi_items())
    try:
        found.update(nest((k, v) for k, v in form.multi_items() if isinstance(v, str)))
        for role in actions.PROFILE_ROLES:
            upload = file_field(form, role)
            if upload is None:
                continue
            if size_of(upload) > settings.media_max_image_bytes:
                raise RuleBroken(
                    f"the {role} is larger than the "
                    f"{_megabytes(settings.media_max_image_bytes)} limit"
                )
            found[role] = await upload.read()
    finally:
        await form.close()
    return found


async def set_profile_images(request: Request, viewer: Viewer, images: dict[str, bytes]) -> None:
    svc = services(request)
    assert viewer.account_id is not None
    for role, data in images.items():
        await actions.set_profile_image(
            svc.db,
            media_store(svc.settings),
            svc.settings,
            viewer.account_id,
            role,
            io.BytesIO(data),
            len(data),
        )
