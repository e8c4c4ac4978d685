"""Mastodon's PreviewCard: a post's link card, and the card of a trending
link (TrendsLink adds its ``history``: roost/api/mastodon/trends.py).

``image`` is Roost's own copy of the linked page's image
(roost/domain/cards/images.py), never the site's address: an app showing the
card tells the site nothing. ``blurhash`` is that copy's; ``width`` and
``height`` the embed's (oEmbed) or else the image's. ``html`` is "" or a
single https ``<iframe>`` from the page's oEmbed answer
(roost/domain/cards/parse.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request

from roost.api.auth import optional, services
from roost.api.openapi import answers
from roost.api.params import Id
from roost.api.responses import JSON
from roost.domain.cards import queries
from roost.domain.cards.model import PreviewCard
from roost.domain.types import Viewer

router = APIRouter()


def timestamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def image_url(found: PreviewCard, base: str) -> str | None:
    if found.image_file is None:
        return None
    return f"{base}/media/cards/{found.id}/{found.image_file.rsplit('/', 1)[-1]}"


def card(found: PreviewCard, base: str) -> dict[str, Any]:
    """The PreviewCard entity. Its content is the linked page's, the same for
    every viewer; the caller has cleared the post (or the trend) showing it."""
    authors = (
        [{"name": found.author_name, "url": found.author_url or None, "account": None}]
        if found.author_name
        else []
    )
    return {
        "url": found.shown_url,
        "title": found.title,
        "description": found.description,
        "language": found.language,
        "type": found.type,
        "author_name": found.author_name,
        "author_url": found.author_url,
        "provider_name": found.provider_name,
        "provider_url": found.provider_url,
        "html": found.html,
        "width": found.width,
        "height": found.height,
        "image": image_url(found, base),
        "image_description": found.image_description,
        "embed_url": found.embed_url,
        "blurhash": found.blurhash,
        "published_at": timestamp(found.published_at),
        "authors": authors,
    }


@router.get(
    "/api/v1/statuses/{status_id}/card",
    responses=answers(dict[str, Any], description="A PreviewCard, or {} when the post has none"),
    deprecated=True,
)
async def status_card(
    request: Request, status_id: Id, viewer: Viewer = Depends(optional("read:statuses"))
) -> JSON:
    """The post's card (deprecated by Mastodon, which puts it in the post):
    404 for a post the viewer may not see, ``{}`` for one without a card."""
    svc = services(request)
    async with svc.db.read() as conn:
        cleared = await queries.card_of_status(conn, viewer, status_id)
    return JSON({} if cleared.value is None else card(cleared.value, svc.settings.base_url))
