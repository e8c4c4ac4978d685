"""Every change to posts: create, edit, delete, and the interactions on them.

Each ``do_*`` runs inside the caller's transaction and writes the jobs its
change implies (notifications, fan-out) to the outbox in that same transaction.

Above 500 lines: every change a person makes to a post row and its counters
(replies, boosts, favourites), with the private helpers those changes share
(``_bump``, ``_add_interaction``, ``_visible_original``, ``_undo_boost``). The
Twitter importer's batched inserts keep their own counts
(roost/importers/twitter/store.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, bindparam, delete, func, insert, select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import (
    accounts,
    bookmarks,
    favourites,
    mentions,
    pins,
    status_tags,
    statuses,
)
from roost.domain import privacy
from roost.domain.accounts.limits import is_sensitized
from roost.domain.accounts.queries import local_accounts_named, remote_accounts_named
from roost.domain.cards.jobs import FetchLinkCard
from roost.domain.cards.links import first_link
from roost.domain.conversations.actions import do_deliver_direct
from roost.domain.events import StatusCreated, StatusDeleted, StatusEdited
from roost.domain.federation.jobs import SendLike
from roost.domain.federation.moves import MOVED_POSTS_NO_MORE, not_moved
from roost.domain.media.actions import (
    MediaChange,
    do_attach_media,
    do_change_attached_media,
    do_delete_attached_media,
    do_release_media,
)
from roost.domain.media.queries import has_media
from roost.domain.notifications.jobs import Notify
from roost.domain.polls.actions import NewPoll, check_poll, do_create_poll, do_replace_poll
from roost.domain.quotes.actions import (
    check_policy,
    check_quote,
    do_after_edit,
    do_record_quote,
    do_set_policy,
)
from roost.domain.quotes.queries import default_policy
from roost.domain.quotes.rules import DEFAULT_POLICY
from roost.domain.search.jobs import SyncSearch
from roost.domain.spam.jobs import ClusterPost
from roost.domain.statuses import content, jobs
from roost.domain.statuses.idempotency import do_remember_key, post_for_key
from roost.domain.statuses.rows import new_status_row
from roost.domain.statuses.shared import Shared
from roost.domain.statuses.versions import do_record_version
from roost.domain.tags.lookup import tag_key, tags_named
from roost.domain.types import MediaAttachment, Status, Viewer, Visibility
from roost.errors import NotFound, RuleBroken
from roost.ids import new_id
from roost.jobs.outbox import enqueue, enqueue_all
from roost.jobs.registry import Job
from roost.keys.ring import seal

MAX_PINS = 5
POLL_WITH_MEDIA = "A post with media attachments cannot have a poll"


@dataclass(frozen=True)
class NewStatus:
    text: str
    visibility: Visibility = Visibility.PUBLIC
    in_reply_to_id: int | None = None
    spoiler_text: str = ""
    sensitive: bool = False
    language: str | None = None
    idempotency_key: str | None = None
    application_id: int | None = None
    created_at: datetime | None = None
    media_ids: tuple[int, ...] = ()
    poll: NewPoll | None = None
    quoted_status_id: int | None = None
    # public, followers or nobody (None: the author's default policy)
    quote_policy: str | None = None
    # The author's default policy when the caller read it already, with the
    # rest of their settings (None: read here).
    author_quote_policy: str | None = None


@dataclass(frozen=True)
class StatusChange:
    text: str
    spoiler_text: str | None = None
    sensitive: bool | None = None
    language: str | None = None
    # None: the post keeps its media; a tuple (even empty) replaces them.
    media_ids: tuple[int, ...] | None = None
    # Alt text and focus of media the post holds after the edit.
    media_changes: tuple[MediaChange, ...] = ()
    # As Mastodon edits: the post's poll after the edit (None: no poll), when
    # ``replace_poll``; otherwise the poll is left as it is.
    poll: NewPoll | None = None
    replace_poll: bool = False
    quote_policy: str | None = None


def check_text(text: str, spoiler_text: str, max_chars: int, *, has_media: bool = False) -> None:
    # A post may be media alone, as on Mastodon.
    if not text.strip() and not has_media:
        raise RuleBroken("Text can't be blank")
    if content.character_count(text) + len(spoiler_text) > max_chars:
        raise RuleBroken(f"Text character limit of {max_chars} exceeded")


async def _render(tx: Tx, text: str, base_url: str) -> content.Rendered:
    local = await local_accounts_named(tx.conn, content.mentioned_usernames(text))
    # Accounts of other servers are linked when they are stored here; those
    # not stored yet are looked up before the transaction by whoever takes
    # the post (roost/domain/federation/mentions.py), never inside it.
    named = await remote_accounts_named(tx.conn, content.remote_mentions(text, base_url))
    remote = {key: content.RemoteMention(*found) for key, found in named.items()}
    return content.render(text, local, base_url, remote)


# Statements every post runs, built once: SQLAlchemy builds and keys a
# statement anew at each call otherwise (a quarter of a millisecond for the
# insert of a post's row alone).
_INSERT_STATUS = insert(statuses)
_COUNT_POST = (
    update(accounts)
    .where(
        accounts.c.id == bindparam("author_id", type_=BigInteger()),
        not_moved(bindparam("author_id", type_=BigInteger())),
    )
    .values(
        statuses_count=accounts.c.statuses_count + 1,
        last_status_at=bindparam("now", type_=accounts.c.last_status_at.type),
    )
)


async def _link_mentions_and_tags(
    tx: Tx, status_id: int, rendered: content.Rendered
) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Link the post's mentions and tags; returns them as reads list them:
    the accounts' ids in order, the tags' names (as their rows keep them) in
    the order of the tags' ids (``queries.links``)."""
    mentioned = sorted(set(rendered.mentioned_ids))
    if mentioned:
        await tx.execute(
            insert(mentions), [{"status_id": status_id, "account_id": aid} for aid in mentioned]
        )
    by_key = await tags_named(tx, rendered.tags)
    # Two spellings of one tag link it once.
    linked = sorted({by_key[k] for k in map(tag_key, rendered.tags) if k in by_key})
    if linked:
        await tx.execute(
            insert(status_tags), [{"status_id": status_id, "tag_id": tid} for tid, _ in linked]
        )
    return tuple(mentioned), tuple(name for _, name in linked)


