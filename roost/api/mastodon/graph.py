"""Blocks, mutes, private notes and endorsements: /api/v1/accounts/:id/{block,
unblock,mute,unmute,note,pin,unpin} and the lists /api/v1/blocks, /mutes,
/endorsements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import services, user
from roost.api.mastodon import serializers
from roost.api.mastodon._common import PageParams, accounts_page, as_account, relationship_json
from roost.api.params import Params, parse, parse_id
from roost.api.responses import JSON, paged_json
from roost.db.engine import Tx
from roost.domain.graph import actions, personal
from roost.domain.graph import queries as graph_queries
from roost.domain.types import Viewer

router = APIRouter()


PairAction = Callable[[Tx, Viewer, int], Awaitable[None]]


def _pair_route(path: str, scope: str, action: PairAction) -> None:
    async def endpoint(
        request: Request, account_id: str, viewer: Viewer = Depends(user(scope))
    ) -> JSON:
        target = parse_id(account_id)
        async with services(request).db.write() as tx:
            await action(tx, viewer, target)
        return await relationship_json(request, viewer, target)

    endpoint.__name__ = f"account_{path}"
    router.add_api_route(f"/api/v1/accounts/{{account_id}}/{path}", endpoint, methods=["POST"])


_pair_route("block", "write:blocks", actions.do_block)
_pair_route("unblock", "write:blocks", actions.do_unblock)
_pair_route("unmute", "write:mutes", actions.do_unmute)
_pair_route("pin", "write:accounts", personal.do_endorse)
_pair_route("unpin", "write:accounts", personal.do_unendorse)


class MuteParams(Params):
    notifications: bool = True
    duration: int = Field(default=0, ge=0)


@router.post("/api/v1/accounts/{account_id}/mute")
async def mute(
    request: Request, account_id: str, viewer: Viewer = Depends(user("write:mutes"))
) -> JSON:
    params = await parse(request, MuteParams)
    target = parse_id(account_id)
    async with services(request).db.write() as tx:
        await actions.do_mute(
            tx, viewer, target, notifications=params.notifications, duration_s=params.duration
        )
    return await relationship_json(request, viewer, target)


class NoteParams(Params):
    comment: str = ""


@router.post("/api/v1/accounts/{account_id}/note")
async def note(
    request: Request, account_id: str, viewer: Viewer = Depends(user("write:accounts"))
) -> JSON:
    params = await parse(request, NoteParams)
    target = parse_id(account_id)
    async with services(request).db.write() as tx:
        await personal.do_set_note(tx, viewer, target, params.comment)
    return await relationship_json(request, viewer, target)


@router.get("/api/v1/blocks")
async def block_list(request: Request, viewer: Viewer = Depends(user("read:blocks"))) -> JSON:
    page = (await parse(request, PageParams)).page(max_limit=80, default_limit=40)
    svc = services(request)
    async with svc.db.read() as conn:
        rows, newest, oldest = await graph_queries.blocked_accounts(conn, viewer, page)
    return accounts_page(request, rows, newest, oldest)


@router.get("/api/v1/mutes")
async def mute_list(request: Request, viewer: Viewer = Depends(user("read:mutes"))) -> JSON:
    page = (await parse(request, PageParams)).page(max_limit=80, default_limit=40)
    svc = services(request)
    async with svc.db.read() as conn:
        rows, info, newest, oldest = await graph_queries.muted_accounts(conn, viewer, page)
    items = [
        serializers.muted_account(
            as_account(r), info[r.value["id"]].expires_at, svc.settings.base_url
        )
        for r in rows
    ]
    return paged_json(request, items, newest, oldest)


@router.get("/api/v1/endorsements")
async def endorsement_list(
    request: Request, viewer: Viewer = Depends(user("read:accounts"))
) -> JSON:
    page = (await parse(request, PageParams)).page(max_limit=80, default_limit=40)
    svc = services(request)
    async with svc.db.read() as conn:
        rows, newest, oldest = await graph_queries.endorsed_accounts(conn, viewer, page)
    return accounts_page(request, rows, newest, oldest)
