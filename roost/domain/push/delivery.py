"""Delivering one notification to one push subscription.

The message is what Mastodon pushes (access_token, preferred_locale,
notification_id, notification_type, icon, title, body), read through the
privacy policy at delivery time: a notification the recipient would no longer
be shown (its post hidden or deleted, its sender blocked) is not pushed.

It is encrypted for the subscription's keys and signed with the instance's
VAPID key (roost/keys/vapid.py), in one of two forms:

- ``standard`` subscriptions: RFC 8291 (``Content-Encoding: aes128gcm``) and
  RFC 8292 (``Authorization: vapid t=<JWT>, k=<public key>``);
- the others, as Mastodon does for them: the earlier draft (``aesgcm``, with
  ``Encryption`` and ``Crypto-Key`` headers and ``Authorization: WebPush``),
  which Mastodon's client libraries decrypt.

It is sent through roost/net/http.py. The push service's answer decides:
2xx delivered; 404 or 410 the subscription is gone and removed; 429 or 5xx
(or no answer) ``PushFailed``, retried by the job runner with backoff; any
other status is the service refusing this message, which is dropped.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import http_ece  # type: ignore[import-untyped]  # (no type information published)
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import delete, select

from roost.config import Settings
from roost.db.engine import Database
from roost.db.tables import oauth_tokens, push_subscriptions, users
from roost.domain.notifications.queries import notification
from roost.domain.push.subscriptions import decode_key
from roost.domain.types import Account, NotificationView, Viewer
from roost.errors import NotFound
from roost.keys import vapid
from roost.media import urls as media_urls
from roost.net.http import OutboundRefused, post

log = logging.getLogger("roost.push")

TTL_S = 48 * 3600
BODY_CHARS = 140
_TITLES = {
    "mention": "{name} mentioned you",
    "status": "{name} just posted",
    "reblog": "{name} boosted your post",
    "follow": "{name} followed you",
    "follow_request": "{name} requested to follow you",
    "favourite": "{name} favourited your post",
    "poll": "A poll you voted in or created has ended",
    "update": "{name} edited a post",
    "quote": "{name} quoted your post",
    "quoted_update": "{name} edited a post you quoted",
}


class PushFailed(Exception):
    """The push service did not take the message now (429, 5xx, no answer)."""


@dataclass(frozen=True)
class Outcome:
    status: int | None  # the push service's answer; None when nothing was sent
    removed: bool = False


def _icon(account: Account, base: str) -> str:
    if not account.avatar_file:
        return base + "/avatars/original/missing.png"
    return media_urls.profile_url(
        base, account.id, "avatar", account.avatar_file.rsplit("/", 1)[-1]
    )


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= BODY_CHARS else text[: BODY_CHARS - 1] + "…"


def message(view: NotificationView, *, access_token: str, locale: str, base: str) -> dict[str, str]:
    """The push message for a notification the recipient is shown."""
    sender = view.account
    name = sender.display_name or sender.username
    if view.status is not None:
        status = view.status.status
        body = status.spoiler_text or status.text
    else:
        body = sender.note
    return {
        "access_token": access_token,
        "preferred_locale": locale,
        "notification_id": str(view.id),
        "notification_type": view.type,
        "icon": _icon(sender, base),
        "title": _TITLES.get(view.type, "{name}").format(name=name),
        "body": _shorten(body),
    }


def _audience(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def _subject(settings: Settings) -> str:
    return f"mailto:{settings.contact_email}" if settings.contact_email else settings.base_url


def encrypted_request(
    settings: Settings, endpoint: str, p256dh: str, auth: str, payload: bytes, *, standard: bool
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one push request."""
    receiver = decode_key(p256dh)
    secret = decode_key(auth)
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    salt = os.urandom(16)
    token = vapid.jwt(_audience(endpoint), _subject(settings))
    headers = {"TTL": str(TTL_S), "Urgency": "normal"}
    if standard:
        body = http_ece.encrypt(
            payload,
            salt=salt,
            private_key=ephemeral,
            dh=receiver,
            auth_secret=secret,
            version="aes128gcm",
        )
        headers["Content-Encoding"] = "aes128gcm"
        headers["Content-Type"] = "application/octet-stream"
        headers["Authorization"] = f"vapid t={token}, k={vapid.b64url(vapid.public_key_bytes())}"
        return body, headers
    body = http_ece.encrypt(
        payload,
        salt=salt,
        private_key=ephemeral,
        dh=receiver,
        auth_secret=secret,
        keylabel="P-256",
        version="aesgcm",
    )
    server_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    headers["Content-Encoding"] = "aesgcm"
    headers["Content-Type"] = "application/octet-stream"
    headers["Encryption"] = f"salt={vapid.b64url(salt)}"
    headers["Crypto-Key"] = (
        f"dh={vapid.b64url(server_public)};p256ecdsa={vapid.b64url(vapid.public_key_bytes())}"
    )
    headers["Authorization"] = f"WebPush {token}"
    return body, headers


async def deliver(
    db: Database, settings: Settings, subscription_id: int, notification_id: int
) -> Outcome:
    """Push one notification to one subscription (see the module's docstring)."""
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(push_subscriptions, users.c.locale)
                .join(users, users.c.account_id == push_subscriptions.c.account_id)
                .join(oauth_tokens, oauth_tokens.c.id == push_subscriptions.c.token_id)
                .where(
                    push_subscriptions.c.id == subscription_id,
                    oauth_tokens.c.revoked_at.is_(None),
                )
            )
        ).first()
        if row is None:
            return Outcome(None)  # unsubscribed, or its token revoked, since
        viewer = Viewer(account_id=row.account_id)
        try:
            cleared = await notification(conn, viewer, notification_id)
        except NotFound:
            return Outcome(None)  # no longer shown to the recipient
    payload = message(
        cleared.value, access_token=row.access_token, locale=row.locale, base=settings.base_url
    )
    body, headers = encrypted_request(
        settings,
        row.endpoint,
        row.key_p256dh,
        row.key_auth,
        orjson.dumps(payload),
        standard=row.standard,
    )
    try:
        answer = await post(settings, row.endpoint, body=body, headers=headers)
    except OutboundRefused as error:
        raise PushFailed(f"push service unreachable: {error}") from None
    if answer.status in (404, 410):
        async with db.write() as tx:
            await tx.execute(
                delete(push_subscriptions).where(push_subscriptions.c.id == subscription_id)
            )
        log.info("push subscription %s is gone (%s): removed", subscription_id, answer.status)
        return Outcome(answer.status, removed=True)
    if answer.status == 429 or answer.status >= 500:
        raise PushFailed(f"push service answered {answer.status}")
    if answer.status >= 300:
        log.warning("push service refused a message (%s): dropped", answer.status)
    return Outcome(answer.status)
