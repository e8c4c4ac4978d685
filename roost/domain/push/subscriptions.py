"""Web Push subscriptions: one per access token, as Mastodon keeps them.

A subscription names the push service's endpoint, the browser's or app's
public key (``p256dh``, a P-256 point) and authentication secret (16 bytes),
the alert types wanted and whose notifications are pushed (``policy``: all,
followed, follower, none). Subscribing again with the same token replaces
the subscription. Which notifications become deliveries is ``enqueue_pushes``,
called when a notification is recorded, in its transaction.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import follows, oauth_tokens, push_subscriptions
from roost.domain.push.jobs import DeliverPush
from roost.domain.types import Viewer
from roost.errors import Invalid, NotFound, RuleBroken
from roost.ids import new_id
from roost.jobs import outbox
from roost.keys.ring import seal

ALERT_TYPES = (
    "mention",
    "quote",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "quoted_update",
    "admin.sign_up",
    "admin.report",
)
_ADMIN_ALERTS = frozenset({"admin.sign_up", "admin.report"})
POLICIES = ("all", "followed", "follower", "none")
MAX_ENDPOINT = 2048


@dataclass(frozen=True, slots=True)
class PushSubscription:
    id: int
    endpoint: str
    alerts: frozenset[str]
    policy: str
    standard: bool
    created_at: datetime


def decode_key(value: str) -> bytes:
    """A key as browsers and apps send it: base64, URL-safe or not, padded or not."""
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise RuleBroken("keys are not base64") from None


def _checked_keys(p256dh: str, auth: str) -> None:
    point = decode_key(p256dh)
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise RuleBroken("p256dh is not a P-256 public key") from None
    if len(decode_key(auth)) != 16:
        raise RuleBroken("auth must be 16 bytes")


def _checked_endpoint(endpoint: str) -> str:
    endpoint = endpoint.strip()
    if not endpoint.startswith(("https://", "http://")) or len(endpoint) > MAX_ENDPOINT:
        raise RuleBroken("Endpoint is not a valid URL")
    return endpoint


def _alerts(viewer: Viewer, wanted: dict[str, bool]) -> list[str]:
    return [
        name
        for name in ALERT_TYPES
        if wanted.get(name) and (name not in _ADMIN_ALERTS or viewer.is_admin)
    ]


def _row(row: Any) -> PushSubscription:
    return PushSubscription(
        id=row.id,
        endpoint=row.endpoint,
        alerts=frozenset(row.alerts),
        policy=row.policy,
        standard=row.standard,
        created_at=row.created_at,
    )


async def subscription_of(conn: AsyncConnection, viewer: Viewer) -> PushSubscription:
    """The subscription of the viewer's token; NotFound when there is none."""
    row = (
        await conn.execute(
            select(push_subscriptions).where(
                push_subscriptions.c.token_id == viewer.token_id,
                push_subscriptions.c.account_id == viewer.account_id,
            )
        )
    ).first()
    if row is None:
        raise NotFound("Record not found")
    return _row(row)


async def do_subscribe(
    tx: Tx,
    viewer: Viewer,
    *,
    token: str,
    endpoint: str,
    p256dh: str,
    auth: str,
    alerts: dict[str, bool],
    policy: str,
    standard: bool,
) -> PushSubscription:
    """Subscribe the viewer's token, replacing its subscription if it had one."""
    me, token_id = viewer.account_id, viewer.token_id
    if me is None or token_id is None:
        raise Invalid("This method requires an authenticated user")
    endpoint = _checked_endpoint(endpoint)
    _checked_keys(p256dh, auth)
    if policy not in POLICIES:
        raise RuleBroken(f"policy must be one of {', '.join(POLICIES)}")
    await tx.execute(delete(push_subscriptions).where(push_subscriptions.c.token_id == token_id))
    now = utcnow()
    subscription_id = new_id()
    await tx.execute(
        push_subscriptions.insert().values(
            id=subscription_id,
            account_id=me,
            token_id=token_id,
            endpoint=endpoint,
            access_token=seal(me, token),
            key_p256dh=p256dh.strip(),
            key_auth=auth.strip(),
            alerts=_alerts(viewer, alerts),
            policy=policy,
            standard=standard,
            created_at=now,
            updated_at=now,
        )
    )
    return await subscription_of(tx.conn, viewer)


async def do_change(
    tx: Tx, viewer: Viewer, *, alerts: dict[str, bool] | None, policy: str | None
) -> PushSubscription:
    """Change the alerts named (the others stay) and the policy; NotFound
    when the token has no subscription."""
    current = await subscription_of(tx.conn, viewer)
    values: dict[str, Any] = {"updated_at": utcnow()}
    if alerts is not None:
        kept = {name: name in current.alerts for name in ALERT_TYPES}
        values["alerts"] = _alerts(viewer, {**kept, **alerts})
    if policy is not None:
        if policy not in POLICIES:
            raise RuleBroken(f"policy must be one of {', '.join(POLICIES)}")
        values["policy"] = policy
    await tx.execute(
        update(push_subscriptions).where(push_subscriptions.c.id == current.id).values(**values)
    )
    return await subscription_of(tx.conn, viewer)


async def do_unsubscribe(tx: Tx, viewer: Viewer) -> None:
    """Remove the token's subscription (none is no error, as Mastodon answers)."""
    await tx.execute(
        delete(push_subscriptions).where(
            push_subscriptions.c.token_id == viewer.token_id,
            push_subscriptions.c.account_id == viewer.account_id,
        )
    )


async def _follows(tx: Tx, follower: int, followed: int) -> bool:
    query = select(
        exists().where(follows.c.account_id == follower, follows.c.target_account_id == followed)
    )
    return bool((await tx.execute(query)).scalar())


async def enqueue_pushes(
    tx: Tx, *, notification_id: int, type: str, recipient: int, sender: int
) -> int:
    """Queue a delivery to each of the recipient's subscriptions that wants
    this type from this sender; returns how many."""
    rows = (
        await tx.execute(
            select(
                push_subscriptions.c.id, push_subscriptions.c.alerts, push_subscriptions.c.policy
            )
            .join(oauth_tokens, oauth_tokens.c.id == push_subscriptions.c.token_id)
            .where(
                push_subscriptions.c.account_id == recipient,
                # A revoked token's subscription pushes nothing.
                oauth_tokens.c.revoked_at.is_(None),
            )
        )
    ).all()
    queued = 0
    for row in rows:
        if type not in row.alerts or row.policy == "none":
            continue
        if row.policy == "followed" and not await _follows(tx, recipient, sender):
            continue
        if row.policy == "follower" and not await _follows(tx, sender, recipient):
            continue
        await outbox.enqueue(
            tx, DeliverPush(subscription_id=row.id, notification_id=notification_id)
        )
        queued += 1
    return queued
