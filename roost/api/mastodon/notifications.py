"""/api/v1/notifications and /api/v1/follow_requests."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from roost.api.auth import services, user
from roost.api.mastodon import serializers
from roost.api.mastodon._common import PageParams, accounts_page, relationship_json
from roost.api.params import id_list, parse, parse_id, read_params
from roost.api.responses import JSON, paged_json
from roost.domain.filters.apply import apply_to_notifications
from roost.domain.graph import actions as graph_actions
from roost.domain.graph import queries as graph_queries
from roost.domain.notifications import actions, queries
from roost.domain.types import Viewer

router = APIRouter()


def _types(value: object) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


@router.get("/api/v1/notifications")
async def notification_list(
    request: Request, viewer: Viewer = Depends(user("read:notifications"))
) -> JSON:
    params = await parse(request, PageParams)
    raw = await read_params(request)
    from_ids = id_list(raw.get("account_id"))
    svc = services(request)
    async with svc.db.read() as conn:
        views, newest, oldest = await queries.notification_list(
            conn,
            viewer,
            params.page(max_limit=80, default_limit=40),
            types=_types(raw.get("types")),
            exclude_types=_types(raw.get("exclude_types")),
            from_account_id=from_ids[0] if from_ids else None,
        )
        views = await apply_to_notifications(conn, viewer, views)
    items = [serializers.notification(v, svc.settings.base_url) for v in views]
    return paged_json(request, items, newest, oldest)


@router.get("/api/v1/notifications/unread_count")
async def unread_count(
    request: Request, viewer: Viewer = Depends(user("read:notifications"))
) -> JSON:
    raw = await read_params(request)
    from_ids = id_list(raw.get("account_id"))
    limit = id_list(raw.get("limit"))
    async with services(request).db.read() as conn:
        count = await queries.unread_count(
            conn,
            viewer,
            None,
            limit=limit[0] if limit else queries.UNREAD_LIMIT_DEFAULT,
            types=_types(raw.get("types")),
            exclude_types=_types(raw.get("exclude_types")),
            from_account_id=from_ids[0] if from_ids else None,
        )
    return JSON({"count": count})


@router.post("/api/v1/notifications/clear")
async def clear(request: Request, viewer: Viewer = Depends(user("write:notifications"))) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_clear(tx, viewer)
    return JSON({})


@router.get("/api/v1/notifications/{notification_id}")
async def get_notification(
    request: Request,
    notification_id: str,
    viewer: Viewer = Depends(user("read:notifications")),
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        view = await queries.notification(conn, viewer, parse_id(notification_id))
    return JSON(serializers.notification(view, svc.settings.base_url))


@router.post("/api/v1/notifications/{notification_id}/dismiss")
async def dismiss(
    request: Request,
    notification_id: str,
    viewer: Viewer = Depends(user("write:notifications")),
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_dismiss(tx, viewer, parse_id(notification_id))
    return JSON({})


@router.get("/api/v1/follow_requests")
async def follow_requests(request: Request, viewer: Viewer = Depends(user("read:follows"))) -> JSON:
    page = (await parse(request, PageParams)).page(max_limit=80, default_limit=40)
    svc = services(request)
    async with svc.db.read() as conn:
        rows, newest, oldest = await graph_queries.pending_requests(conn, viewer, page)
    return accounts_page(request, rows, newest, oldest)


@router.post("/api/v1/follow_requests/{account_id}/authorize")
async def authorize(
    request: Request, account_id: str, viewer: Viewer = Depends(user("write:follows"))
) -> JSON:
    requester = parse_id(account_id)
    async with services(request).db.write() as tx:
        await graph_actions.do_authorize_request(tx, viewer, requester)
    return await relationship_json(request, viewer, requester)


@router.post("/api/v1/follow_requests/{account_id}/reject")
async def reject(
    request: Request, account_id: str, viewer: Viewer = Depends(user("write:follows"))
) -> JSON:
    requester = parse_id(account_id)
    async with services(request).db.write() as tx:
        await graph_actions.do_reject_request(tx, viewer, requester)
    return await relationship_json(request, viewer, requester)
