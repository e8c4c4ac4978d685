"""GET /api/oembed: Mastodon's oEmbed answer for a public post, so that a site
embedding a post's address shows it (an iframe of its embed page,
``/@name/ID/embed``). Only public posts: an embed is for anyone to see."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from roost.api.auth import services
from roost.api.mastodon import schema
from roost.api.openapi import answers
from roost.api.params import Params, query
from roost.api.responses import JSON
from roost.domain.statuses import queries as status_queries
from roost.domain.types import ANONYMOUS, Visibility
from roost.errors import NotFound
from roost.ids import id_from_text

router = APIRouter()

DEFAULT_WIDTH = 400


class OEmbedParams(Params):
    url: str = Field(default="", description="The address of a post on this server")
    maxwidth: int | None = Field(default=None, ge=0, description="From 100 to 2000 pixels")
    maxheight: int | None = Field(default=None, ge=0, description="From 100 to 2000 pixels")


def _post_in(url: str, base: str) -> tuple[str, int]:
    """(username, status id) of a post page address on this server (``/@name/ID``
    or the ``uri`` form ``/users/name/statuses/ID``); NotFound otherwise."""
    parts = urlsplit(url)
    ours = urlsplit(base)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != ours.netloc.lower():
        raise NotFound()
    segments = parts.path.strip("/").split("/")
    if len(segments) == 2 and segments[0].startswith("@"):
        name, number = segments[0][1:], segments[1]
    elif len(segments) == 4 and segments[0] == "users" and segments[2] == "statuses":
        name, number = segments[1], segments[3]
    else:
        raise NotFound()
    status_id = id_from_text(number)
    if status_id is None:
        raise NotFound()
    return name, status_id


def _bounded(value: int | None, default: int | None) -> int | None:
    return default if value is None else max(100, min(value, 2000))


@router.get("/api/oembed", responses=answers(schema.OEmbed, errors=(404,)))
async def oembed(request: Request, params: OEmbedParams = Depends(query(OEmbedParams))) -> JSON:
    svc = services(request)
    base = svc.settings.base_url
    username, status_id = _post_in(params.url, base)
    async with svc.db.read() as conn:
        focus = await status_queries.status(conn, ANONYMOUS, status_id)
    view = focus.value
    if (
        view.reblog is not None
        or view.status.visibility != Visibility.PUBLIC
        or view.account.username.lower() != username.lower()
    ):
        raise NotFound()
    width = _bounded(params.maxwidth, DEFAULT_WIDTH)
    height = _bounded(params.maxheight, None)
    author = view.account
    embed = f"{base}/@{author.username}/{view.status.id}/embed"
    frame = (
        f'<iframe src="{html.escape(embed)}" class="roost-embed" '
        f'style="max-width: 100%; border: 0" width="{width}"'
        + (f' height="{height}"' if height else "")
        + ' allowfullscreen="allowfullscreen" sandbox="allow-popups allow-popups-to-escape-sandbox"'
        f' title="{html.escape("Post by @" + author.username)}"></iframe>'
    )
    return JSON(
        {
            "type": "rich",
            "version": "1.0",
            "title": "",
            "author_name": author.display_name or author.username,
            "author_url": f"{base}/@{author.username}",
            "provider_name": svc.settings.instance_title,
            "provider_url": f"{base}/",
            "cache_age": 86400,
            "html": frame,
            "width": width,
            "height": height,
        }
    )