@dataclass(frozen=True)
class Created:
    """A post just written: its id, and what every viewer sees the same of it
    as the write made it (``parts``; None when an earlier post of the same
    Idempotency-Key is answered instead)."""

    status_id: int
    parts: Shared | None


async def do_create_status(
    tx: Tx,
    author: Viewer,
    new: NewStatus,
    *,
    base_url: str,
    max_chars: int,
    cluster: bool = True,
) -> int:
    """Publish a post; returns its id. A repeated Idempotency-Key returns the first.

    ``cluster``: leave the job that looks for near duplicates (spam waves,
    roost/domain/spam); only the posting benchmark turns it off, to measure
    what it adds."""
    created = await do_create_status_parts(
        tx, author, new, base_url=base_url, max_chars=max_chars, cluster=cluster
    )
    return created.status_id


async def do_create_status_parts(
    tx: Tx,
    author: Viewer,
    new: NewStatus,
    *,
    base_url: str,
    max_chars: int,
    cluster: bool = True,
) -> Created:
    """``do_create_status``, which also hands back what it wrote of the post
    that every viewer sees the same (the answer to the post is made from it,
    roost/domain/statuses/written.py), with no read of its own. The
    application is left out (only its id is known here)."""
    assert author.account_id is not None
    if new.idempotency_key:
        existing = await post_for_key(tx, author.account_id, new.idempotency_key)
        if existing is not None:
            return Created(existing, None)
    check_text(new.text, new.spoiler_text, max_chars, has_media=bool(new.media_ids))
    if new.poll is not None:
        if new.media_ids:
            raise RuleBroken(POLL_WITH_MEDIA)
        check_poll(new.poll)
    visibility = new.visibility
    quote = None
    if new.quoted_status_id is not None:
        quote = await check_quote(tx, author, new.quoted_status_id, visibility)
        visibility = quote.visibility
    if new.quote_policy is not None:
        check_policy(new.quote_policy)
    in_reply_to_account_id = None
    if new.in_reply_to_id is not None:
        # Replying needs seeing: the parent goes through the policy like any read.
        parent = await privacy.check_status(tx.conn, author, new.in_reply_to_id)
        if parent.value["reblog_of_id"] is not None:
            raise NotFound()
        in_reply_to_account_id = parent.value["account_id"]
    rendered = await _render(tx, new.text, base_url)
    if (
        quote is not None
        and visibility == Visibility.DIRECT
        and quote.quoted_account_id not in (author.account_id, *rendered.mentioned_ids)
    ):
        raise RuleBroken("A direct quote must mention the quoted post's author")
    now = new.created_at or utcnow()
    status_id = new_id()
    row = new_status_row(
        status_id=status_id,
        account_id=author.account_id,
        visibility=visibility,
        created_at=now,
        text=new.text,
        html=rendered.html,
        spoiler_text=new.spoiler_text,
        # Staff made the author's media sensitive (accounts/limits.py).
        sensitive=new.sensitive
        or (bool(new.media_ids) and await is_sensitized(tx, author.account_id)),
        language=new.language,
        in_reply_to_id=new.in_reply_to_id,
        in_reply_to_account_id=in_reply_to_account_id,
        application_id=author.application_id,
    )
    await tx.execute(_INSERT_STATUS, row)
    mentioned, tag_names = await _link_mentions_and_tags(tx, status_id, rendered)
    media: list[MediaAttachment] = []
    if new.media_ids:
        media = await do_attach_media(tx, author.account_id, status_id, list(new.media_ids))
    if new.poll is not None:
        await do_create_poll(tx, author.account_id, status_id, new.poll)
    if quote is not None:
        await do_record_quote(tx, quote, status_id, author.account_id)
    # A post naming no policy takes its author's default (source[quote_policy]).
    policy = (
        new.quote_policy
        or new.author_quote_policy
        or await default_policy(tx.conn, author.account_id)
    )
    if policy != DEFAULT_POLICY:
        await do_set_policy(tx, status_id, policy)
    if visibility == Visibility.DIRECT:
        await do_deliver_direct(
            tx,
            status_id=status_id,
            author_id=author.account_id,
            in_reply_to_id=new.in_reply_to_id,
            mentioned=rendered.mentioned_ids,
        )
    # The author's count, on the condition that they have not moved: a
    # moved account posts no more, and this statement finds that out (the
    # post and all written with it roll back) where a read of its own asked
    # before.
    counted = await tx.execute(_COUNT_POST, {"author_id": author.account_id, "now": now})
    if counted.rowcount == 0:
        raise RuleBroken(MOVED_POSTS_NO_MORE)
    if new.in_reply_to_id is not None:
        await tx.execute(
            update(statuses)
            .where(statuses.c.id == new.in_reply_to_id)
            .values(replies_count=statuses.c.replies_count + 1)
        )
    if new.idempotency_key:
        await do_remember_key(tx, author.account_id, new.idempotency_key, status_id)
    # The post's jobs in one statement.
    published: list[Job] = [jobs.StatusPublished(status_id), SyncSearch(status_id)]
    if cluster:
        published.append(ClusterPost(status_id))
    if new.visibility != Visibility.DIRECT and first_link(new.text, base_url) is not None:
        published.append(FetchLinkCard(status_id))
    await enqueue_all(tx, *published)
    tx.emit(
        StatusCreated(
            status_id=status_id,
            author_id=author.account_id,
            in_reply_to_id=new.in_reply_to_id,
            parent_known=True,
        )
    )
    # The row as written, its words as they were before sealing.
    written = Status(
        **{
            **row,
            "visibility": visibility,
            "text": new.text,
            "content": rendered.html,
            "spoiler_text": new.spoiler_text,
        }
    )
    # No card yet: its job looks for the link's after the commit.
    parts = Shared(
        status=written,
        mentions=mentioned,
        tags=tag_names,
        application=None,
        media=tuple(media),
    )
    return Created(status_id, parts)


