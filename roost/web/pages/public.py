"""What anyone may read: the home page, /about (with the rules), the privacy
policy and terms, profiles with their tabs, posts and threads, hashtags.

Every read goes through the privacy policy as the viewer (nobody, or the
signed-in account); whatever it hides answers the same 404 page as a thing
that does not exist. Pages for nobody in particular are cached
(roost/web/pages/common.py).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from roost.db.engine import ReadScope
from roost.domain.accounts import queries as account_queries
from roost.domain.discovery.featured_tags import featured_of
from roost.domain.graph import queries as graph_queries
from roost.domain.instance.rules import rules as instance_rules
from roost.domain.instance.texts import default_privacy_html, instance_text
from roost.domain.statuses import queries as status_queries
from roost.domain.statuses.thread import thread_context
from roost.domain.tags.lookup import tag_key
from roost.domain.types import Visibility
from roost.errors import NotFound
from roost.web import present
from roost.web.cache import Shown
from roost.web.pages.common import cached, page_from
from roost.web.pages.meta import account_meta, post_meta, tag_meta
from roost.web.render import render
from roost.web.viewer import WebViewer, current_viewer, services

router = APIRouter(include_in_schema=False)

TABS = {"": "Posts", "with_replies": "Posts and replies", "media": "Media"}


@router.get("/")
async def home(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    if web.signed_in:
        # A signed-in person's front page is their home timeline.
        return RedirectResponse(
            "/home",
            status_code=303,
            headers={"Cache-Control": "private, no-store", "Vary": "Cookie"},
        )

    async def build() -> tuple[Response, Shown]:
        svc = services(request)
        shown = Shown(listing=True)
        posts: list[present.PostItem] = []
        async with svc.db.read() as conn:
            rules = await instance_rules(conn)
        if svc.settings.landing_page_posts:
            async with svc.db.scope() as reads:
                views = await svc.timelines.public(
                    reads,
                    web.viewer,
                    page_from(request),
                    local_only=True,
                    remote_only=False,
                    only_media=False,
                )
            posts = present.posts(views, svc.settings.base_url, shown)
        response = render(
            request,
            "public/home.html",
            viewer=web,
            rules=rules,
            posts=posts,
            show_posts=svc.settings.landing_page_posts,
            meta={"canonical": svc.settings.base_url + "/"},
        )
        return response, shown

    return await cached(request, web, build)


@router.get("/about")
async def about(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    async def build() -> tuple[Response, Shown]:
        svc = services(request)
        async with svc.db.read() as conn:
            rules = await instance_rules(conn)
        text = instance_text(svc.settings.data_dir, "about")
        response = render(
            request,
            "public/about.html",
            viewer=web,
            title="About",
            rules=rules,
            text=Markup(text.html) if text else None,
            contact_email=svc.settings.contact_email,
        )
        return response, Shown()

    return await cached(request, web, build)


async def _document(request: Request, web: WebViewer, name: str, title: str) -> Response:
    async def build() -> tuple[Response, Shown]:
        svc = services(request)
        text = instance_text(svc.settings.data_dir, name)
        response = render(
            request,
            "public/document.html",
            viewer=web,
            title=title,
            name=name,
            text=Markup(text.html) if text else None,
            default_privacy=Markup(
                default_privacy_html(svc.settings.instance_title, svc.settings.contact_email)
            )
            if name == "privacy"
            else None,
            contact_email=svc.settings.contact_email,
        )
        return response, Shown()

    return await cached(request, web, build)


@router.get("/privacy-policy")
async def privacy_policy(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    return await _document(request, web, "privacy", "Privacy policy")


@router.get("/terms")
async def terms(request: Request, web: WebViewer = Depends(current_viewer)) -> Response:
    return await _document(request, web, "terms", "Terms of service")


async def _profile(
    request: Request, web: WebViewer, username: str, tab: str, tagged: str | None = None
) -> Response:
    async def build() -> tuple[Response, Shown]:
        svc = services(request)
        base = svc.settings.base_url
        shown = Shown()
        async with svc.db.read() as conn:
            account = await account_queries.profile(conn, web.viewer, username)
            query = status_queries.account_statuses_query(
                account.value.id,
                exclude_replies=tab != "with_replies" and tagged is None,
                exclude_reblogs=tab == "media" or tagged is not None,
                tagged=tagged,
                pinned_only=False,
                only_media=tab == "media",
            )
            views = await status_queries.paged(conn, web.viewer, query, page_from(request))
            relationship = None
            if web.signed_in and web.account_id != account.value.id:
                found = await graph_queries.relationships(conn, web.viewer, [account.value.id])
                relationship = found[0] if found else None
            featured = await featured_of(conn, account.value.id)
        card = present.account(account, base, shown)
        posts = present.posts(views, base, shown)
        if card.username != username:
            # One address per profile: /@Alice is /@alice.
            suffix = f"/{tab}" if tab else f"/tagged/{tagged}" if tagged else ""
            return RedirectResponse(f"/@{card.username}{suffix}", status_code=301), shown
        response = render(
            request,
            "public/profile.html",
            viewer=web,
            title=f"{card.display_name} (@{card.username})",
            account=card,
            posts=posts,
            tab=tab,
            tabs=TABS,
            tagged=tagged,
            featured_tags=featured,
            older=posts[-1].id if len(views) >= 20 and posts else None,
            relationship=relationship,
            meta=account_meta(card, base),
        )
        return response, shown

    return await cached(request, web, build)


@router.get("/@{username}")
async def profile(
    request: Request, username: str, web: WebViewer = Depends(current_viewer)
) -> Response:
    return await _profile(request, web, username, "")


@router.get("/@{username}/with_replies")
async def profile_with_replies(
    request: Request, username: str, web: WebViewer = Depends(current_viewer)
) -> Response:
    return await _profile(request, web, username, "with_replies")


@router.get("/@{username}/media")
async def profile_media(
    request: Request, username: str, web: WebViewer = Depends(current_viewer)
) -> Response:
    return await _profile(request, web, username, "media")


@router.get("/@{username}/tagged/{tag}")
async def profile_tagged(
    request: Request, username: str, tag: str, web: WebViewer = Depends(current_viewer)
) -> Response:
    """An account's posts with one hashtag (where its featured tags link)."""
    key = tag_key(tag)
    if key is None:
        raise NotFound()
    return await _profile(request, web, username, "", key)


