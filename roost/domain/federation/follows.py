"""Follows across servers, both ways, as Mastodon federates them.

Out: a local account following a remote one gets a follow *request*
(``follow_requests``) at once, whatever the other side's lock, and a Follow
is sent; the request becomes a follow when the other server Accepts, and goes
when it Rejects. Unfollowing sends Undo(Follow). Each is a ``SendFollowActivity``
job queued in the transaction of the change, which builds the activity and
queues its delivery (roost/domain/federation/delivery.py).

In (``receive_*``, called by the inbox's processing): a Follow of an unlocked
local account becomes a follow, answered with Accept; of a locked one, a
follow request the account approves or rejects (``do_authorize_request`` and
``do_reject_request`` queue the Accept or Reject). A Follow across a block, or
from a domain the followed account blocks, is answered with Reject.
Undo(Follow) removes the follow or the request.

Each follow keeps the id of its Follow activity (``uri``): the Accept,
Reject and Undo echo it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from roost.clock import utcnow
from roost.db.engine import Database, Tx
from roost.db.tables import accounts, follow_requests, follows
from roost.domain import privacy
from roost.domain.discovery.domain_hiding import hides_domain_of
from roost.domain.federation import uris
from roost.domain.federation.delivery import enqueue_delivery
from roost.domain.federation.remote import delivery_of
from roost.domain.federation.uris import AS_CONTEXT
from roost.domain.graph.counts import count_follow
from roost.domain.jobs import JobContext
from roost.domain.notifications.jobs import Notify
from roost.domain.timelines import fanout
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.jobs.registry import Job, handles

log = logging.getLogger("roost.federation")


@dataclass(frozen=True)
class SendFollowActivity(Job, kind="federation.follow_activity"):
    """Send ``verb`` (Follow, Undo, Accept, Reject) about the follow of
    ``follower_id`` to ``followed_id``; ``follow_uri`` the Follow's id when
    it is known already (Undo, and answers to a remote Follow)."""

    verb: str
    follower_id: int
    followed_id: int
    follow_uri: str | None = None


async def is_remote(tx: Tx, account_id: int) -> bool:
    domain = (
        await tx.execute(select(accounts.c.domain).where(accounts.c.id == account_id))
    ).scalar_one_or_none()
    return domain is not None


async def queue(
    tx: Tx, verb: str, follower_id: int, followed_id: int, follow_uri: str | None = None
) -> None:
    await enqueue(tx, SendFollowActivity(verb, follower_id, followed_id, follow_uri))


async def _actor(db: Database, base: str, account_id: int) -> str:
    """The actor id of an account, local or remote."""
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(accounts.c.username, accounts.c.uri).where(accounts.c.id == account_id)
            )
        ).one()
    return str(row.uri) if row.uri else uris.actor_uri(base, row.username)


@handles(SendFollowActivity)
async def send(ctx: JobContext, job: SendFollowActivity) -> None:
    base = ctx.settings.base_url
    follower = await _actor(ctx.db, base, job.follower_id)
    followed = await _actor(ctx.db, base, job.followed_id)
    local_id, remote_id = (
        (job.follower_id, job.followed_id)
        if job.verb in ("Follow", "Undo")
        else (job.followed_id, job.follower_id)
    )
    target = await delivery_of(ctx.db, remote_id)
    if target is None:
        return
    follow_uri = job.follow_uri
    if job.verb == "Follow":
        follow_uri = await _request_uri(ctx.db, base, job.follower_id, job.followed_id)
        if follow_uri is None:
            return  # withdrawn or answered meanwhile
    follow = {"id": follow_uri, "type": "Follow", "actor": follower, "object": followed}
    if job.verb == "Follow":
        activity: dict[str, Any] = {"@context": AS_CONTEXT, **follow}
    else:
        me = follower if job.verb == "Undo" else followed
        activity = {
            "@context": AS_CONTEXT,
            "id": f"{me}#{job.verb.lower()}s/{new_id()}",
            "type": job.verb,
            "actor": me,
            "object": follow,
        }
    async with ctx.db.write() as tx:
        await enqueue_delivery(tx, target.inbox_url, local_id, activity)


async def _request_uri(db: Database, base: str, follower_id: int, followed_id: int) -> str | None:
    """The id of the pending request's Follow, given it now if it has none."""
    async with db.write() as tx:
        row = (
            await tx.execute(
                select(follow_requests.c.id, follow_requests.c.uri).where(
                    follow_requests.c.account_id == follower_id,
                    follow_requests.c.target_account_id == followed_id,
                )
            )
        ).first()
        if row is None:
            return None
        if row.uri:
            return str(row.uri)
        username = (
            await tx.execute(select(accounts.c.username).where(accounts.c.id == follower_id))
        ).scalar_one()
        uri = f"{uris.actor_uri(base, username)}#follows/{row.id}"
        await tx.execute(
            update(follow_requests).where(follow_requests.c.id == row.id).values(uri=uri)
        )
        return uri


