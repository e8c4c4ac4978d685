"""The rest of the signed-in web app: notifications, search, lists, follow
requests, blocks and mutes, and editing one's profile and preferences.

The same domain queries and actions as the API's routes (notifications,
/api/v2/search, lists, follow_requests, blocks, mutes, update_credentials),
with the browser session's viewer; every account and post shown came
through the privacy policy.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from roost.domain.filters.apply import apply_filters
from roost.domain.graph import actions as graph_actions
from roost.domain.graph import queries as graph_queries
from roost.domain.lists import actions as list_actions
from roost.domain.lists import queries as list_queries
from roost.domain.markers.actions import do_save_markers
from roost.domain.markers.queries import markers_of
from roost.domain.notifications import queries as notification_queries
from roost.domain.privacy import Visible
from roost.domain.search import queries as search_queries
from roost.domain.tags import queries as tag_queries
from roost.domain.types import Account, NotificationView, StatusView
from roost.errors import Invalid, NotFound, RateLimited, RoostError, Unavailable
from roost.web import present
from roost.web.csrf import checked_form
from roost.web.pages.common import page_from
from roost.web.render import render
from roost.web.viewer import WebViewer, services, signed_in

router = APIRouter(include_in_schema=False)

MAX_QUERY_CHARS = 500
NOTIFICATION_WORDS = {
    "mention": "mentioned you",
    "status": "posted",
    "reblog": "boosted your post",
    "follow": "followed you",
    "follow_request": "asked to follow you",
    "favourite": "favourited your post",
    "poll": "'s poll ended",
    "update": "edited a post",
    "moderation_warning": ": the moderators made a decision about your account",
}


def _id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 19:
        raise NotFound()
    return int(raw)


def _cards(rows: list[Visible[Any]], base: str) -> list[present.AccountCard]:
    return [present.account(r.derive(Account.from_row), base) for r in rows]


def noindex() -> dict[str, str]:
    return {"robots": "noindex"}


# Notifications -----------------------------------------------------------------


def _status_of(view: NotificationView) -> StatusView:
    """A notification's post, which the policy cleared with it."""
    assert view.status is not None
    return view.status


