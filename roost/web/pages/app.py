"""The signed-in web app's daily things: the home and local timelines (new
posts arrive live), composing (content warning, visibility, up to four
images, videos or sounds with alt text, or a poll: pages/polls.py), replying, boosting, favouriting,
bookmarking, deleting one's own post, and following (or blocking, muting)
from a profile.

Every write is the API's own domain action (roost/domain/statuses/actions.py,
roost/domain/media/actions.py, roost/domain/graph/actions.py) with the
browser session's viewer; every read goes through the privacy policy, and the
timelines are the API's (``svc.timelines``) with the viewer's filters. The
buttons are small forms: with htmx the post's card is swapped for its new
state, without it the browser goes back to where it was.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from roost.db.engine import Tx
from roost.domain.accounts.queries import user_settings
from roost.domain.federation.mentions import resolve_mentions
from roost.domain.filters.apply import HOME, PUBLIC, apply_filters
from roost.domain.graph import actions as graph_actions
from roost.domain.media import actions as media_actions
from roost.domain.privacy import Visible
from roost.domain.statuses import actions, queries
from roost.domain.types import StatusView, Viewer, Visibility
from roost.errors import Invalid, NotFound, RateLimited, RoostError, Unavailable
from roost.media.store import media_store
from roost.media.upload_size import size_of
from roost.ops.disk import check_upload_space
from roost.web import present
from roost.web.csrf import checked_form
from roost.web.pages.common import page_from
from roost.web.pages.polls import poll_from_form
from roost.web.render import render
from roost.web.viewer import WebViewer, services, signed_in

router = APIRouter(include_in_schema=False)
log = logging.getLogger("roost.web")

MAX_ATTACHMENTS = 4
_FORM_OVERHEAD = 64 * 1024
VISIBILITIES = (
    ("public", "Public: anyone, on public timelines"),
    ("unlisted", "Unlisted: anyone, kept off public timelines"),
    ("private", "Followers only"),
    ("direct", "Mentioned people only"),
)
TIMELINES = {"home": "Home", "local": "Local"}


def _id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 19:
        raise NotFound()
    return int(raw)


def _back(request: Request, fallback: str) -> str:
    """Where a button's form returns to without htmx: the page it was on."""
    referer = request.headers.get("referer", "")
    parts = urlsplit(referer)
    own = urlsplit(services(request).settings.base_url)
    same_site = parts.netloc in ("", own.netloc, request.url.netloc)
    # A path starting "//" or "/\\" would be read as another host's address.
    local_path = parts.path.startswith("/") and not parts.path.startswith(("//", "/\\"))
    if referer and same_site and local_path:
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return fallback


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def _default_visibility(request: Request, account_id: int) -> str:
    async with services(request).db.read() as conn:
        prefs = await user_settings(conn, account_id)
    return prefs.default_visibility if prefs else "public"


async def _timeline(request: Request, web: WebViewer, name: str) -> list[Visible[StatusView]]:
    svc = services(request)
    page = page_from(request)
    async with svc.db.scope() as reads:
        if name == "home":
            views = await svc.timelines.home(reads, web.viewer, page)
            return await apply_filters(reads, web.viewer, views, HOME)
        views = await svc.timelines.public(
            reads, web.viewer, page, local_only=True, remote_only=False, only_media=False
        )
        return await apply_filters(reads, web.viewer, views, PUBLIC)


async def _timeline_page(
    request: Request,
    web: WebViewer,
    name: str,
    *,
    error: str = "",
    notice: str = "",
    status: int = 200,
    draft: str = "",
) -> Response:
    svc = services(request)
    assert web.account_id is not None
    views = await _timeline(request, web, name)
    posts = present.posts(views, svc.settings.base_url)
    posted = request.query_params.get("posted", "")
    if (
        name == "home"
        and posted.isdigit()
        and len(posted) < 20
        and "max_id" not in request.query_params
        and all(p.id != int(posted) for p in posts)
    ):
        # The post just sent shows at once, even before the fan-out job has
        # put it in the cached home timeline (scaled mode).
        try:
            async with svc.db.read() as conn:
                own = await queries.status(conn, web.viewer, int(posted))
            if own.value.account.id == web.account_id:
                posts.insert(0, present.post(own, svc.settings.base_url))
        except NotFound:
            pass
    return render(
        request,
        "app/timeline.html",
        viewer=web,
        status=status,
        title=TIMELINES[name],
        timeline=name,
        timelines=TIMELINES,
        posts=posts,
        live=f"/web/stream/{name}",
        older=views[-1].value.status.id if len(views) >= 20 else None,
        visibilities=VISIBILITIES,
        default_visibility=await _default_visibility(request, web.account_id),
        max_chars=svc.settings.max_post_chars,
        reply_to=None,
        prefill=draft,
        compose_key=secrets.token_urlsafe(16),
        error=error,
        notice=notice,
        meta={"robots": "noindex"},
    )


