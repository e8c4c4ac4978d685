"""What the index holds for a post, read from the system of record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import accounts, media_attachments, statuses
from roost.search.text import words
from roost.visibility import Visibility


@dataclass(frozen=True)
class Document:
    status_id: int
    account_id: int
    words: list[str]
    # Public, by an account that opted in to search: anyone may find it.
    public_indexable: bool
    has_media: bool


async def documents(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, Document]:
    """The documents for those of ``ids`` that should be in the index: posts
    that exist and are not boosts. Missing ids are the ones to drop."""
    if not ids:
        return {}
    rows = (
        await conn.execute(
            select(
                statuses.c.id,
                statuses.c.account_id,
                statuses.c.visibility,
                statuses.c.text,
                statuses.c.spoiler_text,
                accounts.c.indexable,
            )
            .join(accounts, accounts.c.id == statuses.c.account_id)
            .where(statuses.c.id.in_(list(ids)), statuses.c.reblog_of_id.is_(None))
        )
    ).all()
    descriptions: dict[int, list[str]] = {}
    for media in await conn.execute(
        select(media_attachments.c.status_id, media_attachments.c.description).where(
            media_attachments.c.status_id.in_([r.id for r in rows])
        )
    ):
        descriptions.setdefault(media.status_id, []).append(media.description or "")
    result: dict[int, Document] = {}
    for row in rows:
        # Content warning, text and image descriptions are all things people
        # remember a post by.
        text = "\n".join([row.spoiler_text, row.text, *descriptions.get(row.id, [])])
        result[row.id] = Document(
            status_id=row.id,
            account_id=row.account_id,
            words=words(text),
            public_indexable=row.visibility == int(Visibility.PUBLIC) and bool(row.indexable),
            has_media=row.id in descriptions,
        )
    return result
