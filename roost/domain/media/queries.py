"""Reading media attachments.

Media are never listed on their own: they are shown as part of a post the
policy has cleared (``for_statuses``, used by statuses.queries.hydrate), or to
their uploader before a post takes them (``own_unattached``). Serving a file
asks the policy about its post again (roost/api/media_files.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import accounts, media_attachments, preview_cards, statuses
from roost.domain.types import MediaAttachment, Viewer
from roost.errors import NotFound

# States of media a post shows: stored here, or (a received post's) by its remote address.
SHOWN = ("ready", "remote")


async def for_statuses(
    conn: AsyncConnection, status_ids: Iterable[int]
) -> dict[int, list[MediaAttachment]]:
    """The finished media of each post, in the order the author gave them."""
    wanted = list(set(status_ids))
    if not wanted:
        return {}
    rows = await conn.execute(
        select(media_attachments)
        .where(media_attachments.c.status_id.in_(wanted), media_attachments.c.state.in_(SHOWN))
        .order_by(media_attachments.c.status_id, media_attachments.c.position)
    )
    result: dict[int, list[MediaAttachment]] = {}
    for row in rows.mappings():
        result.setdefault(row["status_id"], []).append(MediaAttachment.from_row(row))
    return result


async def own_unattached(conn: AsyncConnection, viewer: Viewer, media_id: int) -> MediaAttachment:
    """An upload of the viewer's that no post holds yet; NotFound for anything else."""
    row = (
        (
            await conn.execute(
                select(media_attachments).where(
                    media_attachments.c.id == media_id,
                    media_attachments.c.account_id == viewer.account_id,
                    media_attachments.c.status_id.is_(None),
                    media_attachments.c.kept_for_status_id.is_(None),
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None or viewer.account_id is None:
        raise NotFound()
    return MediaAttachment.from_row(row)


async def attachment(conn: AsyncConnection, media_id: int) -> MediaAttachment | None:
    """One attachment by id, with no check: for the file route, which checks next."""
    row = (
        (await conn.execute(select(media_attachments).where(media_attachments.c.id == media_id)))
        .mappings()
        .first()
    )
    return MediaAttachment.from_row(row) if row is not None else None


async def has_media(conn: AsyncConnection, status_id: int) -> bool:
    row = await conn.execute(
        select(media_attachments.c.id).where(media_attachments.c.status_id == status_id).limit(1)
    )
    return row.first() is not None


def with_media() -> ColumnElement[bool]:
    """True for posts with at least one finished attachment (``only_media``)."""
    return statuses.c.id.in_(
        select(media_attachments.c.status_id).where(
            media_attachments.c.status_id.is_not(None), media_attachments.c.state.in_(SHOWN)
        )
    )


def with_media_each() -> ColumnElement[bool]:
    """``with_media`` asked of each post in turn: for one account's posts,
    which are walked newest first on their own index. ``with_media`` suits
    pages over every account; for one account SQLite took it as the place to
    start and walked every attachment of every account (at 1M posts, 35 ms
    for a page of an account's media)."""
    return exists(
        select(media_attachments.c.id).where(
            media_attachments.c.status_id == statuses.c.id, media_attachments.c.state.in_(SHOWN)
        )
    )


async def referenced_keys(
    conn: AsyncConnection, keys: Iterable[str], *, except_pruned: bool = False
) -> set[str]:
    """Which of these store keys a row still names (an attachment, a profile
    image or a link card's image); ``except_pruned``: not counting remote
    attachments whose file was pruned (roost/domain/federation/remote_media.py)."""
    wanted = list(set(keys))
    if not wanted:
        return set()
    found: set[str] = set()
    for column in (media_attachments.c.file_key, media_attachments.c.preview_key):
        query = select(column).where(column.in_(wanted)).distinct()
        if except_pruned:
            query = query.where(media_attachments.c.remote_pruned_at.is_(None))
        rows = await conn.execute(query)
        found |= {row[0] for row in rows}
    rows = await conn.execute(
        select(accounts.c.avatar_file, accounts.c.header_file).where(
            or_(accounts.c.avatar_file.in_(wanted), accounts.c.header_file.in_(wanted))
        )
    )
    for avatar, header in rows:
        found |= {avatar, header} & set(wanted)
    rows = await conn.execute(
        select(preview_cards.c.image_file).where(preview_cards.c.image_file.in_(wanted))
    )
    found |= {row[0] for row in rows}
    return found


async def kept_for(conn: AsyncConnection, media_id: int) -> int | None:
    """The post whose edit history keeps this media (an edit took it off), if any."""
    return (
        await conn.execute(
            select(media_attachments.c.kept_for_status_id).where(media_attachments.c.id == media_id)
        )
    ).scalar_one_or_none()
