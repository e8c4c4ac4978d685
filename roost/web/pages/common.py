"""Helpers the page modules share: the anonymous page cache around a
handler, paging by ``max_id``, and the responses pages answer with."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import Response

from roost.domain.pagination import make_page
from roost.domain.types import Page
from roost.web import cache
from roost.web.cache import Entry, PageCache, Shown, pages_for
from roost.web.viewer import WebViewer, clear_session_cookie

PER_PAGE = 20
_KEPT_HEADERS = (
    "content-type",
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
)


def page_from(request: Request) -> Page:
    raw = request.query_params.get("max_id", "")
    max_id = int(raw) if raw.isdigit() and len(raw) < 20 else None
    return make_page(max_id, None, None, PER_PAGE, max_limit=PER_PAGE, default_limit=PER_PAGE)


Build = Callable[[], Awaitable[tuple[Response, Shown]]]


async def cached(request: Request, web: WebViewer, build: Build) -> Response:
    """Serve ``build``'s page from the anonymous page cache (roost/web/cache.py)
    when nobody is signed in; a signed-in viewer's page is built for them and
    marked private. Only 200 answers are kept."""
    if web.signed_in:
        response, _ = await build()
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["Vary"] = "Cookie"
        return response
    key = request.url.path + ("?" + request.url.query if request.url.query else "")
    pages = pages_for(request.app.state.services.db)
    entry = pages.get(key)
    if entry is None:
        # Visitors arriving together for a page not in the cache (a shared
        # link, an expired entry) wait for one rendering instead of each
        # rendering it.
        pending = pages.rendering.get(key)
        if pending is not None:
            entry = await asyncio.shield(pending)
            if entry is not None:
                return _finish(request, Response(entry.body, headers=entry.headers))
        else:
            return await _render_once(request, pages, key, build)
        response, _ = await build()
        return _finish(request, response)
    return _finish(request, Response(entry.body, headers=entry.headers))


async def _render_once(request: Request, pages: PageCache, key: str, build: Build) -> Response:
    future: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
    pages.rendering[key] = future
    generation = pages.generation
    try:
        response, shown = await build()
    except BaseException:
        future.set_result(None)
        raise
    finally:
        pages.rendering.pop(key, None)
    if response.status_code != 200:
        future.set_result(None)
        return _finish(request, response)
    body = bytes(response.body)
    headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
    headers["Cache-Control"] = f"public, max-age={cache.PUBLIC_MAX_AGE_S}"
    headers["Vary"] = "Cookie"
    entry = Entry(
        body=body,
        headers=headers,
        media_type=response.media_type or "text/html",
        stored_at=time.monotonic(),
        accounts=frozenset(shown.accounts),
        statuses=frozenset(shown.statuses),
        listing=shown.listing,
    )
    if pages.generation == generation:
        # Kept only if nothing was purged while it rendered: it may show that.
        pages.put(key, entry)
    future.set_result(entry)
    return _finish(request, Response(entry.body, headers=entry.headers))


def _finish(request: Request, response: Response) -> Response:
    if getattr(request.state, "clear_session_cookie", False):
        clear_session_cookie(request, response)
    return response
