"""An erased account's last word to other servers: Delete of its actor.

Erasing a local account (roost/erasure/erase.py) tells every server that got
anything from it that it is gone, as Mastodon does when an account is
deleted: ``Delete`` whose ``object`` is the actor's id. Those servers then
drop the account and its posts. It goes to the union of
  - every inbox anything of the account was delivered to (its posts, its
    follows, its answers to follows: ``account_deliveries``, written for
    every delivery), and every inbox a post of it still here was sent to
    (``status_deliveries``; both roost/domain/federation/sent.py),
  - its followers' inboxes on other servers,
  - the inboxes of the accounts of other servers it follows or asked to,
each server's shared inbox preferred, one delivery per inbox.

The problem: deliveries are signed with the account's key pair, whose private
half is sealed under the account's key (roost/keys/ring.py), and the erasure
destroys that key; a delivery job's activity is sealed under it too. An
unsigned Delete is refused, and one signed by another key is not believed
(the receiving server checks that the actor signed it). So, before the
erasure's transaction, ``prepare`` reads the actor's id and the private key;
in that transaction ``do_queue`` stores them in one ``actor_farewells`` row,
both sealed under a new key of the row's own (key id = the row's id), and
queues one ``SayFarewell`` job per inbox, whose payload holds only the inbox
and the row's id. Nothing else of the account is kept: no name, no post, no
profile, not its account id (the erasure's scan looks for it everywhere and
finds it nowhere). The activity is rebuilt from the actor's id when sent.

The row's key is destroyed, in the key store and in its backups, and the row
deleted, when every delivery has ended (delivered, or refused for good), or
when ``WINDOW`` (7 days) has passed: ``EndFarewell`` runs then whatever
happened, so a server that stays away, or a job parked after its retries,
keeps the key no longer. A data backup taken meanwhile holds the row only
sealed, unreadable once the key is gone. A job run twice (the runner is
at-least-once) may end the farewell early: the deliveries left are then
dropped, which is the safe side.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

import orjson
from sqlalchemy import delete, insert, select, union, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.config import Settings
from roost.db.engine import Database, Tx
from roost.db.tables import (
    account_deliveries,
    accounts,
    actor_farewells,
    actor_keys,
    follow_requests,
    follows,
    remote_accounts,
    status_deliveries,
    statuses,
)
from roost.domain.federation import hosts, signing, uris
from roost.domain.federation.delivery import ACTIVITY_JSON, DeliveryFailed
from roost.domain.federation.remote import policy_for
from roost.domain.jobs import JobContext
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.jobs.registry import Job, RetryLater, handles
from roost.keys import ring
from roost.net import signatures
from roost.net.http import OutboundRefused

log = logging.getLogger("roost.federation")

WINDOW = timedelta(days=7)
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@dataclass(frozen=True)
class Farewell:
    """What the Delete of an actor needs, read before the erasure."""

    actor_uri: str
    private_key_pem: str
    inboxes: list[str]


@dataclass(frozen=True)
class SayFarewell(Job, kind="federation.farewell"):
    """Send the Delete of an erased actor to one inbox."""

    inbox_url: str
    farewell_id: int


@dataclass(frozen=True)
class EndFarewell(Job, kind="federation.farewell.end"):
    """The farewell's window is over: destroy its key, delete its row."""

    farewell_id: int


async def farewell_inboxes(conn: AsyncConnection, account_id: int) -> list[str]:
    """Every inbox that got something from the account, as listed above."""
    posts = (
        select(status_deliveries.c.inbox_url)
        .join(statuses, statuses.c.id == status_deliveries.c.status_id)
        .where(statuses.c.account_id == account_id)
    )
    anything = select(account_deliveries.c.inbox_url).where(
        account_deliveries.c.account_id == account_id
    )
    found = {str(inbox) for inbox in (await conn.execute(union(posts, anything))).scalars()}
    where = (remote_accounts.c.inbox_url, remote_accounts.c.shared_inbox_url)
    peers = [
        select(*where)
        .join(follows, follows.c.account_id == remote_accounts.c.account_id)
        .where(follows.c.target_account_id == account_id)
    ] + [
        select(*where)
        .join(table, table.c.target_account_id == remote_accounts.c.account_id)
        .where(table.c.account_id == account_id)
        for table in (follows, follow_requests)
    ]
    for row in await conn.execute(union(*peers)):
        found.add(str(row.shared_inbox_url or row.inbox_url))
    # An account's own inbox (a follow's answer goes there) gives way to its
    # server's shared inbox: one Delete per server that offers one.
    personal = sorted(found)
    for start in range(0, len(personal), 500):
        rows = await conn.execute(
            select(remote_accounts.c.inbox_url, remote_accounts.c.shared_inbox_url).where(
                remote_accounts.c.inbox_url.in_(personal[start : start + 500]),
                remote_accounts.c.shared_inbox_url.is_not(None),
            )
        )
        for row in rows:
            found.discard(str(row.inbox_url))
            found.add(str(row.shared_inbox_url))
    return sorted(found)


