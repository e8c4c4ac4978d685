"""Following: follow, unfollow, and the requests a locked account approves."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import accounts, follow_requests, follows
from roost.domain import privacy
from roost.domain.types import Viewer
from roost.errors import Invalid, NotFound
from roost.ids import new_id
from roost.jobs.outbox import enqueue


async def _target(tx: Tx, viewer: Viewer, target_id: int) -> dict[str, Any]:
    return dict((await privacy.check_account(tx.conn, viewer, target_id)).value)


async def do_follow(
    tx: Tx,
    viewer: Viewer,
    target_id: int,
    *,
    reblogs: bool | None = None,
    notify: bool | None = None,
) -> None:
    """Follow an account; for a locked account, ask. Following again updates the options."""
    me = viewer.account_id
    assert me is not None
    if target_id == me:
        raise Invalid("Validation failed: You cannot follow yourself")
    target = await _target(tx, viewer, target_id)
    existing = (
        await tx.execute(
            select(follows.c.id).where(
                follows.c.account_id == me, follows.c.target_account_id == target_id
            )
        )
    ).first()
    options: dict[str, Any] = {}
    if reblogs is not None:
        options["show_reblogs"] = reblogs
    if notify is not None:
        options["notify"] = notify
    if existing is not None:
        if options:
            await tx.execute(update(follows).where(follows.c.id == existing.id).values(**options))
        return
    if target["locked"]:
        requested = (
            await tx.execute(
                select(follow_requests.c.id).where(
                    follow_requests.c.account_id == me,
                    follow_requests.c.target_account_id == target_id,
                )
            )
        ).first()
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
        await enqueue(
            tx,
            "notify",
            {
                "type": "follow_request",
                "account_id": target_id,
                "from_account_id": me,
            },
        )
        return
    await _create_follow(tx, me, target_id, reblogs=reblogs, notify=notify)


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
    await _count(tx, follower, target_id, +1)
    await enqueue(
        tx,
        "notify",
        {
            "type": "follow",
            "account_id": target_id,
            "from_account_id": follower,
        },
    )


async def _count(tx: Tx, follower: int, target_id: int, delta: int) -> None:
    await tx.execute(
        update(accounts)
        .where(accounts.c.id == follower)
        .values(following_count=accounts.c.following_count + delta)
    )
    await tx.execute(
        update(accounts)
        .where(accounts.c.id == target_id)
        .values(followers_count=accounts.c.followers_count + delta)
    )


async def do_unfollow(tx: Tx, viewer: Viewer, target_id: int) -> None:
    me = viewer.account_id
    assert me is not None
    await _target(tx, viewer, target_id)
    await _remove_follow(tx, me, target_id)
    await tx.execute(
        delete(follow_requests).where(
            follow_requests.c.account_id == me, follow_requests.c.target_account_id == target_id
        )
    )


async def _remove_follow(tx: Tx, follower: int, target_id: int) -> None:
    removed = await tx.execute(
        delete(follows).where(
            follows.c.account_id == follower, follows.c.target_account_id == target_id
        )
    )
    if removed.rowcount:
        await _count(tx, follower, target_id, -1)


async def do_remove_from_followers(tx: Tx, viewer: Viewer, follower_id: int) -> None:
    me = viewer.account_id
    assert me is not None
    await _target(tx, viewer, follower_id)
    await _remove_follow(tx, follower_id, me)


async def do_authorize_request(tx: Tx, viewer: Viewer, requester_id: int) -> None:
    me = viewer.account_id
    assert me is not None
    request = (
        await tx.execute(
            select(follow_requests).where(
                follow_requests.c.account_id == requester_id,
                follow_requests.c.target_account_id == me,
            )
        )
    ).first()
    if request is None:
        raise NotFound("No follow request from that account")
    await tx.execute(delete(follow_requests).where(follow_requests.c.id == request.id))
    await _create_follow(tx, requester_id, me, reblogs=request.show_reblogs, notify=request.notify)


async def do_reject_request(tx: Tx, viewer: Viewer, requester_id: int) -> None:
    me = viewer.account_id
    assert me is not None
    removed = await tx.execute(
        delete(follow_requests).where(
            follow_requests.c.account_id == requester_id,
            follow_requests.c.target_account_id == me,
        )
    )
    if not removed.rowcount:
        raise NotFound("No follow request from that account")
