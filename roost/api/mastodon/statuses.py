"""/api/v1/statuses: posting, editing, deleting, and acting on posts."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BeforeValidator, Field

from roost.api.auth import optional, services, user
from roost.api.mastodon import scheduled, schema, serializers
from roost.api.mastodon._common import PageParams, accounts_page
from roost.api.openapi import answers
from roost.api.params import Id, Ids, Many, OptionalId, Params, Words, body, query
from roost.api.responses import JSON, paged_json
from roost.db.engine import Tx
from roost.domain.accounts.queries import posting_defaults
from roost.domain.federation import replies
from roost.domain.federation.mentions import resolve_mentions
from roost.domain.filters.apply import THREAD, apply_filters
from roost.domain.media.actions import MediaChange, parse_focus
from roost.domain.polls.actions import NewPoll
from roost.domain.quotes.rules import DEFAULT_POLICY
from roost.domain.statuses import actions, queries, written
from roost.domain.statuses.marked import marked_page
from roost.domain.statuses.thread import thread_context
from roost.domain.types import StatusEdit, Viewer, Visibility
from roost.errors import NotFound, RuleBroken

router = APIRouter()


class PollParams(Params):
    """``poll[options][]``, ``poll[expires_in]``, ``poll[multiple]``, ``poll[hide_totals]``."""

    options: Many[str] = Field(default=[], description="2 to 4 options, 50 characters each")
    expires_in: int | None = Field(default=None, description="Seconds, 300 to 2629746")
    multiple: bool = False
    hide_totals: bool = False

    def new_poll(self) -> NewPoll:
        if self.expires_in is None:
            raise RuleBroken("Poll expires_in can't be blank")
        return NewPoll(
            options=tuple(self.options),
            expires_in=self.expires_in,
            multiple=self.multiple,
            hide_totals=self.hide_totals,
        )


def _poll(params: PollParams | None) -> NewPoll | None:
    return None if params is None else params.new_poll()


class StatusParams(Params):
    status: Words = Field(default="", description="The text of the post")
    in_reply_to_id: OptionalId = None
    media_ids: Ids | None = Field(default=None, description="Attachments, at most 4")
    poll: PollParams | None = None
    sensitive: bool = False
    spoiler_text: Words = Field(default="", max_length=1000)
    visibility: str | None = Field(default=None, description="public, unlisted, private, direct")
    language: str | None = Field(default=None, max_length=16)
    scheduled_at: str | None = Field(
        default=None, description="ISO 8601, at least 5 minutes ahead: kept until then"
    )
    quoted_status_id: OptionalId = Field(default=None, description="The post this one quotes")
    quote_approval_policy: str | None = Field(
        default=None, description="Who may quote this post: public, followers or nobody"
    )


def _visibility(name: str | None, default: str) -> Visibility:
    try:
        return Visibility.parse(name or default)
    except ValueError:
        raise RuleBroken(f"unknown visibility {name!r}") from None


def _media_ids(ids: list[int] | None) -> tuple[int, ...] | None:
    """``media_ids[]`` as given (None when absent: an edit keeps the media)."""
    return None if ids is None else tuple(ids)


async def _status_json(request: Request, viewer: Viewer, status_id: int) -> JSON:
    # Not through the feed presenter: the answer to a write must not put the
    # post into the caches of shared parts (an edit's old entry is gone, a
    # post whose key is gone is not kept) before a page reads it.
    svc = services(request)
    async with svc.db.read() as conn:
        view = await queries.status(conn, viewer, status_id)
    return JSON(serializers.status(view, svc.settings.base_url))


@router.post(
    "/api/v1/statuses",
    # A ScheduledStatus instead when ``scheduled_at`` is given (as on Mastodon).
    responses=answers(schema.Status | schema.ScheduledStatus),
)
async def create_status(
    request: Request,
    viewer: Viewer = Depends(user("write:statuses")),
    params: StatusParams = Depends(body(StatusParams)),
    idempotency_key: Annotated[
        str | None, Header(description="Makes a retried post one post")
    ] = None,
) -> JSON:
    svc = services(request)
    assert viewer.account_id is not None
    prefs = await posting_defaults(svc.db.fast, viewer.account_id)
    default_visibility = prefs.visibility if prefs else "public"
    new = actions.NewStatus(
        text=params.status,
        visibility=_visibility(params.visibility, default_visibility),
        in_reply_to_id=params.in_reply_to_id,
        spoiler_text=params.spoiler_text,
        sensitive=params.sensitive,
        language=params.language or (prefs.language if prefs else None),
        idempotency_key=idempotency_key or None,
        application_id=viewer.application_id,
        media_ids=_media_ids(params.media_ids) or (),
        poll=_poll(params.poll),
        quoted_status_id=params.quoted_status_id,
        quote_policy=params.quote_approval_policy or None,
        author_quote_policy=((prefs.quote_policy or DEFAULT_POLICY) if prefs is not None else None),
    )
    if params.scheduled_at:
        return await scheduled.schedule(request, viewer, new, params.scheduled_at)
    # Accounts of other servers it mentions, stored first (bounded lookups).
    await resolve_mentions(svc.db, svc.settings, params.status)
    async with svc.db.write() as tx:
        created = await actions.do_create_status_parts(
            tx,
            viewer,
            new,
            base_url=svc.settings.base_url,
            max_chars=svc.settings.max_post_chars,
        )
    if created.parts is None:  # an earlier post of the same Idempotency-Key
        return await _status_json(request, viewer, created.status_id)
    # As GET /api/v1/statuses/:id shows it to the author, made from what the
    # write produced and the few reads it cannot know (see the module). No
    # filters: they never match their owner's own posts.
    async with svc.db.scope() as reads:
        view = await written.answer(reads, viewer, created)
    return JSON(serializers.status(view, svc.settings.base_url))


class ManyParams(Params):
    id: Ids = Field(default=[], description="The posts' ids (the first 40 are read)")


@router.get("/api/v1/statuses", responses=answers(list[schema.Status]))
async def get_many(
    request: Request,
    viewer: Viewer = Depends(optional("read:statuses")),
    params: ManyParams = Depends(query(ManyParams)),
) -> JSON:
    ids = params.id[:40]
    svc = services(request)
    async with svc.db.read() as conn:
        views = await queries.statuses_by_ids(conn, viewer, ids)
    return JSON([serializers.status(v, svc.settings.base_url) for v in views])


@router.get("/api/v1/statuses/{status_id}", responses=answers(schema.Status))
async def get_status(
    request: Request, status_id: Id, viewer: Viewer = Depends(optional("read:statuses"))
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        view = await queries.status(conn, viewer, status_id)
        # Matching filters are attached (apps decide); a single post is never hidden.
        (view,) = await apply_filters(conn, viewer, [view], None)
    return JSON(serializers.status(view, svc.settings.base_url))


class DeleteParams(Params):
    delete_media: bool = Field(
        default=False, description="Remove the post's media now, not after a day of grace"
    )


@router.delete("/api/v1/statuses/{status_id}", responses=answers(schema.Status))
async def delete_status(
    request: Request,
    status_id: Id,
    viewer: Viewer = Depends(user("write:statuses")),
    params: DeleteParams = Depends(body(DeleteParams)),
) -> JSON:
    """Delete a post (answering its source, for redraft), or undo one of the
    viewer's own boosts (answering the boost, its original as it now stands)."""
    sid = status_id
    svc = services(request)
    async with svc.db.read() as conn:
        before = await queries.status(conn, viewer, sid)
    async with svc.db.write() as tx:
        await actions.do_delete_status(tx, viewer, sid, delete_media=params.delete_media)
    boosted = before.value.reblog
    if boosted is not None:
        async with svc.db.read() as conn:
            with contextlib.suppress(NotFound):  # deleted meanwhile: shown as it was
                original = await queries.status(conn, viewer, boosted.status.id)
                before = before.derive(lambda boost: replace(boost, reblog=original.value))
    return JSON(serializers.status_with_source(before, svc.settings.base_url))