async def _own_status(tx: Tx, viewer: Viewer, status_id: int) -> Status:
    row = (await tx.execute(select(statuses).where(statuses.c.id == status_id))).mappings().first()
    if row is None or row["account_id"] != viewer.account_id or row["reblog_of_id"] is not None:
        # Someone else's post, or a boost: to this viewer it is not theirs to change.
        raise NotFound()
    return Status.from_row(row)


async def do_edit_status(
    tx: Tx,
    viewer: Viewer,
    status_id: int,
    change: StatusChange,
    *,
    base_url: str,
    max_chars: int,
) -> None:
    current = await _own_status(tx, viewer, status_id)
    if current.edited_at is None:
        # The history starts with the original (its poll and all), so
        # /history shows every version.
        await do_record_version(tx, current, current.created_at)
    spoiler = current.spoiler_text if change.spoiler_text is None else change.spoiler_text
    sensitive = current.sensitive if change.sensitive is None else change.sensitive
    if change.media_ids is not None:
        await do_attach_media(tx, current.account_id, status_id, list(change.media_ids))
    await do_change_attached_media(tx, current.account_id, status_id, list(change.media_changes))
    with_media = await has_media(tx.conn, status_id)
    check_text(change.text, spoiler, max_chars, has_media=with_media)
    if with_media and not sensitive:
        sensitive = await is_sensitized(tx, current.account_id)
    if change.replace_poll:
        if change.poll is not None and with_media:
            raise RuleBroken(POLL_WITH_MEDIA)
        await do_replace_poll(tx, current.account_id, status_id, change.poll)
    now = utcnow()
    rendered = await _render(tx, change.text, base_url)
    if change.quote_policy is not None:
        await do_set_policy(tx, status_id, change.quote_policy)
    await tx.execute(
        update(statuses)
        .where(statuses.c.id == status_id)
        .values(
            text=seal(current.account_id, change.text),
            content=seal(current.account_id, rendered.html),
            spoiler_text=seal(current.account_id, spoiler),
            sensitive=sensitive or bool(spoiler),
            language=change.language or current.language,
            edited_at=now,
        )
    )
    await tx.execute(delete(mentions).where(mentions.c.status_id == status_id))
    await tx.execute(delete(status_tags).where(status_tags.c.status_id == status_id))
    await _link_mentions_and_tags(tx, status_id, rendered)
    updated = (await tx.execute(select(statuses).where(statuses.c.id == status_id))).mappings()
    await do_record_version(tx, Status.from_row(updated.one()), now)
    await enqueue(tx, jobs.StatusEdited(status_id))
    await enqueue(tx, SyncSearch(status_id))
    if first_link(change.text, base_url) != first_link(current.text, base_url):
        await enqueue(tx, FetchLinkCard(status_id))  # a new card, or none
    await do_after_edit(tx, status_id, current.account_id, now)
    tx.emit(StatusEdited(status_id=status_id, author_id=current.account_id))


