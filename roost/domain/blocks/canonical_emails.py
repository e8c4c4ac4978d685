"""Canonical e-mail blocks: one address refused at sign-up in all its
spellings (Mastodon's CanonicalEmailBlock).

The canonical form is Mastodon's, so that hashes carried over from a
Mastodon server match: lower case, and in the part before the ``@`` every
dot removed and anything from the first ``+`` dropped
(``Jane.Doe+spam@Example.com`` -> ``janedoe@example.com``). Only the SHA-256
of that form is stored, never the address.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import canonical_email_blocks
from roost.domain.audit.chain import CONSOLE, Staff, record
from roost.domain.pagination import newest_first, page_of
from roost.domain.roles.permissions import Permission, key
from roost.domain.types import Page
from roost.errors import FieldsInvalid, NotFound, Problem, RuleBroken
from roost.ids import new_id

BLOCKS = key(Permission.MANAGE_BLOCKS)
BLOCKED = Problem("blocked", "is not allowed: this address cannot sign up here")
_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class CanonicalEmailBlock:
    id: int
    canonical_email_hash: str
    created_at: datetime


def canonical_email(email: str) -> str:
    username, _, domain = email.strip().lower().partition("@")
    username = username.replace(".", "").split("+", 1)[0]
    return f"{username}@{domain}"


def canonical_email_hash(email: str) -> str:
    return hashlib.sha256(canonical_email(email).encode()).hexdigest()


def _row(r: object) -> CanonicalEmailBlock:
    m = r._mapping  # type: ignore[attr-defined]
    return CanonicalEmailBlock(int(m["id"]), m["canonical_email_hash"], m["created_at"])


async def matching(conn: AsyncConnection, email: str) -> list[CanonicalEmailBlock]:
    """The blocks that refuse ``email`` (none or one)."""
    rows = await conn.execute(
        select(canonical_email_blocks).where(
            canonical_email_blocks.c.canonical_email_hash == canonical_email_hash(email)
        )
    )
    return [_row(r) for r in rows]


async def check_sign_up_email(conn: AsyncConnection, email: str) -> None:
    """FieldsInvalid (ERR_BLOCKED on ``email``) when a block refuses it."""
    if await matching(conn, email):
        raise FieldsInvalid({"email": [BLOCKED]})


async def do_block_canonical_email(
    tx: Tx, *, email: str | None = None, digest: str | None = None, by: Staff = CONSOLE
) -> CanonicalEmailBlock:
    """Block an address (given as ``email``, or as the ``digest`` of its
    canonical form). RuleBroken for neither or a malformed digest, or an
    address already blocked."""
    if email and "@" in email:
        digest = canonical_email_hash(email)
    elif digest:
        digest = digest.strip().lower()
        if not _HASH.fullmatch(digest):
            raise RuleBroken("Canonical email hash must be a SHA-256 in hexadecimal")
    else:
        raise RuleBroken("Canonical email hash can't be blank")
    taken = (
        await tx.execute(
            select(canonical_email_blocks.c.id).where(
                canonical_email_blocks.c.canonical_email_hash == digest
            )
        )
    ).first()
    if taken is not None:
        raise RuleBroken("Canonical email hash has already been taken")
    block = CanonicalEmailBlock(new_id(), digest, utcnow())
    await tx.execute(
        canonical_email_blocks.insert().values(
            id=block.id, canonical_email_hash=digest, created_at=block.created_at
        )
    )
    await record(
        tx,
        action="canonical_email_block.create",
        permission=BLOCKS,
        by=by,
        subject_type="canonical_email_block",
        subject_id=block.id,
    )
    return block


async def canonical_email_block(conn: AsyncConnection, block_id: int) -> CanonicalEmailBlock:
    row = (
        await conn.execute(
            select(canonical_email_blocks).where(canonical_email_blocks.c.id == block_id)
        )
    ).first()
    if row is None:
        raise NotFound()
    return _row(row)


async def do_unblock_canonical_email(tx: Tx, block_id: int, by: Staff = CONSOLE) -> None:
    await canonical_email_block(tx.conn, block_id)
    await tx.execute(delete(canonical_email_blocks).where(canonical_email_blocks.c.id == block_id))
    await record(
        tx,
        action="canonical_email_block.destroy",
        permission=BLOCKS,
        by=by,
        subject_type="canonical_email_block",
        subject_id=block_id,
    )


async def canonical_email_block_list(
    conn: AsyncConnection, page: Page
) -> tuple[list[CanonicalEmailBlock], int | None, int | None]:
    query = page_of(select(canonical_email_blocks), canonical_email_blocks.c.id, page)
    found = newest_first([_row(r) for r in await conn.execute(query)], page)
    return found, (found[0].id if found else None), (found[-1].id if found else None)