# --- Received ---------------------------------------------------------------------


async def receive_follow(ctx: JobContext, remote_id: int, local_id: int, follow_uri: str) -> None:
    async with ctx.db.write() as tx:
        local = (await tx.execute(select(accounts.c.locked).where(accounts.c.id == local_id))).one()
        if await privacy.is_blocked_either_way(tx.conn, local_id, remote_id) or (
            await hides_domain_of(tx.conn, local_id, remote_id)
        ):
            await queue(tx, "Reject", remote_id, local_id, follow_uri)
            return
        existing = (
            await tx.execute(
                select(follows.c.id).where(
                    follows.c.account_id == remote_id, follows.c.target_account_id == local_id
                )
            )
        ).first()
        if existing is not None:
            await tx.execute(
                update(follows).where(follows.c.id == existing.id).values(uri=follow_uri)
            )
            await queue(tx, "Accept", remote_id, local_id, follow_uri)
            return
        if local.locked:
            requested = await tx.execute(
                update(follow_requests)
                .where(
                    follow_requests.c.account_id == remote_id,
                    follow_requests.c.target_account_id == local_id,
                )
                .values(uri=follow_uri)
            )
            if not requested.rowcount:
                await tx.execute(
                    follow_requests.insert().values(
                        id=new_id(),
                        account_id=remote_id,
                        target_account_id=local_id,
                        show_reblogs=True,
                        notify=False,
                        created_at=utcnow(),
                        uri=follow_uri,
                    )
                )
                await enqueue(
                    tx,
                    Notify(type="follow_request", account_id=local_id, from_account_id=remote_id),
                )
            return
        await _create_follow(tx, remote_id, local_id, follow_uri)
        await enqueue(tx, Notify(type="follow", account_id=local_id, from_account_id=remote_id))
        await queue(tx, "Accept", remote_id, local_id, follow_uri)


async def _create_follow(tx: Tx, follower: int, target: int, uri: str | None) -> None:
    await tx.execute(
        follows.insert().values(
            id=new_id(),
            account_id=follower,
            target_account_id=target,
            show_reblogs=True,
            notify=False,
            created_at=utcnow(),
            uri=uri,
        )
    )
    await count_follow(tx, follower, target, +1)


async def receive_accept(ctx: JobContext, remote_id: int, local_id: int) -> None:
    """The remote account accepted the local one's request."""
    async with ctx.db.write() as tx:
        request = (
            await tx.execute(
                select(follow_requests).where(
                    follow_requests.c.account_id == local_id,
                    follow_requests.c.target_account_id == remote_id,
                )
            )
        ).first()
        if request is None:
            return  # withdrawn meanwhile, or accepted twice
        await tx.execute(delete(follow_requests).where(follow_requests.c.id == request.id))
        await _create_follow(tx, local_id, remote_id, request.uri)
    await fanout.followed(ctx.db, ctx.timelines, local_id, remote_id)


async def _end_follow(ctx: JobContext, follower_id: int, followed_id: int) -> None:
    """The follow (or its request) of ``followed_id`` by ``follower_id`` ends."""
    async with ctx.db.write() as tx:
        await tx.execute(
            delete(follow_requests).where(
                follow_requests.c.account_id == follower_id,
                follow_requests.c.target_account_id == followed_id,
            )
        )
        removed = await tx.execute(
            delete(follows).where(
                follows.c.account_id == follower_id, follows.c.target_account_id == followed_id
            )
        )
        if removed.rowcount:
            await count_follow(tx, follower_id, followed_id, -1)


async def receive_reject(ctx: JobContext, remote_id: int, local_id: int) -> None:
    """The remote account refused (or ended) the local one's follow."""
    await _end_follow(ctx, local_id, remote_id)


async def receive_undo_follow(ctx: JobContext, remote_id: int, local_id: int) -> None:
    """The remote account took back its follow (or its request) of the local one."""
    await _end_follow(ctx, remote_id, local_id)
