"""/api/v1/notifications and /api/v1/follow_requests."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import services, user
from roost.api.mastodon import schema, serializers
from roost.api.mastodon._common import PageParams, accounts_page, relationship_json
from roost.api.openapi import answers
from roost.api.params import Count, Id, Many, OptionalId, Params, query
from roost.api.responses import JSON, paged_json
from roost.domain.filters.apply import apply_to_notifications
from roost.domain.graph import actions as graph_actions
from roost.domain.graph import queries as graph_queries
from roost.domain.notifications import actions, queries
from roost.domain.types import Viewer

router = APIRouter()


class Kinds(Params):
    types: Many[str] = Field(default=[], description="Only these types")
    exclude_types: Many[str] = Field(default=[], description="Not these types")
    account_id: OptionalId = Field(default=None, description="Only from this account")


class NotificationParams(Kinds, PageParams):
    include_filtered: bool = Field(
        default=False, description="Include notifications held back by the policy"
    )


class UnreadParams(Kinds):
    limit: Count | None = Field(default=None, description="Count at most this many")


@router.get("/api/v1/notifications", responses=answers(list[schema.Notification]))
async def notification_list(
    request: Request,
    viewer: Viewer = Depends(user("read:notifications")),
    params: NotificationParams = Depends(query(NotificationParams)),
) -> JSON:
    svc = services(request)
    async with svc.db.scope() as reads:
        views, newest, oldest = await queries.notification_page(
            reads,
            viewer,
            params.page(max_limit=80, default_limit=40),
            types=params.types,
            exclude_types=params.exclude_types,
            from_account_id=params.account_id,
            include_filtered=params.include_filtered,
        )
        views = await apply_to_notifications(reads, viewer, views)
    items = [serializers.notification(v, svc.settings.base_url) for v in views]
    return paged_json(request, items, newest, oldest)


@router.get("/api/v1/notifications/unread_count", responses=answers(schema.UnreadCount))
async def unread_count(
    request: Request,
    viewer: Viewer = Depends(user("read:notifications")),
    params: UnreadParams = Depends(query(UnreadParams)),
) -> JSON:
    async with services(request).db.read() as conn:
        count = await queries.unread_count(
            conn,
            viewer,
            None,
            limit=params.limit if params.limit is not None else queries.UNREAD_LIMIT_DEFAULT,
            types=params.types,
            exclude_types=params.exclude_types,
            from_account_id=params.account_id,
        )
    return JSON({"count": count})


@router.post("/api/v1/notifications/clear", responses=answers(schema.Empty))
async def clear(request: Request, viewer: Viewer = Depends(user("write:notifications"))) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_clear(tx, viewer)
    return JSON({})


@router.get("/api/v1/notifications/{notification_id}", responses=answers(schema.Notification))
async def get_notification(
    request: Request,
    notification_id: Id,
    viewer: Viewer = Depends(user("read:notifications")),
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        view = await queries.notification(conn, viewer, notification_id)
    return JSON(serializers.notification(view, svc.settings.base_url))


@router.post("/api/v1/notifications/{notification_id}/dismiss", responses=answers(schema.Empty))
async def dismiss(
    request: Request,
    notification_id: Id,
    viewer: Viewer = Depends(user("write:notifications")),
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_dismiss(tx, viewer, notification_id)
    return JSON({})


@router.get("/api/v1/follow_requests", responses=answers(list[schema.Account]))
async def follow_requests(
    request: Request,
    viewer: Viewer = Depends(user("read:follows")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    page = params.page(max_limit=80, default_limit=40)
    svc = services(request)
    async with svc.db.read() as conn:
        rows, newest, oldest = await graph_queries.pending_requests(conn, viewer, page)
    return await accounts_page(request, rows, newest, oldest)


@router.post(
    "/api/v1/follow_requests/{account_id}/authorize", responses=answers(schema.Relationship)
)
async def authorize(
    request: Request, account_id: Id, viewer: Viewer = Depends(user("write:follows"))
) -> JSON:
    requester = account_id
    async with services(request).db.write() as tx:
        await graph_actions.do_authorize_request(tx, viewer, requester)
    return await relationship_json(request, viewer, requester)


@router.post("/api/v1/follow_requests/{account_id}/reject", responses=answers(schema.Relationship))
async def reject(
    request: Request, account_id: Id, viewer: Viewer = Depends(user("write:follows"))
) -> JSON:
    requester = account_id
    async with services(request).db.write() as tx:
        await graph_actions.do_reject_request(tx, viewer, requester)
    return await relationship_json(request, viewer, requester)
