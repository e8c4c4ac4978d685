"""A link card's image, kept by Roost: apps are never sent to the linked site.

Hot-linking the page's ``og:image`` would tell that site the address and the
moment of every reader who scrolls past the post. So the image is fetched
once, by the card job, through the one outbound client (roost/net/http.py:
no private addresses, redirects re-checked, at most ``MAX_IMAGE_BYTES``,
the client's timeout), checked and re-encoded from its pixels alone like an
upload (roost/media/images.py: no metadata survives, decompression bombs
refused from the header), cut down to fit ``IMAGE_BOX``, and put in the media
store. Apps get Roost's address for it (roost/api/media_files.py), its
blurhash and its size.

An image that cannot be had (refused, too large, not an image Roost reads)
leaves the card without one; the card itself still stands.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from roost.domain.jobs import JobContext
from roost.errors import Invalid
from roost.media import images
from roost.media.sniff import HEAD_BYTES, Kind, sniff
from roost.net.http import OutboundRefused, fetch

log = logging.getLogger("roost.cards")

MAX_IMAGE_BYTES = 2 << 20
IMAGE_BOX = 640
_ACCEPT = "image/jpeg, image/png, image/webp, image/gif;q=0.8"


@dataclass(frozen=True, slots=True)
class CardImage:
    key: str  # in the media store
    width: int
    height: int
    blurhash: str


async def card_image(ctx: JobContext, url: str) -> CardImage | None:
    """The image at ``url``, stored; None when it cannot be had within the limits."""
    try:
        got = await fetch(ctx.settings, url, accept=_ACCEPT, max_bytes=MAX_IMAGE_BYTES)
    except OutboundRefused as error:
        log.info("card image %s left out: %s", url[:200], error)
        return None
    fmt = sniff(got.body[:HEAD_BYTES]) if got.status == 200 else None
    if fmt is None or fmt.kind is not Kind.IMAGE:
        log.info("card image %s left out: %s, not an image", url[:200], got.status)
        return None
    limits = images.ImageLimits(
        max_dimension=IMAGE_BOX, max_pixels=ctx.settings.media_max_image_pixels
    )
    try:
        done = await asyncio.to_thread(images.process_image, got.body, fmt, limits)
    except Invalid as error:
        log.info("card image %s left out: %s", url[:200], error)
        return None
    # An animation is shown by its first frame (the preview rendition).
    shown = done.small if done.animated else done.original
    stored = await ctx.media.put(shown.data, shown.format.extension)
    return CardImage(stored.key, shown.width, shown.height, done.blurhash)
