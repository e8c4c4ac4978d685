"""Serving media files, each request cleared by the privacy policy.

    GET /media/<attachment id>/<original|small>/<file name>
    GET /media/profile/<account id>/<avatar|header>/<file name>
    GET /media/cards/<card id>/<file name>

A link card's image (roost/domain/cards/images.py) is the linked page's,
public like the page, served to anyone who has its address.

An attachment's file is served when the viewer may see its post (asked of
roost.domain.privacy, as for the post itself); an upload no post holds, only
to its uploader. Everything else, a wrong file name included, answers 404,
so a URL reveals nothing about a post the viewer may not see. Who the viewer
is: the bearer token when the request carries one, else the capability in a
signed URL (roost/media/urls.py explains why they exist), else nobody.

Range requests are answered (206), so players can seek in video and audio.

Another server's media file cached here and since pruned under the remote
media budget (roost/domain/federation/remote_media.py) is fetched again from
its server on the first request for it (404 when that server no longer has
it, 503 when it does not answer), and answered by a redirect when it was
stored under a new name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from roost.api.auth import bearer_token, optional, services
from roost.api.params import Id
from roost.domain import privacy
from roost.domain.cards import queries as card_queries
from roost.domain.federation import remote_media
from roost.domain.media import queries
from roost.domain.types import ANONYMOUS, MediaAttachment, Viewer, Visibility
from roost.errors import NotFound, Unavailable
from roost.keys.files import FileKeyGone, SealedFile, is_sealed_file
from roost.media import urls
from roost.media.sniff import SUPPORTED
from roost.media.store import media_store

router = APIRouter()

_MIME_BY_EXTENSION = {f.extension: f.mime for f in SUPPORTED}
_PUBLIC_CACHE = "public, max-age=3600"
_PRIVATE_CACHE = "private, max-age=3600"
# Uploaded bytes are only ever media: never let a browser run them as a page.
_SAFETY = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'"}


async def _viewer(request: Request, attachment_id: int) -> Viewer:
    if bearer_token(request) is not None:
        return await optional("read:statuses")(request)
    signed = urls.signed_viewer(
        attachment_id,
        request.query_params.get("viewer"),
        request.query_params.get("expires"),
        request.query_params.get("signature"),
    )
    return Viewer(account_id=signed) if signed is not None else ANONYMOUS


async def _file_response(request: Request, key: str, name: str, cache: str) -> Response:
    if key.rsplit("/", 1)[-1] != name:
        raise NotFound()
    path = await media_store(services(request).settings).local_copy(key)
    if path is None:
        raise NotFound()
    extension = name.rsplit(".", 1)[-1]
    media_type = _MIME_BY_EXTENSION.get(extension, "application/octet-stream")
    headers = {"Cache-Control": cache, **_SAFETY}
    if is_sealed_file(path):
        return _sealed_response(request, path, media_type, headers)
    return FileResponse(path, media_type=media_type, headers=headers)


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _sealed_response(
    request: Request, path: Path, media_type: str, headers: dict[str, str]
) -> Response:
    """A sealed file (roost/keys/files.py), opened as it is sent; one byte
    range (players seek with them) opens only the chunks it covers. A file
    whose owner was erased answers 404."""
    try:
        sealed = SealedFile(path)
    except FileKeyGone:
        raise NotFound() from None
    size = sealed.size
    headers = {**headers, "Accept-Ranges": "bytes", "ETag": f'"{path.stem[:32]}"'}
    start, end, status = 0, size - 1, 200
    wanted = request.headers.get("range")
    match = _RANGE.match(wanted.strip()) if wanted else None
    if match and (match.group(1) or match.group(2)):
        if match.group(1):
            start = int(match.group(1))
            end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
        else:
            start, end = max(size - int(match.group(2)), 0), size - 1
        if start >= size or end < start:
            return Response(
                status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"}
            )
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(max(end - start + 1, 0))
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    return StreamingResponse(
        iterate_in_threadpool(sealed.read_range(start, end)),
        status_code=status,
        headers=headers,
        media_type=media_type,
    )


# Files, not API methods: kept out of the OpenAPI document (GET and HEAD on one
# function would also give it duplicate operation ids).
@router.api_route(
    "/media/profile/{account_id}/{role}/{name}", methods=["GET", "HEAD"], include_in_schema=False
)
async def profile_file(request: Request, account_id: Id, role: str, name: str) -> Response:
    if role not in ("avatar", "header"):
        raise NotFound()
    async with services(request).db.read() as conn:
        # A profile image is as public as the profile: hidden with a suspension.
        account = (await privacy.check_account(conn, ANONYMOUS, account_id)).value
    key: Any = account[f"{role}_file"]
    if not key:
        raise NotFound()
    return await _file_response(request, key, name, _PUBLIC_CACHE)


@router.api_route("/media/cards/{card_id}/{name}", methods=["GET", "HEAD"], include_in_schema=False)
async def card_image_file(request: Request, card_id: Id, name: str) -> Response:
    async with services(request).db.read() as conn:
        key = await card_queries.card_image_key(conn, card_id)
    if key is None:
        raise NotFound()
    return await _file_response(request, key, name, _PUBLIC_CACHE)


@router.api_route(
    "/media/{attachment_id}/{variant}/{name}", methods=["GET", "HEAD"], include_in_schema=False
)
async def attachment_file(request: Request, attachment_id: Id, variant: str, name: str) -> Response:
    media_id = attachment_id
    svc = services(request)
    async with svc.db.read() as conn:
        media = await queries.attachment(conn, media_id)
        if media is None or not media.ready:
            raise NotFound()
        viewer = await _viewer(request, media_id)
        cache = await _cache_policy(conn, viewer, media)
    key = media.file_key if variant == "original" else media.preview_key
    if variant not in ("original", "small") or key is None:
        raise NotFound()
    if media.remote_url is not None:
        return await _remote_file(request, media, variant, name, cache)
    return await _file_response(request, key, name, cache)


async def _remote_file(
    request: Request, media: MediaAttachment, variant: str, name: str, cache: str
) -> Response:
    """Another server's file, cached here: served (its use noted), or, when
    it was pruned (roost/domain/federation/remote_media.py), fetched again
    from its server first, screened as when it first came."""
    svc = services(request)
    store = media_store(svc.settings)
    if media.remote_pruned_at is None:
        await remote_media.note_used(svc.db, media)
        key = media.file_key if variant == "original" else media.preview_key
        return await _file_response(request, key or "", name, cache)
    outcome = await remote_media.fetch_file(svc.db, svc.settings, store, media)
    if outcome is remote_media.Fetched.GONE:
        raise NotFound("The file is no longer on its server")
    if outcome is remote_media.Fetched.UNREACHABLE:
        raise Unavailable("The file's server could not be reached; try again later")
    if outcome is remote_media.Fetched.PROCESSING:
        raise Unavailable("The file is being prepared again; try again shortly")
    if outcome is not remote_media.Fetched.CACHED:
        raise NotFound()
    async with svc.db.read() as conn:
        fresh = await queries.attachment(conn, media.id)
    key = (
        None if fresh is None else (fresh.file_key if variant == "original" else fresh.preview_key)
    )
    if key is None:
        raise NotFound()
    new_name = key.rsplit("/", 1)[-1]
    if new_name != name:
        # Stored again under a new name: the same capability, the new file.
        query = request.url.query
        where = f"/media/{media.id}/{variant}/{new_name}" + (f"?{query}" if query else "")
        return RedirectResponse(where, status_code=307)
    return await _file_response(request, key, name, cache)


async def _cache_policy(conn: Any, viewer: Viewer, media: MediaAttachment) -> str:
    """NotFound unless the viewer may see the file; else how it may be cached.
    Media an edit took off a post are seen as the post is (its history shows them)."""
    post_id = media.status_id
    if post_id is None:
        post_id = await queries.kept_for(conn, media.id)
    if post_id is None:
        if viewer.account_id is None or viewer.account_id != media.account_id:
            raise NotFound()
        return _PRIVATE_CACHE
    status = (await privacy.check_status(conn, viewer, post_id)).value
    shown_to_all = Visibility(status["visibility"]).listed
    return _PUBLIC_CACHE if shown_to_all and viewer.anonymous else _PRIVATE_CACHE
