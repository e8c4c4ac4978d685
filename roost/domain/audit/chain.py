"""The audit log: an append-only chain of entries, each hashed with the one before.

Every staff action, role change, sign-in to a staff account, token revocation,
export and erasure calls ``record`` in the transaction that does it, so the
entry exists exactly when the action does.

An entry's hash is ``sha256(previous hash + canonical JSON of the entry)``,
the canonical JSON being the entry's fields with sorted keys and no spaces;
the first entry follows 64 zeros. Changing, removing or reordering any entry
changes a hash that a later entry (or the head copied into each backup's
manifest) vouches for, so ``verify`` finds it.

Personal data (who acted, on whom, the free text they wrote) is kept apart, in
``audit_personal``. The hashed entry holds only its digest:
``sha256(salt + canonical JSON of the personal fields)``, with a random salt
per entry, so the digest reveals nothing guessable (an account id alone would
be). While the personal record is whole, ``verify`` recomputes the digest and
so detects its alteration too. Erasing an account blanks the personal records
that name it and their salt and marks them erased: the digest stays in the
hashed entry, the chain still verifies, and nothing of the person remains.

Appends are serialised: SQLite has one writer at a time; on PostgreSQL a
transaction-scoped advisory lock is taken before the head is read, and the
unique ``prev_hash`` refuses a fork should anything slip past it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import audit_entries, audit_personal

GENESIS = "0" * 64
_LOCK_KEY = 0x526F6F7374A0D17  # any constant: the audit log's advisory lock


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256(text_: str) -> str:
    return hashlib.sha256(text_.encode()).hexdigest()


def personal_digest(salt: str, actor: int | None, target: int | None, data: dict[str, Any]) -> str:
    return _sha256(salt + canonical({"actor": actor, "target": target, "data": data}))


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return _sha256(prev_hash + canonical(entry))


def _entry_form(
    seq: int,
    created_at: datetime,
    action: str,
    permission: str,
    subject_type: str,
    subject_id: str | None,
    details: dict[str, Any],
    digest: str,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "created_at": created_at.isoformat(timespec="microseconds"),
        "action": action,
        "permission": permission,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "details": details,
        "personal_digest": digest,
    }


@dataclass(frozen=True)
class Staff:
    """Who acts: an account (through the API, the web or ``roost ... --as``),
    or the operator at the console (``account_id`` None)."""

    account_id: int | None
    via: str  # "api", "web", "console", or "automatic" (the server by itself)


CONSOLE = Staff(None, "console")


async def record(
    tx: Tx,
    *,
    action: str,
    permission: str,
    by: Staff,
    subject_type: str,
    subject_id: int | str | None = None,
    target_account_id: int | None = None,
    details: dict[str, Any] | None = None,
    personal: dict[str, Any] | None = None,
) -> int:
    """Append an entry; its sequence number. ``details`` must hold nothing
    personal (no account ids, names or free text): those go in ``personal``,
    ``by`` and ``target_account_id``, which an erasure can blank."""
    if tx.conn.dialect.name == "postgresql":
        await tx.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    head = (
        await tx.execute(
            select(audit_entries.c.seq, audit_entries.c.hash)
            .order_by(audit_entries.c.seq.desc())
            .limit(1)
        )
    ).first()
    seq, prev = (1, GENESIS) if head is None else (int(head.seq) + 1, str(head.hash))
    now = utcnow()
    salt = secrets.token_hex(16)
    data = dict(personal or {})
    digest = personal_digest(salt, by.account_id, target_account_id, data)
    shown = {"via": by.via, **(details or {})}
    subject = None if subject_id is None else str(subject_id)
    form = _entry_form(seq, now, action, permission, subject_type, subject, shown, digest)
    await tx.execute(
        audit_entries.insert().values(
            seq=seq,
            created_at=now,
            action=action,
            permission=permission,
            subject_type=subject_type,
            subject_id=subject,
            details=canonical(shown),
            personal_digest=digest,
            prev_hash=prev,
            hash=entry_hash(prev, form),
        )
    )
    await tx.execute(
        audit_personal.insert().values(
            seq=seq,
            actor_account_id=by.account_id,
            target_account_id=target_account_id,
            data=canonical(data),
            salt=salt,
        )
    )
    return seq


async def head(conn: AsyncConnection) -> tuple[int, str]:
    """The newest entry's number and hash; (0, GENESIS) for an empty log."""
    row = (
        await conn.execute(
            select(audit_entries.c.seq, audit_entries.c.hash)
            .order_by(audit_entries.c.seq.desc())
            .limit(1)
        )
    ).first()
    return (0, GENESIS) if row is None else (int(row.seq), str(row.hash))


@dataclass(frozen=True)
class Entry:
    seq: int
    created_at: datetime
    action: str
    permission: str
    subject_type: str
    subject_id: str | None
    details: dict[str, Any]
    actor_account_id: int | None
    target_account_id: int | None
    personal: dict[str, Any]
    erased: bool
    hash: str


