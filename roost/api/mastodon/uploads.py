"""Reading uploaded files from multipart requests, within the size limits.

The size is checked from Content-Length before the body is read (and again
from each file, roost/domain/media/actions.py), so an oversized upload is
refused before it fills a disk. Used by /api/v*/media and by
update_credentials (avatar and header).
"""

from __future__ import annotations

import io

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from roost.api.auth import services
from roost.api.params import BadRequest
from roost.config import Settings
from roost.domain.media import actions
from roost.domain.types import Viewer
from roost.errors import Invalid, RoostError
from roost.media.store import media_store
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
        raise Invalid(
            f"Validation failed: the upload is larger than the {_megabytes(largest)} limit"
        )
    if not is_multipart(request):
        raise Invalid("Validation failed: send the file as multipart/form-data, in a field 'file'")
    try:
        return await request.form(max_files=4, max_fields=50)
    except Exception:
        raise BadRequest("The request body is not a valid multipart form") from None


def file_field(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) else None


def text_field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def size_of(upload: UploadFile) -> int:
    if upload.size is not None:
        return upload.size
    upload.file.seek(0, 2)
    size = upload.file.tell()
    upload.file.seek(0)
    return size


async def profile_uploads(request: Request) -> dict[str, bytes]:
    """The avatar and header files a profile update carries (none unless multipart).

    Read into memory (they are images, within the image size limit) and the
    form closed at once, so its temporary files never outlive the request.
    """
    if not is_multipart(request):
        return {}
    settings = services(request).settings
    form = await checked_form(request, settings)
    found: dict[str, bytes] = {}
    try:
        for role in actions.PROFILE_ROLES:
            upload = file_field(form, role)
            if upload is None:
                continue
            if size_of(upload) > settings.media_max_image_bytes:
                raise Invalid(
                    f"Validation failed: the {role} is larger than the "
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
