"""The jobs that posts, follows and interactions leave in the outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from roost.db.tables import follows, mentions, statuses
from roost.domain.media import jobs as _media_jobs  # noqa: F401  (registers media.*)
from roost.domain.notifications.actions import do_notify
from roost.importers.twitter import job as _import_jobs  # noqa: F401  (registers import.*)
from roost.jobs.registry import JobContext, handles
from roost.search import jobs as _search_jobs  # noqa: F401  (registers search.*)
from roost.timelines.store import FollowAware, ListAware


def _store(ctx: JobContext) -> Any:
    return ctx.services["timelines"]


@handles("notify")
async def notify(ctx: JobContext, payload: dict[str, Any]) -> None:
    async with ctx.db.write() as tx:
        await do_notify(
            tx,
            type=payload["type"],
            account_id=payload["account_id"],
            from_account_id=payload["from_account_id"],
            status_id=payload.get("status_id"),
        )
    if payload["type"] == "follow":
        # The one job every new follow leaves: a cached home timeline takes in
        # the followed account's recent posts here.
        store = _store(ctx)
        if isinstance(store, FollowAware):
            await store.on_followed(payload["from_account_id"], payload["account_id"])


@handles("list.changed")
async def list_changed(ctx: JobContext, payload: dict[str, Any]) -> None:
    """A list's members or replies policy changed, or it was deleted: a cached
    list timeline (in Redis, whichever process made the change) is dropped here,
    and waits for Redis (RetryLater) like fan-out does."""
    store = _store(ctx)
    if isinstance(store, ListAware):
        await store.on_list_changed(payload["account_id"], payload["list_id"])


@handles("status.published")
async def status_published(ctx: JobContext, payload: dict[str, Any]) -> None:
    status_id = payload["status_id"]
    async with ctx.db.write() as tx:
        row = (
            await tx.execute(
                select(statuses.c.account_id, statuses.c.reblog_of_id).where(
                    statuses.c.id == status_id
                )
            )
        ).first()
        if row is None:
            return  # deleted before the job ran: nothing to announce
        if row.reblog_of_id is None:
            mentioned = await tx.execute(
                select(mentions.c.account_id).where(mentions.c.status_id == status_id)
            )
            for (account_id,) in mentioned.all():
                await do_notify(
                    tx,
                    type="mention",
                    account_id=account_id,
                    from_account_id=row.account_id,
                    status_id=status_id,
                )
            subscribers = await tx.execute(
                select(follows.c.account_id).where(
                    follows.c.target_account_id == row.account_id, follows.c.notify.is_(True)
                )
            )
            for (account_id,) in subscribers.all():
                await do_notify(
                    tx,
                    type="status",
                    account_id=account_id,
                    from_account_id=row.account_id,
                    status_id=status_id,
                )
    await _store(ctx).on_published(status_id)


@handles("status.edited")
async def status_edited(ctx: JobContext, payload: dict[str, Any]) -> None:
    status_id = payload["status_id"]
    async with ctx.db.write() as tx:
        row = (
            await tx.execute(
                select(statuses.c.account_id, statuses.c.edited_at).where(
                    statuses.c.id == status_id
                )
            )
        ).first()
        if row is None:
            return
        boosters = await tx.execute(
            select(statuses.c.account_id).where(statuses.c.reblog_of_id == status_id)
        )
        for (account_id,) in boosters.all():
            await do_notify(
                tx,
                type="update",
                account_id=account_id,
                from_account_id=row.account_id,
                status_id=status_id,
                event_key=f"update:{account_id}:{status_id}:{row.edited_at.isoformat()}",
            )


@handles("status.deleted")
async def status_deleted(ctx: JobContext, payload: dict[str, Any]) -> None:
    await _store(ctx).on_deleted(payload["status_id"], payload["account_id"])