async def prepare(conn: AsyncConnection, base_url: str, account_id: int) -> Farewell | None:
    """The farewell of a local account about to be erased; None when no
    server ever got anything from it, or it never had a key pair (so nothing
    it sent was ever signed)."""
    account = (
        await conn.execute(
            select(accounts.c.username, accounts.c.domain).where(accounts.c.id == account_id)
        )
    ).first()
    if account is None or account.domain is not None:
        return None
    pem = (
        await conn.execute(
            select(actor_keys.c.private_key_pem).where(actor_keys.c.account_id == account_id)
        )
    ).scalar_one_or_none()
    if not pem:
        return None
    inboxes = await farewell_inboxes(conn, account_id)
    if not inboxes:
        return None
    return Farewell(uris.actor_uri(base_url, str(account.username)), str(pem), inboxes)


async def do_queue(tx: Tx, farewell: Farewell) -> int:
    """Store the farewell under a key of its own and queue its deliveries and
    its end; the farewell's id."""
    now = utcnow()
    farewell_id = new_id()
    await tx.execute(
        insert(actor_farewells).values(
            id=farewell_id,
            actor_uri=ring.seal(farewell_id, farewell.actor_uri),
            private_key_pem=ring.seal(farewell_id, farewell.private_key_pem),
            remaining=len(farewell.inboxes),
            expires_at=now + WINDOW,
            created_at=now,
        )
    )
    for inbox in farewell.inboxes:
        await enqueue(tx, SayFarewell(inbox_url=inbox, farewell_id=farewell_id))
    await enqueue(tx, EndFarewell(farewell_id=farewell_id), run_at=now + WINDOW)
    return farewell_id


def delete_of(actor_uri: str) -> dict[str, object]:
    return {
        "@context": uris.AS_CONTEXT,
        "id": f"{actor_uri}#delete",
        "type": "Delete",
        "actor": actor_uri,
        "to": [PUBLIC],
        "object": actor_uri,
    }


async def end(db: Database, farewell_id: int) -> None:
    """Destroy the farewell's key (in the store and its backups), then its row."""
    from roost.keys.backup import forget_in_backups

    await asyncio.to_thread(ring.store().destroy, farewell_id)
    ring.evict(farewell_id)
    await asyncio.to_thread(forget_in_backups, farewell_id)
    async with db.write() as tx:
        await tx.execute(delete(actor_farewells).where(actor_farewells.c.id == farewell_id))


async def _one_done(db: Database, farewell_id: int) -> None:
    async with db.write() as tx:
        await tx.execute(
            update(actor_farewells)
            .where(actor_farewells.c.id == farewell_id)
            .values(remaining=actor_farewells.c.remaining - 1)
        )
        left = (
            await tx.execute(
                select(actor_farewells.c.remaining).where(actor_farewells.c.id == farewell_id)
            )
        ).scalar_one_or_none()
    if left is not None and left <= 0:
        await end(db, farewell_id)


def _key(private_pem: str, key_id: str) -> signing.SigningKey:
    return signing.SigningKey(key_id, signatures.load_private_key(private_pem))


async def _send(
    db: Database, settings: Settings, inbox_url: str, body: bytes, key: signing.SigningKey
) -> bool:
    """POST the activity; True when this delivery has ended (taken, refused
    for good, or its server has now failed for days), DeliveryFailed to be
    tried again (as delivery.py's)."""
    host = hosts.host_of(inbox_url)
    try:
        answered = await signing.signed_post(
            db,
            settings,
            inbox_url,
            key,
            body=body,
            headers={"Content-Type": ACTIVITY_JSON, "Accept": ACTIVITY_JSON},
        )
    except OutboundRefused as error:
        if await hosts.failed(db, settings, host):
            await hosts.dropped(db, host)
            return True
        raise DeliveryFailed(f"{host}: {error}") from None
    status = answered.status
    if 200 <= status < 300 or (400 <= status < 500 and status not in (408, 429)):
        await hosts.succeeded(db, host)
        if status >= 300:
            log.info("farewell refused for good", extra={"inbox": inbox_url, "status": status})
        return True
    if await hosts.failed(db, settings, host):
        await hosts.dropped(db, host)
        return True
    raise DeliveryFailed(f"{host} answered {status}")


@handles(SayFarewell)
async def say_farewell(ctx: JobContext, job: SayFarewell) -> None:
    async with ctx.db.read() as conn:
        found = select(actor_farewells).where(actor_farewells.c.id == job.farewell_id)
        row = (await conn.execute(found)).first()
    if row is None or not row.actor_uri or not row.private_key_pem:
        log.info("farewell dropped: its window is over", extra={"inbox": job.inbox_url})
        return
    if row.expires_at <= utcnow():
        await end(ctx.db, job.farewell_id)
        return
    host = hosts.host_of(job.inbox_url)
    seen = await hosts.gate(ctx.db, host)
    if seen.wait_s > 0:
        raise RetryLater(f"{host} failed recently", delay_s=seen.wait_s)
    policy = await policy_for(ctx.db, job.inbox_url, ctx.settings)
    if seen.drop:
        await hosts.dropped(ctx.db, host)
    elif policy is None or not policy.refused:
        actor = str(row.actor_uri)
        body = orjson.dumps(delete_of(actor))
        await _send(
            ctx.db,
            ctx.settings,
            job.inbox_url,
            body,
            _key(row.private_key_pem, uris.key_id(actor)),
        )
    await _one_done(ctx.db, job.farewell_id)


@handles(EndFarewell)
async def end_farewell(ctx: JobContext, job: EndFarewell) -> None:
    await end(ctx.db, job.farewell_id)
