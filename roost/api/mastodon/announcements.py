"""/api/v1/announcements (with dismiss and reactions) and /api/v1/custom_emojis,
with the emoji images themselves under /emoji/."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import Field

from roost.api.auth import optional, services, user
from roost.api.mastodon import entities, schema
from roost.api.openapi import answers
from roost.api.params import Id, Params, query
from roost.api.responses import JSON
from roost.domain.announcements import actions, queries
from roost.domain.emojis.actions import FILE_NAME, emoji_dir
from roost.domain.emojis.queries import all_emojis, emoji_file
from roost.domain.types import Viewer
from roost.errors import NotFound

router = APIRouter()


class RunningParams(Params):
    with_dismissed: bool = Field(default=True, description="Include dismissed announcements")


@router.get("/api/v1/announcements", responses=answers(list[schema.Announcement]))
async def running(
    request: Request,
    viewer: Viewer = Depends(user("read")),
    params: RunningParams = Depends(query(RunningParams)),
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        views = await queries.running(conn, viewer, with_dismissed=params.with_dismissed)
    return JSON([entities.announcement(v, svc.settings.base_url) for v in views])


@router.post("/api/v1/announcements/{announcement_id}/dismiss", responses=answers(schema.Empty))
async def dismiss(
    request: Request, announcement_id: Id, viewer: Viewer = Depends(user("write:accounts"))
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_dismiss(tx, viewer, announcement_id)
    return JSON({})


@router.put(
    "/api/v1/announcements/{announcement_id}/reactions/{name}", responses=answers(schema.Empty)
)
async def react(
    request: Request,
    announcement_id: Id,
    name: str,
    viewer: Viewer = Depends(user("write:favourites")),
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_react(tx, viewer, announcement_id, name)
    return JSON({})


@router.delete(
    "/api/v1/announcements/{announcement_id}/reactions/{name}", responses=answers(schema.Empty)
)
async def unreact(
    request: Request,
    announcement_id: Id,
    name: str,
    viewer: Viewer = Depends(user("write:favourites")),
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_unreact(tx, viewer, announcement_id, name)
    return JSON({})


@router.get("/api/v1/custom_emojis", responses=answers(list[schema.CustomEmoji]))
async def custom_emojis(request: Request, viewer: Viewer = Depends(optional("read"))) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        emojis = await all_emojis(conn)
    return JSON([entities.custom_emoji(e, svc.settings.base_url) for e in emojis])


@router.get(
    "/emoji/{file_name}",
    response_class=FileResponse,
    responses=answers(description="The emoji's image", media_type="image/*"),
)
async def emoji_image(request: Request, file_name: str) -> FileResponse:
    # Only names Roost made (a content hash) are looked up: nothing else in
    # the data directory can be reached through this route.
    if not FILE_NAME.match(file_name):
        raise NotFound()
    svc = services(request)
    async with svc.db.read() as conn:
        content_type = await emoji_file(conn, file_name)
    path = emoji_dir(svc.settings.data_dir) / file_name
    if content_type is None or not path.is_file():
        raise NotFound()
    return FileResponse(
        path,
        media_type=content_type,
        # The name is the content's hash: it never changes.
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
