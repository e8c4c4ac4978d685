"""/api/v1/collections: accounts their owner recommends, each with its consent.

The domain (roost/domain/collections) keeps the rules; this module reads the
requests and writes Mastodon's entities (Collection, CollectionItem, and their
wrappers).
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import optional, services, user
from roost.api.mastodon import schema, serializers
from roost.api.mastodon._common import as_account
from roost.api.openapi import answers
from roost.api.pagination import offset_link_header
from roost.api.params import Count, Id, Ids, Offset, OptionalId, Params, body, query
from roost.api.responses import JSON, timestamp
from roost.domain.collections import actions, queries
from roost.domain.types import Viewer
from roost.errors import FieldsInvalid

router = APIRouter()


class CollectionParams(Params):
    name: str | None = Field(default=None, description="At most 40 characters")
    description: str | None = Field(default=None, description="At most 100 characters")
    language: str | None = Field(default=None, description="ISO 639-1 code")
    tag_name: str | None = Field(default=None, description="One hashtag")
    sensitive: bool | None = None
    discoverable: bool | None = None

    def change(self) -> actions.CollectionChange:
        return actions.CollectionChange(
            name=self.name,
            description=self.description,
            language=self.language,
            tag_name=self.tag_name,
            sensitive=self.sensitive,
            discoverable=self.discoverable,
        )


class NewCollectionParams(CollectionParams):
    account_ids: Ids = Field(default=[], description="Accounts to feature")


class ItemParams(Params):
    account_id: OptionalId = Field(default=None, description="The account to feature")


class OffsetParams(Params):
    limit: Count | None = Field(default=None, description="How many (40, at most 80)")
    offset: Offset = Field(default=0, description="Skip this many")

    def window(self) -> tuple[int, int]:
        limit = 40 if self.limit is None else max(1, min(self.limit, 80))
        return self.offset, limit


def _item(item: queries.Item) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "account_id": str(item.account_id),
        "state": item.state,
        "created_at": timestamp(item.created_at),
    }


def _collection(found: queries.Collection, base: str) -> dict[str, Any]:
    owner = quote(found.owner_username)
    return {
        "id": str(found.id),
        "account_id": str(found.account_id),
        "uri": f"{base}/users/{owner}/collections/{found.id}",
        "url": f"{base}/@{owner}/collections/{found.id}",
        "name": found.name,
        "description": escape(found.description),
        "language": found.language,
        "local": True,
        "sensitive": found.sensitive,
        "discoverable": found.discoverable,
        "tag": (
            {"name": found.tag_name, "url": f"{base}/tags/{quote(found.tag_name.lower())}"}
            if found.tag_name
            else None
        ),
        "item_count": len(found.items),
        "items": [_item(i) for i in found.items],
        "created_at": timestamp(found.created_at),
        "updated_at": timestamp(found.updated_at),
    }


async def _one(request: Request, viewer: Viewer, collection_id: int) -> queries.Shown:
    async with services(request).db.read() as conn:
        return await queries.collection(conn, viewer, collection_id)


def _base(request: Request) -> str:
    return services(request).settings.base_url


async def _wrapped(request: Request, viewer: Viewer, collection_id: int) -> JSON:
    shown = await _one(request, viewer, collection_id)
    return JSON({"collection": _collection(shown.collection, _base(request))})


def _page(
    request: Request, found: list[queries.Shown], offset: int, limit: int, more: bool
) -> JSON:
    base = _base(request)
    response = JSON({"collections": [_collection(s.collection, base) for s in found]})
    link = offset_link_header(request, offset, limit, more)
    if link:
        response.headers["Link"] = link
    return response


@router.post("/api/v1/collections", responses=answers(schema.WrappedCollection, errors=[422]))
async def create(
    request: Request,
    viewer: Viewer = Depends(user("write:collections")),
    params: NewCollectionParams = Depends(body(NewCollectionParams)),
) -> JSON:
    """Create a collection, featuring ``account_ids`` (each as its consent says)."""
    try:
        async with services(request).db.write() as tx:
            collection_id = await actions.do_create_collection(
                tx, viewer, params.change(), params.account_ids
            )
    except FieldsInvalid as error:
        return JSON(serializers.validation_failed(error), status_code=422)
    return await _wrapped(request, viewer, collection_id)


@router.get("/api/v1/collections/{collection_id}", responses=answers(schema.CollectionWithAccounts))
async def one(
    request: Request, collection_id: Id, viewer: Viewer = Depends(optional("read:collections"))
) -> JSON:
    """A collection with its owner's and featured accounts: the accepted items,
    and to the owner every item, to a featured account its own."""
    shown = await _one(request, viewer, collection_id)
    base = _base(request)
    return JSON(
        {
            "accounts": [serializers.account(as_account(a), base) for a in shown.accounts],
            "collection": _collection(shown.collection, base),
        }
    )


@router.patch(
    "/api/v1/collections/{collection_id}",
    responses=answers(schema.WrappedCollection, errors=[403, 422]),
)
async def update(
    request: Request,
    collection_id: Id,
    viewer: Viewer = Depends(user("write:collections")),
    params: CollectionParams = Depends(body(CollectionParams)),
) -> JSON:
    """Change the owner's collection (what is not given stays)."""
    try:
        async with services(request).db.write() as tx:
            await actions.do_update_collection(tx, viewer, collection_id, params.change())
    except FieldsInvalid as error:
        return JSON(serializers.validation_failed(error), status_code=422)
    return await _wrapped(request, viewer, collection_id)


