"""Delivering activities to other servers: one durable job per inbox.

``enqueue_delivery`` queues a ``Deliver`` job (in the caller's transaction)
holding the activity as sent, the inbox, and the local account whose key
signs it. Its handler POSTs it through the one outbound client
(roost/net/http.py), signed as ``ROOST_FEDERATION_SIGNATURES`` says
(roost/domain/federation/signing.py: draft-cavage, RFC 9421, or both in turn).

  - 2xx: delivered.
  - 4xx other than 408 and 429: the other server refuses it for good; it is
    dropped (retrying would change nothing), and logged.
  - anything else (no answer, 5xx, 408, 429): the job fails and the runner
    retries it with exponential backoff (roost/jobs/runner.py), then parks it.

Deliveries run beside the runner's other jobs (``Job.concurrent``), so a
server that takes its whole timeout to fail holds up no other delivery and
no other job. A host that failed is not tried again by any worker before
its own backoff has passed (roost/domain/federation/hosts.py, state kept in
the database): its other deliveries are put back until then without a
connection attempt, so a dead server costs one timeout per backoff step, not
one per delivery. A host failing for days (7, as Mastodon) is unavailable:
its deliveries are dropped, counted, until it is seen alive again.
Nothing is delivered to a server staff suspended. And one process has at
most ``PLACES_PER_HOST`` deliveries in flight to any one server: the runner
runs up to 32 deliveries at once, and a slow server with a long queue would
otherwise take every place for a whole timeout while deliveries to the
others waited (bench/delivery.py); the excess waits a moment, untried.

A delivery ``signed_by_instance`` (a forwarded report's Flag) is signed by
the instance actor, not by the account whose key seals it, and is not
recorded as something of that account's (its erasure tells that server
nothing).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from sqlalchemy import select

from roost.db.engine import Tx
from roost.db.tables import accounts
from roost.domain.federation import hosts, sent, signing
from roost.domain.federation.remote import policy_for
from roost.domain.jobs import JobContext
from roost.jobs.outbox import enqueue
from roost.jobs.registry import Job, RetryLater, handles
from roost.keys.ring import ERASED, seal, unseal
from roost.net.http import OutboundRefused

log = logging.getLogger("roost.federation")

ACTIVITY_JSON = "application/activity+json"
# Deliveries one process has in flight to one server at most; one beyond
# them waits up to PLACE_WAIT_S for a place (a healthy server frees one in
# milliseconds), then is put back for a moment, untried (a slow one does not).
PLACES_PER_HOST = 4
PLACE_WAIT_S = 0.5
PLACE_POLL_S = 0.01
PLACE_RETRY_S = 1.0


class _HostPlaces:
    """Deliveries in flight per host, in this process. Plain counts, polled:
    the runner's event loop is the only one that touches them, and a count
    outlives any loop (tests run many)."""

    def __init__(self) -> None:
        self._taken: dict[str, int] = {}

    @asynccontextmanager
    async def place(self, host: str) -> AsyncIterator[None]:
        """Hold one of ``host``'s places; RetryLater when none came free in time."""
        waited = 0.0
        while self._taken.get(host, 0) >= PLACES_PER_HOST:
            if waited >= PLACE_WAIT_S:
                raise RetryLater(
                    f"{host} has {self._taken[host]} deliveries in flight", delay_s=PLACE_RETRY_S
                )
            await asyncio.sleep(PLACE_POLL_S)
            waited += PLACE_POLL_S
        self._taken[host] = self._taken.get(host, 0) + 1
        try:
            yield
        finally:
            left = self._taken[host] - 1
            if left:
                self._taken[host] = left
            else:
                del self._taken[host]


places = _HostPlaces()


@dataclass(frozen=True)
class Deliver(Job, kind="federation.deliver"):
    """Send one activity to one inbox, signed by ``account_id``."""

    concurrent: ClassVar[bool] = True

    inbox_url: str
    account_id: int
    activity: str
    signed_by_instance: bool = False


