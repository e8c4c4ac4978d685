"""Blocks across servers, both ways, as Mastodon federates them.

Out: a local account blocking an account of another server (the block
action, roost/domain/graph/actions.py, ends every follow between the two
here, and sends Undo(Follow) or Reject for those the other side knows)
queues a ``SendBlock`` job: a Block signed with the blocker's key, to the
blocked account's own inbox, its id ``…/users/NAME#blocks/ID``. Lifting the
block sends Undo(Block) naming the same id.

In: a Block of a local account by a remote actor is taken through the same
action as a local block, as that actor: the block is recorded (``blocks``),
the follows and requests between them go both ways, endorsements and
collection items are revoked. Nothing notifies the blocked account (as on
Mastodon). From then on the privacy policy keeps the two apart as it does
for local blocks, and nothing of the blocked account's is delivered to the
blocker: it follows nobody here any more, and a post mentioning it does not
go to its inbox (roost/domain/federation/notes.py ``destination_inboxes``).
Undo(Block) lifts it; the follows do not come back.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from roost.db.tables import accounts
from roost.domain.federation import uris
from roost.domain.federation.delivery import enqueue_delivery
from roost.domain.federation.jobs import SendBlock
from roost.domain.federation.remote import delivery_of
from roost.domain.federation.uris import AS_CONTEXT
from roost.domain.graph import actions as graph_actions
from roost.domain.jobs import JobContext
from roost.domain.types import Viewer
from roost.errors import NotFound, RuleBroken
from roost.jobs.registry import handles

log = logging.getLogger("roost.federation")


@handles(SendBlock)
async def send_block(ctx: JobContext, job: SendBlock) -> None:
    if not ctx.settings.federation:
        return
    async with ctx.db.read() as conn:
        blocker = (
            await conn.execute(
                select(accounts.c.username, accounts.c.domain).where(
                    accounts.c.id == job.account_id
                )
            )
        ).first()
        blocked = (
            await conn.execute(select(accounts.c.uri).where(accounts.c.id == job.target_id))
        ).scalar_one_or_none()
    if blocker is None or blocker.domain is not None or not blocked:
        return
    target = await delivery_of(ctx.db, job.target_id)
    if target is None:
        return
    actor = uris.actor_uri(ctx.settings.base_url, blocker.username)
    block = {
        "id": f"{actor}#blocks/{job.block_id}",
        "type": "Block",
        "actor": actor,
        "object": str(blocked),
    }
    if job.undo:
        activity: dict[str, Any] = {
            "@context": AS_CONTEXT,
            "id": f"{block['id']}/undo",
            "type": "Undo",
            "actor": actor,
            "object": block,
        }
    else:
        activity = {"@context": AS_CONTEXT, **block}
    async with ctx.db.write() as tx:
        # Its own inbox: a block concerns that account, not its whole server.
        await enqueue_delivery(tx, target.inbox_url, job.account_id, activity)


async def receive_block(ctx: JobContext, remote_id: int, local_id: int) -> bool:
    """The remote account blocks the local one: as a local block, and silent."""
    async with ctx.db.write() as tx:
        try:
            await graph_actions.do_block(tx, Viewer(account_id=remote_id), local_id)
        except (NotFound, RuleBroken):
            return False
    return True


async def receive_undo_block(ctx: JobContext, remote_id: int, local_id: int) -> bool:
    async with ctx.db.write() as tx:
        try:
            await graph_actions.do_unblock(tx, Viewer(account_id=remote_id), local_id)
        except NotFound:
            return True
    return True
