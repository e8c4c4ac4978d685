"""Announcements: written by the operator (``roost announcements``), read,
dismissed and reacted to by everyone signed in."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import (
    announcement_dismissals,
    announcement_reactions,
    announcements,
    custom_emojis,
)
from roost.domain.announcements.queries import check_active
from roost.domain.emojis.actions import SHORTCODE
from roost.domain.events import AnnouncementPublished, AnnouncementReacted, AnnouncementRemoved
from roost.domain.statuses import content
from roost.domain.types import Viewer
from roost.errors import Invalid, NotFound, RuleBroken
from roost.ids import new_id

MAX_TEXT = 5000
MAX_REACTIONS_PER_PERSON = 10


@dataclass(frozen=True)
class NewAnnouncement:
    text: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    all_day: bool = False


async def do_add_announcement(tx: Tx, new: NewAnnouncement, *, base_url: str) -> int:
    text = new.text.strip()
    if not text:
        raise Invalid("the announcement has no text")
    if len(text) > MAX_TEXT:
        raise Invalid(f"the announcement is longer than {MAX_TEXT} characters")
    if new.starts_at and new.ends_at and new.starts_at >= new.ends_at:
        raise Invalid("the announcement must start before it ends")
    now = utcnow()
    announcement_id = new_id()
    await tx.execute(
        announcements.insert().values(
            id=announcement_id,
            text=text,
            content=content.render(text, {}, base_url).html,
            starts_at=new.starts_at,
            ends_at=new.ends_at,
            all_day=new.all_day and bool(new.starts_at or new.ends_at),
            published_at=now,
            updated_at=now,
        )
    )
    if _running_now(new):
        tx.emit(AnnouncementPublished(announcement_id))
    return announcement_id


def _running_now(announcement: NewAnnouncement) -> bool:
    """Whether apps hear of it at once (one that starts later is shown from
    its start, when apps next read the announcements)."""
    now = utcnow()
    return (announcement.starts_at is None or announcement.starts_at <= now) and (
        announcement.ends_at is None or announcement.ends_at > now
    )


async def do_update_announcement(
    tx: Tx, announcement_id: int, changed: NewAnnouncement, *, base_url: str
) -> None:
    """Replace the announcement's text and times; apps see it updated."""
    text = changed.text.strip()
    if not text:
        raise Invalid("the announcement has no text")
    if len(text) > MAX_TEXT:
        raise Invalid(f"the announcement is longer than {MAX_TEXT} characters")
    if changed.starts_at and changed.ends_at and changed.starts_at >= changed.ends_at:
        raise Invalid("the announcement must start before it ends")
    result = await tx.execute(
        update(announcements)
        .where(announcements.c.id == announcement_id)
        .values(
            text=text,
            content=content.render(text, {}, base_url).html,
            starts_at=changed.starts_at,
            ends_at=changed.ends_at,
            all_day=changed.all_day and bool(changed.starts_at or changed.ends_at),
            updated_at=utcnow(),
        )
    )
    if not result.rowcount:
        raise NotFound(f"there is no announcement {announcement_id}")
    tx.emit(
        AnnouncementPublished(announcement_id)
        if _running_now(changed)
        else AnnouncementRemoved(announcement_id)
    )


async def do_remove_announcement(tx: Tx, announcement_id: int) -> None:
    result = await tx.execute(delete(announcements).where(announcements.c.id == announcement_id))
    if not result.rowcount:
        raise NotFound(f"there is no announcement {announcement_id}")
    tx.emit(AnnouncementRemoved(announcement_id))


async def do_dismiss(tx: Tx, viewer: Viewer, announcement_id: int) -> None:
    assert viewer.account_id is not None
    await check_active(tx.conn, announcement_id)
    done = (
        await tx.execute(
            select(announcement_dismissals.c.id).where(
                announcement_dismissals.c.announcement_id == announcement_id,
                announcement_dismissals.c.account_id == viewer.account_id,
            )
        )
    ).first()
    if done is None:
        await tx.execute(
            announcement_dismissals.insert().values(
                id=new_id(),
                announcement_id=announcement_id,
                account_id=viewer.account_id,
                created_at=utcnow(),
            )
        )


def _is_unicode_emoji(name: str) -> bool:
    """One emoji as apps send it: pictographs, with skin tones, joiners,
    variation selectors and keycaps."""
    if not name or len(name) > 16:
        return False
    pictographs = 0
    for ch in name:
        category = unicodedata.category(ch)
        if category == "So":
            pictographs += 1
        elif category not in {"Sk", "Mn", "Me", "Cf"} and ch not in "#*0123456789":
            return False
    return pictographs > 0 or "\u20e3" in name


async def _check_reaction(tx: Tx, name: str) -> None:
    if _is_unicode_emoji(name):
        return
    if not SHORTCODE.match(name):
        raise RuleBroken("Name is not a recognized emoji")
    custom = (
        await tx.execute(select(custom_emojis.c.id).where(custom_emojis.c.shortcode == name))
    ).first()
    if custom is None:
        raise RuleBroken("Name is not a recognized emoji")


async def do_react(tx: Tx, viewer: Viewer, announcement_id: int, name: str) -> None:
    assert viewer.account_id is not None
    await check_active(tx.conn, announcement_id)
    await _check_reaction(tx, name)
    mine = [
        r.name
        for r in await tx.execute(
            select(announcement_reactions.c.name).where(
                announcement_reactions.c.announcement_id == announcement_id,
                announcement_reactions.c.account_id == viewer.account_id,
            )
        )
    ]
    if name in mine:
        return
    if len(mine) >= MAX_REACTIONS_PER_PERSON:
        raise RuleBroken(f"at most {MAX_REACTIONS_PER_PERSON} reactions each")
    await tx.execute(
        announcement_reactions.insert().values(
            id=new_id(),
            announcement_id=announcement_id,
            account_id=viewer.account_id,
            name=name,
            created_at=utcnow(),
        )
    )
    tx.emit(AnnouncementReacted(announcement_id, name))


async def do_unreact(tx: Tx, viewer: Viewer, announcement_id: int, name: str) -> None:
    await check_active(tx.conn, announcement_id)
    if not (_is_unicode_emoji(name) or SHORTCODE.match(name)):
        return  # no such reaction can exist
    result = await tx.execute(
        delete(announcement_reactions).where(
            announcement_reactions.c.announcement_id == announcement_id,
            announcement_reactions.c.account_id == viewer.account_id,
            announcement_reactions.c.name == name,
        )
    )
    if result.rowcount:
        tx.emit(AnnouncementReacted(announcement_id, name))
