"""The versions of an edited post: what each edit records, and reading them
back for ``GET /api/v1/statuses/:id/history``.

A version keeps its text, its poll's options and its media (ids in order,
each with its alt text as it was then), so the history shows every version as
it was published. Media an edit takes off the post are not let go: they stay,
kept for the history (``media_attachments.kept_for_status_id``), until the
post is deleted (roost/domain/media/actions.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import Tx
from roost.db.tables import media_attachments, polls, status_edits
from roost.domain.polls.queries import unsealed
from roost.domain.types import MediaAttachment, Status, StatusEdit
from roost.ids import new_id
from roost.keys.ring import is_sealed, seal, seal_optional, unseal


async def do_record_version(tx: Tx, status: Status, at: datetime) -> None:
    """A version of the post as it stands: its text, its poll's options and
    its media with their alt text (each sealed under the author's key)."""
    options = (
        await tx.execute(select(polls.c.options).where(polls.c.status_id == status.id))
    ).scalar_one_or_none()
    held = await tx.execute(
        select(media_attachments.c.id, media_attachments.c.description)
        .where(media_attachments.c.status_id == status.id)
        .order_by(media_attachments.c.position)
    )
    media = [
        {"id": row.id, "description": seal_optional(status.account_id, row.description)}
        for row in held
    ]
    await tx.execute(
        status_edits.insert().values(
            id=new_id(),
            status_id=status.id,
            account_id=status.account_id,
            text=seal(status.account_id, status.text),
            content=seal(status.account_id, status.content),
            spoiler_text=seal(status.account_id, status.spoiler_text),
            sensitive=status.sensitive,
            poll_options=options,
            media=media,
            created_at=at,
        )
    )


def _description(value: str | None) -> str | None:
    return unseal(value) if value is not None and is_sealed(value) else value


async def versions(conn: AsyncConnection, status_id: int) -> list[StatusEdit]:
    """Every recorded version, oldest first, each with its media as they were
    (a media file since removed for good is left out)."""
    rows = (
        await conn.execute(
            select(status_edits)
            .where(status_edits.c.status_id == status_id)
            .order_by(status_edits.c.id)
        )
    ).all()
    wanted = {int(m["id"]) for r in rows for m in r.media or ()}
    found: dict[int, MediaAttachment] = {}
    if wanted:
        result = await conn.execute(
            select(media_attachments).where(
                media_attachments.c.id.in_(wanted), media_attachments.c.state == "ready"
            )
        )
        found = {m["id"]: MediaAttachment.from_row(m) for m in result.mappings()}
    return [
        StatusEdit(
            text=r.text,
            content=r.content,
            spoiler_text=r.spoiler_text,
            sensitive=r.sensitive,
            created_at=r.created_at,
            poll_options=None if r.poll_options is None else tuple(unsealed(r.poll_options)),
            media=tuple(
                replace(found[int(m["id"])], description=_description(m["description"]))
                for m in r.media or ()
                if int(m["id"]) in found
            ),
        )
        for r in rows
    ]