def _status_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 19:
        raise NotFound()
    return int(raw)


@router.get("/@{username}/{status_id}")
async def post(
    request: Request, username: str, status_id: str, web: WebViewer = Depends(current_viewer)
) -> Response:
    wanted = _status_id(status_id)
    accept = request.headers.get("accept", "").lower()
    if services(request).settings.federation and (
        "application/activity+json" in accept or "application/ld+json" in accept
    ):
        # Another server asking for the post by its page, as Mastodon's pages
        # answer: sent to the Note (roost/federation/routes.py).
        name = username.lstrip("@")
        return RedirectResponse(f"/users/{quote(name)}/statuses/{wanted}", status_code=302)

    async def build() -> tuple[Response, Shown]:
        svc = services(request)
        base = svc.settings.base_url
        shown = Shown()
        async with svc.db.read() as conn:
            focus = await status_queries.status(conn, web.viewer, wanted)
            if (
                focus.value.reblog is not None
                or focus.value.account.username.lower() != username.lower().lstrip("@")
            ):
                raise NotFound()
            ancestors, descendants = await thread_context(
                ReadScope.over(svc.db, conn), web.viewer, wanted
            )
        item = present.post(focus, base, shown)
        response = render(
            request,
            "public/post.html",
            viewer=web,
            title=f"{item.author.display_name}: {_summary(item)}",
            post=item,
            ancestors=present.posts(ancestors, base, shown),
            descendants=present.posts(descendants, base, shown),
            meta=post_meta(item, base),
        )
        return response, shown

    return await cached(request, web, build)


@router.get("/@{username}/{status_id}/embed")
async def embed(
    request: Request, username: str, status_id: str, web: WebViewer = Depends(current_viewer)
) -> Response:
    """The post alone, for oEmbed's iframe: the one page others may frame.
    Public posts only, read as the viewer like any page."""
    wanted = _status_id(status_id)
    from roost.web.render import csp

    async def build() -> tuple[Response, Shown]:
        svc = services(request)
        shown = Shown()
        async with svc.db.read() as conn:
            focus = await status_queries.status(conn, web.viewer, wanted)
        view = focus.value
        if (
            view.reblog is not None
            or view.status.visibility != Visibility.PUBLIC
            or view.account.username.lower() != username.lower().lstrip("@")
        ):
            raise NotFound()
        item = present.post(focus, svc.settings.base_url, shown)
        response = render(
            request,
            "public/embed.html",
            viewer=None,
            title=f"{item.author.display_name}: {_summary(item)}",
            post=item,
            meta={"robots": "noindex"},
            headers={"Content-Security-Policy": csp(frame_ancestors="*")},
        )
        del response.headers["X-Frame-Options"]
        return response, shown

    return await cached(request, web, build)


def _summary(item: present.PostItem, limit: int = 60) -> str:
    text = item.spoiler_text or " ".join(item.plain_text.split())
    if not text and item.media:
        text = f"{len(item.media)} attachment(s)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


@router.get("/tags/{name}")
async def tag(request: Request, name: str, web: WebViewer = Depends(current_viewer)) -> Response:
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
        posts = present.posts(views, base, shown)
        response = render(
            request,
            "public/tag.html",
            viewer=web,
            title=f"#{key}",
            tag=key,
            posts=posts,
            older=views[-1].value.status.id if len(views) >= 20 else None,
            meta=tag_meta(key, base),
        )
        return response, shown

    return await cached(request, web, build)