async def do_delete_status(
    tx: Tx, viewer: Viewer, status_id: int, *, delete_media: bool = False
) -> Status:
    """Delete a post for good, with its boosts; returns it (for redraft).

    Its media are kept a day as unattached uploads, for a redraft to take,
    unless ``delete_media``: then they go now. The id of one of the viewer's
    own boosts undoes that boost (as Mastodon does); someone else's post or
    boost is NotFound.
    """
    row = (await tx.execute(select(statuses).where(statuses.c.id == status_id))).mappings().first()
    if (
        row is not None
        and row["reblog_of_id"] is not None
        and row["account_id"] == viewer.account_id
    ):
        boost = Status.from_row(row)
        await _undo_boost(tx, boost)
        return boost
    status = await _own_status(tx, viewer, status_id)
    mentioned = await tx.execute(
        select(mentions.c.account_id).where(mentions.c.status_id == status_id)
    )
    tx.emit(
        StatusDeleted(
            status_id=status_id,
            author_id=status.account_id,
            visibility=int(status.visibility),
            mentioned_ids=tuple(r.account_id for r in mentioned),
        )
    )
    if delete_media:
        await do_delete_attached_media(tx, status_id)
    else:
        # Its media become unattached uploads again: a redraft can take them.
        await do_release_media(tx, status_id)
    await _delete_rows(tx, status)
    boosts = await tx.execute(select(statuses).where(statuses.c.reblog_of_id == status_id))
    for row in boosts.mappings().all():
        boost = Status.from_row(row)
        await _delete_rows(tx, boost)
        tx.emit(
            StatusDeleted(
                status_id=boost.id, author_id=boost.account_id, visibility=int(boost.visibility)
            )
        )
    await enqueue(tx, jobs.StatusDeleted(status_id, status.account_id, int(status.visibility)))
    await enqueue(tx, SyncSearch(status_id))
    return status


