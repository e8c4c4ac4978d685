"""What else of an account's local relations a move carries to the new
account, as Mastodon's move does (run by ``MoveFollowers``,
roost/domain/federation/moves.py):

- lists: a follower's lists that held the old account hold the new one once
  the follower follows it (a list holds only accounts its owner follows, so
  a follow still waiting for approval carries none);
- blocks and mutes: local accounts that block the old account block the new
  one (a block's own consequences follow: follows between them go, a Block
  goes to the new account's server); those that mute it mute the new one,
  with the same notifications choice and what is left of its duration.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from roost.clock import utcnow
from roost.db.engine import Database, Tx
from roost.db.tables import accounts, blocks, list_accounts, lists, mutes
from roost.domain.types import Viewer
from roost.errors import Conflict, Forbidden, NotFound, RuleBroken

log = logging.getLogger("roost.federation")

_REFUSED = (NotFound, Forbidden, RuleBroken, Conflict)


async def lists_holding(tx: Tx, owner_id: int, account_id: int) -> list[int]:
    """The owner's lists that hold the account (read before the follow that
    keeps it there goes)."""
    rows = await tx.execute(
        select(list_accounts.c.list_id)
        .join(lists, lists.c.id == list_accounts.c.list_id)
        .where(lists.c.account_id == owner_id, list_accounts.c.account_id == account_id)
        .order_by(list_accounts.c.list_id)
    )
    return [int(r) for r in rows.scalars()]


async def do_carry_lists(tx: Tx, viewer: Viewer, list_ids: list[int], target_id: int) -> None:
    """The new account joins the lists (``lists_holding``) its follower kept
    the old one in; one it is already in, or not followed yet, is let be."""
    from roost.domain.lists import actions as list_actions

    for list_id in list_ids:
        try:
            # It refuses before it writes anything: the transaction goes on.
            await list_actions.do_add_members(tx, viewer, list_id, [target_id])
        except _REFUSED:
            continue


async def carry_blocks_and_mutes(db: Database, origin_id: int, target_id: int) -> int:
    """Local accounts that block or mute the old account block or mute the
    new one; how many were carried."""
    from roost.domain.graph import actions as graph_actions

    local = select(accounts.c.id).where(
        accounts.c.domain.is_(None), accounts.c.suspended_at.is_(None)
    )
    async with db.read() as conn:
        blockers = [
            int(r)
            for r in (
                await conn.execute(
                    select(blocks.c.account_id).where(
                        blocks.c.target_account_id == origin_id, blocks.c.account_id.in_(local)
                    )
                )
            ).scalars()
        ]
        muters = (
            await conn.execute(
                select(mutes.c.account_id, mutes.c.hide_notifications, mutes.c.expires_at).where(
                    mutes.c.target_account_id == origin_id, mutes.c.account_id.in_(local)
                )
            )
        ).all()
    carried = 0
    for blocker in blockers:
        if blocker == target_id:
            continue
        async with db.write() as tx:
            try:
                await graph_actions.do_block(tx, Viewer(account_id=blocker), target_id)
            except _REFUSED:
                continue
        carried += 1
    now = utcnow()
    for muter in muters:
        if muter.account_id == target_id:
            continue
        left = 0
        if muter.expires_at is not None:
            left = int((muter.expires_at - now).total_seconds())
            if left <= 0:
                continue  # run out
        async with db.write() as tx:
            try:
                await graph_actions.do_mute(
                    tx,
                    Viewer(account_id=int(muter.account_id)),
                    target_id,
                    notifications=bool(muter.hide_notifications),
                    duration_s=left,
                )
            except _REFUSED:
                continue
        carried += 1
    return carried
