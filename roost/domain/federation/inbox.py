"""The inbox: activities other servers post, stored once their signature has
verified (roost/domain/federation/verification.py), each with a durable job.

``do_receive`` stores the raw activity in ``inbox_activities`` and queues
``ProcessInboxActivity`` in the same transaction. An activity whose id was
already received is not stored twice (a server retrying a delivery gets its
202 again and nothing else happens). Either way its server is seen alive: a
host whose deliveries were failing, or marked unavailable, is tried again.

Processing (roost/domain/federation/received.py) acts on the kinds Roost
knows and marks the activity ``handled``; any other kind is marked
``unhandled`` and logged, so the table shows what arrived and nothing is
claimed to have happened. When the sender's actor must be fetched and its
server is away, the job fails and the runner retries it; when the server
answers something unusable (no actor, a 404), the activity is ``failed``.
Once processed, the raw body is emptied: the row keeps the kind, the actor,
the id and the outcome, and the words it carried live only in the rows it
changed (docs/residency.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import inbox_activities
from roost.domain.federation import hosts
from roost.domain.federation._upsert import insert_absent
from roost.domain.federation.named import do_link_named
from roost.domain.federation.remote import RemoteRefused
from roost.domain.federation.uris import id_of
from roost.domain.federation.verification import SignedBy
from roost.domain.jobs import JobContext
from roost.errors import RuleBroken
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.jobs.registry import Job, handles
from roost.net.signatures import SignatureRefused

log = logging.getLogger("roost.federation")

MAX_ACTIVITY_BYTES = 1 << 20


@dataclass(frozen=True)
class ProcessInboxActivity(Job, kind="federation.inbox"):
    """An activity another server sent was stored: process it."""

    inbox_activity_id: int


def check_activity(activity: Any, signed_by: SignedBy) -> None:
    """An activity (a JSON object with a type) sent by the actor who signed:
    RuleBroken when it is no activity, SignatureRefused when another actor
    signed it (relayed activities with their own signatures come later)."""
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        raise RuleBroken("The body is not an activity")
    if id_of(activity.get("actor")) != signed_by.owner:
        raise SignatureRefused("the activity's actor did not sign it")


async def do_receive(
    tx: Tx,
    *,
    recipient_account_id: int | None,
    signed_by: SignedBy,
    activity: dict[str, Any],
    body: bytes,
    base_url: str | None = None,
) -> int | None:
    """Store a verified activity and queue its processing; its row id, or None
    when an activity with the same id was stored before. With ``base_url``,
    the local accounts it names are linked to it (roost/domain/federation/
    named.py), so their erasure removes it."""
    # Its server posted a verified activity: it is up, whatever its
    # deliveries' recent failures (roost/domain/federation/hosts.py).
    await hosts.seen_alive(tx, hosts.host_of(signed_by.owner))
    row_id = new_id()
    activity_type = str(activity["type"])[:64]
    result = await tx.execute(
        insert_absent(tx, inbox_activities, inbox_activities.c.activity_uri).values(
            id=row_id,
            recipient_account_id=recipient_account_id,
            actor_uri=signed_by.owner,
            key_id=signed_by.key_id,
            activity_uri=id_of(activity.get("id")),
            activity_type=activity_type,
            body=body.decode("utf-8", errors="replace"),
            state="queued",
            received_at=utcnow(),
        )
    )
    if not result.rowcount:
        return None
    if base_url is not None:
        await do_link_named(tx, row_id, activity, base_url)
    await enqueue(tx, ProcessInboxActivity(inbox_activity_id=row_id))
    return row_id


@handles(ProcessInboxActivity)
async def process(ctx: JobContext, job: ProcessInboxActivity) -> None:
    """Act on a stored activity (roost/domain/federation/received.py); its
    state becomes ``handled``, or ``unhandled`` for a kind not acted on."""
    from roost.domain.federation.received import act_on

    async with ctx.db.read() as conn:
        row = (
            await conn.execute(
                select(inbox_activities.c.body, inbox_activities.c.actor_uri).where(
                    inbox_activities.c.id == job.inbox_activity_id
                )
            )
        ).first()
    if row is None:
        return
    try:
        activity = orjson.loads(row.body)
    except orjson.JSONDecodeError:
        activity = None
    try:
        handled = isinstance(activity, dict) and await act_on(ctx, str(row.actor_uri), activity)
        state = "handled" if handled else "unhandled"
    except RemoteRefused as refused:
        if refused.transient:
            raise  # its server is away: the runner tries again later
        log.info("inbox activity failed: %s", refused.message)
        handled, state = False, "failed"
    # Acted on (or not to be), the raw activity is not kept: what it brought
    # lives on only in the rows it changed (a post, sealed; a follow), and
    # goes when they go. A post its author deleted leaves no copy here.
    async with ctx.db.write() as tx:
        await tx.execute(
            update(inbox_activities)
            .where(inbox_activities.c.id == job.inbox_activity_id)
            .values(state=state, body="")
        )
    if state == "unhandled":
        log.info(
            "inbox activity kept unhandled", extra={"inbox_activity_id": job.inbox_activity_id}
        )
