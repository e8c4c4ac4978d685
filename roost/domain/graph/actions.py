"""Following, blocking and muting.

Follow, unfollow and the requests a locked account approves; blocks (which cut
every tie both ways) and mutes (which only quiet the muter's own views). Each
``do_*`` runs in the caller's transaction and leaves its notifications to the
outbox in that same transaction.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import blocks, endorsements, follow_requests, follows, mutes
from roost.domain import privacy
from roost.domain.collections import actions as collection_actions
from roost.domain.federation import follows as federation_follows
from roost.domain.federation.jobs import SendBlock
from roost.domain.graph.counts import count_follow
from roost.domain.notifications.actions import do_forget
from roost.domain.notifications.jobs import Notify
from roost.domain.types import Viewer
from roost.errors import Forbidden, NotFound, RuleBroken
from roost.ids import new_id
from roost.jobs.outbox import enqueue

# Longer than any sensible mute, short enough that adding it to now stays a date.
MAX_MUTE = timedelta(days=3650)


def _me(viewer: Viewer) -> int:
    assert viewer.account_id is not None, "graph actions need a signed-in viewer"
    return viewer.account_id


async def _target(tx: Tx, viewer: Viewer, target_id: int) -> dict[str, Any]:
    """The other account; NotFound when it does not exist or is suspended."""
    return dict((await privacy.check_account(tx.conn, viewer, target_id)).value)


async def _pair_row(tx: Tx, table: Any, account_id: int, target_id: int) -> Any:
    return (
        await tx.execute(
            select(table).where(
                table.c.account_id == account_id, table.c.target_account_id == target_id
            )
        )
    ).first()


async def do_follow(
    tx: Tx,
    viewer: Viewer,
    target_id: int,
    *,
    reblogs: bool | None = None,
    notify: bool | None = None,
    bypass_locked: bool = False,
) -> None:
    """Follow an account; for a locked account, ask. Following again updates the options.

    Refused (403) across a block in either direction. ``bypass_locked``: a
    local account is followed at once even when locked (its follower moved
    to it from another account, roost/domain/federation/moves.py).
    """
    me = _me(viewer)
    if target_id == me:
        raise RuleBroken("You cannot follow yourself")
    target = await _target(tx, viewer, target_id)
    if await privacy.is_blocked_either_way(tx.conn, me, target_id):
        raise Forbidden("You cannot follow this account")
    options: dict[str, Any] = {}
    if reblogs is not None:
        options["show_reblogs"] = reblogs
    if notify is not None:
        options["notify"] = notify
    existing = await _pair_row(tx, follows, me, target_id)
    if existing is not None:
        if options:
            await tx.execute(update(follows).where(follows.c.id == existing.id).values(**options))
        return
    # An account of another server is asked, whatever its lock: the request
    # becomes a follow when its server Accepts (roost/domain/federation/follows.py).
    remote = target.get("domain") is not None
    if (not target["locked"] or bypass_locked) and not remote:
        await _create_follow(tx, me, target_id, reblogs=reblogs, notify=notify)
        await enqueue(tx, Notify(type="follow", account_id=target_id, from_account_id=me))
        return
    requested = await _pair_row(tx, follow_requests, me, target_id)
    if requested is not None:
        if options:
            await tx.execute(
                update(follow_requests)
                .where(follow_requests.c.id == requested.id)
                .values(**options)
            )
        return
    await tx.execute(
        follow_requests.insert().values(
            id=new_id(),
            account_id=me,
            target_account_id=target_id,
            show_reblogs=True if reblogs is None else reblogs,
            notify=bool(notify),
            created_at=utcnow(),
        )
    )
    if remote:
        await federation_follows.queue(tx, "Follow", me, target_id)
        return
    await enqueue(tx, Notify(type="follow_request", account_id=target_id, from_account_id=me))


async def _create_follow(
    tx: Tx, follower: int, target_id: int, *, reblogs: bool | None, notify: bool | None
) -> None:
    await tx.execute(
        follows.insert().values(
            id=new_id(),
            account_id=follower,
            target_account_id=target_id,
            show_reblogs=True if reblogs is None else reblogs,
            notify=bool(notify),
            created_at=utcnow(),
        )
    )
    await count_follow(tx, follower, target_id, +1)


async def _follow_uri(tx: Tx, follower: int, target_id: int) -> str | None:
    """The id of the Follow activity behind a follow or request with an
    account of another server; None when there is none, or when its Follow
    was not sent yet (its job, finding the request gone, sends nothing)."""
    for table in (follows, follow_requests):
        row = await _pair_row(tx, table, follower, target_id)
        if row is not None:
            return str(row.uri) if row.uri else None
    return None


async def _remove_follow(tx: Tx, follower: int, target_id: int) -> None:
    removed = await tx.execute(
        delete(follows).where(
            follows.c.account_id == follower, follows.c.target_account_id == target_id
        )
    )
    if removed.rowcount:
        await count_follow(tx, follower, target_id, -1)
        await do_forget(tx, type="follow", account_id=target_id, from_account_id=follower)


async def _remove_request(tx: Tx, requester: int, target_id: int) -> bool:
    removed = await tx.execute(
        delete(follow_requests).where(
            follow_requests.c.account_id == requester,
            follow_requests.c.target_account_id == target_id,
        )
    )
    # The request's notification goes with it: it would offer to approve nothing.
    await do_forget(tx, type="follow_request", account_id=target_id, from_account_id=requester)
    return bool(removed.rowcount)


async def do_unfollow(tx: Tx, viewer: Viewer, target_id: int) -> None:
    """Stop following, or withdraw a pending request. Idempotent."""
    me = _me(viewer)
    target = await _target(tx, viewer, target_id)
    sent = await _follow_uri(tx, me, target_id) if target.get("domain") is not None else None
    await _remove_follow(tx, me, target_id)
    await _remove_request(tx, me, target_id)
    if sent is not None:
        await federation_follows.queue(tx, "Undo", me, target_id, sent)


async def do_remove_from_followers(tx: Tx, viewer: Viewer, follower_id: int) -> None:
    me = _me(viewer)
    if follower_id == me:
        raise RuleBroken("You cannot remove yourself from your followers")
    follower = await _target(tx, viewer, follower_id)
    sent = await _follow_uri(tx, follower_id, me) if follower.get("domain") is not None else None
    await _remove_follow(tx, follower_id, me)
    if sent is not None:
        await federation_follows.queue(tx, "Reject", follower_id, me, sent)


async def do_authorize_request(tx: Tx, viewer: Viewer, requester_id: int) -> None:
    """Approve a pending request; NotFound (and nothing changes) when there is none."""
    me = _me(viewer)
    request = await _pair_row(tx, follow_requests, requester_id, me)
    if request is None:
        raise NotFound("No follow request from that account")
    await _remove_request(tx, requester_id, me)
    await _create_follow(tx, requester_id, me, reblogs=request.show_reblogs, notify=request.notify)
    # The request's notification was removed above and this one takes its place,
    # so the approved follow is announced once. The same job tells a cached home
    # timeline to take in the newly followed account's posts.
    await enqueue(tx, Notify(type="follow", account_id=me, from_account_id=requester_id))
    if request.uri is not None:
        # A request from another server: its Follow is answered there.
        await tx.execute(
            update(follows)
            .where(follows.c.account_id == requester_id, follows.c.target_account_id == me)
            .values(uri=request.uri)
        )
        await federation_follows.queue(tx, "Accept", requester_id, me, request.uri)


async def do_reject_request(tx: Tx, viewer: Viewer, requester_id: int) -> None:
    me = _me(viewer)
    request = await _pair_row(tx, follow_requests, requester_id, me)
    if not await _remove_request(tx, requester_id, me):
        raise NotFound("No follow request from that account")
    if request is not None and request.uri is not None:
        await federation_follows.queue(tx, "Reject", requester_id, me, request.uri)


async def do_block(tx: Tx, viewer: Viewer, target_id: int) -> None:
    """Block an account: every follow, request and endorsement between the two
    goes, both ways, and what either features of the other in a collection is
    revoked; from now on neither sees the other's posts. Idempotent."""
    me = _me(viewer)
    if target_id == me:
        raise RuleBroken("You cannot block yourself")
    target = await _target(tx, viewer, target_id)
    existing = await _pair_row(tx, blocks, me, target_id)
    block_id = new_id() if existing is None else int(existing.id)
    if existing is None:
        await tx.execute(
            blocks.insert().values(
                id=block_id, account_id=me, target_account_id=target_id, created_at=utcnow()
            )
        )
    # A block of an account of another server, by a local account, is sent
    # there as Block (roost/domain/federation/blocks.py), and the follows it
    # ends are undone there as unfollowing and removing a follower are.
    remote = target.get("domain") is not None
    if remote:
        ours = await _follow_uri(tx, me, target_id)
        theirs = await _follow_uri(tx, target_id, me)
        if ours is not None:
            await federation_follows.queue(tx, "Undo", me, target_id, ours)
        if theirs is not None:
            await federation_follows.queue(tx, "Reject", target_id, me, theirs)
        if existing is None:
            await enqueue(tx, SendBlock(account_id=me, target_id=target_id, block_id=block_id))
    for one, other in ((me, target_id), (target_id, me)):
        await _remove_follow(tx, one, other)
        await _remove_request(tx, one, other)
    e = endorsements.c
    await tx.execute(
        delete(endorsements).where(
            or_(
                and_(e.account_id == me, e.target_account_id == target_id),
                and_(e.account_id == target_id, e.target_account_id == me),
            )
        )
    )
    await collection_actions.revoke_between(tx, me, target_id)


