"""Sign-up invites: links (``/invite/CODE``) that let people sign up whatever
``ROOST_REGISTRATIONS`` says, with an optional use limit and expiry.

An account made through an invite is approved at once (someone vouched for
it) and, like every self-made account, confirms its address by mail.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import invites
from roost.errors import Invalid, NotFound
from roost.ids import new_id

UNUSABLE = "This invite link has expired, was revoked or has been used up"
# Letters and digits only: a code is typed on command lines and read aloud.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


@dataclass(frozen=True)
class Invite:
    id: int
    code: str
    max_uses: int | None
    uses: int
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime

    def usable(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        if self.expires_at is not None and self.expires_at <= now:
            return False
        return self.max_uses is None or self.uses < self.max_uses


def _invite(row: Any) -> Invite:
    return Invite(
        row.id, row.code, row.max_uses, row.uses, row.expires_at, row.revoked_at, row.created_at
    )


async def do_create_invite(
    tx: Tx,
    *,
    created_by: int | None,
    max_uses: int | None = None,
    expires_in: timedelta | None = None,
) -> Invite:
    if max_uses is not None and max_uses < 1:
        raise Invalid("An invite needs at least one use (or no limit)")
    invite = Invite(
        id=new_id(),
        code="".join(secrets.choice(_CODE_ALPHABET) for _ in range(12)),
        max_uses=max_uses,
        uses=0,
        expires_at=utcnow() + expires_in if expires_in is not None else None,
        revoked_at=None,
        created_at=utcnow(),
    )
    await tx.execute(
        invites.insert().values(
            id=invite.id,
            code=invite.code,
            created_by=created_by,
            max_uses=invite.max_uses,
            uses=0,
            expires_at=invite.expires_at,
            revoked_at=None,
            created_at=invite.created_at,
        )
    )
    return invite


async def do_revoke_invite(tx: Tx, code: str) -> None:
    result = await tx.execute(
        update(invites)
        .where(invites.c.code == code, invites.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if not result.rowcount:
        raise NotFound(f"No invite {code} that is not already revoked")


async def usable_invite(conn: AsyncConnection | Tx, code: str) -> Invite | None:
    row = (await conn.execute(select(invites).where(invites.c.code == code[:32]))).first()
    if row is None:
        return None
    invite = _invite(row)
    return invite if invite.usable(utcnow()) else None


async def do_use_invite(tx: Tx, code: str) -> Invite:
    """Count one use, in the sign-up's transaction; Invalid when unusable.
    The use is counted by a guarded update, so two sign-ups racing for an
    invite's last use cannot both have it."""
    invite = await usable_invite(tx, code)
    if invite is None:
        raise Invalid(UNUSABLE)
    guard = invites.c.id == invite.id
    if invite.max_uses is not None:
        guard = guard & (invites.c.uses < invite.max_uses)
    result = await tx.execute(update(invites).where(guard).values(uses=invites.c.uses + 1))
    if not result.rowcount:
        raise Invalid(UNUSABLE)
    return invite


async def all_invites(conn: AsyncConnection) -> list[Invite]:
    rows = await conn.execute(select(invites).order_by(invites.c.id))
    return [_invite(r) for r in rows]
