"""Scheduled posts: kept with their parameters until a job publishes them.

Mastodon's rules: at least five minutes ahead, at most 300 waiting per
account and 25 on any one (UTC) day. A scheduled post is checked as a post
would be when it is scheduled (text, poll, media, the replied-to post), so
that an error shows when it can still be fixed; its uploads are kept for it
(they would otherwise expire a day after upload) until it is published or
cancelled. At its time the job publishes it through ``do_create_status``,
exactly as if it were posted then, and the scheduled post goes in the same
transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import accounts, media_attachments, scheduled_statuses
from roost.domain import privacy
from roost.domain.media.actions import MAX_ATTACHMENTS, UNATTACHED_LIFETIME
from roost.domain.media.jobs import SweepMedia
from roost.domain.polls.actions import check_poll
from roost.domain.quotes.actions import check_policy
from roost.domain.scheduled.jobs import PublishScheduled
from roost.domain.scheduled.queries import from_row
from roost.domain.statuses.actions import POLL_WITH_MEDIA, NewStatus, check_text, do_create_status
from roost.domain.types import Viewer
from roost.errors import NotFound, RuleBroken
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.keys.ring import seal

log = logging.getLogger("roost.scheduled")

MIN_LEAD = timedelta(minutes=5)
TOTAL_LIMIT = 300
DAILY_LIMIT = 25
LAST_YEAR = 9999


async def _check_time(tx: Tx, account_id: int, at: datetime, *, moving: int | None) -> None:
    """Invalid (422) for a time less than five minutes ahead, or past the
    limits (``moving``: the scheduled post being rescheduled, not counted)."""
    if at < utcnow() + MIN_LEAD:
        raise RuleBroken("Scheduled at must be at least 5 minutes in the future")
    if at.year >= LAST_YEAR:
        # Its uploads are kept a day beyond it: a day the calendar must hold.
        raise RuleBroken(f"Scheduled at must be before the year {LAST_YEAR}")
    mine = scheduled_statuses.c.account_id == account_id
    others = mine if moving is None else mine & (scheduled_statuses.c.id != moving)
    if moving is None:
        total = (
            await tx.execute(select(func.count()).select_from(scheduled_statuses).where(mine))
        ).scalar_one()
        if total >= TOTAL_LIMIT:
            raise RuleBroken(f"You have exceeded the limit of {TOTAL_LIMIT} scheduled posts")
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    that_day = (
        await tx.execute(
            select(func.count())
            .select_from(scheduled_statuses)
            .where(
                others,
                scheduled_statuses.c.scheduled_at >= day,
                scheduled_statuses.c.scheduled_at < day + timedelta(days=1),
            )
        )
    ).scalar_one()
    if that_day >= DAILY_LIMIT:
        raise RuleBroken(
            f"You have exceeded the limit of {DAILY_LIMIT} scheduled posts for that day"
        )


async def _check_media(tx: Tx, account_id: int, media_ids: tuple[int, ...]) -> None:
    if len(media_ids) > MAX_ATTACHMENTS:
        raise RuleBroken(f"a post can have at most {MAX_ATTACHMENTS} media attachments")
    if not media_ids:
        return
    free = set(
        (
            await tx.execute(
                select(media_attachments.c.id).where(
                    media_attachments.c.id.in_(media_ids),
                    media_attachments.c.account_id == account_id,
                    media_attachments.c.status_id.is_(None),
                    media_attachments.c.kept_for_status_id.is_(None),
                )
            )
        ).scalars()
    )
    for media_id in media_ids:
        if media_id not in free:
            raise RuleBroken(f"media attachment {media_id} is not yours to attach")


async def _hold_media(tx: Tx, media_ids: list[int], until: datetime) -> None:
    """Keep the uploads a scheduled post holds until a day after its time
    (or, released, a day from now), then the sweep may take them."""
    if media_ids:
        await tx.execute(
            update(media_attachments)
            .where(media_attachments.c.id.in_(media_ids), media_attachments.c.status_id.is_(None))
            .values(expires_at=until + UNATTACHED_LIFETIME)
        )
        await enqueue(tx, SweepMedia(), run_at=until + UNATTACHED_LIFETIME + timedelta(minutes=1))


async def do_schedule(
    tx: Tx, author: Viewer, new: NewStatus, at: datetime, *, max_chars: int
) -> int:
    """Keep ``new`` to be published at ``at``; returns the scheduled post's id."""
    assert author.account_id is not None
    await _check_time(tx, author.account_id, at, moving=None)
    check_text(new.text, new.spoiler_text, max_chars, has_media=bool(new.media_ids))
    if new.poll is not None:
        if new.media_ids:
            raise RuleBroken(POLL_WITH_MEDIA)
        check_poll(new.poll)
    if new.in_reply_to_id is not None:
        await privacy.check_status(tx.conn, author, new.in_reply_to_id)
    if new.quoted_status_id is not None:
        await privacy.check_status(tx.conn, author, new.quoted_status_id)
    if new.quote_policy is not None:
        check_policy(new.quote_policy)
    media_ids = tuple(dict.fromkeys(new.media_ids))
    await _check_media(tx, author.account_id, media_ids)
    params: dict[str, Any] = {
        "visibility": int(new.visibility),
        "in_reply_to_id": new.in_reply_to_id,
        "sensitive": new.sensitive,
        "language": new.language,
        "media_ids": list(media_ids),
        "application_id": author.application_id,
        "quoted_status_id": new.quoted_status_id,
        "quote_policy": new.quote_policy,
        "poll": None
        if new.poll is None
        else {
            "options": [seal(author.account_id, option) for option in new.poll.options],
            "expires_in": new.poll.expires_in,
            "multiple": new.poll.multiple,
            "hide_totals": new.poll.hide_totals,
        },
    }
    scheduled_id = new_id()
    await tx.execute(
        scheduled_statuses.insert().values(
            id=scheduled_id,
            account_id=author.account_id,
            scheduled_at=at,
            text=seal(author.account_id, new.text),
            spoiler_text=seal(author.account_id, new.spoiler_text),
            params=params,
            created_at=utcnow(),
        )
    )
    await _hold_media(tx, list(media_ids), at)
    await enqueue(tx, PublishScheduled(scheduled_id), run_at=at)
    return scheduled_id