async def do_unblock(tx: Tx, viewer: Viewer, target_id: int) -> None:
    """Lift a block. Nothing that the block removed comes back. Idempotent."""
    me = _me(viewer)
    target = await _target(tx, viewer, target_id)
    existing = await _pair_row(tx, blocks, me, target_id)
    await tx.execute(
        delete(blocks).where(blocks.c.account_id == me, blocks.c.target_account_id == target_id)
    )
    if existing is not None and target.get("domain") is not None:
        await enqueue(
            tx,
            SendBlock(account_id=me, target_id=target_id, block_id=int(existing.id), undo=True),
        )


async def do_mute(
    tx: Tx,
    viewer: Viewer,
    target_id: int,
    *,
    notifications: bool = True,
    duration_s: int = 0,
) -> None:
    """Mute an account, for ``duration_s`` seconds (0: until unmuted); with
    ``notifications`` their notifications are hidden too. Muting again updates both."""
    me = _me(viewer)
    if target_id == me:
        raise RuleBroken("You cannot mute yourself")
    if duration_s < 0 or timedelta(seconds=duration_s) > MAX_MUTE:
        raise RuleBroken(f"duration must be 0 (no end) to {int(MAX_MUTE.total_seconds())} seconds")
    await _target(tx, viewer, target_id)
    now = utcnow()
    expires_at = now + timedelta(seconds=duration_s) if duration_s else None
    existing = await _pair_row(tx, mutes, me, target_id)
    if existing is not None:
        await tx.execute(
            update(mutes)
            .where(mutes.c.id == existing.id)
            .values(hide_notifications=notifications, expires_at=expires_at)
        )
        return
    await tx.execute(
        mutes.insert().values(
            id=new_id(),
            account_id=me,
            target_account_id=target_id,
            hide_notifications=notifications,
            expires_at=expires_at,
            created_at=now,
        )
    )


async def do_unmute(tx: Tx, viewer: Viewer, target_id: int) -> None:
    me = _me(viewer)
    await _target(tx, viewer, target_id)
    await tx.execute(
        delete(mutes).where(mutes.c.account_id == me, mutes.c.target_account_id == target_id)
    )
