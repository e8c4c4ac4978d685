"""Edits of posts across servers, both ways: Update(Note), as Mastodon sends it.

Out (``publish_update``, run by the job of a local edit,
roost/domain/statuses/handlers.py): the edited post goes as Update of its
Note, with ``updated``, to where its Create goes (``destination_inboxes`` in
roost/domain/federation/notes.py: by its visibility, a direct post only to
the accounts it mentions). Boosts and other servers' posts are not sent.

In (``receive_update``): an Update of a Note whose author is the actor who
signed edits the stored post of that actor with that id: its content,
content warning, sensitive flag and hashtags, its mentions and its media, each
read as a received Create reads them (roost/domain/federation/notes.py,
attached.py). Local accounts it names anew are told once (a ``mention``
notification; Mastodon tells only the newly mentioned) and, for a direct
post, join its conversation; those it names no more are no longer mentioned,
so a direct post no longer reaches them (the privacy policy reads its
mentions). Accounts of other servers it names that are not known are looked
up by a job (roost/domain/federation/mention_lookup.py). Media it adds are
stored and fetched by the job of received media (screened against the
known-image lists), the alt text and focal point of those it keeps change,
and those it no longer carries are taken off the post, kept for its history
as a local edit keeps them. The edit is recorded in the post's
history (``status_edits``, the original first, as a local edit records it),
so ``GET /api/v1/statuses/:id/history`` shows it, and the jobs and events of
a local edit follow (the ``update`` notification to those who boosted it,
search, the caches and streams). An Update of a Question refreshes its
poll's counts and end (roost/domain/federation/attached.py). Its quote
follows the Note: another quoted post, another authorization, or none, is
stored as a new quote would be (roost/domain/federation/quoted.py), and its
``interactionPolicy`` too, whatever else changed. An Update older
than the stored edit, or one that changes nothing, is let be; one of a post
not stored here is ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from roost.db.engine import Tx
from roost.db.tables import accounts, mentions, remote_accounts, status_tags, statuses
from roost.domain.conversations.actions import do_join_direct
from roost.domain.events import StatusEdited, StatusRewritten
from roost.domain.federation import attached, quoted
from roost.domain.federation.delivery import enqueue_delivery
from roost.domain.federation.jobs import LinkMentions
from roost.domain.federation.notes import (
    NOTE_CONTEXT,
    NOTE_TYPES,
    _local_author,
    _local_recipients,
    _published,
    _remote_mentions,
    _stamp,
    destination_inboxes,
    hashtag_names,
    link_tags,
    local_note,
    post_of,
)
from roost.domain.federation.remote import Delivery, clean_html
from roost.domain.jobs import JobContext
from roost.domain.notifications.actions import do_notify
from roost.domain.quotes.actions import do_after_edit
from roost.domain.search.jobs import SyncSearch
from roost.domain.statuses.jobs import StatusEdited as StatusEditedJob
from roost.domain.statuses.versions import do_record_version
from roost.domain.types import Status
from roost.jobs.outbox import enqueue
from roost.keys.ring import seal
from roost.visibility import Visibility


async def publish_update(
    ctx: JobContext,
    status_id: int,
    *,
    updated: datetime | None = None,
    also: Delivery | None = None,
) -> None:
    """Send a local post's edit as Update(Note), with ``updated``, to where
    its Create goes (``destination_inboxes``: the same rule, one place).
    ``updated``: a change that is no edit of its text (its quote answered
    or revoked, roost/domain/federation/quote_requests.py), sent as
    Mastodon sends it, an Update stamped with the moment of the change;
    ``also``: an account of another server it goes to besides (the quoted
    author, who may be no destination of it any more)."""
    async with ctx.db.read() as conn:
        row = (await conn.execute(select(statuses).where(statuses.c.id == status_id))).first()
    if row is None or row.reblog_of_id is not None or row.uri is not None:
        return
    moment = updated or row.edited_at
    if moment is None:
        return
    username = await _local_author(ctx.db, row.account_id)
    if username is None:
        return
    inboxes = await destination_inboxes(ctx.db, status_id)
    listed = Visibility(row.visibility).listed
    if also is not None and listed and also.shared_inbox_url not in inboxes:
        inboxes = sorted({*inboxes, also.inbox_url})
    if not inboxes:
        return
    note = await local_note(ctx.db, ctx.settings.base_url, username, row)
    note["updated"] = _stamp(moment)
    activity = {
        "@context": NOTE_CONTEXT,
        "id": f"{note['id']}#updates/{int(moment.timestamp())}",
        "type": "Update",
        "actor": note["attributedTo"],
        "published": note["updated"],
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }
    async with ctx.db.write() as tx:
        for inbox in inboxes:
            await enqueue_delivery(tx, inbox, row.account_id, activity)


async def receive_update(ctx: JobContext, remote_id: int, actor_uri: str, note: Any) -> bool:
    """An edit of a stored post of the actor: its content, content warning,
    sensitive flag, mentions and media change, the edit is recorded in its
    history (as a local edit's is), and the jobs and events of an edit follow
    (notifications to its boosters, search, caches and streams). An edit
    older than the one stored, or one that changes nothing, is let be."""
    if not isinstance(note, dict) or note.get("type") not in NOTE_TYPES:
        return False
    uri = note.get("id")
    if not isinstance(uri, str) or note.get("attributedTo") != actor_uri:
        return False
    html = clean_html(note.get("content"))
    spoiler = note["summary"][:500] if isinstance(note.get("summary"), str) else ""
    sensitive = bool(note.get("sensitive")) or bool(spoiler)
    edited_at = _published(note.get("updated"))
    # Read as a received Create reads them (roost/domain/federation/notes.py).
    local = await _local_recipients(ctx, note)
    known, unknown = await _remote_mentions(ctx, note)
    base = ctx.settings.base_url
    async with ctx.db.read() as conn:
        quoted_post = await post_of(conn, base, quoted.quoted_uri(note))
        followers_url = (
            await conn.execute(
                select(remote_accounts.c.followers_url).where(
                    remote_accounts.c.account_id == remote_id
                )
            )
        ).scalar_one_or_none()
    async with ctx.db.write() as tx:
        row = (
            (
                await tx.execute(
                    select(statuses).where(
                        statuses.c.uri == uri,
                        statuses.c.account_id == remote_id,
                        statuses.c.reblog_of_id.is_(None),
                    )
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return True  # not stored here: nothing to edit
        current = Status.from_row(row)
        poll = attached.question_poll(note, current.created_at)
        if await attached.refresh_poll(tx, remote_id, current.id, poll):
            tx.emit(StatusEdited(status_id=current.id, author_id=remote_id))
        held = set(
            (
                await tx.execute(
                    select(mentions.c.account_id).where(mentions.c.status_id == current.id)
                )
            ).scalars()
        )
        named = (local | known) - {remote_id}
        media = await attached.plan_media(tx, note, remote_id, current.id)
        text = (html, spoiler, sensitive) != (
            current.content,
            current.spoiler_text,
            current.sensitive,
        )
        # Its quote, and who may quote it, follow the Note as it is now.
        policy = quoted.remote_policy(note, actor_uri, followers_url)
        await quoted.store_remote_policy(tx, current.id, policy)
        if await quoted.refresh_received(tx, base, current.id, remote_id, note, quoted_post):
            tx.emit(StatusRewritten(current.id))
        if not text and media.empty and named == held and not unknown:
            return True
        if current.edited_at is not None and edited_at <= current.edited_at:
            return True  # an older edit, arriving late
        if current.edited_at is None:
            await do_record_version(tx, current, current.created_at)
        await tx.execute(
            update(statuses)
            .where(statuses.c.id == current.id)
            .values(
                content=seal(remote_id, html),
                spoiler_text=seal(remote_id, spoiler),
                sensitive=sensitive,
                edited_at=edited_at,
            )
        )
        await tx.execute(delete(status_tags).where(status_tags.c.status_id == current.id))
        await link_tags(tx, current.id, hashtag_names(note))
        await attached.apply_media(tx, media, current.id)
        await _relink_mentions(tx, current, held, named)
        if unknown:
            await enqueue(tx, LinkMentions(status_id=current.id, hrefs=unknown))
        edited = (await tx.execute(select(statuses).where(statuses.c.id == current.id))).mappings()
        await do_record_version(tx, Status.from_row(edited.one()), edited_at)
        await enqueue(tx, StatusEditedJob(current.id))
        await enqueue(tx, SyncSearch(current.id))
        await do_after_edit(tx, current.id, remote_id, edited_at)
        tx.emit(StatusEdited(status_id=current.id, author_id=remote_id))
    return True


async def _relink_mentions(tx: Tx, post: Status, held: set[int], named: set[int]) -> None:
    """The accounts an edit names now: those it no longer names are no longer
    mentioned (a direct post then no longer reaches them, by the privacy
    policy), and local ones it names anew are told once (a ``mention``
    notification, as Mastodon tells only the newly mentioned) and, for a
    direct post, join its conversation."""
    gone, added = held - named, named - held
    if gone:
        await tx.execute(
            delete(mentions).where(
                mentions.c.status_id == post.id, mentions.c.account_id.in_(sorted(gone))
            )
        )
    if not added:
        return
    await tx.execute(
        insert(mentions), [{"status_id": post.id, "account_id": aid} for aid in sorted(added)]
    )
    fresh = sorted(
        (
            await tx.execute(
                select(accounts.c.id).where(
                    accounts.c.id.in_(sorted(added)), accounts.c.domain.is_(None)
                )
            )
        ).scalars()
    )
    if post.visibility == Visibility.DIRECT:
        await do_join_direct(tx, status_id=post.id, author_id=post.account_id, joining=fresh)
    for account_id in fresh:
        await do_notify(
            tx,
            type="mention",
            account_id=account_id,
            from_account_id=post.account_id,
            status_id=post.id,
        )