@router.get("/home")
async def home(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    return await _timeline_page(request, web, "home")


@router.get("/web/timelines/local")
async def local(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    return await _timeline_page(request, web, "local")


# Composing ------------------------------------------------------------------


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


async def _compose_form(request: Request, web: WebViewer) -> dict[str, Any]:
    """The compose form, its size checked before it is read (it may carry
    four files) and its CSRF token checked before anything is done."""
    settings = services(request).settings
    if "multipart/form-data" in request.headers.get("content-type", ""):
        check_upload_space(settings)
        declared = request.headers.get("content-length", "")
        largest = max(settings.media_max_image_bytes, settings.media_max_video_bytes)
        if not declared.isdigit() or int(declared) > MAX_ATTACHMENTS * largest + _FORM_OVERHEAD:
            raise Invalid("The attachments are larger than this server accepts")
    return await checked_form(request, web)


async def _attach(request: Request, web: WebViewer, form: dict[str, Any]) -> tuple[int, ...]:
    """The form's files (media_1..media_4, each with its alt text alt_N), each
    uploaded as POST /api/v1/media would."""
    svc = services(request)
    made: list[int] = []
    for n in range(1, MAX_ATTACHMENTS + 1):
        upload = form.get(f"media_{n}")
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        try:
            size = size_of(upload)
            if size == 0:
                continue
            made.append(
                await media_actions.create_media(
                    svc.db,
                    media_store(svc.settings),
                    svc.settings,
                    web.viewer,
                    upload.file,
                    size,
                    description=_text(form, f"alt_{n}").strip() or None,
                    focus=None,
                    process_later=False,
                )
            )
        finally:
            await upload.close()
    return tuple(made)


async def _close_files(form: dict[str, Any]) -> None:
    for value in form.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, UploadFile):
                with contextlib.suppress(Exception):
                    await item.close()


@router.post("/web/statuses")
async def compose(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    form = await _compose_form(request, web)
    svc = services(request)
    assert web.account_id is not None
    reply_raw = _text(form, "in_reply_to_id")
    reply_to = _id(reply_raw) if reply_raw else None
    try:
        try:
            visibility = Visibility.parse(
                _text(form, "visibility") or await _default_visibility(request, web.account_id)
            )
        except ValueError:
            raise Invalid("Choose who may see the post") from None
        media_ids = await _attach(request, web, form)
        async with svc.db.read() as conn:
            prefs = await user_settings(conn, web.account_id)
        new = actions.NewStatus(
            text=_text(form, "status"),
            visibility=visibility,
            in_reply_to_id=reply_to,
            spoiler_text=_text(form, "spoiler_text").strip(),
            sensitive=bool(_text(form, "sensitive")),
            language=prefs.default_language if prefs else None,
            idempotency_key=_text(form, "idempotency_key")[:64] or None,
            application_id=None,
            media_ids=media_ids,
            poll=poll_from_form(form),
        )
        await resolve_mentions(svc.db, svc.settings, new.text)
        async with svc.db.write() as tx:
            status_id = await actions.do_create_status(
                tx,
                web.viewer,
                new,
                base_url=svc.settings.base_url,
                max_chars=svc.settings.max_post_chars,
            )
    except NotFound:
        raise
    except RoostError as error:
        if isinstance(error, (Unavailable, RateLimited)):
            raise
        # The page again, with what was written kept in the form.
        draft = _text(form, "status")
        if reply_to is not None:
            return await _reply_page(
                request, web, reply_to, error=error.message, status=422, draft=draft
            )
        return await _timeline_page(
            request, web, "home", error=error.message, status=422, draft=draft
        )
    finally:
        await _close_files(form)
    async with svc.db.read() as conn:
        made = await queries.status(conn, web.viewer, status_id)
    if reply_to is not None:
        return RedirectResponse(present.post(made, svc.settings.base_url).url, status_code=303)
    return RedirectResponse(f"/home?posted={status_id}", status_code=303)


async def _reply_page(
    request: Request,
    web: WebViewer,
    status_id: int,
    *,
    error: str = "",
    status: int = 200,
    draft: str = "",
) -> Response:
    svc = services(request)
    assert web.account_id is not None
    async with svc.db.read() as conn:
        parent = await queries.status(conn, web.viewer, status_id)
    if parent.value.reblog is not None:
        raise NotFound()
    item = present.post(parent, svc.settings.base_url)
    mentions = [item.author.username, *item.mentions]
    own = web.username.lower()
    prefill = " ".join(dict.fromkeys(f"@{m}" for m in mentions if m.lower() != own))
    default = await _default_visibility(request, web.account_id)
    # A reply is no more public than what it answers.
    order = [v for v, _ in VISIBILITIES]
    if order.index(item.visibility) > order.index(default):
        default = item.visibility
    return render(
        request,
        "app/reply.html",
        viewer=web,
        status=status,
        title="Reply",
        post=item,
        reply_to=item,
        prefill=draft or ((prefill + " ") if prefill else ""),
        compose_key=secrets.token_urlsafe(16),
        visibilities=VISIBILITIES,
        default_visibility=default,
        max_chars=svc.settings.max_post_chars,
        error=error,
        meta={"robots": "noindex"},
    )


@router.get("/web/statuses/{status_id}/reply")
async def reply(request: Request, status_id: str, web: WebViewer = Depends(signed_in)) -> Response:
    return await _reply_page(request, web, _id(status_id))


# Buttons on a post ------------------------------------------------------------

Action = Callable[[Tx, Viewer, int], Awaitable[int]]


async def _reblog(tx: Tx, viewer: Viewer, status_id: int) -> int:
    await actions.do_reblog(tx, viewer, status_id, Visibility.PUBLIC)
    return status_id


async def _button(request: Request, web: WebViewer, status_id: str, action: Action) -> Response:
    await checked_form(request, web)
    wanted = _id(status_id)
    svc = services(request)
    async with svc.db.write() as tx:
        await action(tx, web.viewer, wanted)
    if not _is_htmx(request):
        return RedirectResponse(_back(request, "/home"), status_code=303)
    async with svc.db.read() as conn:
        view = await queries.status(conn, web.viewer, wanted)
    return render(
        request,
        "app/post_fragment.html",
        viewer=web,
        post=present.post(view, svc.settings.base_url),
    )


@router.post("/web/statuses/{status_id}/favourite")
async def status_favourite(
    request: Request, status_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _button(request, web, status_id, actions.do_favourite)


@router.post("/web/statuses/{status_id}/unfavourite")
async def status_unfavourite(
    request: Request, status_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _button(request, web, status_id, actions.do_unfavourite)


@router.post("/web/statuses/{status_id}/bookmark")
async def status_bookmark(
    request: Request, status_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _button(request, web, status_id, actions.do_bookmark)


@router.post("/web/statuses/{status_id}/unbookmark")
async def status_unbookmark(
    request: Request, status_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _button(request, web, status_id, actions.do_unbookmark)


@router.post("/web/statuses/{status_id}/reblog")
async def status_reblog(
    request: Request, status_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _button(request, web, status_id, _reblog)


@router.post("/web/statuses/{status_id}/unreblog")
async def status_unreblog(
    request: Request, status_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _button(request, web, status_id, actions.do_unreblog)


@router.post("/web/statuses/{status_id}/delete")
async def delete(request: Request, status_id: str, web: WebViewer = Depends(signed_in)) -> Response:
    await checked_form(request, web)
    async with services(request).db.write() as tx:
        await actions.do_delete_status(tx, web.viewer, _id(status_id), delete_media=True)
    back = _back(request, "/home")
    if back.rstrip("/").endswith(f"/{status_id}"):
        back = "/home"  # the post's own page is gone
    return RedirectResponse(back, status_code=303)


# Following and the other buttons on a profile -----------------------------------

PairAction = Callable[[Tx, Viewer, int], Awaitable[None]]


async def _follow(tx: Tx, viewer: Viewer, target: int) -> None:
    await graph_actions.do_follow(tx, viewer, target)


async def _mute(tx: Tx, viewer: Viewer, target: int) -> None:
    await graph_actions.do_mute(tx, viewer, target, notifications=True, duration_s=0)


async def _pair(request: Request, web: WebViewer, account_id: str, action: PairAction) -> Response:
    await checked_form(request, web)
    async with services(request).db.write() as tx:
        await action(tx, web.viewer, _id(account_id))
    return RedirectResponse(_back(request, "/home"), status_code=303)


@router.post("/web/accounts/{account_id}/follow")
async def account_follow(
    request: Request, account_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _pair(request, web, account_id, _follow)


@router.post("/web/accounts/{account_id}/unfollow")
async def account_unfollow(
    request: Request, account_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _pair(request, web, account_id, graph_actions.do_unfollow)


@router.post("/web/accounts/{account_id}/block")
async def account_block(
    request: Request, account_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _pair(request, web, account_id, graph_actions.do_block)


@router.post("/web/accounts/{account_id}/unblock")
async def account_unblock(
    request: Request, account_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _pair(request, web, account_id, graph_actions.do_unblock)


@router.post("/web/accounts/{account_id}/mute")
async def account_mute(
    request: Request, account_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _pair(request, web, account_id, _mute)


@router.post("/web/accounts/{account_id}/unmute")
async def account_unmute(
    request: Request, account_id: str, web: WebViewer = Depends(signed_in)
) -> Response:
    return await _pair(request, web, account_id, graph_actions.do_unmute)


# Live timelines ---------------------------------------------------------------
