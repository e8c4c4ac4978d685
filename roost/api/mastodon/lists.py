"""/api/v1/lists, their members, and /api/v1/timelines/list/:id."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import services, user
from roost.api.mastodon import entities, schema, serializers
from roost.api.mastodon._common import PageParams, accounts_json
from roost.api.openapi import answers
from roost.api.params import Id, Ids, Params, body, query
from roost.api.responses import JSON, paged_json
from roost.domain.filters.apply import HOME, apply_filters
from roost.domain.lists import actions, queries
from roost.domain.types import Viewer

router = APIRouter()


class ListParams(Params):
    title: str | None = None
    replies_policy: str | None = Field(default=None, description="followed, list or none")
    exclusive: bool | None = Field(default=None, description="Members' posts leave home")

    def change(self) -> actions.ListChange:
        return actions.ListChange(
            title=self.title, replies_policy=self.replies_policy, exclusive=self.exclusive
        )


async def _list_json(request: Request, viewer: Viewer, list_id: int) -> JSON:
    async with services(request).db.read() as conn:
        info = await queries.owned_list(conn, viewer, list_id)
    return JSON(entities.list_(info))


@router.get("/api/v1/lists", responses=answers(list[schema.List]))
async def all_lists(request: Request, viewer: Viewer = Depends(user("read:lists"))) -> JSON:
    async with services(request).db.read() as conn:
        owned = await queries.lists_of(conn, viewer)
    return JSON([entities.list_(info) for info in owned])


@router.post("/api/v1/lists", responses=answers(schema.List))
async def create(
    request: Request,
    viewer: Viewer = Depends(user("write:lists")),
    params: ListParams = Depends(body(ListParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        list_id = await actions.do_create_list(tx, viewer, params.change())
    return await _list_json(request, viewer, list_id)


@router.get("/api/v1/lists/{list_id}", responses=answers(schema.List))
async def one(request: Request, list_id: Id, viewer: Viewer = Depends(user("read:lists"))) -> JSON:
    return await _list_json(request, viewer, list_id)


@router.put("/api/v1/lists/{list_id}", responses=answers(schema.List))
async def update(
    request: Request,
    list_id: Id,
    viewer: Viewer = Depends(user("write:lists")),
    params: ListParams = Depends(body(ListParams)),
) -> JSON:
    lid = list_id
    async with services(request).db.write() as tx:
        await actions.do_update_list(tx, viewer, lid, params.change())
    return await _list_json(request, viewer, lid)


@router.delete("/api/v1/lists/{list_id}", responses=answers(schema.Empty))
async def delete(
    request: Request, list_id: Id, viewer: Viewer = Depends(user("write:lists"))
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_delete_list(tx, viewer, list_id)
    return JSON({})


@router.get("/api/v1/lists/{list_id}/accounts", responses=answers(list[schema.Account]))
async def members(
    request: Request,
    list_id: Id,
    viewer: Viewer = Depends(user("read:lists")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    # limit=0 asks for every member at once, as Mastodon allows.
    page = None if params.limit == 0 else params.page(max_limit=80, default_limit=40)
    svc = services(request)
    async with svc.db.read() as conn:
        rows, newest, oldest = await queries.members(conn, viewer, list_id, page)
    items = await accounts_json(request, rows)
    if page is None:
        return JSON(items)
    return paged_json(request, items, newest, oldest)


class MembersParams(Params):
    account_ids: Ids = Field(default=[], description="Accounts the viewer follows")


@router.post("/api/v1/lists/{list_id}/accounts", responses=answers(schema.Empty))
async def add_members(
    request: Request,
    list_id: Id,
    viewer: Viewer = Depends(user("write:lists")),
    params: MembersParams = Depends(body(MembersParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_add_members(tx, viewer, list_id, params.account_ids)
    return JSON({})


@router.delete("/api/v1/lists/{list_id}/accounts", responses=answers(schema.Empty))
async def remove_members(
    request: Request,
    list_id: Id,
    viewer: Viewer = Depends(user("write:lists")),
    params: MembersParams = Depends(body(MembersParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        await actions.do_remove_members(tx, viewer, list_id, params.account_ids)
    return JSON({})


@router.get("/api/v1/accounts/{account_id}/lists", responses=answers(list[schema.List]))
async def lists_with_account(
    request: Request, account_id: Id, viewer: Viewer = Depends(user("read:lists"))
) -> JSON:
    async with services(request).db.read() as conn:
        found = await queries.lists_with_member(conn, viewer, account_id)
    return JSON([entities.list_(info) for info in found])


@router.get("/api/v1/timelines/list/{list_id}", responses=answers(list[schema.Status]))
async def list_timeline(
    request: Request,
    list_id: Id,
    viewer: Viewer = Depends(user("read:lists")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    page = params.page()
    svc = services(request)
    async with svc.db.scope() as reads:
        # The timeline store's: from Redis when scaled, else the database.
        views = await svc.timelines.list_timeline(reads, viewer, list_id, page)
        shown = await apply_filters(reads, viewer, views, HOME)
    base = svc.settings.base_url
    ids = [v.value.status.id for v in views]
    return paged_json(
        request,
        [serializers.status(v, base) for v in shown],
        ids[0] if ids else None,
        ids[-1] if ids else None,
    )
