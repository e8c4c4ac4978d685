"""/api/v1/statuses: posting, editing, deleting, and acting on posts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import optional, services, user
from roost.api.mastodon import serializers
from roost.api.mastodon._common import PageParams, accounts_page
from roost.api.params import Params, id_list, parse, parse_id, read_params
from roost.api.responses import JSON, paged_json
from roost.db.engine import Tx
from roost.db.tables import bookmarks, favourites
from roost.domain.accounts.queries import user_settings
from roost.domain.filters.apply import THREAD, apply_filters
from roost.domain.statuses import actions, queries
from roost.domain.types import StatusEdit, Viewer, Visibility
from roost.errors import Invalid

router = APIRouter()


class StatusParams(Params):
    status: str = ""
    in_reply_to_id: int | None = None
    media_ids: list[str | int] | str | int | None = None
    poll: dict[str, object] | None = None
    sensitive: bool = False
    spoiler_text: str = Field(default="", max_length=1000)
    visibility: str | None = None
    language: str | None = Field(default=None, max_length=16)
    scheduled_at: str | None = None


def _visibility(name: str | None, default: str) -> Visibility:
    try:
        return Visibility.parse(name or default)
    except ValueError:
        raise Invalid(f"Validation failed: unknown visibility {name!r}") from None


def _media_ids(raw: list[str | int] | str | int | None) -> tuple[int, ...] | None:
    """``media_ids[]`` as given (None when absent); a malformed id is refused."""
    if raw is None:
        return None
    values = raw if isinstance(raw, list) else [raw]
    ids = [str(v).strip() for v in values if str(v).strip()]
    if not all(v.isdigit() and len(v) <= 19 for v in ids):
        raise Invalid("Validation failed: media_ids must be attachment ids")
    return tuple(int(v) for v in ids)


def _refuse_unsupported(params: StatusParams) -> None:
    if params.poll:
        raise Invalid("Validation failed: polls are not supported by this server yet")
    if params.scheduled_at:
        raise Invalid("Validation failed: scheduled posts are not supported by this server yet")


async def _status_json(request: Request, viewer: Viewer, status_id: int) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        view = await queries.status(conn, viewer, status_id)
    return JSON(serializers.status(view, svc.settings.base_url))


@router.post("/api/v1/statuses")
async def create_status(request: Request, viewer: Viewer = Depends(user("write:statuses"))) -> JSON:
    params = await parse(request, StatusParams)
    _refuse_unsupported(params)
    svc = services(request)
    assert viewer.account_id is not None
    async with svc.db.read() as conn:
        prefs = await user_settings(conn, viewer.account_id)
    default_visibility = prefs.default_visibility if prefs else "public"
    new = actions.NewStatus(
        text=params.status,
        visibility=_visibility(params.visibility, default_visibility),
        in_reply_to_id=params.in_reply_to_id,
        spoiler_text=params.spoiler_text,
        sensitive=params.sensitive,
        language=params.language or (prefs.default_language if prefs else None),
        idempotency_key=(request.headers.get("idempotency-key") or None),
        application_id=viewer.application_id,
        media_ids=_media_ids(params.media_ids) or (),
    )
    async with svc.db.write() as tx:
        status_id = await actions.do_create_status(
            tx,
            viewer,
            new,
            base_url=svc.settings.base_url,
            max_chars=svc.settings.max_post_chars,
        )
    return await _status_json(request, viewer, status_id)


@router.get("/api/v1/statuses")
async def get_many(request: Request, viewer: Viewer = Depends(optional("read:statuses"))) -> JSON:
    ids = id_list((await read_params(request)).get("id"))[:40]
    svc = services(request)
    async with svc.db.read() as conn:
        views = await queries.statuses_by_ids(conn, viewer, ids)
    return JSON([serializers.status(v, svc.settings.base_url) for v in views])


@router.get("/api/v1/statuses/{status_id}")
async def get_status(
    request: Request, status_id: str, viewer: Viewer = Depends(optional("read:statuses"))
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        view = await queries.status(conn, viewer, parse_id(status_id))
        # Matching filters are attached (apps decide); a single post is never hidden.
        (view,) = await apply_filters(conn, viewer, [view], None)
    return JSON(serializers.status(view, svc.settings.base_url))


@router.delete("/api/v1/statuses/{status_id}")
async def delete_status(
    request: Request, status_id: str, viewer: Viewer = Depends(user("write:statuses"))
) -> JSON:
    sid = parse_id(status_id)
    svc = services(request)
    async with svc.db.read() as conn:
        before = await queries.status(conn, viewer, sid)
    async with svc.db.write() as tx:
        await actions.do_delete_status(tx, viewer, sid)
    return JSON(serializers.status_with_source(before, svc.settings.base_url))


class EditParams(Params):
    status: str = ""
    spoiler_text: str | None = Field(default=None, max_length=1000)
    sensitive: bool | None = None
    language: str | None = Field(default=None, max_length=16)
    media_ids: list[str | int] | str | int | None = None
    poll: dict[str, object] | None = None


@router.put("/api/v1/statuses/{status_id}")
async def edit_status(
    request: Request, status_id: str, viewer: Viewer = Depends(user("write:statuses"))
) -> JSON:
    sid = parse_id(status_id)
    params = await parse(request, EditParams)
    if params.poll:
        raise Invalid("Validation failed: polls are not supported by this server yet")
    svc = services(request)
    async with svc.db.write() as tx:
        await actions.do_edit_status(
            tx,
            viewer,
            sid,
            actions.StatusChange(
                text=params.status,
                spoiler_text=params.spoiler_text,
                sensitive=params.sensitive,
                language=params.language,
                media_ids=_media_ids(params.media_ids),
            ),
            base_url=svc.settings.base_url,
            max_chars=svc.settings.max_post_chars,
        )
    return await _status_json(request, viewer, sid)


@router.get("/api/v1/statuses/{status_id}/history")
async def history(
    request: Request, status_id: str, viewer: Viewer = Depends(optional("read:statuses"))
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        view, edits = await queries.history(conn, viewer, parse_id(status_id))
    if not edits:
        # Never edited: the history is the post as it stands.
        s = view.value.status
        edits = [
            StatusEdit(
                text=s.text,
                content=s.content,
                spoiler_text=s.spoiler_text,
                sensitive=s.sensitive,
                created_at=s.created_at,
            )
        ]
    return JSON([serializers.status_edit(e, view, svc.settings.base_url) for e in edits])


@router.get("/api/v1/statuses/{status_id}/source")
async def source(
    request: Request, status_id: str, viewer: Viewer = Depends(user("read:statuses"))
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        view = await queries.status(conn, viewer, parse_id(status_id))
    return JSON(serializers.status_source(view))


@router.get("/api/v1/statuses/{status_id}/context")
async def context(
    request: Request, status_id: str, viewer: Viewer = Depends(optional("read:statuses"))
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        ancestors, descendants = await queries.context(conn, viewer, parse_id(status_id))
        ancestors = await apply_filters(conn, viewer, ancestors, THREAD)
        descendants = await apply_filters(conn, viewer, descendants, THREAD)
    base = svc.settings.base_url
    return JSON(
        {
            "ancestors": [serializers.status(v, base) for v in ancestors],
            "descendants": [serializers.status(v, base) for v in descendants],
        }
    )


Action = Callable[[Tx, Viewer, int], Awaitable[int]]


def _interaction(path: str, scope: str, action: Action) -> None:
    async def endpoint(
        request: Request, status_id: str, viewer: Viewer = Depends(user(scope))
    ) -> JSON:
        async with services(request).db.write() as tx:
            shown = await action(tx, viewer, parse_id(status_id))
        return await _status_json(request, viewer, shown)

    endpoint.__name__ = path.replace("/", "_")
    router.add_api_route(f"/api/v1/statuses/{{status_id}}/{path}", endpoint, methods=["POST"])


_interaction("favourite", "write:favourites", actions.do_favourite)
_interaction("unfavourite", "write:favourites", actions.do_unfavourite)
_interaction("bookmark", "write:bookmarks", actions.do_bookmark)
_interaction("unbookmark", "write:bookmarks", actions.do_unbookmark)
_interaction("pin", "write:accounts", actions.do_pin)
_interaction("unpin", "write:accounts", actions.do_unpin)
_interaction("unreblog", "write:statuses", actions.do_unreblog)


class ReblogParams(Params):
    visibility: str | None = None


@router.post("/api/v1/statuses/{status_id}/reblog")
async def reblog(
    request: Request, status_id: str, viewer: Viewer = Depends(user("write:statuses"))
) -> JSON:
    params = await parse(request, ReblogParams)
    async with services(request).db.write() as tx:
        boost_id = await actions.do_reblog(
            tx, viewer, parse_id(status_id), _visibility(params.visibility, "public")
        )
    return await _status_json(request, viewer, boost_id)


async def _who(request: Request, status_id: str, viewer: Viewer, kind: str) -> JSON:
    page = (await parse(request, PageParams)).page(max_limit=80, default_limit=40)
    svc = services(request)
    async with svc.db.read() as conn:
        rows, newest, oldest = await queries.interacting_accounts(
            conn, viewer, parse_id(status_id), kind, page
        )
    return accounts_page(request, rows, newest, oldest)


@router.get("/api/v1/statuses/{status_id}/favourited_by")
async def favourited_by(
    request: Request, status_id: str, viewer: Viewer = Depends(optional("read:accounts"))
) -> JSON:
    return await _who(request, status_id, viewer, "favourited_by")


@router.get("/api/v1/statuses/{status_id}/reblogged_by")
async def reblogged_by(
    request: Request, status_id: str, viewer: Viewer = Depends(optional("read:accounts"))
) -> JSON:
    return await _who(request, status_id, viewer, "reblogged_by")


async def _own_list(request: Request, viewer: Viewer, table: object) -> JSON:
    page = (await parse(request, PageParams)).page()
    svc = services(request)
    async with svc.db.read() as conn:
        views, newest, oldest = await queries.interaction_list(conn, viewer, table, page)
    items = [serializers.status(v, svc.settings.base_url) for v in views]
    return paged_json(request, items, newest, oldest)


@router.get("/api/v1/favourites")
async def favourites_list(
    request: Request, viewer: Viewer = Depends(user("read:favourites"))
) -> JSON:
    return await _own_list(request, viewer, favourites)


@router.get("/api/v1/bookmarks")
async def bookmarks_list(
    request: Request, viewer: Viewer = Depends(user("read:bookmarks"))
) -> JSON:
    return await _own_list(request, viewer, bookmarks)
