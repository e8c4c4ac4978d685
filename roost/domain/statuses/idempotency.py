"""Idempotency keys: a client that sends a new post twice with the same
``Idempotency-Key`` (a retry after a lost answer) gets the first post back,
within ``IDEMPOTENCY_WINDOW``, instead of a second one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import idempotency_keys

IDEMPOTENCY_WINDOW = timedelta(hours=1)


async def post_for_key(tx: Tx, author_id: int, key: str) -> int | None:
    """The post an earlier request with ``key`` made, if it is recent enough
    (an older key is forgotten here)."""
    row = (
        await tx.execute(
            select(idempotency_keys.c.status_id, idempotency_keys.c.created_at).where(
                idempotency_keys.c.account_id == author_id, idempotency_keys.c.key == key
            )
        )
    ).first()
    if row is None:
        return None
    if row.created_at < utcnow() - IDEMPOTENCY_WINDOW:
        await tx.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.account_id == author_id, idempotency_keys.c.key == key
            )
        )
        return None
    return int(row.status_id)


async def do_remember_key(tx: Tx, author_id: int, key: str, status_id: int) -> None:
    await tx.execute(
        idempotency_keys.insert().values(
            account_id=author_id, key=key, status_id=status_id, created_at=utcnow()
        )
    )
