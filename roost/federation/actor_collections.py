"""An actor's collections: outbox, followers, following and featured posts."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.domain.federation import uris
from roost.domain.graph import queries as graph_queries
from roost.domain.privacy import Visible
from roost.domain.statuses import queries as status_queries
from roost.domain.types import StatusView
from roost.federation import documents
from roost.federation.common import (
    activity_type,
    answer,
    enabled,
    in_reply_to,
    json_answer,
    local_account,
    plain_username,
    quote_fields,
    reader,
    services,
)
from roost.paging import Page

log = logging.getLogger("roost.federation")
router = APIRouter(include_in_schema=False)

OUTBOX_PAGE = 20
FOLLOWS_PAGE = 40


# --- Collections -------------------------------------------------------------------


def _max_id(request: Request) -> int | None:
    raw = request.query_params.get("max_id", "")
    return int(raw) if raw.isdigit() and len(raw) <= 19 else None


async def _items(
    conn: AsyncConnection, base: str, domain: str, views: list[Visible[StatusView]]
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for view in views:
        boosted = view.value.reblog
        if boosted is not None:
            boosted_uri = boosted.status.uri or uris.status_uri(
                base, boosted.account.username, boosted.status.id
            )
            items.append(documents.announce(view, base, boosted_uri))
        else:
            parent = await in_reply_to(conn, base, view.value)
            quote = await quote_fields(conn, base, view.value)
            items.append(documents.create(documents.note(view, base, domain, parent, quote)))
    return items


@router.get("/users/{username}/outbox")
async def outbox(request: Request, username: str) -> Response:
    """Public and unlisted posts, newest first, as Create (and Announce for
    boosts) activities, in pages of ``OUTBOX_PAGE``."""
    wanted = activity_type(request)
    if wanted is None:
        return RedirectResponse(f"/@{plain_username(username)}", status_code=302)

    async def make() -> Response:
        settings = enabled(request)
        viewer = await reader(request, settings)
        base = settings.base_url
        async with services(request).db.read() as conn:
            account = (await local_account(conn, viewer, username)).value
            uri = f"{uris.actor_uri(base, account.username)}/outbox"
            if request.query_params.get("page") != "true":
                document = documents.collection(uri, account.statuses_count, f"{uri}?page=true")
                return json_answer(document, wanted)
            query = status_queries.account_statuses_query(
                account.id,
                exclude_replies=False,
                exclude_reblogs=False,
                tagged=None,
                pinned_only=False,
            )
            max_id = _max_id(request)
            views = await status_queries.paged(
                conn, viewer, query, Page(max_id=max_id, limit=OUTBOX_PAGE)
            )
            items = await _items(conn, base, settings.domain, views)
        this = f"{uri}?page=true" + (f"&max_id={max_id}" if max_id else "")
        following = (
            f"{uri}?page=true&max_id={views[-1].value.status.id}"
            if len(views) >= OUTBOX_PAGE
            else None
        )
        return json_answer(documents.collection_page(this, uri, items, following), wanted)

    return await answer(make)


@router.get("/users/{username}/collections/featured")
async def featured(request: Request, username: str) -> Response:
    """The pinned posts, as Notes."""
    wanted = activity_type(request)
    if wanted is None:
        return RedirectResponse(f"/@{plain_username(username)}", status_code=302)

    async def make() -> Response:
        settings = enabled(request)
        viewer = await reader(request, settings)
        base = settings.base_url
        async with services(request).db.read() as conn:
            account = (await local_account(conn, viewer, username)).value
            query = status_queries.account_statuses_query(
                account.id,
                exclude_replies=False,
                exclude_reblogs=True,
                tagged=None,
                pinned_only=True,
            )
            views = await status_queries.paged(conn, viewer, query, Page(limit=40))
            notes = [
                documents.note(
                    v,
                    base,
                    settings.domain,
                    await in_reply_to(conn, base, v.value),
                    await quote_fields(conn, base, v.value),
                )
                for v in views
            ]
        uri = f"{uris.actor_uri(base, account.username)}/collections/featured"
        document = documents.collection(uri, len(notes), None)
        document["@context"] = documents.NOTE_CONTEXT
        document["orderedItems"] = notes
        return json_answer(document, wanted)

    return await answer(make)


async def _follows(request: Request, username: str, direction: str) -> Response:
    """Followers or following: the count always; the accounts, in pages of
    ``FOLLOWS_PAGE``, unless the account hides them."""
    wanted = activity_type(request)
    if wanted is None:
        return RedirectResponse(f"/@{plain_username(username)}", status_code=302)

    async def make() -> Response:
        settings = enabled(request)
        viewer = await reader(request, settings)
        base = settings.base_url
        async with services(request).db.read() as conn:
            account = (await local_account(conn, viewer, username)).value
            uri = f"{uris.actor_uri(base, account.username)}/{direction}"
            total = account.followers_count if direction == "followers" else account.following_count
            if account.hide_collections:
                return json_answer(documents.collection(uri, total, None), wanted)
            if request.query_params.get("page") is None:
                return json_answer(documents.collection(uri, total, f"{uri}?page=1"), wanted)
            max_id = _max_id(request)
            shown, _, oldest = await graph_queries.follow_list(
                conn, viewer, account.id, direction, Page(max_id=max_id, limit=FOLLOWS_PAGE)
            )
        items = [row.value["uri"] or uris.actor_uri(base, row.value["username"]) for row in shown]
        this = f"{uri}?page=1" + (f"&max_id={max_id}" if max_id else "")
        following = (
            f"{uri}?page=1&max_id={oldest}" if oldest and len(shown) >= FOLLOWS_PAGE else None
        )
        document = documents.collection_page(this, uri, items, following)
        document["@context"] = "https://www.w3.org/ns/activitystreams"
        document["totalItems"] = total
        return json_answer(document, wanted)

    return await answer(make)


@router.get("/users/{username}/followers")
async def followers(request: Request, username: str) -> Response:
    return await _follows(request, username, "followers")


@router.get("/users/{username}/following")
async def following(request: Request, username: str) -> Response:
    return await _follows(request, username, "following")
