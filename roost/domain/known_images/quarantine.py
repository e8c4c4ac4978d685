"""The quarantine: media refused as known images, kept sealed for staff.

The bytes are sealed (AES-256-GCM) under the quarantine key, which lives in
the key store beside the accounts' keys and outside the data backups; they are
never written to the media store, so no URL can ever lead to them. Quarantining
files an automatic report about the uploader and writes an audit entry, in the
same transaction as the row.

Opening one needs ``view_quarantine``, a permission no built-in role but the
owner's holds, and is itself an audit entry. An erasure of the uploader keeps
the row and its bytes (evidence a service provider may be bound to preserve)
but blanks the account id (roost/erasure/tables.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Database, Tx
from roost.db.tables import quarantined_media
from roost.domain.audit.chain import Staff, record
from roost.domain.reports.automatic import do_file_automatic_report
from roost.domain.roles.permissions import Permission, key
from roost.errors import NotFound
from roost.ids import new_id
from roost.keys import ring

PERMISSION = Permission.VIEW_QUARANTINE
_AAD = b"roost quarantine"
# Who acts when the server refuses an upload by itself.
AUTOMATIC = Staff(None, "automatic")


@dataclass(frozen=True)
class Match:
    """What a refused file matched: the list, the entry's label, the distance
    in bits (0 for an exact SHA-256 match)."""

    list_name: str
    label: str | None
    distance: int


@dataclass(frozen=True)
class Refused:
    """A file to quarantine: its bytes and where it came from."""

    account_id: int | None
    origin: str
    content_type: str
    data: bytes
    sha256: str


@dataclass(frozen=True)
class QuarantinedMedia:
    id: int
    account_id: int | None
    origin: str
    content_type: str
    file_size: int
    sha256: str
    list_name: str
    label: str | None
    distance: int
    report_id: int | None
    created_at: datetime


def _seal(data: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + ring.cipher_for_sealing(ring.QUARANTINE_KEY_ID).encrypt(nonce, data, _AAD)


def _open(sealed: bytes) -> bytes:
    cipher = ring.cipher(ring.QUARANTINE_KEY_ID)
    if cipher is None:
        raise NotFound("the quarantine key is gone; the file cannot be opened")
    return cipher.decrypt(sealed[:12], sealed[12:], _AAD)


async def quarantine(db: Database, refused: Refused, match: Match) -> int:
    """Keep the file sealed, report the uploader, audit it: one transaction
    of its own, committed whatever the refused upload's caller does next."""
    async with db.write() as tx:
        return await do_quarantine(tx, refused, match)


async def do_quarantine(tx: Tx, refused: Refused, match: Match) -> int:
    quarantine_id = new_id()
    report_id = None
    if refused.account_id is not None:
        report_id = await do_file_automatic_report(
            tx,
            refused.account_id,
            category="legal",
            comment=(
                f"Automatic: an upload ({refused.origin}) matched the known-image list "
                f"{match.list_name!r}; it was refused and is quarantined as item "
                f"{quarantine_id}."
            ),
        )
    await tx.execute(
        quarantined_media.insert().values(
            id=quarantine_id,
            account_id=refused.account_id,
            origin=refused.origin,
            content_type=refused.content_type,
            file_size=len(refused.data),
            sha256=refused.sha256,
            list_name=match.list_name,
            label=match.label,
            distance=match.distance,
            sealed=_seal(refused.data),
            report_id=report_id,
            created_at=utcnow(),
        )
    )
    await record(
        tx,
        action="known_image.refuse",
        permission="automatic",
        by=AUTOMATIC,
        subject_type="quarantined_media",
        subject_id=quarantine_id,
        target_account_id=refused.account_id,
        details={
            "origin": refused.origin,
            "list": match.list_name,
            "distance": match.distance,
            "report_id": None if report_id is None else str(report_id),
        },
    )
    return quarantine_id


def _item(row: object) -> QuarantinedMedia:
    return QuarantinedMedia(
        **{name: getattr(row, name) for name in QuarantinedMedia.__dataclass_fields__}
    )


async def quarantined(conn: AsyncConnection, *, limit: int = 100) -> list[QuarantinedMedia]:
    """The newest quarantined files (their descriptions, never their bytes)."""
    columns = [quarantined_media.c[name] for name in QuarantinedMedia.__dataclass_fields__]
    rows = await conn.execute(select(*columns).order_by(quarantined_media.c.id.desc()).limit(limit))
    return [_item(row) for row in rows]


async def do_open(tx: Tx, by: Staff, quarantine_id: int) -> tuple[QuarantinedMedia, bytes]:
    """A quarantined file and its bytes, for staff holding ``view_quarantine``
    (the caller checks it); every opening is an audit entry."""
    row = (
        await tx.execute(select(quarantined_media).where(quarantined_media.c.id == quarantine_id))
    ).first()
    if row is None:
        raise NotFound("there is no quarantined file with that id")
    data = _open(bytes(row.sealed))
    await record(
        tx,
        action="known_image.open",
        permission=key(PERMISSION),
        by=by,
        subject_type="quarantined_media",
        subject_id=quarantine_id,
        target_account_id=row.account_id,
    )
    return _item(row), data
