"""Polls: created with their post, voted on, reset by an edit, announced at their end.

The limits are Mastodon's (and the instance entity reports them): two to
four options of at most 50 characters, open from five minutes to a month.
Option texts are sealed under the author's key like the post's own words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import poll_votes, polls
from roost.domain import privacy
from roost.domain.federation.jobs import SendPollVote
from roost.domain.notifications.jobs import Notify
from roost.domain.polls.jobs import PollEnded
from roost.domain.polls.queries import unsealed
from roost.domain.types import Viewer
from roost.errors import NotFound, RuleBroken
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.keys.ring import seal

MAX_OPTIONS = 4
MAX_OPTION_CHARS = 50
MIN_EXPIRATION_S = 300
MAX_EXPIRATION_S = 2_629_746


@dataclass(frozen=True)
class NewPoll:
    options: tuple[str, ...]
    expires_in: int
    multiple: bool = False
    hide_totals: bool = False


def check_poll(poll: NewPoll) -> None:
    """Invalid (422) unless the poll is within Mastodon's limits."""
    if len(poll.options) < 2:
        raise RuleBroken("Poll options must have more than one item")
    if len(poll.options) > MAX_OPTIONS:
        raise RuleBroken(f"Poll options can't contain more than {MAX_OPTIONS} items")
    if any(not option.strip() for option in poll.options):
        raise RuleBroken("Poll options can't be blank")
    if any(len(option) > MAX_OPTION_CHARS for option in poll.options):
        raise RuleBroken(f"Poll options cannot be longer than {MAX_OPTION_CHARS} characters each")
    if len(set(poll.options)) != len(poll.options):
        raise RuleBroken("Poll options contain duplicate items")
    if poll.expires_in < MIN_EXPIRATION_S:
        raise RuleBroken("Poll duration is too short")
    if poll.expires_in > MAX_EXPIRATION_S:
        raise RuleBroken("Poll duration is too long")


async def do_create_poll(tx: Tx, account_id: int, status_id: int, poll: NewPoll) -> int:
    """The poll of a new post (checked with ``check_poll``), and its end as a job."""
    check_poll(poll)
    now = utcnow()
    poll_id = new_id()
    expires_at = now + timedelta(seconds=poll.expires_in)
    await tx.execute(
        polls.insert().values(
            id=poll_id,
            status_id=status_id,
            account_id=account_id,
            options=[seal(account_id, option) for option in poll.options],
            multiple=poll.multiple,
            hide_totals=poll.hide_totals,
            expires_at=expires_at,
            created_at=now,
        )
    )
    await enqueue(tx, PollEnded(poll_id), run_at=expires_at)
    return poll_id


async def do_replace_poll(tx: Tx, account_id: int, status_id: int, poll: NewPoll | None) -> bool:
    """An edit's poll, as Mastodon edits them: none removes the post's poll;
    other options (or single/multiple choice) reset its votes; the end is
    counted again from now. Returns whether the votes were reset."""
    found = (await tx.execute(select(polls).where(polls.c.status_id == status_id))).first()
    if poll is None:
        if found is not None:
            await tx.execute(delete(poll_votes).where(poll_votes.c.poll_id == found.id))
            await tx.execute(delete(polls).where(polls.c.id == found.id))
        return found is not None
    if found is None:
        await do_create_poll(tx, account_id, status_id, poll)
        return False
    check_poll(poll)
    changed = tuple(unsealed(found.options)) != poll.options or found.multiple != poll.multiple
    if changed:
        await tx.execute(delete(poll_votes).where(poll_votes.c.poll_id == found.id))
    expires_at = utcnow() + timedelta(seconds=poll.expires_in)
    await tx.execute(
        update(polls)
        .where(polls.c.id == found.id)
        .values(
            options=[seal(account_id, option) for option in poll.options],
            multiple=poll.multiple,
            hide_totals=poll.hide_totals,
            expires_at=expires_at,
        )
    )
    await enqueue(tx, PollEnded(found.id), run_at=expires_at)
    return changed


