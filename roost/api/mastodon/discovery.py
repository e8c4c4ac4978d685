"""Finding people and topics: /api/v1/directory, suggestions (v1 and v2),
featured tags, endorsements, familiar followers, several accounts at once,
and the user's own domain blocks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import optional, services, user
from roost.api.mastodon import discovery_entities as entities
from roost.api.mastodon import discovery_schema as shapes
from roost.api.mastodon import schema, serializers
from roost.api.mastodon._common import PageParams, accounts_page, as_account, relationship_json
from roost.api.openapi import answers
from roost.api.params import Count, Id, Ids, Offset, Params, Reader, Text, body, nest, query
from roost.api.responses import JSON, paged_json
from roost.domain import privacy
from roost.domain.accounts import queries as account_queries
from roost.domain.discovery import directory as directory_queries
from roost.domain.discovery import domain_blocks, familiar, featured_tags, suggestions
from roost.domain.graph import personal
from roost.domain.graph import queries as graph_queries
from roost.domain.tags import queries as tag_queries
from roost.domain.tags.lookup import tag_key
from roost.domain.types import Viewer
from roost.errors import Invalid, NotFound

router = APIRouter()


class DirectoryParams(Params):
    offset: Offset = Field(default=0, description="Skip this many accounts")
    limit: Count = Field(default=40, description="How many accounts (at most 80)")
    order: Literal["active", "new"] = Field(
        default="active", description="active: most recent post first; new: newest account first"
    )
    local: bool = Field(default=False, description="Local accounts only (all are, for now)")


@router.get("/api/v1/directory", responses=answers(list[schema.Account]))
async def directory(
    request: Request,
    viewer: Viewer = Depends(optional("read:accounts")),
    params: DirectoryParams = Depends(query(DirectoryParams)),
) -> JSON:
    """Discoverable accounts, most recently active or newest first."""
    svc = services(request)
    async with svc.db.read() as conn:
        rows = await directory_queries.directory(
            conn,
            viewer,
            order=params.order,
            offset=params.offset,
            limit=min(max(params.limit, 1), 80),
        )
    return JSON([serializers.account(as_account(r), svc.settings.base_url) for r in rows])


class SuggestionParams(Params):
    limit: Count = Field(default=40, description="How many suggestions (at most 80)")


async def _suggestions(
    request: Request, viewer: Viewer, limit: int
) -> list[suggestions.Suggestion]:
    async with services(request).db.read() as conn:
        return await suggestions.suggestions(conn, viewer, min(max(limit, 1), 80))


@router.get("/api/v1/suggestions", responses=answers(list[schema.Account]))
async def suggestions_v1(
    request: Request,
    viewer: Viewer = Depends(user("read")),
    params: SuggestionParams = Depends(query(SuggestionParams)),
) -> JSON:
    """Accounts to follow: staff-featured accounts, then friends of friends."""
    found = await _suggestions(request, viewer, params.limit)
    base = services(request).settings.base_url
    return JSON([serializers.account(as_account(s.account), base) for s in found])


@router.get("/api/v2/suggestions", responses=answers(list[shapes.Suggestion]))
async def suggestions_v2(
    request: Request,
    viewer: Viewer = Depends(user("read")),
    params: SuggestionParams = Depends(query(SuggestionParams)),
) -> JSON:
    """Accounts to follow, each with why (``sources``: featured, friends_of_friends)."""
    found = await _suggestions(request, viewer, params.limit)
    base = services(request).settings.base_url
    return JSON([entities.suggestion(s, base) for s in found])


@router.delete("/api/v1/suggestions/{account_id}", responses=answers(schema.Empty))
async def dismiss_suggestion(
    request: Request, account_id: Id, viewer: Viewer = Depends(user("write"))
) -> JSON:
    """Never suggest this account again (a write: Mastodon asks only ``read``)."""
    async with services(request).db.write() as tx:
        await suggestions.do_dismiss(tx, viewer, account_id)
    return JSON({})


# --- Featured tags ---


@dataclass(frozen=True)
class _TagRow:
    """A tag as ``tag_views`` reads it."""

    id: int
    name: str


async def _featured_json(request: Request, account_id: int) -> list[dict[str, object]]:
    svc = services(request)
    async with svc.db.read() as conn:
        username = await account_queries.username_of(conn, account_id)
        found = await featured_tags.featured_of(conn, account_id)
    return [entities.featured_tag(f, username, svc.settings.base_url) for f in found]


@router.get("/api/v1/featured_tags", responses=answers(list[shapes.FeaturedTag]))
async def own_featured_tags(
    request: Request, viewer: Viewer = Depends(user("read:accounts"))
) -> JSON:
    """The hashtags featured on the viewer's profile."""
    assert viewer.account_id is not None
    return JSON(await _featured_json(request, viewer.account_id))


