"""An actor of another server deleted by its server (``Delete`` whose object
is the actor, as Mastodon and Roost send when an account is deleted or
erased, roost/domain/federation/farewell.py).

The stored account is suspended at once (``remote.actor_deleted``: hidden with
its posts by the privacy policy, nothing delivered to it), and a job then
deletes its posts here for good, in batches, as a deletion of each (their
boosts, timelines, notifications and media go with them), so what its server
erased does not stay readable in this server's database either; last, its
profile (name, bio, fields) is emptied.

Such a Delete is signed with the actor's key, whose address then answers
410 Gone. Roost checks it with the key it cached from the actor's earlier
activities; when it has none (or the signature fails with it), the key
cannot be fetched, and the request would be refused again at every retry.
Instead (``delete_of_gone_actor``), a Delete of the key's own actor is
taken when the actor's address on its server answers 404 or 410: the
server itself says the actor is gone, which is what the Delete says.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urldefrag, urlsplit

import orjson
from sqlalchemy import select, update

from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import accounts, statuses
from roost.domain.federation import remote, signing, uris
from roost.domain.federation.uris import id_of
from roost.domain.jobs import JobContext
from roost.domain.statuses import actions as status_actions
from roost.domain.types import Viewer
from roost.errors import NotFound
from roost.jobs.outbox import enqueue
from roost.jobs.registry import Job, handles
from roost.net.http import OutboundRefused

log = logging.getLogger("roost.federation")

BATCH = 100


@dataclass(frozen=True)
class ForgetDepartedPosts(Job, kind="federation.departed"):
    """Delete every post here of a remote account its server deleted."""

    account_id: int


async def actor_gone(ctx: JobContext, actor_uri: str) -> bool:
    """Its server says the actor is gone: suspend the account, queue the
    deletion of its posts."""
    return await _gone(ctx.db, actor_uri)


async def _gone(db: Database, actor_uri: str) -> bool:
    await remote.actor_deleted(db, actor_uri)
    async with db.write() as tx:
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


async def delete_of_gone_actor(db: Database, settings: Settings, key_id: str, body: bytes) -> bool:
    """An inbox request whose key's address answered 404 or 410
    (verification.py's ``KeyGone``): when it is a Delete of the key's own
    actor, and that actor's address on its server answers 404 or 410 too
    (asked here when it is not the key's), the actor is gone there: its
    copy here goes as for a signed Delete (True; nothing is stored of the
    request). Whoever sent it, it only hastens what its server says."""
    try:
        activity = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(activity, dict) or activity.get("type") != "Delete":
        return False
    actor = id_of(activity.get("actor"))
    if actor is None or id_of(activity.get("object")) != actor:
        return False
    if urlsplit(actor).netloc.lower() != urlsplit(key_id).netloc.lower():
        return False
    if not await remote.federates_with(db, settings, actor):
        return False
    if urldefrag(key_id)[0] != actor and not await _answers_gone(db, settings, actor):
        return False
    log.info("actor gone at its server, its Delete taken unsigned", extra={"actor": actor})
    return await _gone(db, actor)


async def _answers_gone(db: Database, settings: Settings, uri: str) -> bool:
    if not uris.peer_url_allowed(settings, uri):
        return False
    try:
        fetched = await signing.signed_fetch(
            db,
            settings,
            uri,
            await signing.instance_key(db, settings),
            accept=remote.ACCEPT,
            max_bytes=remote.MAX_DOCUMENT_BYTES,
        )
    except (OutboundRefused, ValueError):
        return False
    return fetched.status in (404, 410)


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
