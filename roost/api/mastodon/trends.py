"""/api/v1/trends: the hashtags, posts and links trending now (ranked by
roost/domain/trends), each shown only after staff approved it; and the admin
API's review of them, ``/api/v1/admin/trends/{tags,statuses,links}`` with
``approve`` and ``reject``, for administrators (roost/api/mastodon/admin.py's
check). TrendsLink is a PreviewCard with ``history``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import optional, services
from roost.api.mastodon import cards, entities, schema, serializers
from roost.api.mastodon.admin import staff
from roost.api.openapi import answers
from roost.api.params import Count, Id, Offset, Params, query
from roost.api.responses import JSON
from roost.domain.audit.chain import Staff
from roost.domain.roles.permissions import Permission
from roost.domain.tags.queries import DayUse
from roost.domain.trends import actions, queries
from roost.domain.trends.queries import Kind
from roost.domain.trends.scoring import Trend
from roost.domain.types import Viewer

router = APIRouter()

# Mastodon's defaults and caps per kind.
_LIMITS = {Kind.TAGS: (10, 20), Kind.STATUSES: (20, 40), Kind.LINKS: (10, 20)}


class TrendParams(Params):
    limit: Count | None = Field(default=None, description="How many (capped)")
    offset: Offset = Field(default=0, description="Skip this many")

    def window(self, kind: Kind) -> tuple[int, int]:
        default, cap = _LIMITS[kind]
        limit = default if self.limit is None else max(1, min(self.limit, cap))
        return self.offset, limit


def _history(days: list[DayUse]) -> list[dict[str, str]]:
    return [
        {"day": str(int(d.day.timestamp())), "uses": str(d.uses), "accounts": str(d.accounts)}
        for d in days
    ]


async def _render(
    request: Request, viewer: Viewer, kind: Kind, trends: list[Trend]
) -> list[tuple[int, dict[str, Any]]]:
    """(subject id, entity) of each trend still there and shown to the viewer."""
    svc = services(request)
    base = svc.settings.base_url
    async with svc.db.read() as conn:
        if kind is Kind.TAGS:
            views = await queries.tags_of(conn, viewer, trends)
            return [(v.id or 0, entities.tag(v, base)) for v in views]
        if kind is Kind.STATUSES:
            shown = await queries.statuses_of(conn, viewer, trends)
            return [(v.value.status.id, serializers.status(v, base)) for v in shown]
        return [
            (link.card.id, {**cards.card(link.card, base), "history": _history(link.history)})
            for link in await queries.links_of(conn, trends)
        ]


async def _public(request: Request, viewer: Viewer, kind: Kind, params: TrendParams) -> JSON:
    offset, limit = params.window(kind)
    async with services(request).db.read() as conn:
        trends = await queries.approved(conn, kind, offset, limit)
    return JSON([item for _id, item in await _render(request, viewer, kind, trends)])


@router.get("/api/v1/trends/tags", responses=answers(list[schema.Tag]))
async def trending_tags(
    request: Request,
    viewer: Viewer = Depends(optional("read")),
    params: TrendParams = Depends(query(TrendParams)),
) -> JSON:
    return await _public(request, viewer, Kind.TAGS, params)


@router.get("/api/v1/trends", responses=answers(list[schema.Tag]), deprecated=True)
async def trends_v1(
    request: Request,
    viewer: Viewer = Depends(optional("read")),
    params: TrendParams = Depends(query(TrendParams)),
) -> JSON:
    """Mastodon's older name for ``/api/v1/trends/tags``."""
    return await _public(request, viewer, Kind.TAGS, params)


@router.get("/api/v1/trends/statuses", responses=answers(list[schema.Status]))
async def trending_statuses(
    request: Request,
    viewer: Viewer = Depends(optional("read")),
    params: TrendParams = Depends(query(TrendParams)),
) -> JSON:
    return await _public(request, viewer, Kind.STATUSES, params)


@router.get("/api/v1/trends/links", responses=answers(list[schema.TrendsLink]))
async def trending_links(
    request: Request,
    viewer: Viewer = Depends(optional("read")),
    params: TrendParams = Depends(query(TrendParams)),
) -> JSON:
    return await _public(request, viewer, Kind.LINKS, params)


# -- review by staff -------------------------------------------------------------