@router.get("/web/notifications")
async def notifications(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    svc = services(request)
    base = svc.settings.base_url
    async with svc.db.read() as conn:
        found, newest, oldest = await notification_queries.notification_list(
            conn, web.viewer, page_from(request)
        )
        marker = (await markers_of(conn, web.viewer, ["notifications"])).get("notifications")
    read_up_to = marker.last_read_id if marker is not None else 0
    items = []
    for cleared in found:
        view = cleared.value
        post = None
        if view.status is not None:
            post = present.post(cleared.derive(_status_of), base)
        items.append(
            {
                "id": view.id,
                "type": view.type,
                "words": NOTIFICATION_WORDS.get(view.type, view.type.replace("_", " ")),
                "account": present.account_card(view.account, base),
                "created_at": view.created_at,
                "post": post,
                "unread": view.id > read_up_to,
                "strike": view.warning.id if view.warning is not None else None,
            }
        )
    return render(
        request,
        "app/notifications.html",
        viewer=web,
        title="Notifications",
        items=items,
        newest=newest,
        unread=any(item["unread"] for item in items),
        older=oldest if len(found) >= 20 else None,
        meta=noindex(),
    )


@router.post("/web/notifications/read")
async def mark_read(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    """Everything up to the newest notification shown is read (the
    notifications marker, as apps set it with POST /api/v1/markers)."""
    form = await checked_form(request, web)
    raw = form.get("last_read_id", "")
    last = _id(raw if isinstance(raw, str) else "")
    async with services(request).db.write() as tx:
        await do_save_markers(tx, web.viewer, {"notifications": last})
    return RedirectResponse("/web/notifications", status_code=303)


# Search ------------------------------------------------------------------------


@router.get("/web/search")
async def search(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    svc = services(request)
    base = svc.settings.base_url
    text = request.query_params.get("q", "")[:MAX_QUERY_CHARS].strip()
    accounts: list[present.AccountCard] = []
    posts: list[present.PostItem] = []
    tags: list[str] = []
    if text:
        async with svc.db.read() as conn:
            rows = await search_queries.search_accounts(
                conn, web.viewer, text, local_domain=svc.settings.domain, limit=20
            )
            accounts = _cards(rows, base)
            views = await search_queries.search_statuses(
                conn,
                web.viewer,
                text,
                account_id=None,
                max_id=None,
                min_id=None,
                limit=20,
                offset=0,
            )
            views = await apply_filters(conn, web.viewer, views, None)
            posts = present.posts(views, base)
            tags = [
                t.name for t in await tag_queries.search(conn, web.viewer, text, limit=10, offset=0)
            ]
    return render(
        request,
        "app/search.html",
        viewer=web,
        title=f"Search: {text}" if text else "Search",
        q=text,
        accounts=accounts,
        posts=posts,
        tags=tags,
        meta=noindex(),
    )


# Follow requests, blocks, mutes ------------------------------------------------------


@router.get("/web/follow_requests")
async def follow_requests(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    svc = services(request)
    async with svc.db.read() as conn:
        rows, _newest, _oldest = await graph_queries.pending_requests(
            conn, web.viewer, page_from(request)
        )
    return render(
        request,
        "app/people.html",
        viewer=web,
        title="Follow requests",
        kind="requests",
        people=_cards(rows, svc.settings.base_url),
        meta=noindex(),
    )


async def _answer_request(
    request: Request, web: WebViewer, account_id: str, accept: bool
) -> Response:
    await checked_form(request, web)
    action = graph_actions.do_authorize_request if accept else graph_actions.do_reject_request
    async with services(request).db.write() as tx:
        await action(tx, web.viewer, _id(account_id))
    return RedirectResponse("/web/follow_requests", status_code=303)


@router.post("/web/follow_requests/{account_id}/authorize")
async def authorize(
    request: Request, account_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _answer_request(request, web, account_id, True)


@router.post("/web/follow_requests/{account_id}/reject")
async def reject(
    request: Request, account_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _answer_request(request, web, account_id, False)


@router.get("/web/blocks")
async def blocks(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    svc = services(request)
    async with svc.db.read() as conn:
        rows, _newest, _oldest = await graph_queries.blocked_accounts(
            conn, web.viewer, page_from(request)
        )
    return render(
        request,
        "app/people.html",
        viewer=web,
        title="Blocked accounts",
        kind="blocks",
        people=_cards(rows, svc.settings.base_url),
        meta=noindex(),
    )


@router.get("/web/mutes")
async def mutes(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    svc = services(request)
    async with svc.db.read() as conn:
        rows, _info, _newest, _oldest = await graph_queries.muted_accounts(
            conn, web.viewer, page_from(request)
        )
    return render(
        request,
        "app/people.html",
        viewer=web,
        title="Muted accounts",
        kind="mutes",
        people=_cards(rows, svc.settings.base_url),
        meta=noindex(),
    )


# Lists -------------------------------------------------------------------------------


@router.get("/web/lists")
async def lists(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    return await _lists_page(request, web)


async def _lists_page(
    request: Request, web: WebViewer, *, error: str = "", status: int = 200
) -> Response:
    async with services(request).db.read() as conn:
        owned = await list_queries.lists_of(conn, web.viewer)
    return render(
        request,
        "app/lists.html",
        viewer=web,
        status=status,
        title="Lists",
        lists=owned,
        error=error,
        meta=noindex(),
    )


@router.post("/web/lists")
async def create_list(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    form = await checked_form(request, web)
    title = form.get("title", "")
    try:
        async with services(request).db.write() as tx:
            list_id = await list_actions.do_create_list(
                tx,
                web.viewer,
                list_actions.ListChange(
                    title=title if isinstance(title, str) else "",
                    replies_policy="list",
                    exclusive=False,
                ),
            )
    except Invalid as error:
        return await _lists_page(request, web, error=error.message, status=422)
    return RedirectResponse(f"/web/lists/{list_id}", status_code=303)


async def _list_page(
    request: Request, web: WebViewer, list_id: int, *, error: str = "", status: int = 200
) -> Response:
    svc = services(request)
    base = svc.settings.base_url
    async with svc.db.read() as conn:
        info = await list_queries.owned_list(conn, web.viewer, list_id)
        rows, _newest, _oldest = await list_queries.members(conn, web.viewer, list_id, None)
    async with svc.db.scope() as reads:
        views = await svc.timelines.list_timeline(reads, web.viewer, list_id, page_from(request))
        views = await apply_filters(reads, web.viewer, views, "home")
    return render(
        request,
        "app/list.html",
        viewer=web,
        status=status,
        title=info.title,
        info=info,
        members=_cards(rows, base),
        posts=present.posts(views, base),
        error=error,
        meta=noindex(),
    )


@router.get("/web/lists/{list_id}")
async def list_page(
    request: Request, list_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _list_page(request, web, _id(list_id))


@router.post("/web/lists/{list_id}/delete")
async def delete_list(
    request: Request, list_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    await checked_form(request, web)
    async with services(request).db.write() as tx:
        await list_actions.do_delete_list(tx, web.viewer, _id(list_id))
    return RedirectResponse("/web/lists", status_code=303)


@router.post("/web/lists/{list_id}/members")
async def add_member(
    request: Request, list_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    form = await checked_form(request, web)
    wanted = _id(list_id)
    raw = form.get("username", "")
    name = (raw if isinstance(raw, str) else "").strip().lstrip("@").split("@", 1)[0]
    svc = services(request)
    from roost.domain.accounts.queries import profile

    try:
        async with svc.db.read() as conn:
            await list_queries.owned_list(conn, web.viewer, wanted)
            try:
                account = await profile(conn, web.viewer, name) if name else None
            except NotFound:
                account = None
        if account is None:
            raise Invalid(f"There is no account @{name} here" if name else "Enter a user name")
        async with svc.db.write() as tx:
            await list_actions.do_add_members(tx, web.viewer, wanted, [account.value.id])
    except NotFound:
        raise
    except RoostError as error:
        if isinstance(error, (Unavailable, RateLimited)):
            raise
        return await _list_page(request, web, wanted, error=error.message, status=422)
    return RedirectResponse(f"/web/lists/{wanted}", status_code=303)


@router.post("/web/lists/{list_id}/members/{account_id}/remove")
async def remove_member(
    request: Request, list_id: str, account_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    await checked_form(request, web)
    wanted = _id(list_id)
    async with services(request).db.write() as tx:
        await list_actions.do_remove_members(tx, web.viewer, wanted, [_id(account_id)])
    return RedirectResponse(f"/web/lists/{wanted}", status_code=303)


# Profile and preferences -----------------------------------------------------------------
