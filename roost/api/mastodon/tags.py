"""/api/v1/tags/:name (with follow and unfollow) and /api/v1/followed_tags."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from roost.api.auth import optional, services, user
from roost.api.mastodon import entities, schema
from roost.api.mastodon._common import PageParams
from roost.api.openapi import answers
from roost.api.params import Text, query
from roost.api.responses import JSON, paged_json
from roost.domain.tags import actions, queries
from roost.domain.tags.lookup import tag_key
from roost.domain.types import Viewer
from roost.errors import NotFound

router = APIRouter()


async def _tag_json(request: Request, viewer: Viewer, name: str) -> JSON:
    key = tag_key(name)
    if key is None:
        raise NotFound()
    svc = services(request)
    async with svc.db.read() as conn:
        view = await queries.tag(conn, viewer, key)
    return JSON(entities.tag(view, svc.settings.base_url))


@router.get("/api/v1/tags/{name}", responses=answers(schema.Tag))
async def get_tag(
    request: Request, name: Text, viewer: Viewer = Depends(optional("read:statuses"))
) -> JSON:
    return await _tag_json(request, viewer, name)


@router.post("/api/v1/tags/{name}/follow", responses=answers(schema.Tag))
async def follow(
    request: Request, name: Text, viewer: Viewer = Depends(user("write:follows"))
) -> JSON:
    async with services(request).db.write() as tx:
        key = await actions.do_follow_tag(tx, viewer, name)
    return await _tag_json(request, viewer, key)


@router.post("/api/v1/tags/{name}/unfollow", responses=answers(schema.Tag))
async def unfollow(
    request: Request, name: Text, viewer: Viewer = Depends(user("write:follows"))
) -> JSON:
    async with services(request).db.write() as tx:
        key = await actions.do_unfollow_tag(tx, viewer, name)
    return await _tag_json(request, viewer, key)


@router.get("/api/v1/followed_tags", responses=answers(list[schema.Tag]))
async def followed_tags(
    request: Request,
    viewer: Viewer = Depends(user("read:follows")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    page = params.page(max_limit=200, default_limit=100)
    svc = services(request)
    async with svc.db.read() as conn:
        views, newest, oldest = await queries.followed(conn, viewer, page)
    items = [entities.tag(v, svc.settings.base_url) for v in views]
    return paged_json(request, items, newest, oldest)
