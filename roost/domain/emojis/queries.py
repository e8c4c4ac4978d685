"""Reading custom emoji: what apps show in their pickers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import custom_emojis


@dataclass(frozen=True)
class CustomEmoji:
    shortcode: str
    file_name: str
    content_type: str
    category: str | None
    visible_in_picker: bool


async def all_emojis(conn: AsyncConnection) -> list[CustomEmoji]:
    rows = await conn.execute(select(custom_emojis).order_by(custom_emojis.c.shortcode))
    return [
        CustomEmoji(
            shortcode=r.shortcode,
            file_name=r.file_name,
            content_type=r.content_type,
            category=r.category,
            visible_in_picker=r.visible_in_picker,
        )
        for r in rows
    ]


async def emoji_file(conn: AsyncConnection, file_name: str) -> str | None:
    """The content type of a stored emoji image, or None if no emoji uses it."""
    row = (
        await conn.execute(
            select(custom_emojis.c.content_type).where(custom_emojis.c.file_name == file_name)
        )
    ).first()
    return None if row is None else str(row.content_type)
