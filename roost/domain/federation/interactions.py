"""Boosts and favourites across servers, both ways, as Mastodon federates them.

Out:
  - a local account's boost of a public or unlisted post goes as Announce (the
    boost's id ``…/users/NAME/statuses/ID/activity``, its object the post's
    id) to the booster's followers' servers and, when the post is another
    server's, to its author's; undoing the boost sends Undo(Announce) to the
    same inboxes. A followers-only post's boost (its author's own) is not sent.
  - a local account's favourite of another server's post goes as Like
    (``…/users/NAME#likes/ID``) to the author's inbox; unfavouriting sends
    Undo(Like). Both are ``SendLike`` jobs (roost/domain/federation/jobs.py)
    queued by the favourite's action.

In (called by the inbox's processing, roost/domain/federation/received.py):
  - Announce of a post known here (local by its address, or another server's
    by its id; one not known yet is fetched from its server and stored, when
    the booster is followed here), public or unlisted, by a remote actor who
    may see it: stored
    as that account's boost (``statuses.uri`` the Announce's id), through the
    same action as a local boost, so its followers here get it in their home
    timelines and a local author a ``reblog`` notification. A boost of a
    followers-only or direct post is never taken. Undo(Announce) removes it.
  - Like of a local post by a remote actor who may see it (the privacy
    policy: a followers-only post only when the actor follows its author
    here): a favourite, through the same action as a local one (the count,
    and the ``favourite`` notification under the author's blocks, mutes and
    policy). Undo(Like) removes it.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update

from roost.db.tables import accounts, follows, remote_accounts, statuses
from roost.domain.federation import uris
from roost.domain.federation.delivery import enqueue_delivery
from roost.domain.federation.jobs import SendLike
from roost.domain.federation.notes import (
    PUBLIC,
    follower_inboxes,
    post_of,
    receive_create,
    visibility_of,
)
from roost.domain.federation.remote import (
    RemoteRefused,
    account_for_uri,
    delivery_of,
    fetch_note,
)
from roost.domain.federation.uris import AS_CONTEXT, id_of
from roost.domain.jobs import JobContext
from roost.domain.statuses import actions as status_actions
from roost.domain.types import Viewer
from roost.errors import NotFound, RuleBroken
from roost.jobs.registry import handles
from roost.visibility import LISTED, Visibility

log = logging.getLogger("roost.federation")

# A boost from elsewhere is taken only of a post anyone may read.
BOOSTABLE = LISTED


# --- Out --------------------------------------------------------------------------


async def _boost_parts(ctx: JobContext, booster_id: int, original_id: int) -> Any:
    """The booster's name (local only) and the boosted post's id, visibility
    and author (with the author's actor and domain); None when either is
    not there or the booster is not local."""
    async with ctx.db.read() as conn:
        booster = (
            await conn.execute(
                select(accounts.c.username, accounts.c.domain).where(accounts.c.id == booster_id)
            )
        ).first()
        original = (
            await conn.execute(
                select(
                    statuses.c.id,
                    statuses.c.uri,
                    statuses.c.visibility,
                    statuses.c.account_id,
                    accounts.c.username,
                    accounts.c.uri.label("author_uri"),
                    accounts.c.domain,
                )
                .select_from(statuses.join(accounts, accounts.c.id == statuses.c.account_id))
                .where(statuses.c.id == original_id)
            )
        ).first()
    if booster is None or booster.domain is not None or original is None:
        return None
    return booster.username, original


async def _boost_inboxes(ctx: JobContext, booster_id: int, original: Any) -> list[str]:
    """The booster's followers' servers and, for another server's post, its author's."""
    inboxes = set(await follower_inboxes(ctx.db, booster_id))
    if original.domain is not None:
        target = await delivery_of(ctx.db, int(original.account_id))
        if target is not None:
            inboxes.add(target.shared_inbox_url or target.inbox_url)
    return sorted(inboxes)


def _post_uri(base: str, original: Any) -> str:
    return (
        str(original.uri)
        if original.uri
        else uris.status_uri(base, original.username, int(original.id))
    )


def _announce(base: str, username: str, boost: Any, original: Any) -> dict[str, Any]:
    actor = uris.actor_uri(base, username)
    followers = f"{actor}/followers"
    author = str(original.author_uri) if original.author_uri else None
    if author is None:
        author = uris.actor_uri(base, original.username)
    to, cc = {
        Visibility.PUBLIC: ([PUBLIC], [author, followers]),
        Visibility.UNLISTED: ([followers], [PUBLIC, author]),
        Visibility.PRIVATE: ([followers], [author]),
    }[Visibility(boost.visibility)]
    return {
        "id": f"{uris.status_uri(base, username, int(boost.id))}/activity",
        "type": "Announce",
        "actor": actor,
        "published": boost.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": to,
        "cc": cc,
        "object": _post_uri(base, original),
    }


async def announce(ctx: JobContext, boost_id: int) -> None:
    """Send a local account's boost of a public or unlisted post as Announce
    (a followers-only boost of one: addressed to the booster's followers)."""
    async with ctx.db.read() as conn:
        boost = (await conn.execute(select(statuses).where(statuses.c.id == boost_id))).first()
    if boost is None or boost.reblog_of_id is None or boost.uri is not None:
        return
    parts = await _boost_parts(ctx, int(boost.account_id), int(boost.reblog_of_id))
    if parts is None:
        return
    username, original = parts
    if Visibility(original.visibility) not in BOOSTABLE:
        return
    inboxes = await _boost_inboxes(ctx, int(boost.account_id), original)
    if not inboxes:
        return
    activity = {
        "@context": AS_CONTEXT,
        **_announce(ctx.settings.base_url, username, boost, original),
    }
    async with ctx.db.write() as tx:
        for inbox in inboxes:
            await enqueue_delivery(tx, inbox, int(boost.account_id), activity)


async def unannounce(ctx: JobContext, boost_id: int, booster_id: int, original_id: int) -> None:
    """Send Undo(Announce) of a local account's undone boost, to where the
    Announce went (the boost row is gone: its visibility is not known, so
    the post's own decides, as only public and unlisted ones are announced)."""
    parts = await _boost_parts(ctx, booster_id, original_id)
    if parts is None:
        return
    username, original = parts
    if Visibility(original.visibility) not in BOOSTABLE:
        return
    inboxes = await _boost_inboxes(ctx, booster_id, original)
    if not inboxes:
        return
    base = ctx.settings.base_url
    actor = uris.actor_uri(base, username)
    announce_id = f"{uris.status_uri(base, username, boost_id)}/activity"
    activity = {
        "@context": AS_CONTEXT,
        "id": f"{announce_id}#undo",
        "type": "Undo",
        "actor": actor,
        "to": [PUBLIC],
        "object": {
            "id": announce_id,
            "type": "Announce",
            "actor": actor,
            "object": _post_uri(base, original),
        },
    }
    async with ctx.db.write() as tx:
        for inbox in inboxes:
            await enqueue_delivery(tx, inbox, booster_id, activity)


@handles(SendLike)
async def send_like(ctx: JobContext, job: SendLike) -> None:
    if not ctx.settings.federation:
        return
    async with ctx.db.read() as conn:
        liker = (
            await conn.execute(
                select(accounts.c.username, accounts.c.domain).where(
                    accounts.c.id == job.account_id
                )
            )
        ).first()
        post = (
            await conn.execute(
                select(statuses.c.uri, statuses.c.account_id).where(statuses.c.id == job.status_id)
            )
        ).first()
    if liker is None or liker.domain is not None or post is None or post.uri is None:
        return
    target = await delivery_of(ctx.db, int(post.account_id))
    if target is None:
        return
    actor = uris.actor_uri(ctx.settings.base_url, liker.username)
    like = {
        "id": f"{actor}#likes/{job.like_id}",
        "type": "Like",
        "actor": actor,
        "object": str(post.uri),
    }
    if job.undo:
        activity: dict[str, Any] = {
            "@context": AS_CONTEXT,
            "id": f"{like['id']}/undo",
            "type": "Undo",
            "actor": actor,
            "object": like,
        }
    else:
        activity = {"@context": AS_CONTEXT, **like}
    async with ctx.db.write() as tx:
        await enqueue_delivery(tx, target.inbox_url, job.account_id, activity)


# --- Received ---------------------------------------------------------------------


async def receive_announce(
    ctx: JobContext, remote_id: int, actor_uri: str, activity: dict[str, Any]
) -> bool:
    """Store the remote account's boost of a post known here; False when it
    is not taken (an unknown post, one it may not boost)."""
    announce_uri = id_of(activity)
    object_uri = id_of(activity.get("object"))
    if announce_uri is None or object_uri is None:
        return False
    if urlsplit(announce_uri).netloc.lower() != urlsplit(actor_uri).netloc.lower():
        return False
    async with ctx.db.read() as conn:
        post = await post_of(conn, ctx.settings.base_url, object_uri)
        followers_url = (
            await conn.execute(
                select(remote_accounts.c.followers_url).where(
                    remote_accounts.c.account_id == remote_id
                )
            )
        ).scalar_one_or_none()
    if post is None:
        post = await _fetched(ctx, remote_id, object_uri)
    if post is None:
        return False  # a post not known here, and not to be had
    visibility = visibility_of(activity, followers_url)
    if visibility is None:
        return False  # a boost for nobody in particular, or a direct one
    async with ctx.db.write() as tx:
        if (
            await tx.execute(select(statuses.c.id).where(statuses.c.uri == announce_uri))
        ).first() is not None:
            return True  # received before
        shown = (
            await tx.execute(select(statuses.c.visibility).where(statuses.c.id == post.id))
        ).scalar_one()
        if Visibility(shown) not in BOOSTABLE:
            log.info("boost of a followers-only or direct post refused")
            return False
        try:
            boost_id = await status_actions.do_reblog(
                tx, Viewer(account_id=remote_id), int(post.id), visibility
            )
        except (NotFound, RuleBroken):
            return False  # a post the actor may not see
        await tx.execute(
            update(statuses)
            .where(statuses.c.id == boost_id, statuses.c.uri.is_(None))
            .values(uri=announce_uri)
        )
    return True


async def _fetched(ctx: JobContext, booster_id: int, uri: str) -> Any:
    """Another server's public or unlisted post a booster followed here
    boosted, fetched from its server and stored (as a received Create
    would store it); None when it is not to be had."""
    if urlsplit(uri).netloc.lower() == urlsplit(ctx.settings.base_url).netloc.lower():
        return None  # a local address of no post
    async with ctx.db.read() as conn:
        followed = (
            await conn.execute(
                select(follows.c.id).where(follows.c.target_account_id == booster_id).limit(1)
            )
        ).first()
    if followed is None:
        return None  # nobody here hears the booster: not worth a fetch
    try:
        note = await fetch_note(ctx.db, ctx.settings, uri)
    except RemoteRefused as refused:
        if refused.transient:
            raise  # its server is away: the inbox's job is tried again
        return None
    if visibility_of(note, None) not in BOOSTABLE:
        return None  # a boost of it would not be taken anyway
    author = str(note["attributedTo"])
    author_id = await account_for_uri(ctx.db, ctx.settings, author)
    await receive_create(ctx, author_id, author, note, wanted=True)
    async with ctx.db.read() as conn:
        return await post_of(conn, ctx.settings.base_url, uri)


async def receive_undo_announce(ctx: JobContext, remote_id: int, announce: Any) -> bool:
    """Remove the remote account's boost the Announce made: by the
    Announce's id, else by the post it names."""
    uri = id_of(announce)
    async with ctx.db.write() as tx:
        boost_id = None
        if uri is not None:
            boost_id = (
                await tx.execute(
                    select(statuses.c.id).where(
                        statuses.c.uri == uri,
                        statuses.c.account_id == remote_id,
                        statuses.c.reblog_of_id.is_not(None),
                    )
                )
            ).scalar_one_or_none()
        if boost_id is None and isinstance(announce, dict):
            post = await post_of(tx.conn, ctx.settings.base_url, id_of(announce.get("object")))
            if post is not None:
                boost_id = (
                    await tx.execute(
                        select(statuses.c.id).where(
                            statuses.c.account_id == remote_id,
                            statuses.c.reblog_of_id == post.id,
                        )
                    )
                ).scalar_one_or_none()
        if boost_id is None:
            return True  # never had it, or undone before
        try:
            await status_actions.do_delete_status(tx, Viewer(account_id=remote_id), int(boost_id))
        except NotFound:
            return True
    return True


async def _local_post(ctx: JobContext, uri: str | None) -> int | None:
    """A local post by its address (a Like of another server's post is not kept)."""
    async with ctx.db.read() as conn:
        post = await post_of(conn, ctx.settings.base_url, uri)
        if post is None:
            return None
        remote_uri = (
            await conn.execute(select(statuses.c.uri).where(statuses.c.id == post.id))
        ).scalar_one_or_none()
    return None if remote_uri is not None else int(post.id)


async def receive_like(ctx: JobContext, remote_id: int, activity: dict[str, Any]) -> bool:
    """The remote account's favourite of a local post it may see."""
    status_id = await _local_post(ctx, id_of(activity.get("object")))
    if status_id is None:
        return False
    async with ctx.db.write() as tx:
        try:
            await status_actions.do_favourite(tx, Viewer(account_id=remote_id), status_id)
        except NotFound:
            log.info("like of a post its actor may not see ignored")
            return False
    return True


async def receive_undo_like(ctx: JobContext, remote_id: int, like: Any) -> bool:
    """Remove the remote account's favourite the Like made."""
    if not isinstance(like, dict):
        return False
    status_id = await _local_post(ctx, id_of(like.get("object")))
    if status_id is None:
        return True
    async with ctx.db.write() as tx:
        try:
            await status_actions.do_unfavourite(tx, Viewer(account_id=remote_id), status_id)
        except NotFound:
            return True
    return True
