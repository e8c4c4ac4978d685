"""An actor of another server deleted by its server (``Delete`` whose object
is the actor, as Mastodon and Roost send when an account is deleted or
erased, roost/domain/federation/farewell.py).

The stored account is suspended at once (``remote.actor_deleted``: hidden with
its posts by the privacy policy, nothing delivered to it), and a job then
deletes its posts here for good, in batches, as a deletion of each (their
boosts, timelines, notifications and media go with them), so what its server
erased does not stay readable in this server's database either; last, its
profile (name, bio, fields) is emptied.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from roost.db.tables import accounts, statuses
from roost.domain.federation import remote
from roost.domain.jobs import JobContext
from roost.domain.statuses import actions as status_actions
from roost.domain.types import Viewer
from roost.errors import NotFound
from roost.jobs.outbox import enqueue
from roost.jobs.registry import Job, handles

BATCH = 100


@dataclass(frozen=True)
class ForgetDepartedPosts(Job, kind="federation.departed"):
    """Delete every post here of a remote account its server deleted."""

    account_id: int


async def actor_gone(ctx: JobContext, actor_uri: str) -> bool:
    """Its server says the actor is gone: suspend the account, queue the
    deletion of its posts."""
    await remote.actor_deleted(ctx.db, actor_uri)
    async with ctx.db.write() as tx:
        found = (
            await tx.execute(
                select(accounts.c.id).where(
                    accounts.c.uri == actor_uri,
                    accounts.c.domain.is_not(None),
                    accounts.c.suspended_at.is_not(None),
                )
            )
        ).scalar_one_or_none()
        if found is not None:
            await enqueue(tx, ForgetDepartedPosts(account_id=int(found)))
    return True


@handles(ForgetDepartedPosts)
async def forget_posts(ctx: JobContext, job: ForgetDepartedPosts) -> None:
    viewer = Viewer(account_id=job.account_id)
    while True:
        async with ctx.db.write() as tx:
            remote_account = (
                await tx.execute(
                    select(accounts.c.id).where(
                        accounts.c.id == job.account_id, accounts.c.domain.is_not(None)
                    )
                )
            ).first()
            if remote_account is None:
                return
            ids = (
                await tx.execute(
                    select(statuses.c.id)
                    .where(statuses.c.account_id == job.account_id)
                    .order_by(statuses.c.id)
                    .limit(BATCH)
                )
            ).scalars()
            batch = [int(i) for i in ids]
            for status_id in batch:
                try:
                    await status_actions.do_delete_status(tx, viewer, status_id, delete_media=True)
                except NotFound:
                    continue
        if len(batch) < BATCH:
            await _forget_profile(ctx, job.account_id)
            return


async def _forget_profile(ctx: JobContext, account_id: int) -> None:
    """What the account said of itself goes too: its name, bio and fields.
    The row stays, suspended, with its handle and actor id only, so that the
    actor is known as gone if it is named again."""
    async with ctx.db.write() as tx:
        await tx.execute(
            update(accounts)
            .where(accounts.c.id == account_id, accounts.c.domain.is_not(None))
            .values(display_name="", note="", note_html="", fields=[])
        )
