"""/api/v1/timelines: home, public, hashtag, link."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import optional, services, user
from roost.api.mastodon import schema, serializers
from roost.api.mastodon._common import PageParams
from roost.api.openapi import answers
from roost.api.params import Many, Text, query
from roost.api.responses import JSON, paged_json
from roost.domain.filters.apply import HOME, PUBLIC, apply_filters
from roost.domain.privacy import Visible
from roost.domain.trends.queries import trending_link
from roost.domain.types import StatusView, Viewer
from roost.errors import NotFound

router = APIRouter()


class PublicParams(PageParams):
    local: bool = Field(default=False, description="Only posts from this server")
    remote: bool = Field(default=False, description="Only posts from other servers")
    only_media: bool = Field(default=False, description="Only posts with media")


class TagParams(PublicParams):
    any: Many[str] = Field(default=[], description="Also posts with any of these hashtags")
    all: Many[str] = Field(default=[], description="Only posts with all of these too")
    none: Many[str] = Field(default=[], description="No posts with any of these")


def _page_json(
    request: Request, views: list[Visible[StatusView]], shown: list[Visible[StatusView]]
) -> JSON:
    """``shown``: ``views`` after the viewer's filters; paging follows ``views``
    so a page that filters left empty still links to the next."""
    base = services(request).settings.base_url
    items = [serializers.status_fragment(v, base) for v in shown]
    ids = [v.value.status.id for v in views]
    return paged_json(request, items, ids[0] if ids else None, ids[-1] if ids else None)


@router.get("/api/v1/timelines/home", responses=answers(list[schema.Status]))
async def home(
    request: Request,
    viewer: Viewer = Depends(user("read:statuses")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    page = params.page()
    svc = services(request)
    async with svc.db.scope() as reads:
        views = await svc.timelines.home(reads, viewer, page)
        shown = await apply_filters(reads, viewer, views, HOME)
    return _page_json(request, views, shown)


@router.get("/api/v1/timelines/public", responses=answers(list[schema.Status]))
async def public(
    request: Request,
    viewer: Viewer = Depends(optional("read:statuses")),
    params: PublicParams = Depends(query(PublicParams)),
) -> JSON:
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


def _names(values: list[str]) -> list[str]:
    return [v.lstrip("#") for v in values if v.strip()]


@router.get("/api/v1/timelines/tag/{hashtag}", responses=answers(list[schema.Status]))
async def tag(
    request: Request,
    hashtag: Text,
    viewer: Viewer = Depends(optional("read:statuses")),
    params: TagParams = Depends(query(TagParams)),
) -> JSON:
    svc = services(request)
    async with svc.db.scope() as reads:
        views = await svc.timelines.tag(
            reads,
            viewer,
            params.page(),
            any_of=[hashtag.lstrip("#"), *_names(params.any)],
            all_of=_names(params.all),
            none_of=_names(params.none),
            local_only=params.local,
            remote_only=params.remote,
            only_media=params.only_media,
        )
        shown = await apply_filters(reads, viewer, views, PUBLIC)
    return _page_json(request, views, shown)


class LinkParams(PageParams):
    url: str = Field(default="", max_length=4000, description="The trending link's address")


@router.get("/api/v1/timelines/link", responses=answers(list[schema.Status], errors=[404]))
async def link(
    request: Request,
    viewer: Viewer = Depends(optional("read:statuses")),
    params: LinkParams = Depends(query(LinkParams)),
) -> JSON:
    """Public posts sharing a link that trends now (approved by staff), from
    authors open to discovery; 404 for a link that does not trend."""
    svc = services(request)
    async with svc.db.scope() as reads:
        card_id = await trending_link(await reads.conn(), params.url.strip())
        if card_id is None:
            raise NotFound()
        views = await svc.timelines.link(reads, viewer, params.page(), card_id=card_id)
        shown = await apply_filters(reads, viewer, views, PUBLIC)
    return _page_json(request, views, shown)
