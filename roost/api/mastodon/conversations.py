"""Direct messages and muted threads: /api/v1/conversations,
/api/v1/timelines/direct, /api/v1/statuses/:id/{mute,unmute}."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Depends, Request

from roost.api.auth import services, user
from roost.api.mastodon import schema, serializers
from roost.api.mastodon._common import PageParams
from roost.api.openapi import answers
from roost.api.params import Id, query
from roost.api.responses import JSON, paged_json
from roost.domain.conversations import actions, threads
from roost.domain.conversations import queries as conversation_queries
from roost.domain.statuses import queries as status_queries
from roost.domain.types import Viewer

router = APIRouter()


@router.get("/api/v1/conversations", responses=answers(list[schema.Conversation]))
async def conversation_list(
    request: Request,
    viewer: Viewer = Depends(user("read:statuses")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    page = params.page()
    svc = services(request)
    async with svc.db.read() as conn:
        views, newest, oldest = await conversation_queries.conversation_list(conn, viewer, page)
    items = [serializers.conversation(v, svc.settings.base_url) for v in views]
    return paged_json(request, items, newest, oldest)


@router.post("/api/v1/conversations/{conversation_id}/read", responses=answers(schema.Conversation))
async def mark_read(
    request: Request,
    conversation_id: Id,
    viewer: Viewer = Depends(user("write:conversations")),
) -> JSON:
    entry = conversation_id
    svc = services(request)
    async with svc.db.write() as tx:
        await actions.do_mark_read(tx, viewer, entry)
    async with svc.db.read() as conn:
        view = await conversation_queries.conversation(conn, viewer, entry)
    return JSON(serializers.conversation(view, svc.settings.base_url))


@router.delete("/api/v1/conversations/{conversation_id}", responses=answers(schema.Empty))
async def remove(
    request: Request,
    conversation_id: Id,
    viewer: Viewer = Depends(user("write:conversations")),
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_remove(tx, viewer, conversation_id)
    return JSON({})


@router.get("/api/v1/timelines/direct", responses=answers(list[schema.Status]))
async def direct_timeline(
    request: Request,
    viewer: Viewer = Depends(user("read:statuses")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    page = params.page()
    svc = services(request)
    async with svc.db.read() as conn:
        views = await conversation_queries.direct_timeline(conn, viewer, page)
    items = [serializers.status(v, svc.settings.base_url) for v in views]
    ids = [v.value.status.id for v in views]
    return paged_json(request, items, ids[0] if ids else None, ids[-1] if ids else None)


async def _thread_mute(request: Request, viewer: Viewer, status_id: int, muted: bool) -> JSON:
    sid = status_id
    svc = services(request)
    async with svc.db.write() as tx:
        if muted:
            await threads.do_mute_thread(tx, viewer, sid)
        else:
            await threads.do_unmute_thread(tx, viewer, sid)
    async with svc.db.read() as conn:
        view = await status_queries.status(conn, viewer, sid)
    shown = view.derive(lambda v: replace(v, muted=muted))
    return JSON(serializers.status(shown, svc.settings.base_url))


@router.post("/api/v1/statuses/{status_id}/mute", responses=answers(schema.Status))
async def mute_thread(
    request: Request, status_id: Id, viewer: Viewer = Depends(user("write:mutes"))
) -> JSON:
    return await _thread_mute(request, viewer, status_id, True)


@router.post("/api/v1/statuses/{status_id}/unmute", responses=answers(schema.Status))
async def unmute_thread(
    request: Request, status_id: Id, viewer: Viewer = Depends(user("write:mutes"))
) -> JSON:
    return await _thread_mute(request, viewer, status_id, False)