async def _delete_rows(tx: Tx, status: Status) -> None:
    await tx.execute(delete(statuses).where(statuses.c.id == status.id))
    await tx.execute(
        update(accounts)
        .where(accounts.c.id == status.account_id, accounts.c.statuses_count > 0)
        .values(statuses_count=accounts.c.statuses_count - 1)
    )
    if status.in_reply_to_id is not None:
        await tx.execute(
            update(statuses)
            .where(statuses.c.id == status.in_reply_to_id, statuses.c.replies_count > 0)
            .values(replies_count=statuses.c.replies_count - 1)
        )
    if status.reblog_of_id is not None:
        await tx.execute(
            update(statuses)
            .where(statuses.c.id == status.reblog_of_id, statuses.c.reblogs_count > 0)
            .values(reblogs_count=statuses.c.reblogs_count - 1)
        )


async def _visible_original(tx: Tx, viewer: Viewer, status_id: int) -> dict[str, Any]:
    """The post an interaction is about: must be visible; a boost means its original."""
    row = (await privacy.check_status(tx.conn, viewer, status_id)).value
    if row["reblog_of_id"] is not None:
        row = (await privacy.check_status(tx.conn, viewer, row["reblog_of_id"])).value
    return dict(row)


async def _add_interaction(tx: Tx, table: Any, account_id: int, status_id: int) -> bool:
    exists = (
        await tx.execute(
            select(table.c.id).where(
                table.c.account_id == account_id, table.c.status_id == status_id
            )
        )
    ).first()
    if exists is not None:
        return False
    await tx.execute(
        table.insert().values(
            id=new_id(), account_id=account_id, status_id=status_id, created_at=utcnow()
        )
    )
    return True


async def _remove_interaction(tx: Tx, table: Any, account_id: int, status_id: int) -> bool:
    result = await tx.execute(
        delete(table).where(table.c.account_id == account_id, table.c.status_id == status_id)
    )
    return bool(result.rowcount)


async def do_favourite(tx: Tx, viewer: Viewer, status_id: int) -> int:
    assert viewer.account_id is not None
    status = await _visible_original(tx, viewer, status_id)
    if await _add_interaction(tx, favourites, viewer.account_id, status["id"]):
        await _bump(tx, status["id"], "favourites_count", +1)
        if status["account_id"] != viewer.account_id:
            await enqueue(
                tx,
                Notify(
                    type="favourite",
                    account_id=status["account_id"],
                    from_account_id=viewer.account_id,
                    status_id=status["id"],
                ),
            )
        if status["uri"] is not None:  # another server's post: Like goes to its author
            await _queue_like(tx, viewer.account_id, status["id"], undo=False)
    return int(status["id"])


async def do_unfavourite(tx: Tx, viewer: Viewer, status_id: int) -> int:
    assert viewer.account_id is not None
    status = await _visible_original(tx, viewer, status_id)
    if status["uri"] is not None:
        await _queue_like(tx, viewer.account_id, status["id"], undo=True)
    if await _remove_interaction(tx, favourites, viewer.account_id, status["id"]):
        await _bump(tx, status["id"], "favourites_count", -1)
    return int(status["id"])


async def _queue_like(tx: Tx, account_id: int, status_id: int, *, undo: bool) -> None:
    """Queue the Like (or its Undo) of a remote post, named by the favourite's id."""
    like_id = (
        await tx.execute(
            select(favourites.c.id).where(
                favourites.c.account_id == account_id, favourites.c.status_id == status_id
            )
        )
    ).scalar_one_or_none()
    if like_id is not None:
        await enqueue(tx, SendLike(account_id, status_id, int(like_id), undo))


async def do_bookmark(tx: Tx, viewer: Viewer, status_id: int) -> int:
    assert viewer.account_id is not None
    status = await _visible_original(tx, viewer, status_id)
    await _add_interaction(tx, bookmarks, viewer.account_id, status["id"])
    return int(status["id"])


async def do_unbookmark(tx: Tx, viewer: Viewer, status_id: int) -> int:
    assert viewer.account_id is not None
    status = await _visible_original(tx, viewer, status_id)
    await _remove_interaction(tx, bookmarks, viewer.account_id, status["id"])
    return int(status["id"])


