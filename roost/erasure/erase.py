"""``erase_account``: remove an account and everything of it, then prove it.

1. Gather the subject (roost/erasure/subject.py) before anything changes.
2. One transaction: every table's policy (children before parents), then each
   table's extra work (counters, others' replies and conversations, jobs),
   then follower counts; delete events for connected streaming clients.
3. After commit, every registered purge (timelines, search index, media files,
   database files).
4. Scan every store for the account's ids and fingerprints (roost/erasure/scan.py).

The receipt lists each table and store with what it removed, and the scan's
hits, which must be zero.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from roost.db.engine import Tx
from roost.db.tables import accounts, metadata, statuses
from roost.domain.accounts import retired
from roost.domain.audit import events as audit_events
from roost.domain.audit.chain import CONSOLE, Staff
from roost.domain.events import AccountChanged, StatusDeleted
from roost.domain.federation import farewell
from roost.domain.graph.counts import recount
from roost.erasure import scan
from roost.erasure.declared import purges, table_policies, undeclared
from roost.erasure.registry import Policy, TablePolicy
from roost.erasure.subject import Subject, gather
from roost.services import Services

log = logging.getLogger("roost.erasure")


@dataclass
class Receipt:
    account_id: int
    username: str
    tables: dict[str, int] = field(default_factory=dict)
    stores: dict[str, str] = field(default_factory=dict)
    hits: dict[str, list[str]] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not any(self.hits.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": str(self.account_id),
            "username": self.username,
            # Table names are SQLAlchemy's str subclass; JSON encoders want str.
            "tables": {str(name): count for name, count in self.tables.items()},
            "stores": self.stores,
            "scan": {store: hits for store, hits in self.hits.items()},
            "clean": self.clean,
        }


def _matching(policy: TablePolicy, subject: Subject) -> Any:
    table = metadata.tables[policy.table]
    conditions = [table.c[name] == subject.account_id for name in policy.accounts]
    if subject.status_ids:
        conditions += [table.c[name].in_(subject.status_ids) for name in policy.statuses]
    return or_(*conditions) if conditions else None


async def _apply(tx: Tx, policy: TablePolicy, subject: Subject) -> int:
    if policy.policy is Policy.KEEP:
        return 0
    where = _matching(policy, subject)
    if where is None:
        return 0
    table = metadata.tables[policy.table]
    if policy.policy is Policy.ANONYMISE:
        result = await tx.execute(update(table).where(where).values(**policy.set_values))
    else:
        result = await tx.execute(delete(table).where(where))
    return int(result.rowcount or 0)


async def erase_in(tx: Tx, subject: Subject) -> dict[str, int]:
    """The database part, in the caller's transaction; rows changed per table."""
    missing = undeclared(metadata)
    if missing:
        raise RuntimeError(f"tables without an erasure policy: {', '.join(missing)}")
    policies = table_policies()
    changed: dict[str, int] = {}
    for table in reversed(metadata.sorted_tables):
        changed[table.name] = await _apply(tx, policies[table.name], subject)
    for table in metadata.sorted_tables:
        extra = policies[table.name].extra
        if extra is not None:
            changed[table.name] += await extra(tx, subject)
    await recount(tx, subject.neighbour_ids)
    # Boosters lost their boosts of the erased posts.
    posts = select(func.count()).where(statuses.c.account_id == accounts.c.id).scalar_subquery()
    await tx.execute(
        update(accounts)
        .where(accounts.c.id.in_(subject.neighbour_ids))
        .values(statuses_count=posts)
    )
    for status_id, author_id, visibility, mentioned in subject.deleted_posts:
        tx.emit(StatusDeleted(status_id, author_id, visibility, mentioned))
    # Every process's caches of pages showing the account drop them (one with
    # no posts left no StatusDeleted to say so).
    tx.emit(AccountChanged(subject.account_id))
    return changed


async def erase_account(
    services: Services, account_id: int, *, scan_stores: bool = True, by: Staff = CONSOLE
) -> Receipt:
    """Erase ``account_id`` everywhere; raises NotFound when it does not exist.
    The audit log records the erasure without naming the account (``by``: the
    operator, or the person erasing their own account, whose id is not kept)."""
    async with services.db.read() as conn:
        subject = await gather(conn, account_id)
        # Read before its key pair goes: the Delete of its actor, for the
        # servers that got anything from it (roost/domain/federation/farewell.py).
        goodbye = None
        if services.settings.federation:
            goodbye = await farewell.prepare(conn, services.settings.base_url, account_id)
    receipt = Receipt(account_id, subject.username)
    async with services.db.write() as tx:
        receipt.tables = await erase_in(tx, subject)
        if subject.local:
            # Never given to anyone else: other servers know the account by it.
            await retired.do_retire(tx, subject.username)
        await audit_events.erased(tx, sum(receipt.tables.values()), by=by)
        if goodbye is not None:
            # After erase_in, whose purge of the account's jobs these jobs
            # (naming nothing of it) need not go through.
            await farewell.do_queue(tx, goodbye)
            receipt.stores["other servers"] = (
                f"Delete of its actor queued for {len(goodbye.inboxes)} inbox(es); its "
                "signing key alone is kept, sealed under a key of its own, destroyed when "
                f"they are sent or after {farewell.WINDOW.days} days"
            )
    for name, purge in purges().items():
        try:
            result = await purge(services, subject)
            receipt.stores[name] = f"{result.removed} removed" + (
                f" ({result.detail})" if result.detail else ""
            )
        except Exception as error:
            # One store failing must not stop the others; the scan then shows
            # what it left, and the receipt says so.
            log.exception("erasure purge %s failed", name)
            receipt.stores[name] = f"FAILED: {type(error).__name__}: {error}"
    if scan_stores:
        receipt.hits = await scan.scan_everything(services, subject)
    log.info("erased account %s (@%s)", account_id, subject.username)
    return receipt
