"""/api/v1/accounts: sign-up, profiles, a person's posts, follows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.api.auth import app_or_user, client_address, optional, services, user
from roost.api.mastodon import roles, schema, serializers, uploads
from roost.api.mastodon._common import (
    PageParams,
    accounts_json,
    accounts_page,
    as_account,
    relationship_json,
)
from roost.api.openapi import answers
from roost.api.params import (
    Count,
    File,
    Id,
    Ids,
    Offset,
    Params,
    Reader,
    Words,
    body,
    query,
)
from roost.api.responses import JSON, paged_json
from roost.config import Registrations
from roost.domain import privacy
from roost.domain.accounts import actions as account_actions
from roost.domain.accounts import queries as account_queries
from roost.domain.accounts import sign_up as sign_up_rules
from roost.domain.accounts.queries import user_settings
from roost.domain.federation import moves
from roost.domain.filters.apply import ACCOUNT, apply_filters
from roost.domain.graph import actions as graph_actions
from roost.domain.graph import queries as graph_queries
from roost.domain.oauth.actions import do_issue_token
from roost.domain.roles.queries import role_of
from roost.domain.search import queries as search_queries
from roost.domain.statuses.account_pages import account_page
from roost.domain.types import Viewer
from roost.errors import FieldsInvalid, Forbidden, NotFound

router = APIRouter()


class SignUp(Params):
    # Lengths and blanks are the domain's to check: it names every problem
    # of every field at once (the 422's ``details``).
    username: str = ""
    email: str = ""
    password: str = ""
    agreement: bool = False
    locale: str = "en"
    reason: str | None = None
    # An invite lets its holder in whatever the registration mode, as on the
    # web's invite link (roost/domain/accounts/sign_up.py decides).
    invite_code: str | None = None


@router.post("/api/v1/accounts", responses=answers(schema.Token))
async def sign_up(
    request: Request,
    viewer: Viewer = Depends(app_or_user("write:accounts")),
    params: SignUp = Depends(body(SignUp)),
) -> JSON:
    svc = services(request)
    mode = svc.settings.registrations
    if mode == Registrations.CLOSED and not params.invite_code:
        raise Forbidden(sign_up_rules.CLOSED)
    if viewer.account_id is not None:
        raise Forbidden("You are already signed in")
    try:
        async with svc.db.write() as tx:
            signed_up = await sign_up_rules.do_sign_up(
                tx,
                mode,
                sign_up_rules.SignUp(
                    username=params.username,
                    email=params.email,
                    password=params.password,
                    agreement=params.agreement,
                    reason=params.reason,
                    locale=params.locale,
                    address=client_address(request),
                    invite_code=params.invite_code,
                ),
            )
            issued = await do_issue_token(
                tx, signed_up.account_id, viewer.application_id, viewer.scopes
            )
    except FieldsInvalid as error:
        return JSON(serializers.validation_failed(error), status_code=422)
    return JSON(
        {
            "access_token": issued.token,
            "token_type": "Bearer",
            "scope": " ".join(sorted(issued.scopes)),
            "created_at": issued.created_at_epoch,
        }
    )


async def moved_json(
    conn: AsyncConnection, viewer: Viewer, account_id: int, base: str
) -> dict[str, Any] | None:
    """``moved``: the account ``account_id`` moved to, as the viewer may see
    it (roost/domain/federation/moves.py); None when it did not move."""
    target = await moves.moved_to(conn, account_id)
    if target is None:
        return None
    try:
        found = await privacy.check_account(conn, viewer, target)
    except NotFound:
        return None
    return serializers.account(as_account(found), base)


def _show_moved(shown: dict[str, Any], moved: dict[str, Any] | None) -> dict[str, Any]:
    if moved is not None:
        shown["moved"] = moved
    return shown


async def credential_json(request: Request, viewer: Viewer) -> dict[str, Any]:
    svc = services(request)
    assert viewer.account_id is not None
    async with svc.db.read() as conn:
        me = await privacy.check_account(conn, viewer, viewer.account_id)
        settings = await user_settings(conn, viewer.account_id)
        held = await role_of(conn, viewer.account_id)
        pending = await account_queries.pending_follow_requests(conn, viewer.account_id)
        moved = await moved_json(conn, viewer, viewer.account_id, svc.settings.base_url)
    assert settings is not None
    shown = serializers.credential_account(
        as_account(me),
        svc.settings.base_url,
        privacy=settings.default_visibility,
        sensitive=settings.default_sensitive,
        language=settings.default_language,
        quote_policy=settings.default_quote_policy,
        follow_requests_count=int(pending),
    )
    shown["role"] = roles.role(held)
    shown["roles"] = roles.badges(held)
    return _show_moved(shown, moved)


@router.get("/api/v1/accounts/verify_credentials", responses=answers(schema.CredentialAccount))
async def verify_credentials(
    request: Request, viewer: Viewer = Depends(user(("read:accounts", "profile")))
) -> JSON:
    return JSON(await credential_json(request, viewer))


class ProfileField(Params):
    name: Words = ""
    value: Words = ""


class ProfileSource(Params):
    privacy: str | None = None
    sensitive: bool | None = None
    language: str | None = None
    quote_policy: str | None = Field(
        default=None,
        description="Who may quote new posts that name no policy: public, followers or nobody",
    )


class ProfileParams(Params):
    display_name: str | None = None
    note: Words | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None
    hide_collections: bool | None = None
    fields_attributes: list[ProfileField] | dict[str, ProfileField] | None = Field(
        default=None, description="The profile's fields (name and value), in order"
    )
    source: ProfileSource | None = None
    avatar: File = Field(default=None, description="An image (multipart only)")
    header: File = Field(default=None, description="An image (multipart only)")


@router.patch("/api/v1/accounts/update_credentials", responses=answers(schema.CredentialAccount))
async def update_credentials(
    request: Request,
    viewer: Viewer = Depends(user("write:accounts")),
    # An upload's size is checked before the form is parsed (uploads.profile_params).
    params: ProfileParams = Depends(Reader(ProfileParams, "body", uploads.profile_params)),
) -> JSON:
    await apply_profile(request, viewer, params)
    return JSON(await credential_json(request, viewer))


async def apply_profile(request: Request, viewer: Viewer, params: ProfileParams) -> None:
    """The change both update_credentials and PATCH /api/v1/profile make."""
    images = {role: data for role in ("avatar", "header") if (data := getattr(params, role))}
    fields = None
    if params.fields_attributes is not None:
        entries = (
            list(params.fields_attributes.values())
            if isinstance(params.fields_attributes, dict)
            else params.fields_attributes
        )
        fields = [(e.name, e.value) for e in entries]
    source = params.source or ProfileSource()
    change = account_actions.ProfileChange(
        display_name=params.display_name,
        note=params.note,
        locked=params.locked,
        bot=params.bot,
        discoverable=params.discoverable,
        indexable=params.indexable,
        hide_collections=params.hide_collections,
        fields=fields,
        default_visibility=source.privacy,
        default_sensitive=source.sensitive,
        default_language=source.language,
        default_quote_policy=source.quote_policy,
    )
    assert viewer.account_id is not None
    async with services(request).db.write() as tx:
        await account_actions.do_update_profile(tx, viewer.account_id, change)
    await uploads.set_profile_images(request, viewer, images)


class LookupParams(Params):
    acct: str = Field(default="", description="username or username@domain")


@router.get("/api/v1/accounts/lookup", responses=answers(schema.Account, errors=(404,)))
async def lookup(
    request: Request,
    viewer: Viewer = Depends(optional("read:accounts")),
    params: LookupParams = Depends(query(LookupParams)),
) -> JSON:
    acct = params.acct.strip().lstrip("@")
    username, _, domain = acct.partition("@")
    svc = services(request)
    if not username:
        raise NotFound()
    async with svc.db.read() as conn:
        if domain and domain.lower() != svc.settings.domain:
            found = await account_queries.remote_account(conn, viewer, username, domain)
        else:
            found = await account_queries.local_account(conn, viewer, username)
        moved = await moved_json(conn, viewer, found.value.id, svc.settings.base_url)
    return JSON(_show_moved(serializers.account(found, svc.settings.base_url), moved))


class RelationshipsParams(Params):
    id: Ids = Field(default=[], description="The other accounts' ids")


@router.get("/api/v1/accounts/relationships", responses=answers(list[schema.Relationship]))
async def relationships(
    request: Request,
    viewer: Viewer = Depends(user("read:follows")),
    params: RelationshipsParams = Depends(query(RelationshipsParams)),
) -> JSON:
    ids = params.id
    async with services(request).db.read() as conn:
        rels = await graph_queries.relationships(conn, viewer, ids)
    return JSON([serializers.relationship(r) for r in rels])


class AccountSearchParams(Params):
    q: Words = ""
    limit: Count = 40
    offset: Offset = 0
    following: bool = False
    resolve: bool = False


@router.get("/api/v1/accounts/search", responses=answers(list[schema.Account]))
async def search_accounts(
    request: Request,
    viewer: Viewer = Depends(optional("read:accounts")),
    params: AccountSearchParams = Depends(query(AccountSearchParams)),
) -> JSON:
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
    return JSON(await accounts_json(request, rows))


@router.get("/api/v1/accounts/{account_id}", responses=answers(schema.Account))
async def get_account(
    request: Request, account_id: Id, viewer: Viewer = Depends(optional("read:accounts"))
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        row = await privacy.check_account(conn, viewer, account_id)
        held = await role_of(conn, account_id)
        moved = await moved_json(conn, viewer, account_id, svc.settings.base_url)
    shown = serializers.account(as_account(row), svc.settings.base_url)
    shown["roles"] = roles.badges(held)
    return JSON(_show_moved(shown, moved))


class AccountStatusesParams(PageParams):
    exclude_replies: bool = False
    exclude_reblogs: bool = False
    only_media: bool = False
    pinned: bool = False
    tagged: str | None = None


@router.get("/api/v1/accounts/{account_id}/statuses", responses=answers(list[schema.Status]))
async def account_statuses(
    request: Request,
    account_id: Id,
    viewer: Viewer = Depends(optional("read:statuses")),
    params: AccountStatusesParams = Depends(query(AccountStatusesParams)),
) -> JSON:
    page = params.page()
    target = account_id
    svc = services(request)
    async with svc.db.scope() as reads:
        await privacy.check_account_shown(reads.fast, viewer, target)
        views = await account_page(
            reads,
            viewer,
            target,
            page,
            exclude_replies=params.exclude_replies,
            exclude_reblogs=params.exclude_reblogs,
            tagged=params.tagged,
            pinned_only=params.pinned,
            only_media=params.only_media,
        )
        shown = await apply_filters(reads, viewer, views, ACCOUNT)
    items = [serializers.status(v, svc.settings.base_url) for v in shown]
    ids = [v.value.status.id for v in views]
    return paged_json(request, items, ids[0] if ids else None, ids[-1] if ids else None)


class FollowParams(Params):
    reblogs: bool | None = None
    notify: bool | None = None


@router.post("/api/v1/accounts/{account_id}/follow", responses=answers(schema.Relationship))
async def follow(
    request: Request,
    account_id: Id,
    viewer: Viewer = Depends(user("write:follows")),
    params: FollowParams = Depends(body(FollowParams)),
) -> JSON:
    target = account_id
    async with services(request).db.write() as tx:
        await graph_actions.do_follow(
            tx, viewer, target, reblogs=params.reblogs, notify=params.notify
        )
    return await relationship_json(request, viewer, target)


@router.post("/api/v1/accounts/{account_id}/unfollow", responses=answers(schema.Relationship))
async def unfollow(
    request: Request, account_id: Id, viewer: Viewer = Depends(user("write:follows"))
) -> JSON:
    target = account_id
    async with services(request).db.write() as tx:
        await graph_actions.do_unfollow(tx, viewer, target)
    return await relationship_json(request, viewer, target)


@router.post(
    "/api/v1/accounts/{account_id}/remove_from_followers", responses=answers(schema.Relationship)
)
async def remove_from_followers(
    request: Request, account_id: Id, viewer: Viewer = Depends(user("write:follows"))
) -> JSON:
    target = account_id
    async with services(request).db.write() as tx:
        await graph_actions.do_remove_from_followers(tx, viewer, target)
    return await relationship_json(request, viewer, target)


async def _follow_list(
    request: Request, account_id: int, viewer: Viewer, direction: str, params: PageParams
) -> JSON:
    page = params.page(max_limit=80, default_limit=40)
    svc = services(request)
    async with svc.db.read() as conn:
        rows, newest, oldest = await graph_queries.follow_list(
            conn, viewer, account_id, direction, page
        )
    return await accounts_page(request, rows, newest, oldest)


@router.get("/api/v1/accounts/{account_id}/followers", responses=answers(list[schema.Account]))
async def followers(
    request: Request,
    account_id: Id,
    viewer: Viewer = Depends(optional("read:accounts")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    return await _follow_list(request, account_id, viewer, "followers", params)


@router.get("/api/v1/accounts/{account_id}/following", responses=answers(list[schema.Account]))
async def following(
    request: Request,
    account_id: Id,
    viewer: Viewer = Depends(optional("read:accounts")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    return await _follow_list(request, account_id, viewer, "following", params)