async def do_vote(tx: Tx, viewer: Viewer, poll_id: int, choices: list[int]) -> int:
    """Vote in a poll of a post the viewer may see; returns the post's id.

    NotFound when the poll or its post is hidden from the viewer; Invalid (422,
    as Mastodon words them) for the author's own poll, an ended poll, a second
    vote, a choice that is no option, or several choices in a single-choice poll.
    """
    assert viewer.account_id is not None
    query = select(polls).where(polls.c.id == poll_id)
    if tx.conn.dialect.name != "sqlite":
        # Two votes of one account at once: the second waits here, then
        # finds the first (SQLite runs one write at a time anyway).
        query = query.with_for_update()
    found = (await tx.execute(query)).first()
    if found is None:
        raise NotFound()
    await privacy.check_status(tx.conn, viewer, found.status_id)
    if found.account_id == viewer.account_id:
        raise RuleBroken("You cannot vote in your own polls")
    if found.expires_at <= utcnow():
        raise RuleBroken("The poll has already ended")
    voted = await tx.execute(
        select(poll_votes.c.id).where(
            poll_votes.c.poll_id == poll_id, poll_votes.c.account_id == viewer.account_id
        )
    )
    if voted.first() is not None:
        raise RuleBroken("You have already voted on this poll")
    wanted = list(dict.fromkeys(choices))
    if not wanted:
        raise RuleBroken("Choices can't be blank")
    if any(not 0 <= choice < len(found.options) for choice in wanted):
        raise RuleBroken("The chosen vote option does not exist")
    if len(wanted) > 1 and not found.multiple:
        raise RuleBroken("This poll allows one choice only")
    now = utcnow()
    await tx.execute(
        poll_votes.insert(),
        [
            {
                "id": new_id(),
                "poll_id": poll_id,
                "account_id": viewer.account_id,
                "choice": choice,
                "created_at": now,
            }
            for choice in wanted
        ],
    )
    if found.remote_counts is not None:
        # A received poll: counted here at once (as Mastodon does) until its
        # server's next count, and sent to its author.
        counts = list(found.remote_counts) + [0] * (len(found.options) - len(found.remote_counts))
        for choice in wanted:
            counts[choice] += 1
        await tx.execute(
            update(polls)
            .where(polls.c.id == poll_id)
            .values(remote_counts=counts, remote_voters=(found.remote_voters or 0) + 1)
        )
        await enqueue(tx, SendPollVote(viewer.account_id, poll_id, wanted))
    return int(found.status_id)


async def do_announce_end(tx: Tx, poll_id: int, now: datetime | None = None) -> int:
    """Queue a "poll" notification to each voter and to the author, once
    (keyed by poll, end and recipient); nothing while the poll is still open
    (an edit moved its end) or when it is gone. Returns how many were queued.

    Each is its own ``Notify`` job, as Mastodon notifies each voter in a job
    of its own: the end of a poll with thousands of voters is a short write,
    not one transaction that holds the database for all of them."""
    found = (await tx.execute(select(polls).where(polls.c.id == poll_id))).first()
    if found is None or found.expires_at > (now or utcnow()):
        return 0
    voters = await tx.execute(
        select(poll_votes.c.account_id).where(poll_votes.c.poll_id == poll_id).distinct()
    )
    recipients = [found.account_id, *sorted(v for (v,) in voters if v != found.account_id)]
    if found.remote_counts is not None:
        recipients = recipients[1:]  # a received poll: its author is told by their server
    for recipient in recipients:
        await enqueue(
            tx,
            Notify(
                type="poll",
                account_id=recipient,
                from_account_id=found.account_id,
                status_id=found.status_id,
                event_key=f"poll:{poll_id}:{recipient}:{found.expires_at.isoformat()}",
            ),
        )
    return len(recipients)
