"""Reading cards: by the posts showing them (for the post parts every viewer
sees the same), and one post's card through the privacy policy."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import preview_cards, status_cards
from roost.domain import privacy
from roost.domain.cards.model import PreviewCard
from roost.domain.types import Viewer


async def cards_for(conn: AsyncConnection, status_ids: Sequence[int]) -> dict[int, PreviewCard]:
    """Each post's card, by post id (posts without one left out). The caller
    has cleared the posts, or reads what every viewer sees the same of them."""
    if not status_ids:
        return {}
    rows = await conn.execute(
        select(status_cards.c.status_id, preview_cards)
        .join(preview_cards, preview_cards.c.id == status_cards.c.card_id)
        .where(status_cards.c.status_id.in_(list(status_ids)))
    )
    return {int(row["status_id"]): PreviewCard.from_row(row) for row in rows.mappings()}


async def card_image_key(conn: AsyncConnection, card_id: int) -> str | None:
    """The store key of a card's image (None: no such card, or no image).

    An image is the linked page's, the same for everyone; its address names
    the card and the image's content hash, which nobody guesses, so it tells
    nothing of the posts (perhaps private) that link the page."""
    found = await conn.execute(
        select(preview_cards.c.image_file).where(preview_cards.c.id == card_id)
    )
    return found.scalar_one_or_none()


async def card_of_status(
    conn: AsyncConnection, viewer: Viewer, status_id: int
) -> privacy.Visible[PreviewCard | None]:
    """The card of a post the viewer may see (NotFound otherwise); None when it has none."""
    cleared = await privacy.check_status(conn, viewer, status_id)
    found = await cards_for(conn, [status_id])
    return cleared.derive(lambda _row: found.get(status_id))