async def _own_row(tx: Tx, viewer: Viewer, scheduled_id: int) -> Any:
    row = (
        await tx.execute(
            select(scheduled_statuses).where(
                scheduled_statuses.c.id == scheduled_id,
                scheduled_statuses.c.account_id == viewer.account_id,
            )
        )
    ).first()
    if row is None or viewer.account_id is None:
        raise NotFound()
    return row


async def do_reschedule(tx: Tx, viewer: Viewer, scheduled_id: int, at: datetime) -> None:
    row = await _own_row(tx, viewer, scheduled_id)
    await _check_time(tx, row.account_id, at, moving=scheduled_id)
    await tx.execute(
        update(scheduled_statuses)
        .where(scheduled_statuses.c.id == scheduled_id)
        .values(scheduled_at=at)
    )
    await _hold_media(tx, list(row.params.get("media_ids") or ()), at)
    await enqueue(tx, PublishScheduled(scheduled_id), run_at=at)


async def do_cancel(tx: Tx, viewer: Viewer, scheduled_id: int) -> None:
    """Cancel a scheduled post; its uploads are kept a day, as any upload."""
    row = await _own_row(tx, viewer, scheduled_id)
    await _drop(tx, row)


async def _drop(tx: Tx, row: Any) -> None:
    await tx.execute(delete(scheduled_statuses).where(scheduled_statuses.c.id == row.id))
    await _hold_media(tx, list(row.params.get("media_ids") or ()), utcnow())


async def do_publish(
    tx: Tx, scheduled_id: int, *, base_url: str, max_chars: int, now: datetime | None = None
) -> int | None:
    """Publish a scheduled post that is due; returns the new post's id. None
    when it is gone, not yet due (it was moved later), or its author is suspended
    (it is then dropped, as on Mastodon)."""
    row = (
        await tx.execute(select(scheduled_statuses).where(scheduled_statuses.c.id == scheduled_id))
    ).first()
    if row is None or row.scheduled_at > (now or utcnow()):
        return None
    suspended = (
        await tx.execute(select(accounts.c.suspended_at).where(accounts.c.id == row.account_id))
    ).scalar_one_or_none()
    await tx.execute(delete(scheduled_statuses).where(scheduled_statuses.c.id == scheduled_id))
    if suspended is not None:
        return None
    post = from_row(row)
    author = Viewer(account_id=row.account_id, application_id=post.application_id)
    return await do_create_status(
        tx,
        author,
        NewStatus(
            text=post.text,
            visibility=post.visibility,
            in_reply_to_id=post.in_reply_to_id,
            spoiler_text=post.spoiler_text,
            sensitive=post.sensitive,
            language=post.language,
            application_id=post.application_id,
            media_ids=post.media_ids,
            poll=post.poll,
            quoted_status_id=post.quoted_status_id,
            quote_policy=post.quote_policy,
        ),
        base_url=base_url,
        max_chars=max_chars,
    )


async def do_drop_unpublishable(tx: Tx, scheduled_id: int, reason: str) -> None:
    """A scheduled post that can no longer be published as written (its
    replied-to post or its media are gone): dropped, as Mastodon drops it."""
    row = (
        await tx.execute(select(scheduled_statuses).where(scheduled_statuses.c.id == scheduled_id))
    ).first()
    if row is not None:
        log.warning("scheduled post %s dropped: %s", scheduled_id, reason)
        await _drop(tx, row)
