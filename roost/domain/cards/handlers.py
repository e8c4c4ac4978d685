"""Fetching a post's link preview card (the ``card.fetch`` job).

The post's first link (``links.first_link``) is fetched through the one
outbound client (roost/net/http.py: no private addresses, redirects
re-checked, a Roost User-Agent) within these limits: at most
``MAX_HTML_BYTES`` of HTML, ``MAX_OEMBED_BYTES`` of oEmbed JSON, the
client's timeout (``ROOST_OUTBOUND_TIMEOUT_S``) and redirect limit for each
of the two requests. A page that is no HTML, answers an error, or has no
title gives no card; the post then has none (no retry: a page that failed
once is not hammered).

The page's image is fetched too, re-encoded and kept in the media store
(roost/domain/cards/images.py): apps load it from Roost, never from the site.

A card is shared by every post linking the same address and is fetched again
only when a post links it and it is older than ``REFRESH_AFTER``. Direct posts
get no card: fetching would tell the linked site that someone shared the
address privately, and when.

Each fetch's time shows in ``roost_job_duration_seconds{kind="card.fetch"}``.

Caches: a post's card is part of what every viewer sees the same
(roost/domain/statuses/shared.py); a change emits ``StatusRewritten`` for the
post, which every cache of post parts and pages hears, in this process at
commit and in the others over the bus. A refreshed card whose content changed
does the same for the newest ``MAX_REWRITTEN`` posts linking it.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import preview_cards, status_cards, statuses
from roost.domain.cards import parse
from roost.domain.cards.images import CardImage, card_image
from roost.domain.cards.jobs import FetchLinkCard
from roost.domain.cards.links import first_link
from roost.domain.events import StatusRewritten
from roost.domain.jobs import JobContext
from roost.domain.media.actions import discard_files
from roost.domain.types import Visibility
from roost.ids import new_id
from roost.jobs.registry import handles
from roost.net.http import OutboundRefused, fetch

log = logging.getLogger("roost.cards")

MAX_HTML_BYTES = 1 << 20
MAX_OEMBED_BYTES = 256 << 10
REFRESH_AFTER = timedelta(hours=24)
MAX_REWRITTEN = 1000


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


async def page_card(ctx: JobContext, url: str) -> parse.PageInfo | None:
    """What the page at ``url`` (and its oEmbed answer) gives for a card; None
    when it gives none or cannot be fetched within the limits."""
    try:
        page = await fetch(ctx.settings, url, max_bytes=MAX_HTML_BYTES)
    except OutboundRefused as error:
        log.info("no card for %s: %s", url[:200], error)
        return None
    kind = page.content_type.split(";")[0].strip().lower()
    if page.status != 200 or kind not in ("text/html", "application/xhtml+xml"):
        log.info("no card for %s: %s %s", url[:200], page.status, kind or "no type")
        return None
    info = parse.page_info(_decoded(page.body, page.content_type), page.url)
    if info.oembed_url:
        try:
            answer = await fetch(
                ctx.settings, info.oembed_url, accept="application/json",
                max_bytes=MAX_OEMBED_BYTES,
            )  # fmt: skip
            if answer.status == 200:
                info = parse.with_oembed(info, orjson.loads(answer.body))
        except (OutboundRefused, orjson.JSONDecodeError) as error:
            log.info("oEmbed of %s left out: %s", url[:200], error)
    return info if info.title else None


def _decoded(body: bytes, content_type: str) -> str:
    charset = "utf-8"
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip("\"' ")
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _card_values(info: parse.PageInfo, image: CardImage | None) -> dict[str, object]:
    # Mastodon's width and height: the embed's when oEmbed gives them, else the image's.
    sized = info.width and info.height
    return {
        "shown_url": info.url,
        "type": info.type,
        "title": info.title,
        "description": info.description,
        "author_name": info.author_name,
        "author_url": info.author_url,
        "provider_name": info.provider_name,
        "provider_url": info.provider_url,
        "html": info.html,
        "width": info.width if sized or image is None else image.width,
        "height": info.height if sized or image is None else image.height,
        "image_url": info.image_url,
        "image_file": None if image is None else image.key,
        "blurhash": None if image is None else image.blurhash,
        "image_description": info.image_description,
        "embed_url": info.embed_url,
        "language": info.language,
        "published_at": info.published_at,
    }


async def _store_card(
    tx: Tx, url: str, info: parse.PageInfo, image: CardImage | None
) -> tuple[int, bool, str | None]:
    """The card's id, written or refreshed; whether what it shows changed;
    the store key of an image it no longer shows."""
    values = _card_values(info, image)
    key = url_key(url)
    now = utcnow()
    existing = (
        (await tx.execute(select(preview_cards).where(preview_cards.c.url_key == key)))
        .mappings()
        .first()
    )
    if existing is None:
        # Two posts linking a new address at once: both fetch, one row is
        # written, and both posts show it.
        await tx.execute(
            _insert_absent(tx).values(
                id=new_id(), url=url, url_key=key, fetched_at=now, created_at=now, **values
            )
        )
        card_id = (
            await tx.execute(select(preview_cards.c.id).where(preview_cards.c.url_key == key))
        ).scalar_one()
        return int(card_id), True, None
    changed = any(existing[name] != value for name, value in values.items())
    dropped = existing["image_file"] if existing["image_file"] != values["image_file"] else None
    await tx.execute(
        update(preview_cards)
        .where(preview_cards.c.id == existing["id"])
        .values(fetched_at=now, **values)
    )
    return int(existing["id"]), changed, dropped


def _insert_absent(tx: Tx) -> Any:
    if tx.conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgres_insert

        return postgres_insert(preview_cards).on_conflict_do_nothing(
            index_elements=[preview_cards.c.url_key]
        )
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(preview_cards).on_conflict_do_nothing(
        index_elements=[preview_cards.c.url_key]
    )


@handles(FetchLinkCard)
async def fetch_link_card(ctx: JobContext, job: FetchLinkCard) -> None:
    async with ctx.db.read() as conn:
        post = (
            await conn.execute(
                select(statuses.c.text, statuses.c.visibility, statuses.c.reblog_of_id).where(
                    statuses.c.id == job.status_id
                )
            )
        ).first()
        if post is None:
            return
        url = None
        if post.reblog_of_id is None and post.visibility != int(Visibility.DIRECT):
            url = first_link(post.text, ctx.settings.base_url)
        known = None
        if url is not None:
            known = (
                await conn.execute(
                    select(preview_cards.c.id, preview_cards.c.fetched_at).where(
                        preview_cards.c.url_key == url_key(url)
                    )
                )
            ).first()
    card_id: int | None = None
    changed = False
    dropped: str | None = None
    if url is not None and known is not None and utcnow() - known.fetched_at < REFRESH_AFTER:
        card_id = int(known.id)
    elif url is not None:
        info = await page_card(ctx, url)
        if info is not None:
            image = await card_image(ctx, info.image_url) if info.image_url else None
            async with ctx.db.write() as tx:
                card_id, changed, dropped = await _store_card(tx, url, info, image)
        elif known is not None:
            card_id = int(known.id)  # the page is unreachable now: keep what it was
    async with ctx.db.write() as tx:
        await _link(tx, job.status_id, card_id, changed=changed)
        if changed and card_id is not None:
            await _rewritten_linking(tx, card_id, skip=job.status_id)
    if dropped is not None:
        await discard_files(ctx.db, ctx.media, [dropped])


async def _link(tx: Tx, status_id: int, card_id: int | None, *, changed: bool) -> None:
    """The post shows ``card_id`` (None: no card) from now on; ``changed``:
    the card itself was just written anew."""
    current = (
        await tx.execute(
            select(status_cards.c.card_id).where(status_cards.c.status_id == status_id)
        )
    ).scalar()
    exists = (await tx.execute(select(statuses.c.id).where(statuses.c.id == status_id))).first()
    if exists is None:
        return  # deleted meanwhile
    if current != card_id:
        await tx.execute(delete(status_cards).where(status_cards.c.status_id == status_id))
        if card_id is not None:
            await tx.execute(insert(status_cards).values(status_id=status_id, card_id=card_id))
    if current != card_id or changed:
        tx.emit(StatusRewritten(status_id))


async def _rewritten_linking(tx: Tx, card_id: int, *, skip: int) -> None:
    rows = await tx.execute(
        select(status_cards.c.status_id)
        .where(status_cards.c.card_id == card_id, status_cards.c.status_id != skip)
        .order_by(status_cards.c.status_id.desc())
        .limit(MAX_REWRITTEN)
    )
    for row in rows:
        tx.emit(StatusRewritten(int(row.status_id)))
