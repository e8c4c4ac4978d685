"""/api/v1/scheduled_statuses, and ``scheduled_at`` on POST /api/v1/statuses.
The ScheduledStatus entity is built here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import services, user
from roost.api.mastodon import schema, serializers
from roost.api.mastodon._common import PageParams
from roost.api.openapi import answers
from roost.api.params import Id, Params, body, query
from roost.api.responses import JSON, paged_json, timestamp
from roost.domain.scheduled import actions, queries
from roost.domain.scheduled.model import ScheduledPost
from roost.domain.statuses.actions import NewStatus
from roost.domain.types import Viewer
from roost.errors import RuleBroken

router = APIRouter()


def parse_time(value: str) -> datetime:
    """An ISO 8601 time (a time without a zone is UTC); Invalid (422) otherwise."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RuleBroken("scheduled_at is not an ISO 8601 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def scheduled_entity(post: ScheduledPost, base: str) -> dict[str, Any]:
    """Mastodon's ScheduledStatus: the post's parameters, and its uploads as
    their uploader sees them (the viewer is always the author)."""
    poll = post.poll
    return {
        "id": str(post.id),
        "scheduled_at": timestamp(post.scheduled_at),
        "params": {
            "text": post.text,
            "poll": None
            if poll is None
            else {
                "options": list(poll.options),
                "expires_in": str(poll.expires_in),
                "multiple": poll.multiple,
                "hide_totals": poll.hide_totals,
            },
            "media_ids": [str(m) for m in post.media_ids] or None,
            "sensitive": post.sensitive,
            "spoiler_text": post.spoiler_text,
            "visibility": post.visibility.label,
            "in_reply_to_id": str(post.in_reply_to_id) if post.in_reply_to_id else None,
            "language": post.language,
            "application_id": str(post.application_id) if post.application_id else None,
            "quoted_status_id": str(post.quoted_status_id) if post.quoted_status_id else None,
            "quote_approval_policy": post.quote_policy,
            "scheduled_at": None,
            "idempotency": None,
            "with_rate_limit": False,
        },
        "media_attachments": [serializers.own_upload(m, base) for m in post.media],
    }


async def schedule(request: Request, viewer: Viewer, new: NewStatus, at: str) -> JSON:
    """POST /api/v1/statuses with ``scheduled_at``: kept, not posted."""
    svc = services(request)
    when = parse_time(at)
    async with svc.db.write() as tx:
        scheduled_id = await actions.do_schedule(
            tx, viewer, new, when, max_chars=svc.settings.max_post_chars
        )
    async with svc.db.read() as conn:
        post = await queries.scheduled_post(conn, viewer, scheduled_id)
    return JSON(scheduled_entity(post, svc.settings.base_url))


@router.get("/api/v1/scheduled_statuses", responses=answers(list[schema.ScheduledStatus]))
async def list_scheduled(
    request: Request,
    viewer: Viewer = Depends(user("read:statuses")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    page = params.page()
    svc = services(request)
    async with svc.db.read() as conn:
        posts = await queries.scheduled_posts(conn, viewer, page)
    items = [scheduled_entity(p, svc.settings.base_url) for p in posts]
    newest, oldest = (posts[0].id, posts[-1].id) if posts else (None, None)
    return paged_json(request, items, newest, oldest)


@router.get("/api/v1/scheduled_statuses/{scheduled_id}", responses=answers(schema.ScheduledStatus))
async def get_scheduled(
    request: Request, scheduled_id: Id, viewer: Viewer = Depends(user("read:statuses"))
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        post = await queries.scheduled_post(conn, viewer, scheduled_id)
    return JSON(scheduled_entity(post, svc.settings.base_url))


class RescheduleParams(Params):
    scheduled_at: str = Field(default="", description="The new time, at least 5 minutes ahead")


@router.put("/api/v1/scheduled_statuses/{scheduled_id}", responses=answers(schema.ScheduledStatus))
async def reschedule(
    request: Request,
    scheduled_id: Id,
    viewer: Viewer = Depends(user("write:statuses")),
    params: RescheduleParams = Depends(body(RescheduleParams)),
) -> JSON:
    svc = services(request)
    async with svc.db.write() as tx:
        await actions.do_reschedule(tx, viewer, scheduled_id, parse_time(params.scheduled_at))
    async with svc.db.read() as conn:
        post = await queries.scheduled_post(conn, viewer, scheduled_id)
    return JSON(scheduled_entity(post, svc.settings.base_url))


@router.delete("/api/v1/scheduled_statuses/{scheduled_id}", responses=answers(schema.Empty))
async def cancel(
    request: Request, scheduled_id: Id, viewer: Viewer = Depends(user("write:statuses"))
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_cancel(tx, viewer, scheduled_id)
    return JSON({})
