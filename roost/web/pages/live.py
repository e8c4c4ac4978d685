"""Timelines live in the browser: ``/web/stream/NAME`` (home, local, or a tag
with ``?tag=``) as server-sent events for the signed-in session. Which posts
belong on a stream is the API streaming's own rule (roost/domain/streams.py),
through the privacy policy and the viewer's filters; each is sent as its
card's HTML, which a few lines of roost/web/static/roost.js put on top."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from roost.db.engine import ReadScope
from roost.domain.filters.apply import apply_filters
from roost.domain.sessions.queries import session_owner
from roost.domain.streams import Stream, could_have_seen, filter_context, on_stream
from roost.domain.tags.lookup import tag_key
from roost.errors import NotFound
from roost.streaming import events
from roost.streaming.bus import Subscription
from roost.web import present
from roost.web.render import render_text
from roost.web.viewer import SESSION_COOKIE, WebViewer, services, signed_in

router = APIRouter(include_in_schema=False)

_STREAMS = {"home": Stream("user"), "local": Stream("public:local")}


def _sse(event: str, data: str) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\n{lines}\n".encode()


async def _fragment(
    request: Request,
    reads: ReadScope,
    web: WebViewer,
    stream: Stream,
    event: events.StreamEvent,
    base: str,
) -> bytes | None:
    """One event as this browser's stream shows it, or None: a new post that
    belongs on the stream (the same rule as /api/v1/streaming, through the
    privacy policy and the viewer's filters) as its card's HTML, or a deleted
    post's id for a post the viewer could have seen."""
    conn = await reads.conn()
    if event.kind == events.STATUS_CREATED:
        assert event.status_id is not None
        view = await on_stream(reads, web.viewer, stream, event.status_id)
        if view is None:
            return None
        shown = await apply_filters(conn, web.viewer, [view], filter_context(stream))
        if not shown:
            return None
        html = render_text(
            "app/post_fragment.html",
            post=present.post(shown[0], base),
            csrf_token=request.state.web_csrf,
        )
        return _sse("update", html)
    if event.kind == events.STATUS_DELETED and await could_have_seen(conn, web.viewer, event):
        return _sse("delete", str(event.status_id))
    return None


async def _fragments(
    request: Request, web: WebViewer, stream: Stream, subscription: Subscription
) -> AsyncIterator[bytes | None]:
    """Server-sent events for this browser: each new post that belongs on the
    stream (as the API's streaming decides it, through the privacy policy and
    the viewer's filters) as its card's HTML; ``delete`` with a post's id;
    None at each heartbeat."""
    svc = services(request)
    interval = svc.settings.streaming_heartbeat_s
    clock = asyncio.get_running_loop()
    due = clock.time() + interval
    base = svc.settings.base_url
    while not subscription.overflowed:
        wait = due - clock.time()
        event = await subscription.next(wait) if wait > 0 else None
        if event is not None:
            async with svc.db.scope() as reads:
                chunk = await _fragment(request, reads, web, stream, event, base)
            if chunk is not None:
                yield chunk
        if clock.time() >= due:
            due = clock.time() + interval
            yield None


@router.get("/web/stream/{name}")
async def stream(request: Request, name: str, web: WebViewer = Depends(signed_in)) -> Response:
    """The timeline ``name`` (home, local, or tag with ``?tag=``) live, for
    this browser's session: the same routing as /api/v1/streaming, rendered
    as HTML. The session is checked again at every heartbeat; ending it ends
    the stream."""
    chosen = _STREAMS.get(name)
    if name == "tag":
        key = tag_key(request.query_params.get("tag", ""))
        chosen = Stream("hashtag", key) if key is not None else None
    if chosen is None:
        raise NotFound()
    from roost.web.csrf import token_for_request

    # The cards carry the page's CSRF token for their buttons: this stream's
    # requests come with the page's nonce cookie, so the token is the page's.
    request.state.web_csrf = token_for_request(request, web)
    svc = services(request)
    token = request.cookies.get(SESSION_COOKIE, "")

    async def still_signed_in() -> bool:
        owner = await session_owner(svc.db.fast, token)
        return owner is not None and owner.account_id == web.account_id

    async def body() -> AsyncIterator[bytes]:
        async with svc.bus.subscribe() as subscription:
            yield b": live\n\n"
            async for chunk in _fragments(request, web, chosen, subscription):
                if chunk is None:
                    if not await still_signed_in():
                        return
                    yield b": thump\n\n"
                else:
                    yield chunk

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
