"""RSS 2.0 feeds (``/@name.rss``, ``/tags/name.rss``) for feed readers
(oEmbed, for sites embedding a post, is API: roost/api/mastodon/oembed.py).

Feeds carry public posts only: what a feed reader fetches it may pass on. A
feed opened in a signed-in browser is read as that account (so a block still
hides the blocker's posts from them) and not cached; for everyone else it
goes through the anonymous page cache like pages.
"""

from __future__ import annotations

from email.utils import format_datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from roost.domain.accounts import queries as account_queries
from roost.domain.statuses import queries as status_queries
from roost.domain.tags.lookup import tag_key
from roost.domain.types import Visibility
from roost.errors import NotFound
from roost.web import present
from roost.web.cache import Shown
from roost.web.pages.common import cached, page_from
from roost.web.render import render_text
from roost.web.viewer import WebViewer, current_viewer, services

router = APIRouter(include_in_schema=False)

RSS_TYPE = "application/rss+xml; charset=utf-8"


def _items(posts: list[present.PostItem]) -> list[dict[str, str]]:
    return [
        {
            "title": p.spoiler_text or "",
            "link": p.url,
            "guid": p.url,
            "date": format_datetime(p.created_at, usegmt=True),
            "description": str(p.content),
            "media": p.media,  # type: ignore[dict-item]
        }
        for p in posts
    ]


def _feed(
    title: str, link: str, description: str, self_url: str, posts: list[present.PostItem]
) -> Response:
    body = render_text(
        "public/feed.xml",
        title=title,
        link=link,
        description=description,
        self_url=self_url,
        items=_items(posts),
    )
    return Response(body, media_type=RSS_TYPE, headers={"X-Content-Type-Options": "nosniff"})


@router.get("/@{username}.rss")
async def account_feed(
    request: Request, username: str, web: WebViewer = Depends(current_viewer)
) -> Response:
    async def build() -> tuple[Response, Shown]:
        svc = services(request)
        base = svc.settings.base_url
        shown = Shown()
        async with svc.db.read() as conn:
            account = await account_queries.profile(conn, web.viewer, username)
            query = status_queries.account_statuses_query(
                account.value.id,
                exclude_replies=True,
                exclude_reblogs=True,
                tagged=None,
                pinned_only=False,
            )
            views = await status_queries.paged(conn, web.viewer, query, page_from(request))
        card = present.account(account, base, shown)
        public = [v for v in views if v.value.status.visibility == Visibility.PUBLIC]
        response = _feed(
            f"{card.display_name} (@{card.username})",
            card.url,
            card.plain_note or f"Public posts by @{card.username}",
            f"{card.url}.rss",
            present.posts(public, base, shown),
        )
        return response, shown

    return await cached(request, web, build)


@router.get("/tags/{name}.rss")
async def tag_feed(
    request: Request, name: str, web: WebViewer = Depends(current_viewer)
) -> Response:
    key = tag_key(name)
    if key is None:
        raise NotFound()

    async def build() -> tuple[Response, Shown]:
        svc = services(request)
        base = svc.settings.base_url
        shown = Shown(listing=True)
        async with svc.db.scope() as reads:
            views = await svc.timelines.tag(
                reads,
                web.viewer,
                page_from(request),
                any_of=[key],
                all_of=[],
                none_of=[],
                local_only=False,
                remote_only=False,
                only_media=False,
            )
        public = [
            v
            for v in views
            if v.value.reblog is None and v.value.status.visibility == Visibility.PUBLIC
        ]
        response = _feed(
            f"#{key}",
            f"{base}/tags/{key}",
            f"Public posts tagged #{key}",
            f"{base}/tags/{key}.rss",
            present.posts(public, base, shown),
        )
        return response, shown

    return await cached(request, web, build)
