"""/api/v2/notifications (grouped), the notification policy (v2) and
/api/v1/notifications/requests."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.api.auth import services, user
from roost.api.mastodon import grouped_notifications as entities
from roost.api.mastodon import schema
from roost.api.mastodon._common import PageParams, accounts_json
from roost.api.openapi import answers
from roost.api.pagination import link_header
from roost.api.params import Count, Id, Ids, Many, OptionalId, Params, body, query
from roost.api.responses import JSON, paged_json
from roost.clock import utcnow
from roost.db.engine import ReadScope
from roost.domain.filters.apply import apply_filters
from roost.domain.notifications import grouped, requests
from roost.domain.notifications.groups import GROUPABLE
from roost.domain.notifications.policy import Answer, do_update_policy, policy_of
from roost.domain.notifications.queries import UNREAD_LIMIT_DEFAULT
from roost.domain.types import Viewer

router = APIRouter()


class Kinds(Params):
    types: Many[str] = Field(default=[], description="Only these types")
    exclude_types: Many[str] = Field(default=[], description="Not these types")
    account_id: OptionalId = Field(default=None, description="Only from this account")
    grouped_types: Many[str] = Field(
        default=[],
        description="Group only these types (favourite, reblog, follow); none given: all three",
    )

    def kinds(self, *, include_filtered: bool = False) -> grouped.Kinds:
        chosen = self.grouped_types or GROUPABLE
        return grouped.Kinds(
            types=self.types,
            exclude_types=self.exclude_types,
            from_account_id=self.account_id,
            grouped_types=frozenset(t for t in chosen if t in GROUPABLE),
            include_filtered=include_filtered,
        )


class GroupedParams(Kinds, PageParams):
    expand_accounts: Literal["full", "partial_avatars"] = Field(
        default="full", description="partial_avatars: only each group's latest account in full"
    )
    include_filtered: bool = Field(
        default=False, description="Include notifications held back by the policy"
    )


class UnreadParams(Kinds):
    limit: Count | None = Field(default=None, description="Count at most this many groups")


class PolicyChanges(Params):
    for_not_following: Answer | None = None
    for_not_followers: Answer | None = None
    for_new_accounts: Answer | None = None
    for_private_mentions: Answer | None = None
    for_limited_accounts: Answer | None = None


class RequestIds(Params):
    id: Ids = Field(default=[], description="The requests")


@router.get("/api/v2/notifications", responses=answers(entities.GroupedNotificationsResults))
async def grouped_list(
    request: Request,
    viewer: Viewer = Depends(user("read:notifications")),
    params: GroupedParams = Depends(query(GroupedParams)),
) -> JSON:
    svc = services(request)
    page = params.page(max_limit=80, default_limit=40)
    async with svc.db.scope() as reads:
        found = await grouped.grouped_page_read(
            reads, viewer, page, params.kinds(include_filtered=params.include_filtered)
        )
        found = await _filtered(reads, viewer, found)
    data = entities.results(
        found,
        svc.settings.base_url,
        paged=True,
        partial_avatars=params.expand_accounts == "partial_avatars",
    )
    response = JSON(data)
    link = link_header(request, found.newest_id, found.oldest_id)
    if link:
        response.headers["Link"] = link
    return response


async def _filtered(
    conn: AsyncConnection | ReadScope, viewer: Viewer, found: grouped.GroupedPage
) -> grouped.GroupedPage:
    """The account's filters attached to the posts; groups about a post a
    ``hide`` filter removes from notifications are left out."""
    shown = await apply_filters(conn, viewer, found.statuses, "notifications")
    kept = {v.value.status.id for v in shown}
    groups = [g for g in found.groups if g.status_id is None or g.status_id in kept]
    return grouped.GroupedPage(groups, found.accounts, shown, found.newest_id, found.oldest_id)


@router.get("/api/v2/notifications/unread_count", responses=answers(schema.UnreadCount))
async def unread_count(
    request: Request,
    viewer: Viewer = Depends(user("read:notifications")),
    params: UnreadParams = Depends(query(UnreadParams)),
) -> JSON:
    async with services(request).db.read() as conn:
        count = await grouped.unread_group_count(
            conn,
            viewer,
            params.kinds(),
            params.limit if params.limit is not None else UNREAD_LIMIT_DEFAULT,
        )
    return JSON({"count": count})


@router.get("/api/v2/notifications/policy", responses=answers(entities.NotificationPolicyEntity))
async def get_policy(
    request: Request, viewer: Viewer = Depends(user("read:notifications"))
) -> JSON:
    assert viewer.account_id is not None
    async with services(request).db.read() as conn:
        found = await policy_of(conn, viewer.account_id)
        pending = await requests.summary(conn, viewer)
    return JSON(entities.policy(found, pending))


@router.patch("/api/v2/notifications/policy", responses=answers(entities.NotificationPolicyEntity))
async def update_policy(
    request: Request,
    viewer: Viewer = Depends(user("write:notifications")),
    params: PolicyChanges = Depends(body(PolicyChanges)),
) -> JSON:
    changes = {k: v for k, v in params.model_dump().items() if v is not None}
    async with services(request).db.write() as tx:
        found = await do_update_policy(tx, viewer, changes)
    async with services(request).db.read() as conn:
        pending = await requests.summary(conn, viewer)
    return JSON(entities.policy(found, pending))


@router.get(
    "/api/v2/notifications/{group_key}", responses=answers(entities.GroupedNotificationsResults)
)
async def get_group(
    request: Request, group_key: str, viewer: Viewer = Depends(user("read:notifications"))
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        found = await grouped.group(conn, viewer, group_key, grouped.Kinds(include_filtered=True))
    return JSON(entities.results(found, svc.settings.base_url, paged=False))


@router.post("/api/v2/notifications/{group_key}/dismiss", responses=answers(schema.Empty))
async def dismiss_group(
    request: Request, group_key: str, viewer: Viewer = Depends(user("write:notifications"))
) -> JSON:
    async with services(request).db.write() as tx:
        await grouped.do_dismiss_group(tx, viewer, group_key)
    return JSON({})


@router.get("/api/v2/notifications/{group_key}/accounts", responses=answers(list[schema.Account]))
async def group_accounts(
    request: Request, group_key: str, viewer: Viewer = Depends(user("read:notifications"))
) -> JSON:
    async with services(request).db.read() as conn:
        rows = await grouped.group_accounts(conn, viewer, group_key)
    return JSON(await accounts_json(request, rows))


@router.get("/api/v1/notifications/requests", responses=answers(list[entities.NotificationRequest]))
async def request_list(
    request: Request,
    viewer: Viewer = Depends(user("read:notifications")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    base = services(request).settings.base_url
    async with services(request).db.read() as conn:
        views, newest, oldest = await requests.request_list(
            conn, viewer, params.page(max_limit=80, default_limit=40)
        )
    return paged_json(request, [entities.request(v, base) for v in views], newest, oldest)


@router.get("/api/v1/notifications/requests/merged", responses=answers(entities.Merged))
async def merged(request: Request, viewer: Viewer = Depends(user("read:notifications"))) -> JSON:
    # Accepting a request shows its notifications in the same transaction.
    return JSON({"merged": True})


@router.post("/api/v1/notifications/requests/accept", responses=answers(schema.Empty))
async def accept_many(
    request: Request,
    viewer: Viewer = Depends(user("write:notifications")),
    params: RequestIds = Depends(body(RequestIds)),
) -> JSON:
    async with services(request).db.write() as tx:
        await requests.do_accept(tx, viewer, params.id, now=utcnow(), strict=False)
    return JSON({})


@router.post("/api/v1/notifications/requests/dismiss", responses=answers(schema.Empty))
async def dismiss_many(
    request: Request,
    viewer: Viewer = Depends(user("write:notifications")),
    params: RequestIds = Depends(body(RequestIds)),
) -> JSON:
    async with services(request).db.write() as tx:
        await requests.do_dismiss(tx, viewer, params.id, strict=False)
    return JSON({})


@router.get(
    "/api/v1/notifications/requests/{request_id}",
    responses=answers(entities.NotificationRequest),
)
async def get_request(
    request: Request, request_id: Id, viewer: Viewer = Depends(user("read:notifications"))
) -> JSON:
    base = services(request).settings.base_url
    async with services(request).db.read() as conn:
        view = await requests.request(conn, viewer, request_id)
    return JSON(entities.request(view, base))


@router.post("/api/v1/notifications/requests/{request_id}/accept", responses=answers(schema.Empty))
async def accept(
    request: Request, request_id: Id, viewer: Viewer = Depends(user("write:notifications"))
) -> JSON:
    async with services(request).db.write() as tx:
        await requests.do_accept(tx, viewer, [request_id], now=utcnow())
    return JSON({})


@router.post("/api/v1/notifications/requests/{request_id}/dismiss", responses=answers(schema.Empty))
async def dismiss(
    request: Request, request_id: Id, viewer: Viewer = Depends(user("write:notifications"))
) -> JSON:
    async with services(request).db.write() as tx:
        await requests.do_dismiss(tx, viewer, [request_id])
    return JSON({})
