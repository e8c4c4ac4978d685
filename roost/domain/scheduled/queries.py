"""Reading scheduled posts: each is its author's alone (anyone else: NotFound)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import media_attachments, scheduled_statuses
from roost.domain.pagination import newest_first, page_of
from roost.domain.polls.actions import NewPoll
from roost.domain.polls.queries import unsealed
from roost.domain.scheduled.model import ScheduledPost
from roost.domain.types import MediaAttachment, Page, Viewer, Visibility
from roost.errors import NotFound


def from_row(row: Any, media: tuple[MediaAttachment, ...] = ()) -> ScheduledPost:
    params = row.params
    poll = params.get("poll")
    return ScheduledPost(
        id=row.id,
        account_id=row.account_id,
        scheduled_at=row.scheduled_at,
        text=row.text,
        spoiler_text=row.spoiler_text,
        visibility=Visibility(params["visibility"]),
        in_reply_to_id=params.get("in_reply_to_id"),
        sensitive=bool(params.get("sensitive")),
        language=params.get("language"),
        media_ids=tuple(params.get("media_ids") or ()),
        poll=None
        if poll is None
        else NewPoll(
            options=tuple(unsealed(poll["options"])),
            expires_in=int(poll["expires_in"]),
            multiple=bool(poll.get("multiple")),
            hide_totals=bool(poll.get("hide_totals")),
        ),
        application_id=params.get("application_id"),
        quoted_status_id=params.get("quoted_status_id"),
        quote_policy=params.get("quote_policy"),
        media=media,
    )


async def _with_media(conn: AsyncConnection, rows: list[Any]) -> list[ScheduledPost]:
    wanted = {(row.account_id, m) for row in rows for m in row.params.get("media_ids") or ()}
    found: dict[int, MediaAttachment] = {}
    if wanted:
        result = await conn.execute(
            select(media_attachments).where(
                media_attachments.c.id.in_([m for _a, m in wanted]),
                media_attachments.c.status_id.is_(None),
                media_attachments.c.kept_for_status_id.is_(None),
            )
        )
        for media in result.mappings():
            if (media["account_id"], media["id"]) in wanted:
                found[media["id"]] = MediaAttachment.from_row(media)
    return [
        from_row(row, tuple(found[m] for m in row.params.get("media_ids") or () if m in found))
        for row in rows
    ]


async def scheduled_post(conn: AsyncConnection, viewer: Viewer, scheduled_id: int) -> ScheduledPost:
    row = (
        await conn.execute(
            select(scheduled_statuses).where(
                scheduled_statuses.c.id == scheduled_id,
                scheduled_statuses.c.account_id == viewer.account_id,
            )
        )
    ).first()
    if row is None or viewer.account_id is None:
        raise NotFound()
    return (await _with_media(conn, [row]))[0]


async def scheduled_text(conn: AsyncConnection, scheduled_id: int) -> str | None:
    """The text a scheduled post will publish (None when it is gone), for
    what must be done before publishing it (its mentions looked up)."""
    row = (
        await conn.execute(
            select(scheduled_statuses).where(scheduled_statuses.c.id == scheduled_id)
        )
    ).first()
    return None if row is None else from_row(row).text


async def scheduled_posts(conn: AsyncConnection, viewer: Viewer, page: Page) -> list[ScheduledPost]:
    """The viewer's scheduled posts, newest id first, paged by id."""
    assert viewer.account_id is not None
    query = page_of(
        select(scheduled_statuses).where(scheduled_statuses.c.account_id == viewer.account_id),
        scheduled_statuses.c.id,
        page,
    )
    rows = newest_first((await conn.execute(query)).all(), page)
    return await _with_media(conn, rows)