class FeatureParams(Params):
    name: Text = Field(default="", description="The hashtag, with or without #")


@router.post("/api/v1/featured_tags", responses=answers(shapes.FeaturedTag, errors=(422,)))
async def feature_tag(
    request: Request,
    viewer: Viewer = Depends(user("write:accounts")),
    params: FeatureParams = Depends(body(FeatureParams)),
) -> JSON:
    """Feature a hashtag on the viewer's profile (at most 10)."""
    assert viewer.account_id is not None
    async with services(request).db.write() as tx:
        featured_id = await featured_tags.do_feature_tag(tx, viewer, params.name)
    for item in await _featured_json(request, viewer.account_id):
        if item["id"] == str(featured_id):
            return JSON(item)
    raise NotFound()


@router.delete("/api/v1/featured_tags/{featured_tag_id}", responses=answers(schema.Empty))
async def unfeature_tag(
    request: Request, featured_tag_id: Id, viewer: Viewer = Depends(user("write:accounts"))
) -> JSON:
    """Stop featuring a hashtag."""
    async with services(request).db.write() as tx:
        await featured_tags.do_unfeature(tx, viewer, featured_tag_id)
    return JSON({})


@router.get("/api/v1/featured_tags/suggestions", responses=answers(list[shapes.FeaturingTag]))
async def featured_tag_suggestions(
    request: Request, viewer: Viewer = Depends(user("read:accounts"))
) -> JSON:
    """The hashtags the viewer used most and does not feature yet."""
    svc = services(request)
    async with svc.db.read() as conn:
        found = await featured_tags.suggested_tags(conn, viewer)
        rows = [_TagRow(tag_id, name) for tag_id, name in found]
        views = await tag_queries.tag_views(conn, viewer, rows)
    return JSON([entities.featuring_tag(v, False, svc.settings.base_url) for v in views])


@router.get(
    "/api/v1/accounts/{account_id}/featured_tags", responses=answers(list[shapes.FeaturedTag])
)
async def account_featured_tags(
    request: Request, account_id: Id, viewer: Viewer = Depends(optional("read:accounts"))
) -> JSON:
    """The hashtags an account features on its profile."""
    async with services(request).db.read() as conn:
        await privacy.check_account(conn, viewer, account_id)
    return JSON(await _featured_json(request, account_id))


async def _featuring_json(request: Request, viewer: Viewer, key: str) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        view = await tag_queries.tag(conn, viewer, key)
        featuring = await featured_tags.is_featured(conn, viewer, view.id)
    return JSON(entities.featuring_tag(view, featuring, svc.settings.base_url))


@router.post("/api/v1/tags/{name}/feature", responses=answers(shapes.FeaturingTag))
async def feature_by_name(
    request: Request, name: Text, viewer: Viewer = Depends(user("write:accounts"))
) -> JSON:
    """Feature this hashtag on the viewer's profile."""
    key = tag_key(name)
    if key is None:
        raise NotFound()
    async with services(request).db.write() as tx:
        await featured_tags.do_feature_tag(tx, viewer, name)
    return await _featuring_json(request, viewer, key)


@router.post("/api/v1/tags/{name}/unfeature", responses=answers(shapes.FeaturingTag))
async def unfeature_by_name(
    request: Request, name: Text, viewer: Viewer = Depends(user("write:accounts"))
) -> JSON:
    """Stop featuring this hashtag."""
    async with services(request).db.write() as tx:
        key = await featured_tags.do_unfeature_tag(tx, viewer, name)
    return await _featuring_json(request, viewer, key)


# --- Endorsements (Mastodon 4.4's names for pin and unpin) ---


@router.post("/api/v1/accounts/{account_id}/endorse", responses=answers(schema.Relationship))
async def endorse(
    request: Request, account_id: Id, viewer: Viewer = Depends(user("write:accounts"))
) -> JSON:
    """Feature an account one follows on one's profile."""
    async with services(request).db.write() as tx:
        await personal.do_endorse(tx, viewer, account_id)
    return await relationship_json(request, viewer, account_id)


