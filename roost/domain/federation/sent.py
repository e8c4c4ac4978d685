"""Where each local post was sent, so that its deletion reaches every server
that got it (``status_deliveries``), and where anything of each local account
was sent, so that the Delete of its actor reaches them all when it is erased
(``account_deliveries``, written by ``enqueue_delivery`` for every delivery).

``record_sent`` is called wherever something about a post is queued for
inboxes (its Create, and anything sent about it later); ``sent_to`` reads the
inboxes back when the post is deleted, and ``forget_sent`` drops them once its
Delete is queued. The rows name a post id and other servers' inboxes only,
and go with the post when its author is erased (roost/erasure/tables.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table, delete, select

from roost.db.engine import Database, Tx
from roost.db.tables import account_deliveries, status_deliveries


async def _insert_pairs(tx: Tx, table: Table, rows: list[dict[str, object]]) -> None:
    """Insert ``rows``, skipping those whose (primary key) pair is there."""
    if not rows:
        return
    if tx.conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    key = list(table.primary_key.columns)
    await tx.execute(insert(table).on_conflict_do_nothing(index_elements=key), rows)


async def record_sent(tx: Tx, status_id: int, inboxes: Iterable[str]) -> None:
    """Remember that ``status_id`` went to ``inboxes`` (each pair once)."""
    rows = [{"status_id": status_id, "inbox_url": inbox} for inbox in sorted(set(inboxes))]
    await _insert_pairs(tx, status_deliveries, rows)


async def record_account_sent(tx: Tx, account_id: int, inbox: str) -> None:
    """Remember that something of ``account_id`` went to ``inbox``."""
    await _insert_pairs(tx, account_deliveries, [{"account_id": account_id, "inbox_url": inbox}])


async def sent_to(db: Database, status_id: int) -> list[str]:
    """Every inbox ``status_id`` was sent to."""
    async with db.read() as conn:
        rows = await conn.execute(
            select(status_deliveries.c.inbox_url).where(status_deliveries.c.status_id == status_id)
        )
        return sorted(str(r.inbox_url) for r in rows)


async def forget_sent(tx: Tx, status_id: int) -> None:
    await tx.execute(delete(status_deliveries).where(status_deliveries.c.status_id == status_id))
