"""Links mailed to an account: confirm its address, reset its password.

A link's token is ``<row id>.<HMAC-SHA256 of the row under the secret key>``:
the database keeps the row (whose account, what for, until when, used when)
and nothing from which a token could be read or forged, and the mail job's
payload names only the row. Tokens are single-use and expire
(``CONFIRM_TTL``, ``RESET_TTL``); a new reset link voids the older ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import email_tokens
from roost.errors import Invalid
from roost.ids import new_id

CONFIRM, RESET = "confirm", "reset"
PURPOSES = (CONFIRM, RESET)
CONFIRM_TTL = timedelta(days=2)
RESET_TTL = timedelta(hours=1)
EXPIRED = "This link has expired or was already used; ask for a new one"


def token_for(secret_key: str, token_id: int, purpose: str) -> str:
    mac = hmac.new(
        secret_key.encode(), f"email-token:{purpose}:{token_id}".encode(), hashlib.sha256
    ).digest()
    return f"{token_id}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


@dataclass(frozen=True)
class EmailToken:
    id: int
    account_id: int
    purpose: str


async def do_issue(tx: Tx, account_id: int, purpose: str) -> int:
    """A new link's row; its token is ``token_for(secret, id, purpose)``.
    A reset link voids the account's older reset links."""
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    now = utcnow()
    if purpose == RESET:
        await _void(tx, account_id, RESET)
    token_id = new_id()
    ttl = CONFIRM_TTL if purpose == CONFIRM else RESET_TTL
    await tx.execute(
        email_tokens.insert().values(
            id=token_id,
            account_id=account_id,
            purpose=purpose,
            expires_at=now + ttl,
            created_at=now,
        )
    )
    return token_id


async def _void(tx: Tx, account_id: int, purpose: str) -> None:
    await tx.execute(
        update(email_tokens)
        .where(
            email_tokens.c.account_id == account_id,
            email_tokens.c.purpose == purpose,
            email_tokens.c.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )


def _parse(secret_key: str, token: str, purpose: str) -> int | None:
    head, _, _ = token.partition(".")
    if not head.isdigit() or len(head) > 20:
        return None
    token_id = int(head)
    if not hmac.compare_digest(token_for(secret_key, token_id, purpose), token):
        return None
    return token_id


async def do_redeem(tx: Tx, secret_key: str, token: str, purpose: str) -> EmailToken:
    """Use a link once. Invalid when it is forged, expired or used; every
    other link of the same purpose for the account is used up with it."""
    token_id = _parse(secret_key, token.strip(), purpose)
    if token_id is None:
        raise Invalid(EXPIRED)
    row = (
        await tx.execute(
            select(email_tokens).where(
                email_tokens.c.id == token_id,
                email_tokens.c.purpose == purpose,
                email_tokens.c.used_at.is_(None),
                email_tokens.c.expires_at > utcnow(),
            )
        )
    ).first()
    if row is None:
        raise Invalid(EXPIRED)
    await _void(tx, row.account_id, purpose)
    return EmailToken(row.id, row.account_id, row.purpose)


async def check_valid(tx: Tx, secret_key: str, token: str, purpose: str) -> bool:
    """Whether the link would redeem now (to show the form behind it)."""
    token_id = _parse(secret_key, token.strip(), purpose)
    if token_id is None:
        return False
    row = (
        await tx.execute(
            select(email_tokens.c.id).where(
                email_tokens.c.id == token_id,
                email_tokens.c.used_at.is_(None),
                email_tokens.c.expires_at > utcnow(),
            )
        )
    ).first()
    return row is not None