@router.post("/api/v1/accounts/{account_id}/unendorse", responses=answers(schema.Relationship))
async def unendorse(
    request: Request, account_id: Id, viewer: Viewer = Depends(user("write:accounts"))
) -> JSON:
    """Stop featuring an account on one's profile."""
    async with services(request).db.write() as tx:
        await personal.do_unendorse(tx, viewer, account_id)
    return await relationship_json(request, viewer, account_id)


@router.get("/api/v1/accounts/{account_id}/endorsements", responses=answers(list[schema.Account]))
async def account_endorsements(
    request: Request,
    account_id: Id,
    viewer: Viewer = Depends(optional("read:accounts")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    """The accounts an account features on its profile (none shown when it
    hides its collections, except to itself)."""
    page = params.page(max_limit=80, default_limit=40)
    async with services(request).db.read() as conn:
        owner = await privacy.check_account(conn, viewer, account_id)
        if owner.value["hide_collections"] and viewer.account_id != account_id:
            return JSON([])
        rows, newest, oldest = await graph_queries.endorsed_by(conn, viewer, account_id, page)
    return await accounts_page(request, rows, newest, oldest)


# --- Several accounts, and familiar followers ---


class AccountsParams(Params):
    id: Ids = Field(default=[], description="The accounts' ids (the first 40 are read)")


@router.get("/api/v1/accounts", responses=answers(list[schema.Account]))
async def many_accounts(
    request: Request,
    viewer: Viewer = Depends(optional("read:accounts")),
    params: AccountsParams = Depends(query(AccountsParams)),
) -> JSON:
    """Several accounts at once, in the order asked; unknown or hidden ones are left out."""
    ids = list(dict.fromkeys(params.id[:40]))
    svc = services(request)
    async with svc.db.read() as conn:
        by_id = await account_queries.visible_accounts_by_id(conn, viewer, ids)
    base = svc.settings.base_url
    return JSON([serializers.account(as_account(by_id[i]), base) for i in ids if i in by_id])


async def _query_and_json(request: Request) -> dict[str, Any]:
    """The query string, and a JSON body even on GET: Mastodon.py sends the
    familiar followers' ids so, and Rails reads them."""
    params = nest(request.query_params.multi_items())
    if "application/json" in request.headers.get("content-type", ""):
        raw = await request.body()
        try:
            data = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            raise Invalid("The request body is not valid JSON") from None
        if isinstance(data, dict):
            params.update(data)
    return params


_IDS_ANYWHERE = Reader(AccountsParams, "query", read=_query_and_json)


@router.get(
    "/api/v1/accounts/familiar_followers", responses=answers(list[shapes.FamiliarFollowers])
)
async def familiar_followers(
    request: Request,
    viewer: Viewer = Depends(user("read:follows")),
    params: AccountsParams = Depends(_IDS_ANYWHERE),
) -> JSON:
    """For each account: the accounts the viewer follows that follow it."""
    svc = services(request)
    async with svc.db.read() as conn:
        found = await familiar.familiar_followers(conn, viewer, params.id[:40])
    return JSON([entities.familiar(i, rows, svc.settings.base_url) for i, rows in found])


# --- The user's own domain blocks ---


@router.get("/api/v1/domain_blocks", responses=answers(list[str]))
async def domain_block_list(
    request: Request,
    viewer: Viewer = Depends(user("read:blocks")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    """The domains the viewer hides, newest first."""
    page = params.page(max_limit=200, default_limit=100)
    async with services(request).db.read() as conn:
        found, newest, oldest = await domain_blocks.blocked_domains(conn, viewer, page)
    return paged_json(request, list(found), newest, oldest)


class DomainParams(Params):
    domain: Text = Field(default="", description="The domain, e.g. example.org")


@router.post("/api/v1/domain_blocks", responses=answers(schema.Empty, errors=(422,)))
async def block_domain(
    request: Request,
    viewer: Viewer = Depends(user("write:blocks")),
    params: DomainParams = Depends(body(DomainParams)),
) -> JSON:
    """Hide a domain: cut off its accounts, keep them out of timelines and notifications."""
    async with services(request).db.write() as tx:
        await domain_blocks.do_block_domain(tx, viewer, params.domain)
    return JSON({})


@router.delete("/api/v1/domain_blocks", responses=answers(schema.Empty, errors=(422,)))
async def unblock_domain(
    request: Request,
    viewer: Viewer = Depends(user("write:blocks")),
    params: DomainParams = Depends(body(DomainParams)),
) -> JSON:
    """Stop hiding a domain."""
    async with services(request).db.write() as tx:
        await domain_blocks.do_unblock_domain(tx, viewer, params.domain)
    return JSON({})