async def do_pin(tx: Tx, viewer: Viewer, status_id: int) -> int:
    """Pin one of the viewer's own posts to their profile (at most MAX_PINS).
    Followers-only posts may be pinned, as on Mastodon (the profile shows
    them only to those who may see them); direct messages may not."""
    assert viewer.account_id is not None
    status = await _own_status(tx, viewer, status_id)
    if status.visibility == Visibility.DIRECT:
        raise RuleBroken("Direct messages cannot be pinned")
    count = (
        await tx.execute(
            select(func.count()).select_from(pins).where(pins.c.account_id == viewer.account_id)
        )
    ).scalar_one()
    exists = (
        await tx.execute(
            select(pins.c.id).where(
                pins.c.account_id == viewer.account_id, pins.c.status_id == status_id
            )
        )
    ).first()
    if exists is None and count >= MAX_PINS:
        raise RuleBroken(f"You can pin at most {MAX_PINS} posts")
    await _add_interaction(tx, pins, viewer.account_id, status_id)
    return status_id


async def do_unpin(tx: Tx, viewer: Viewer, status_id: int) -> int:
    assert viewer.account_id is not None
    await _own_status(tx, viewer, status_id)
    await _remove_interaction(tx, pins, viewer.account_id, status_id)
    return status_id


async def do_reblog(tx: Tx, viewer: Viewer, status_id: int, visibility: Visibility) -> int:
    """Boost a post; returns the boost's id. Boosting twice returns the same boost.

    Public and unlisted posts may be boosted by anyone who sees them, at the
    ``visibility`` asked for. A followers-only post may be boosted by its
    author alone (as on Mastodon), and the boost stays followers-only: it goes
    to the same followers, again. Direct posts are never boosted.
    """
    assert viewer.account_id is not None
    original = await _visible_original(tx, viewer, status_id)
    shown_as = Visibility(original["visibility"])
    if shown_as == Visibility.DIRECT:
        raise RuleBroken("Direct posts cannot be boosted")
    if shown_as == Visibility.PRIVATE:
        if original["account_id"] != viewer.account_id:
            raise RuleBroken("Followers-only posts can be boosted by their author only")
        visibility = Visibility.PRIVATE
    if visibility == Visibility.DIRECT:
        raise RuleBroken("A boost cannot be a direct message")
    existing = (
        await tx.execute(
            select(statuses.c.id).where(
                statuses.c.account_id == viewer.account_id,
                statuses.c.reblog_of_id == original["id"],
            )
        )
    ).first()
    if existing is not None:
        return int(existing.id)
    boost_id = new_id()
    now = utcnow()
    await tx.execute(
        statuses.insert().values(
            new_status_row(
                status_id=boost_id,
                account_id=viewer.account_id,
                visibility=visibility,
                created_at=now,
                reblog_of_id=original["id"],
                application_id=viewer.application_id,
            )
        )
    )
    await _bump(tx, original["id"], "reblogs_count", +1)
    await tx.execute(
        update(accounts)
        .where(accounts.c.id == viewer.account_id)
        .values(statuses_count=accounts.c.statuses_count + 1, last_status_at=now)
    )
    await enqueue(tx, jobs.StatusPublished(boost_id))
    tx.emit(StatusCreated(status_id=boost_id, author_id=viewer.account_id, parent_known=True))
    if original["account_id"] != viewer.account_id:
        await enqueue(
            tx,
            Notify(
                type="reblog",
                account_id=original["account_id"],
                from_account_id=viewer.account_id,
                status_id=original["id"],
            ),
        )
    return boost_id


async def do_unreblog(tx: Tx, viewer: Viewer, status_id: int) -> int:
    """Undo a boost; returns the original's id."""
    assert viewer.account_id is not None
    original = await _visible_original(tx, viewer, status_id)
    boost = (
        (
            await tx.execute(
                select(statuses).where(
                    statuses.c.account_id == viewer.account_id,
                    statuses.c.reblog_of_id == original["id"],
                )
            )
        )
        .mappings()
        .first()
    )
    if boost is not None:
        await _undo_boost(tx, Status.from_row(boost))
    return int(original["id"])


async def _undo_boost(tx: Tx, boost: Status) -> None:
    await _delete_rows(tx, boost)
    await enqueue(
        tx, jobs.StatusDeleted(boost.id, boost.account_id, reblog_of_id=boost.reblog_of_id)
    )
    tx.emit(
        StatusDeleted(
            status_id=boost.id, author_id=boost.account_id, visibility=int(boost.visibility)
        )
    )


async def _bump(tx: Tx, status_id: int, counter: str, delta: int) -> None:
    column = statuses.c[counter]
    query = update(statuses).where(statuses.c.id == status_id)
    if delta < 0:
        query = query.where(column > 0)
    await tx.execute(query.values({counter: column + delta}))
