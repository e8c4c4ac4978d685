"""Two-factor sign-in: a TOTP app, and recovery codes for a lost phone.

Setting up is two steps: ``do_begin`` keeps a new secret (sealed under the
account's key) that is not yet asked for, and ``do_enable`` turns it on once
the person proves their app has it by a code; it answers the recovery codes,
the only time they are ever shown. Each recovery code works once and is kept
as an HMAC under the secret key. A TOTP code works once too: the step it
belongs to is remembered, so a code seen over a shoulder cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import recovery_codes, two_factor
from roost.domain.accounts import totp
from roost.errors import Invalid
from roost.ids import new_id
from roost.keys.ring import seal

RECOVERY_CODES = 10
WRONG_CODE = "That code is not right; try the newest code from your app"
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


@dataclass(frozen=True)
class TwoFactorState:
    enabled: bool
    pending_secret: str | None  # during set-up only
    recovery_codes_left: int


def _code_hash(secret_key: str, code: str) -> str:
    normal = "".join(ch for ch in code.lower() if ch.isalnum())
    return hmac.new(secret_key.encode(), f"recovery:{normal}".encode(), hashlib.sha256).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


async def state(tx: Tx | AsyncConnection, account_id: int) -> TwoFactorState:
    row = (
        await tx.execute(select(two_factor).where(two_factor.c.account_id == account_id))
    ).first()
    left = (
        await tx.execute(
            select(func.count())
            .select_from(recovery_codes)
            .where(recovery_codes.c.account_id == account_id, recovery_codes.c.used_at.is_(None))
        )
    ).scalar_one()
    if row is None:
        return TwoFactorState(False, None, int(left))
    enabled = row.enabled_at is not None
    return TwoFactorState(enabled, None if enabled else row.secret, int(left))


async def is_enabled(tx: Tx | AsyncConnection, account_id: int) -> bool:
    row = (
        await tx.execute(
            select(two_factor.c.enabled_at).where(two_factor.c.account_id == account_id)
        )
    ).first()
    return row is not None and row.enabled_at is not None


async def do_begin(tx: Tx, account_id: int) -> str:
    """A new secret for the app to scan; not asked for until ``do_enable``.
    Invalid when two-factor is already on."""
    if await is_enabled(tx, account_id):
        raise Invalid("Two-factor sign-in is already on; turn it off first to change the app")
    secret = totp.new_secret()
    await tx.execute(delete(two_factor).where(two_factor.c.account_id == account_id))
    await tx.execute(
        two_factor.insert().values(
            account_id=account_id, secret=seal(account_id, secret), created_at=utcnow()
        )
    )
    return secret


async def do_enable(tx: Tx, account_id: int, code: str, secret_key: str) -> list[str]:
    """Turn two-factor on with a code from the app; returns the recovery codes."""
    row = (
        await tx.execute(select(two_factor).where(two_factor.c.account_id == account_id))
    ).first()
    if row is None or row.enabled_at is not None:
        raise Invalid("Start setting up two-factor sign-in again")
    step = totp.matching_step(row.secret, code)
    if step is None:
        raise Invalid(WRONG_CODE)
    await tx.execute(
        update(two_factor)
        .where(two_factor.c.account_id == account_id)
        .values(enabled_at=utcnow(), last_step=step)
    )
    return await do_new_recovery_codes(tx, account_id, secret_key)


async def do_new_recovery_codes(tx: Tx, account_id: int, secret_key: str) -> list[str]:
    """Replace every recovery code with new ones, shown once (this answer)."""
    await tx.execute(delete(recovery_codes).where(recovery_codes.c.account_id == account_id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    now = utcnow()
    for code in codes:
        await tx.execute(
            recovery_codes.insert().values(
                id=new_id(),
                account_id=account_id,
                code_hash=_code_hash(secret_key, code),
                created_at=now,
            )
        )
    return codes


async def do_disable(tx: Tx, account_id: int) -> None:
    await tx.execute(delete(two_factor).where(two_factor.c.account_id == account_id))
    await tx.execute(delete(recovery_codes).where(recovery_codes.c.account_id == account_id))


async def do_verify(tx: Tx, account_id: int, code: str, secret_key: str) -> str:
    """Check a sign-in's second factor: a current TOTP code not used before, or
    an unused recovery code (used up by this). Answers which ("totp" or
    "recovery"); Invalid otherwise."""
    row = (
        await tx.execute(select(two_factor).where(two_factor.c.account_id == account_id))
    ).first()
    if row is None or row.enabled_at is None:
        raise Invalid(WRONG_CODE)
    step = totp.matching_step(row.secret, code)
    if step is not None:
        claimed = await tx.execute(
            update(two_factor)
            .where(
                two_factor.c.account_id == account_id,
                (two_factor.c.last_step.is_(None)) | (two_factor.c.last_step < step),
            )
            .values(last_step=step)
        )
        if claimed.rowcount:
            return "totp"
        raise Invalid(WRONG_CODE)
    used = await tx.execute(
        update(recovery_codes)
        .where(
            recovery_codes.c.account_id == account_id,
            recovery_codes.c.code_hash == _code_hash(secret_key, code),
            recovery_codes.c.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    if used.rowcount:
        return "recovery"
    raise Invalid(WRONG_CODE)