async def entries(
    conn: AsyncConnection, *, limit: int = 50, before: int | None = None
) -> list[Entry]:
    """The newest entries first (older than ``before`` when given)."""
    query = (
        select(audit_entries, audit_personal)
        .select_from(
            audit_entries.outerjoin(audit_personal, audit_personal.c.seq == audit_entries.c.seq)
        )
        .order_by(audit_entries.c.seq.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(audit_entries.c.seq < before)
    rows = (await conn.execute(query)).mappings().all()
    return [
        Entry(
            seq=int(row["seq"]),
            created_at=row["created_at"],
            action=row["action"],
            permission=row["permission"],
            subject_type=row["subject_type"],
            subject_id=row["subject_id"],
            details=_loads(row["details"]),
            actor_account_id=row["actor_account_id"],
            target_account_id=row["target_account_id"],
            personal=_loads(row["data"]) if row["data"] else {},
            erased=row["erased_at"] is not None,
            hash=row["hash"],
        )
        for row in rows
    ]


def _loads(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {"unreadable": raw}
    return value if isinstance(value, dict) else {"value": value}


@dataclass(frozen=True)
class Verdict:
    intact: bool
    count: int
    head: str
    problem: str | None = None
    seq: int | None = None  # the first entry found changed, removed or reordered


async def verify(conn: AsyncConnection, *, expected_head: str | None = None) -> Verdict:
    """Walk the whole chain from the first entry. The first break is named:
    an entry whose content no longer gives its hash (changed), one that does
    not follow the entry before it (an entry before it removed, or reordered),
    a personal record altered or missing. ``expected_head`` (from a backup's
    manifest) must then be in the chain: entries cut from its end are found."""
    rows = await conn.execute(
        select(audit_entries, audit_personal)
        .select_from(
            audit_entries.outerjoin(audit_personal, audit_personal.c.seq == audit_entries.c.seq)
        )
        .order_by(audit_entries.c.seq)
    )
    prev_seq, prev_hash, count = 0, GENESIS, 0
    seen_expected = expected_head is None or expected_head == GENESIS
    for raw in rows.mappings():
        seq = int(raw["seq"])
        if seq != prev_seq + 1:
            missing = prev_seq + 1
            return Verdict(
                False,
                count,
                prev_hash,
                f"entry {missing} was removed (entry {seq} follows {prev_seq})",
                missing,
            )
        if raw["prev_hash"] != prev_hash:
            return Verdict(
                False,
                count,
                prev_hash,
                f"entry {seq} does not follow entry {prev_seq}: "
                f"entry {prev_seq} or {seq} was changed, removed or reordered",
                seq,
            )
        try:
            details = json.loads(raw["details"])
        except ValueError:
            details = raw["details"]
        form = _entry_form(
            seq,
            raw["created_at"],
            raw["action"],
            raw["permission"],
            raw["subject_type"],
            raw["subject_id"],
            details,
            raw["personal_digest"],
        )
        if entry_hash(prev_hash, form) != raw["hash"]:
            return Verdict(False, count, prev_hash, f"entry {seq} was changed", seq)
        if raw["data"] is None:
            return Verdict(
                False, count, prev_hash, f"entry {seq}'s personal record was removed", seq
            )
        if raw["erased_at"] is None:
            try:
                data = json.loads(raw["data"])
            except ValueError:
                data = raw["data"]
            digest = personal_digest(
                raw["salt"] or "", raw["actor_account_id"], raw["target_account_id"], data
            )
            if digest != raw["personal_digest"]:
                return Verdict(
                    False, count, prev_hash, f"entry {seq}'s personal record was changed", seq
                )
        prev_seq, prev_hash = seq, raw["hash"]
        count += 1
        if raw["hash"] == expected_head:
            seen_expected = True
    if not seen_expected:
        return Verdict(
            False,
            count,
            prev_hash,
            f"the head {expected_head} is not in the chain: "
            f"entries after entry {prev_seq} were removed or changed",
            prev_seq + 1,
        )
    return Verdict(True, count, prev_hash)


async def erase_personal(tx: Tx, account_id: int) -> int:
    """Blank the personal records that name ``account_id`` (as actor or target):
    the ids, the data and the salt go; the hashed digest stays."""
    named = (audit_personal.c.actor_account_id == account_id) | (
        audit_personal.c.target_account_id == account_id
    )
    first = await tx.execute(
        update(audit_personal).where(named).values(data="{}", salt=None, erased_at=utcnow())
    )
    await tx.execute(
        update(audit_personal)
        .where(audit_personal.c.actor_account_id == account_id)
        .values(actor_account_id=None)
    )
    await tx.execute(
        update(audit_personal)
        .where(audit_personal.c.target_account_id == account_id)
        .values(target_account_id=None)
    )
    return int(first.rowcount or 0)
