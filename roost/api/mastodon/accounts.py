"""/api/v1/accounts: sign-up, profiles, a person's posts, follows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlalchemy import func, select

from roost.api.auth import app_or_user, optional, services, user
from roost.api.mastodon import serializers, uploads
from roost.api.mastodon._common import (
    PageParams,
    accounts_page,
    as_account,
    flag,
    relationship_json,
)
from roost.api.params import Params, id_list, parse, parse_id, read_params
from roost.api.responses import JSON, paged_json
from roost.config import Registrations
from roost.db.tables import accounts, follow_requests
from roost.domain import privacy
from roost.domain.accounts import actions as account_actions
from roost.domain.accounts.queries import user_settings
from roost.domain.filters.apply import ACCOUNT, apply_filters
from roost.domain.graph import actions as graph_actions
from roost.domain.graph import queries as graph_queries
from roost.domain.oauth.actions import do_issue_token
from roost.domain.search import queries as search_queries
from roost.domain.statuses import queries as status_queries
from roost.domain.types import Viewer
from roost.errors import Forbidden, Invalid, NotFound

router = APIRouter()


class SignUp(Params):
    username: str = Field(max_length=30)
    email: str = Field(max_length=320)
    password: str = Field(max_length=1000)
    agreement: bool = False
    locale: str = "en"
    reason: str | None = Field(default=None, max_length=1000)


@router.post("/api/v1/accounts")
async def sign_up(
    request: Request, viewer: Viewer = Depends(app_or_user("write:accounts"))
) -> JSON:
    svc = services(request)
    mode = svc.settings.registrations
    if mode == Registrations.CLOSED:
        raise Forbidden("Registrations are closed on this server")
    if viewer.account_id is not None:
        raise Forbidden("You are already signed in")
    params = await parse(request, SignUp)
    if not params.agreement:
        raise Invalid("Validation failed: Agreement must be accepted")
    async with svc.db.write() as tx:
        account_id = await account_actions.do_create_account(
            tx,
            account_actions.NewAccount(
                username=params.username,
                email=params.email,
                password=params.password,
                approved=mode == Registrations.OPEN,
                reason=params.reason,
                locale=params.locale[:16],
            ),
        )
        issued = await do_issue_token(tx, account_id, viewer.application_id, viewer.scopes)
    return JSON(
        {
            "access_token": issued.token,
            "token_type": "Bearer",
            "scope": " ".join(sorted(issued.scopes)),
            "created_at": issued.created_at_epoch,
        }
    )


async def credential_json(request: Request, viewer: Viewer) -> dict[str, Any]:
    svc = services(request)
    assert viewer.account_id is not None
    async with svc.db.read() as conn:
        me = await privacy.check_account(conn, viewer, viewer.account_id)
        settings = await user_settings(conn, viewer.account_id)
        pending = (
            await conn.execute(
                select(func.count())
                .select_from(follow_requests)
                .where(follow_requests.c.target_account_id == viewer.account_id)
            )
        ).scalar_one()
    assert settings is not None
    return serializers.credential_account(
        as_account(me),
        svc.settings.base_url,
        privacy=settings.default_visibility,
        sensitive=settings.default_sensitive,
        language=settings.default_language,
        follow_requests_count=int(pending),
    )


@router.get("/api/v1/accounts/verify_credentials")
async def verify_credentials(
    request: Request, viewer: Viewer = Depends(user(("read:accounts", "profile")))
) -> JSON:
    return JSON(await credential_json(request, viewer))


class ProfileParams(Params):
    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None
    hide_collections: bool | None = None
    fields_attributes: dict[str, dict[str, str]] | list[dict[str, str]] | None = None
    source: dict[str, Any] | None = None


@router.patch("/api/v1/accounts/update_credentials")
async def update_credentials(
    request: Request, viewer: Viewer = Depends(user("write:accounts"))
) -> JSON:
    # Read first: the size limits must be checked before the form is parsed.
    images = await uploads.profile_uploads(request)
    params = await parse(request, ProfileParams)
    fields = None
    if params.fields_attributes is not None:
        entries = (
            list(params.fields_attributes.values())
            if isinstance(params.fields_attributes, dict)
            else params.fields_attributes
        )
        fields = [(e.get("name", ""), e.get("value", "")) for e in entries]
    source = params.source or {}
    change = account_actions.ProfileChange(
        display_name=params.display_name,
        note=params.note,
        locked=params.locked,
        bot=params.bot,
        discoverable=params.discoverable,
        indexable=params.indexable,
        hide_collections=params.hide_collections,
        fields=fields,
        default_visibility=source.get("privacy"),
        default_sensitive=flag(source["sensitive"]) if "sensitive" in source else None,
        default_language=source.get("language"),
    )
    assert viewer.account_id is not None
    async with services(request).db.write() as tx:
        await account_actions.do_update_profile(tx, viewer.account_id, change)
    await uploads.set_profile_images(request, viewer, images)
    return JSON(await credential_json(request, viewer))


@router.get("/api/v1/accounts/lookup")
async def lookup(request: Request, viewer: Viewer = Depends(optional("read:accounts"))) -> JSON:
    acct = (request.query_params.get("acct") or "").strip().lstrip("@")
    username, _, domain = acct.partition("@")
    svc = services(request)
    if not username or (domain and domain.lower() != svc.settings.domain):
        raise NotFound()
    async with svc.db.read() as conn:
        rows = await privacy.visible_accounts(
            conn, viewer, select(accounts).where(accounts.c.username_key == username.lower())
        )
    if not rows:
        raise NotFound()
    return JSON(serializers.account(as_account(rows[0]), svc.settings.base_url))


@router.get("/api/v1/accounts/relationships")
async def relationships(request: Request, viewer: Viewer = Depends(user("read:follows"))) -> JSON:
    params = await read_params(request)
    ids = id_list(params.get("id"))
    async with services(request).db.read() as conn:
        rels = await graph_queries.relationships(conn, viewer, ids)
    return JSON([serializers.relationship(r) for r in rels])


class AccountSearchParams(Params):
    q: str = ""
    limit: int = 40
    offset: int = Field(default=0, ge=0)
    following: bool = False
    resolve: bool = False


@router.get("/api/v1/accounts/search")
async def search_accounts(
    request: Request, viewer: Viewer = Depends(optional("read:accounts"))
) -> JSON:
    params = await parse(request, AccountSearchParams)
    svc = services(request)
    async with svc.db.read() as conn:
        rows = await search_queries.search_accounts(
            conn,
            viewer,
            params.q[:500],
            local_domain=svc.settings.domain,
            following=params.following,
            limit=min(max(params.limit, 1), 80),
            offset=params.offset,
        )
    return JSON([serializers.account(as_account(r), svc.settings.base_url) for r in rows])


@router.get("/api/v1/accounts/{account_id}")
async def get_account(
    request: Request, account_id: str, viewer: Viewer = Depends(optional("read:accounts"))
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        row = await privacy.check_account(conn, viewer, parse_id(account_id))
    return JSON(serializers.account(as_account(row), svc.settings.base_url))


class AccountStatusesParams(PageParams):
    exclude_replies: bool = False
    exclude_reblogs: bool = False
    only_media: bool = False
    pinned: bool = False
    tagged: str | None = None


@router.get("/api/v1/accounts/{account_id}/statuses")
async def account_statuses(
    request: Request, account_id: str, viewer: Viewer = Depends(optional("read:statuses"))
) -> JSON:
    params = await parse(request, AccountStatusesParams)
    page = params.page()
    target = parse_id(account_id)
    svc = services(request)
    async with svc.db.read() as conn:
        await privacy.check_account(conn, viewer, target)
        query = status_queries.account_statuses_query(
            target,
            exclude_replies=params.exclude_replies,
            exclude_reblogs=params.exclude_reblogs,
            tagged=params.tagged,
            pinned_only=params.pinned,
            only_media=params.only_media,
        )
        views = await status_queries.paged(conn, viewer, query, page)
        shown = await apply_filters(conn, viewer, views, ACCOUNT)
    items = [serializers.status(v, svc.settings.base_url) for v in shown]
    ids = [v.value.status.id for v in views]
    return paged_json(request, items, ids[0] if ids else None, ids[-1] if ids else None)


class FollowParams(Params):
    reblogs: bool | None = None
    notify: bool | None = None


@router.post("/api/v1/accounts/{account_id}/follow")
async def follow(
    request: Request, account_id: str, viewer: Viewer = Depends(user("write:follows"))
) -> JSON:
    params = await parse(request, FollowParams)
    target = parse_id(account_id)
    async with services(request).db.write() as tx:
        await graph_actions.do_follow(
            tx, viewer, target, reblogs=params.reblogs, notify=params.notify
        )
    return await relationship_json(request, viewer, target)


@router.post("/api/v1/accounts/{account_id}/unfollow")
async def unfollow(
    request: Request, account_id: str, viewer: Viewer = Depends(user("write:follows"))
) -> JSON:
    target = parse_id(account_id)
    async with services(request).db.write() as tx:
        await graph_actions.do_unfollow(tx, viewer, target)
    return await relationship_json(request, viewer, target)


@router.post("/api/v1/accounts/{account_id}/remove_from_followers")
async def remove_from_followers(
    request: Request, account_id: str, viewer: Viewer = Depends(user("write:follows"))
) -> JSON:
    target = parse_id(account_id)
    async with services(request).db.write() as tx:
        await graph_actions.do_remove_from_followers(tx, viewer, target)
    return await relationship_json(request, viewer, target)


async def _follow_list(request: Request, account_id: str, viewer: Viewer, direction: str) -> JSON:
    page = (await parse(request, PageParams)).page(max_limit=80, default_limit=40)
    svc = services(request)
    async with svc.db.read() as conn:
        rows, newest, oldest = await graph_queries.follow_list(
            conn, viewer, parse_id(account_id), direction, page
        )
    return accounts_page(request, rows, newest, oldest)


@router.get("/api/v1/accounts/{account_id}/followers")
async def followers(
    request: Request, account_id: str, viewer: Viewer = Depends(optional("read:accounts"))
) -> JSON:
    return await _follow_list(request, account_id, viewer, "followers")


@router.get("/api/v1/accounts/{account_id}/following")
async def following(
    request: Request, account_id: str, viewer: Viewer = Depends(optional("read:accounts"))
) -> JSON:
    return await _follow_list(request, account_id, viewer, "following")