class MediaAttribute(Params):
    """One of ``media_attributes[][id]``, ``[description]``, ``[focus]``."""

    id: Id
    description: Words | None = None
    focus: str | None = Field(default=None, description="x,y, each from -1.0 to 1.0")
    thumbnail: str | None = Field(default=None, description="Not supported (ignored)")


def _records(value: object) -> object:
    """A form may number its records (``a[0][id]=``), which reads as a dict."""
    return list(value.values()) if isinstance(value, dict) else value


class EditParams(Params):
    status: Words = ""
    spoiler_text: Words | None = Field(default=None, max_length=1000)
    sensitive: bool | None = None
    language: str | None = Field(default=None, max_length=16)
    media_ids: Ids | None = Field(default=None, description="Absent: the media stay as they are")
    media_attributes: Annotated[list[MediaAttribute] | None, BeforeValidator(_records)] = Field(
        default=None, description="Alt text and focus of the post's media, set with the edit"
    )
    poll: PollParams | None = Field(
        default=None, description="The poll after the edit (absent: the post has none)"
    )
    quote_approval_policy: str | None = Field(
        default=None, description="Who may quote this post: public, followers or nobody"
    )


def _media_changes(attributes: list[MediaAttribute] | None) -> tuple[MediaChange, ...]:
    """Alt text and focus for the post's media, as Mastodon takes them with an
    edit. A custom thumbnail is not supported and is ignored, as on
    PUT /api/v1/media/:id."""
    return tuple(MediaChange(a.id, a.description, parse_focus(a.focus)) for a in attributes or ())


