"""Blocks, mutes, private notes and endorsements: /api/v1/accounts/:id/{block,
unblock,mute,unmute,note,pin,unpin} and the lists /api/v1/blocks, /mutes,
/endorsements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import services, user
from roost.api.mastodon import schema, serializers
from roost.api.mastodon._common import (
    PageParams,
    accounts_page,
    relationship_json,
    shown_accounts,
)
from roost.api.openapi import answers
from roost.api.params import Id, Params, body, query
from roost.api.responses import JSON, paged_json
from roost.db.engine import Tx
from roost.domain.graph import actions, personal
from roost.domain.graph import queries as graph_queries
from roost.domain.types import Viewer

router = APIRouter()


PairAction = Callable[[Tx, Viewer, int], Awaitable[None]]


async def _pair(request: Request, viewer: Viewer, account_id: int, action: PairAction) -> JSON:
    async with services(request).db.write() as tx:
        await action(tx, viewer, account_id)
    return await relationship_json(request, viewer, account_id)


@router.post("/api/v1/accounts/{account_id}/block", responses=answers(schema.Relationship))
async def account_block(
    request: Request, account_id: Id, viewer: Viewer = Depends(user("write:blocks"))
) -> JSON:
    return await _pair(request, viewer, account_id, actions.do_block)


@router.post("/api/v1/accounts/{account_id}/unblock", responses=answers(schema.Relationship))
async def account_unblock(
    request: Request, account_id: Id, viewer: Viewer = Depends(user("write:blocks"))
) -> JSON:
    return await _pair(request, viewer, account_id, actions.do_unblock)


@router.post("/api/v1/accounts/{account_id}/unmute", responses=answers(schema.Relationship))
async def account_unmute(
    request: Request, account_id: Id, viewer: Viewer = Depends(user("write:mutes"))
) -> JSON:
    return await _pair(request, viewer, account_id, actions.do_unmute)


@router.post("/api/v1/accounts/{account_id}/pin", responses=answers(schema.Relationship))
async def account_pin(
    request: Request, account_id: Id, viewer: Viewer = Depends(user("write:accounts"))
) -> JSON:
    return await _pair(request, viewer, account_id, personal.do_endorse)


@router.post("/api/v1/accounts/{account_id}/unpin", responses=answers(schema.Relationship))
async def account_unpin(
    request: Request, account_id: Id, viewer: Viewer = Depends(user("write:accounts"))
) -> JSON:
    return await _pair(request, viewer, account_id, personal.do_unendorse)


class MuteParams(Params):
    notifications: bool = True
    # Bounded here too: a number of seconds past timedelta's range overflowed.
    duration: int = Field(
        default=0,
        ge=0,
        le=int(actions.MAX_MUTE.total_seconds()),
        description="Seconds; 0 mutes until unmuted",
    )


@router.post("/api/v1/accounts/{account_id}/mute", responses=answers(schema.Relationship))
async def mute(
    request: Request,
    account_id: Id,
    viewer: Viewer = Depends(user("write:mutes")),
    params: MuteParams = Depends(body(MuteParams)),
) -> JSON:
    target = account_id
    async with services(request).db.write() as tx:
        await actions.do_mute(
            tx, viewer, target, notifications=params.notifications, duration_s=params.duration
        )
    return await relationship_json(request, viewer, target)


class NoteParams(Params):
    comment: str = ""


@router.post("/api/v1/accounts/{account_id}/note", responses=answers(schema.Relationship))
async def note(
    request: Request,
    account_id: Id,
    viewer: Viewer = Depends(user("write:accounts")),
    params: NoteParams = Depends(body(NoteParams)),
) -> JSON:
    target = account_id
    async with services(request).db.write() as tx:
        await personal.do_set_note(tx, viewer, target, params.comment)
    return await relationship_json(request, viewer, target)


@router.get("/api/v1/blocks", responses=answers(list[schema.Account]))
async def block_list(
    request: Request,
    viewer: Viewer = Depends(user("read:blocks")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    page = params.page(max_limit=80, default_limit=40)
    svc = services(request)
    async with svc.db.read() as conn:
        rows, newest, oldest = await graph_queries.blocked_accounts(conn, viewer, page)
    return await accounts_page(request, rows, newest, oldest)


@router.get("/api/v1/mutes", responses=answers(list[schema.MutedAccount]))
async def mute_list(
    request: Request,
    viewer: Viewer = Depends(user("read:mutes")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    page = params.page(max_limit=80, default_limit=40)
    svc = services(request)
    async with svc.db.read() as conn:
        rows, info, newest, oldest = await graph_queries.muted_accounts(conn, viewer, page)
    items = [
        serializers.muted_account(a, info[a.value.id].expires_at, svc.settings.base_url)
        for a in await shown_accounts(request, rows)
    ]
    return paged_json(request, items, newest, oldest)


@router.get("/api/v1/endorsements", responses=answers(list[schema.Account]))
async def endorsement_list(
    request: Request,
    viewer: Viewer = Depends(user("read:accounts")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    page = params.page(max_limit=80, default_limit=40)
    svc = services(request)
    async with svc.db.read() as conn:
        rows, newest, oldest = await graph_queries.endorsed_accounts(conn, viewer, page)
    return await accounts_page(request, rows, newest, oldest)