def _reviewed(kind: Kind, item: dict[str, Any], subject_id: int, decision: bool | None) -> Any:
    extra: dict[str, Any] = {
        "id": str(subject_id),
        "trendable": decision is True,
        "requires_review": decision is None,
    }
    if kind is Kind.TAGS:
        extra |= {"usable": True, "listable": True}
    return {**item, **extra}


async def _for_review(request: Request, viewer: Viewer, kind: Kind) -> JSON:
    """Everything trending of ``kind``, decided or not, with the decision:
    ``requires_review`` while nobody decided, ``trendable`` once approved."""
    async with services(request).db.read() as conn:
        trends = await queries.ranked(conn, kind)
        decided = await queries.decisions(conn, kind, [t.subject_id for t in trends])
    rendered = await _render(request, viewer, kind, trends)
    return JSON([_reviewed(kind, item, i, decided.get(i)) for i, item in rendered])


_REVIEWS = staff("admin:read", Permission.MANAGE_TAXONOMIES)
_DECIDES = staff("admin:write", Permission.MANAGE_TAXONOMIES)


async def _decide(
    request: Request, viewer: Viewer, kind: Kind, subject_id: int, approved: bool
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_review(
            tx, kind, subject_id, approved=approved, by=Staff(viewer.account_id, "api")
        )
    # The subject as reviewed (Mastodon answers it; {} if staff cannot be
    # shown it, e.g. a post of an account that blocks them).
    shown = await _render(request, viewer, kind, [Trend(subject_id, 0.0, 0)])
    return JSON(_reviewed(kind, shown[0][1], subject_id, approved) if shown else {})


@router.get("/api/v1/admin/trends/tags", responses=answers(list[dict[str, Any]]))
async def review_trending_tags(request: Request, viewer: Viewer = Depends(_REVIEWS)) -> JSON:
    return await _for_review(request, viewer, Kind.TAGS)


@router.post("/api/v1/admin/trends/tags/{subject_id}/approve", responses=answers(dict[str, Any]))
async def approve_trending_tags(
    request: Request, subject_id: Id, viewer: Viewer = Depends(_DECIDES)
) -> JSON:
    return await _decide(request, viewer, Kind.TAGS, subject_id, approved=True)


@router.post("/api/v1/admin/trends/tags/{subject_id}/reject", responses=answers(dict[str, Any]))
async def reject_trending_tags(
    request: Request, subject_id: Id, viewer: Viewer = Depends(_DECIDES)
) -> JSON:
    return await _decide(request, viewer, Kind.TAGS, subject_id, approved=False)


@router.get("/api/v1/admin/trends/statuses", responses=answers(list[dict[str, Any]]))
async def review_trending_statuses(request: Request, viewer: Viewer = Depends(_REVIEWS)) -> JSON:
    return await _for_review(request, viewer, Kind.STATUSES)


@router.post(
    "/api/v1/admin/trends/statuses/{subject_id}/approve", responses=answers(dict[str, Any])
)
async def approve_trending_statuses(
    request: Request, subject_id: Id, viewer: Viewer = Depends(_DECIDES)
) -> JSON:
    return await _decide(request, viewer, Kind.STATUSES, subject_id, approved=True)


@router.post("/api/v1/admin/trends/statuses/{subject_id}/reject", responses=answers(dict[str, Any]))
async def reject_trending_statuses(
    request: Request, subject_id: Id, viewer: Viewer = Depends(_DECIDES)
) -> JSON:
    return await _decide(request, viewer, Kind.STATUSES, subject_id, approved=False)


@router.get("/api/v1/admin/trends/links", responses=answers(list[dict[str, Any]]))
async def review_trending_links(request: Request, viewer: Viewer = Depends(_REVIEWS)) -> JSON:
    return await _for_review(request, viewer, Kind.LINKS)


@router.post("/api/v1/admin/trends/links/{subject_id}/approve", responses=answers(dict[str, Any]))
async def approve_trending_links(
    request: Request, subject_id: Id, viewer: Viewer = Depends(_DECIDES)
) -> JSON:
    return await _decide(request, viewer, Kind.LINKS, subject_id, approved=True)


@router.post("/api/v1/admin/trends/links/{subject_id}/reject", responses=answers(dict[str, Any]))
async def reject_trending_links(
    request: Request, subject_id: Id, viewer: Viewer = Depends(_DECIDES)
) -> JSON:
    return await _decide(request, viewer, Kind.LINKS, subject_id, approved=False)