@router.put("/api/v1/statuses/{status_id}", responses=answers(schema.Status))
async def edit_status(
    request: Request,
    status_id: Id,
    viewer: Viewer = Depends(user("write:statuses")),
    params: EditParams = Depends(body(EditParams)),
) -> JSON:
    sid = status_id
    svc = services(request)
    await resolve_mentions(svc.db, svc.settings, params.status)
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
                media_changes=_media_changes(params.media_attributes),
                poll=_poll(params.poll),
                replace_poll=True,
                quote_policy=params.quote_approval_policy or None,
            ),
            base_url=svc.settings.base_url,
            max_chars=svc.settings.max_post_chars,
        )
    return await _status_json(request, viewer, sid)


@router.get("/api/v1/statuses/{status_id}/history", responses=answers(list[schema.StatusEdit]))
async def history(
    request: Request, status_id: Id, viewer: Viewer = Depends(optional("read:statuses"))
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        view, edits = await queries.history(conn, viewer, status_id)
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
                poll_options=view.value.poll.options if view.value.poll else None,
                media=tuple(view.value.media),
            )
        ]
    return JSON([serializers.status_edit(e, view, svc.settings.base_url) for e in edits])


@router.get("/api/v1/statuses/{status_id}/source", responses=answers(schema.StatusSource))
async def source(
    request: Request, status_id: Id, viewer: Viewer = Depends(user("read:statuses"))
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        view = await queries.status(conn, viewer, status_id)
    return JSON(serializers.status_source(view))


@router.get("/api/v1/statuses/{status_id}/context", responses=answers(schema.Context))
async def context(
    request: Request, status_id: Id, viewer: Viewer = Depends(optional("read:statuses"))
) -> JSON:
    svc = services(request)
    async with svc.db.scope() as reads:
        ancestors, descendants = await thread_context(reads, viewer, status_id)
        ancestors = await apply_filters(reads, viewer, ancestors, THREAD)
        descendants = await apply_filters(reads, viewer, descendants, THREAD)
    # Another server's post: its replies collection is walked by a job (at
    # most hourly), never while this request waits.
    await replies.context_read(svc.db, svc.settings, viewer, status_id)
    base = svc.settings.base_url
    return JSON(
        {
            "ancestors": [serializers.status(v, base) for v in ancestors],
            "descendants": [serializers.status(v, base) for v in descendants],
        }
    )


Action = Callable[[Tx, Viewer, int], Awaitable[int]]


async def _interact(request: Request, viewer: Viewer, status_id: int, action: Action) -> JSON:
    async with services(request).db.write() as tx:
        shown = await action(tx, viewer, status_id)
    return await _status_json(request, viewer, shown)


@router.post("/api/v1/statuses/{status_id}/favourite", responses=answers(schema.Status))
async def favourite(
    request: Request, status_id: Id, viewer: Viewer = Depends(user("write:favourites"))
) -> JSON:
    return await _interact(request, viewer, status_id, actions.do_favourite)


@router.post("/api/v1/statuses/{status_id}/unfavourite", responses=answers(schema.Status))
async def unfavourite(
    request: Request, status_id: Id, viewer: Viewer = Depends(user("write:favourites"))
) -> JSON:
    return await _interact(request, viewer, status_id, actions.do_unfavourite)


@router.post("/api/v1/statuses/{status_id}/bookmark", responses=answers(schema.Status))
async def bookmark(
    request: Request, status_id: Id, viewer: Viewer = Depends(user("write:bookmarks"))
) -> JSON:
    return await _interact(request, viewer, status_id, actions.do_bookmark)


@router.post("/api/v1/statuses/{status_id}/unbookmark", responses=answers(schema.Status))
async def unbookmark(
    request: Request, status_id: Id, viewer: Viewer = Depends(user("write:bookmarks"))
) -> JSON:
    return await _interact(request, viewer, status_id, actions.do_unbookmark)


@router.post("/api/v1/statuses/{status_id}/pin", responses=answers(schema.Status))
async def pin(
    request: Request, status_id: Id, viewer: Viewer = Depends(user("write:accounts"))
) -> JSON:
    return await _interact(request, viewer, status_id, actions.do_pin)


@router.post("/api/v1/statuses/{status_id}/unpin", responses=answers(schema.Status))
async def unpin(
    request: Request, status_id: Id, viewer: Viewer = Depends(user("write:accounts"))
) -> JSON:
    return await _interact(request, viewer, status_id, actions.do_unpin)


@router.post("/api/v1/statuses/{status_id}/unreblog", responses=answers(schema.Status))
async def unreblog(
    request: Request, status_id: Id, viewer: Viewer = Depends(user("write:statuses"))
) -> JSON:
    return await _interact(request, viewer, status_id, actions.do_unreblog)


class ReblogParams(Params):
    visibility: str | None = Field(default=None, description="public, unlisted or private")


@router.post("/api/v1/statuses/{status_id}/reblog", responses=answers(schema.Status))
async def reblog(
    request: Request,
    status_id: Id,
    viewer: Viewer = Depends(user("write:statuses")),
    params: ReblogParams = Depends(body(ReblogParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        boost_id = await actions.do_reblog(
            tx, viewer, status_id, _visibility(params.visibility, "public")
        )
    return await _status_json(request, viewer, boost_id)


async def _who(
    request: Request, status_id: int, viewer: Viewer, kind: str, params: PageParams
) -> JSON:
    page = params.page(max_limit=80, default_limit=40)
    svc = services(request)
    async with svc.db.read() as conn:
        rows, newest, oldest = await queries.interacting_accounts(
            conn, viewer, status_id, kind, page
        )
    return await accounts_page(request, rows, newest, oldest)


@router.get("/api/v1/statuses/{status_id}/favourited_by", responses=answers(list[schema.Account]))
async def favourited_by(
    request: Request,
    status_id: Id,
    viewer: Viewer = Depends(optional("read:accounts")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    return await _who(request, status_id, viewer, "favourited_by", params)


@router.get("/api/v1/statuses/{status_id}/reblogged_by", responses=answers(list[schema.Account]))
async def reblogged_by(
    request: Request,
    status_id: Id,
    viewer: Viewer = Depends(optional("read:accounts")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    return await _who(request, status_id, viewer, "reblogged_by", params)


async def _own_list(
    request: Request,
    viewer: Viewer,
    kind: queries.Marks,
    params: PageParams,
) -> JSON:
    page = params.page()
    svc = services(request)
    async with svc.db.scope() as reads:
        views, newest, oldest = await marked_page(reads, viewer, kind, page)
    items = [serializers.status(v, svc.settings.base_url) for v in views]
    return paged_json(request, items, newest, oldest)


@router.get("/api/v1/favourites", responses=answers(list[schema.Status]))
async def favourites_list(
    request: Request,
    viewer: Viewer = Depends(user("read:favourites")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    return await _own_list(request, viewer, "favourites", params)


@router.get("/api/v1/bookmarks", responses=answers(list[schema.Status]))
async def bookmarks_list(
    request: Request,
    viewer: Viewer = Depends(user("read:bookmarks")),
    params: PageParams = Depends(query(PageParams)),
) -> JSON:
    return await _own_list(request, viewer, "bookmarks", params)