class DeliveryFailed(Exception):
    """The other server did not take the activity (the job is retried)."""


async def enqueue_delivery(
    tx: Tx,
    inbox_url: str,
    account_id: int,
    activity: dict[str, Any],
    *,
    signed_by_instance: bool = False,
) -> None:
    # Sealed under the sender's key (roost/keys/ring.py), as its posts are in
    # their table: a followers-only post waiting in the queue, or in a backup
    # of it, goes with the key when the account is erased.
    sealed = seal(account_id, orjson.dumps(activity).decode())
    await enqueue(
        tx,
        Deliver(
            inbox_url=inbox_url,
            account_id=account_id,
            activity=sealed,
            signed_by_instance=signed_by_instance,
        ),
    )
    if not signed_by_instance:
        # Where it went, for the Delete of its actor if it is erased (farewell.py).
        await sent.record_account_sent(tx, account_id, inbox_url)


@handles(Deliver)
async def deliver(ctx: JobContext, job: Deliver) -> None:
    host = hosts.host_of(job.inbox_url)
    async with places.place(host):
        await _deliver(ctx, job, host)


async def _deliver(ctx: JobContext, job: Deliver, host: str) -> None:
    seen = await hosts.gate(ctx.db, host)
    if seen.drop:
        await hosts.dropped(ctx.db, host)
        log.info("delivery dropped: the server is unavailable", extra={"inbox": job.inbox_url})
        return
    if seen.wait_s > 0:
        raise RetryLater(f"{host} failed recently", delay_s=seen.wait_s)
    policy = await policy_for(ctx.db, job.inbox_url, ctx.settings)
    if policy is not None and policy.refused:
        log.info(
            "delivery dropped: the server is not federated with", extra={"inbox": job.inbox_url}
        )
        return
    async with ctx.db.read() as conn:
        username = (
            await conn.execute(select(accounts.c.username).where(accounts.c.id == job.account_id))
        ).scalar_one_or_none()
    if username is None:
        log.info("delivery dropped: its signer is gone", extra={"inbox": job.inbox_url})
        return
    body = unseal(job.activity)
    if body == ERASED:
        log.info("delivery dropped: its sender was erased", extra={"inbox": job.inbox_url})
        return
    if job.signed_by_instance:
        key = await signing.instance_key(ctx.db, ctx.settings)
    else:
        key = await signing.account_key(ctx.db, ctx.settings, job.account_id, str(username))
    try:
        answered = await signing.signed_post(
            ctx.db,
            ctx.settings,
            job.inbox_url,
            key,
            body=body.encode(),
            headers={"Content-Type": ACTIVITY_JSON, "Accept": ACTIVITY_JSON},
        )
    except OutboundRefused as error:
        if await _dropped_as_unavailable(ctx, host, job.inbox_url):
            return
        raise DeliveryFailed(f"{host}: {error}") from None
    status = answered.status
    if 200 <= status < 300:
        await hosts.succeeded(ctx.db, host, seen)
        return
    if 400 <= status < 500 and status not in (408, 429):
        await hosts.succeeded(ctx.db, host, seen)
        log.info("delivery refused for good", extra={"inbox": job.inbox_url, "status": status})
        return
    if await _dropped_as_unavailable(ctx, host, job.inbox_url):
        return
    raise DeliveryFailed(f"{host} answered {status}")


async def _dropped_as_unavailable(ctx: JobContext, host: str, inbox_url: str) -> bool:
    """Count the failure; True when the host has now failed for days: it is
    unavailable and this delivery, too, is dropped (counted), not retried."""
    if not await hosts.failed(ctx.db, ctx.settings, host):
        return False
    await hosts.dropped(ctx.db, host)
    log.info("delivery dropped: the server is unavailable", extra={"inbox": inbox_url})
    return True
