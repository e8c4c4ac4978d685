"""/api/v1/timelines: home, public, hashtag."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from roost.api.auth import optional, services, user
from roost.api.mastodon import serializers
from roost.api.mastodon._common import PageParams
from roost.api.params import parse, read_params
from roost.api.responses import JSON, paged_json
from roost.domain.filters.apply import HOME, PUBLIC, apply_filters
from roost.domain.privacy import Visible
from roost.domain.types import StatusView, Viewer

router = APIRouter()


class PublicParams(PageParams):
    local: bool = False
    remote: bool = False
    only_media: bool = False


def _page_json(
    request: Request, views: list[Visible[StatusView]], shown: list[Visible[StatusView]]
) -> JSON:
    """``shown``: ``views`` after the viewer's filters; paging follows ``views``
    so a page that filters left empty still links to the next."""
    base = services(request).settings.base_url
    items = [serializers.status_fragment(v, base) for v in shown]
    ids = [v.value.status.id for v in views]
    return paged_json(request, items, ids[0] if ids else None, ids[-1] if ids else None)


@router.get("/api/v1/timelines/home")
async def home(request: Request, viewer: Viewer = Depends(user("read:statuses"))) -> JSON:
    page = (await parse(request, PageParams)).page()
    svc = services(request)
    async with svc.db.scope() as reads:
        views = await svc.timelines.home(reads, viewer, page)
        shown = await apply_filters(reads, viewer, views, HOME)
    return _page_json(request, views, shown)


@router.get("/api/v1/timelines/public")
async def public(request: Request, viewer: Viewer = Depends(optional("read:statuses"))) -> JSON:
    params = await parse(request, PublicParams)
    svc = services(request)
    async with svc.db.scope() as reads:
        views = await svc.timelines.public(
            reads,
            viewer,
            params.page(),
            local_only=params.local,
            remote_only=params.remote,
            only_media=params.only_media,
        )
        shown = await apply_filters(reads, viewer, views, PUBLIC)
    return _page_json(request, views, shown)


def _names(value: object) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [str(v).lstrip("#") for v in items if str(v).strip()]


@router.get("/api/v1/timelines/tag/{hashtag}")
async def tag(
    request: Request, hashtag: str, viewer: Viewer = Depends(optional("read:statuses"))
) -> JSON:
    params = await parse(request, PublicParams)
    raw = await read_params(request)
    svc = services(request)
    async with svc.db.scope() as reads:
        views = await svc.timelines.tag(
            reads,
            viewer,
            params.page(),
            any_of=[hashtag.lstrip("#"), *_names(raw.get("any"))],
            all_of=_names(raw.get("all")),
            none_of=_names(raw.get("none")),
            local_only=params.local,
            remote_only=params.remote,
            only_media=params.only_media,
        )
        shown = await apply_filters(reads, viewer, views, PUBLIC)
    return _page_json(request, views, shown)