@router.delete("/api/v1/collections/{collection_id}", responses=answers(schema.Empty, errors=[403]))
async def delete(
    request: Request, collection_id: Id, viewer: Viewer = Depends(user("write:collections"))
) -> JSON:
    """Delete the owner's collection with its items."""
    async with services(request).db.write() as tx:
        await actions.do_delete_collection(tx, viewer, collection_id)
    return JSON({})


@router.post(
    "/api/v1/collections/{collection_id}/items",
    responses=answers(schema.WrappedCollectionItem, errors=[403, 422]),
)
async def add_item(
    request: Request,
    collection_id: Id,
    viewer: Viewer = Depends(user("write:collections")),
    params: ItemParams = Depends(body(ItemParams)),
) -> JSON:
    """Feature an account: accepted at once when it follows the owner, else
    pending until it accepts. Local accounts only."""
    async with services(request).db.write() as tx:
        item_id = await actions.do_add_item(tx, viewer, collection_id, params.account_id)
    shown = await _one(request, viewer, collection_id)
    item = next(i for i in shown.collection.items if i.id == item_id)
    return JSON({"collection_item": _item(item)})


@router.delete(
    "/api/v1/collections/{collection_id}/items/{item_id}",
    responses=answers(schema.Empty, errors=[403]),
)
async def remove_item(
    request: Request,
    collection_id: Id,
    item_id: Id,
    viewer: Viewer = Depends(user("write:collections")),
) -> JSON:
    """The owner takes an item out, whatever its state."""
    async with services(request).db.write() as tx:
        await actions.do_remove_item(tx, viewer, collection_id, item_id)
    return JSON({})


@router.post(
    "/api/v1/collections/{collection_id}/items/{item_id}/revoke",
    responses=answers(schema.Empty, errors=[403]),
)
async def revoke_item(
    request: Request,
    collection_id: Id,
    item_id: Id,
    viewer: Viewer = Depends(user("write:collections")),
) -> JSON:
    """The featured account declines (pending) or withdraws (accepted)."""
    async with services(request).db.write() as tx:
        await actions.do_revoke_item(tx, viewer, collection_id, item_id)
    return JSON({})


@router.post(
    "/api/v1/collections/{collection_id}/items/{item_id}/accept",
    responses=answers(schema.Empty, errors=[403]),
)
async def accept_item(
    request: Request,
    collection_id: Id,
    item_id: Id,
    viewer: Viewer = Depends(user("write:collections")),
) -> JSON:
    """Roost's own: the featured account consents to its item."""
    async with services(request).db.write() as tx:
        await actions.do_accept_item(tx, viewer, collection_id, item_id)
    return JSON({})


async def _owned_by(
    request: Request, account_id: int, viewer: Viewer, params: OffsetParams
) -> JSON:
    offset, limit = params.window()
    async with services(request).db.read() as conn:
        found, more = await queries.owned_by(conn, viewer, account_id, offset, limit)
    return _page(request, found, offset, limit, more)


async def _featuring(
    request: Request, account_id: int, viewer: Viewer, params: OffsetParams
) -> JSON:
    offset, limit = params.window()
    async with services(request).db.read() as conn:
        found, more = await queries.featuring(conn, viewer, account_id, offset, limit)
    return _page(request, found, offset, limit, more)


# Mastodon.py's paths (``/api/v1/accounts/:id/...``, the lower decorator,
# registered first), and the paths as Mastodon's documentation writes them
# (without ``accounts/``), registered after them.
@router.get("/api/v1/{account_id}/collections", responses=answers(schema.Collections))
@router.get("/api/v1/accounts/{account_id}/collections", responses=answers(schema.Collections))
async def account_collections(
    request: Request,
    account_id: Id,
    viewer: Viewer = Depends(optional("read:collections")),
    params: OffsetParams = Depends(query(OffsetParams)),
) -> JSON:
    """An account's collections, newest first."""
    return await _owned_by(request, account_id, viewer, params)


@router.get("/api/v1/{account_id}/in_collections", responses=answers(schema.Collections))
@router.get("/api/v1/accounts/{account_id}/in_collections", responses=answers(schema.Collections))
async def account_in_collections(
    request: Request,
    account_id: Id,
    viewer: Viewer = Depends(optional("read:collections")),
    params: OffsetParams = Depends(query(OffsetParams)),
) -> JSON:
    """The collections an account is featured in (accepted; to itself, all)."""
    return await _featuring(request, account_id, viewer, params)
