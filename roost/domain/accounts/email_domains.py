"""E-mail domains nobody may sign up with (``roost email-domains``).

A blocked domain refuses its subdomains too: blocking ``spam.example``
refuses ``x@spam.example`` and ``x@mx.spam.example``. Both sign-up paths (the
API's ``POST /api/v1/accounts`` and the web's sign-up page) go through
``do_sign_up`` (roost/domain/accounts/sign_up.py), which checks here; the
refusal is Mastodon's: 422 with ``ERR_BLOCKED`` on the e-mail field. Accounts
the operator makes (``roost accounts create``) are not checked. Staff block
and lift blocks through the admin API too (``manage_blocks``); every change,
from either side, is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import email_domain_blocks
from roost.domain.audit.chain import CONSOLE, Staff, record
from roost.domain.pagination import newest_first, page_of
from roost.domain.roles.permissions import Permission, key
from roost.domain.types import Page
from roost.errors import FieldsInvalid, Invalid, NotFound, Problem
from roost.ids import new_id

BLOCKED = Problem("blocked", "is not allowed: its domain does not accept sign-ups here")
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass(frozen=True)
class EmailDomainBlock:
    id: int
    domain: str
    created_at: datetime


def normalise(text: str) -> str:
    """``Spam.Example.`` or ``@spam.example`` -> ``spam.example`` (IDNA for
    non-ASCII names); Invalid when it is no domain name."""
    domain = text.strip().lower().removeprefix("@").removeprefix("*.").rstrip(".")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise Invalid(f"{text!r} is not a domain name") from None
    labels = domain.split(".")
    if (
        len(domain) > 253
        or len(labels) < 2
        or not all(0 < len(label) <= 63 and set(label) <= _LABEL_CHARS for label in labels)
    ):
        raise Invalid(f"{text!r} is not a domain name such as spam.example")
    return domain


def _candidates(email: str) -> list[str]:
    """The address's domain and every parent domain of it."""
    _, _, host = email.rpartition("@")
    try:
        host = normalise(host)
    except Invalid:
        return []
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


async def blocked(conn: AsyncConnection, email: str) -> str | None:
    """The block that refuses ``email``, if one does."""
    candidates = _candidates(email)
    if not candidates:
        return None
    found = await conn.execute(
        select(email_domain_blocks.c.domain).where(email_domain_blocks.c.domain.in_(candidates))
    )
    row = found.first()
    return str(row.domain) if row is not None else None


async def check_sign_up_email(conn: AsyncConnection, email: str) -> None:
    """FieldsInvalid (ERR_BLOCKED on ``email``) when a block refuses it."""
    if await blocked(conn, email) is not None:
        raise FieldsInvalid({"email": [BLOCKED]})


async def _audit(tx: Tx, action: str, block: EmailDomainBlock, by: Staff) -> None:
    await record(
        tx,
        action=action,
        permission=key(Permission.MANAGE_BLOCKS),
        by=by,
        subject_type="email_domain_block",
        subject_id=block.id,
        details={"domain": block.domain},
    )


async def do_block_email_domain(
    tx: Tx, domain: str, by: Staff = CONSOLE
) -> tuple[EmailDomainBlock, bool]:
    """Block ``domain`` (normalised); the block, and whether it is new."""
    name = normalise(domain)
    existing = (
        await tx.execute(select(email_domain_blocks).where(email_domain_blocks.c.domain == name))
    ).first()
    if existing is not None:
        return EmailDomainBlock(existing.id, existing.domain, existing.created_at), False
    block = EmailDomainBlock(new_id(), name, utcnow())
    await tx.execute(
        email_domain_blocks.insert().values(
            id=block.id, domain=block.domain, created_at=block.created_at
        )
    )
    await _audit(tx, "email_domain_block.create", block, by)
    return block, True


async def do_unblock_email_domain(tx: Tx, domain: str, by: Staff = CONSOLE) -> None:
    """Lift the block on ``domain``; NotFound when there is none."""
    name = normalise(domain)
    row = (
        await tx.execute(select(email_domain_blocks).where(email_domain_blocks.c.domain == name))
    ).first()
    if row is None:
        raise NotFound(f"{name} is not blocked")
    await tx.execute(delete(email_domain_blocks).where(email_domain_blocks.c.id == row.id))
    await _audit(
        tx, "email_domain_block.destroy", EmailDomainBlock(row.id, row.domain, row.created_at), by
    )


async def email_domain_block(conn: AsyncConnection, block_id: int) -> EmailDomainBlock:
    row = (
        await conn.execute(select(email_domain_blocks).where(email_domain_blocks.c.id == block_id))
    ).first()
    if row is None:
        raise NotFound()
    return EmailDomainBlock(row.id, row.domain, row.created_at)


async def email_domain_block_page(
    conn: AsyncConnection, page: Page
) -> tuple[list[EmailDomainBlock], int | None, int | None]:
    """A page of blocks, newest first, with the ids bounding it."""
    query = page_of(select(email_domain_blocks), email_domain_blocks.c.id, page)
    found = newest_first(
        [EmailDomainBlock(r.id, r.domain, r.created_at) for r in await conn.execute(query)], page
    )
    return found, (found[0].id if found else None), (found[-1].id if found else None)


async def email_domain_block_list(conn: AsyncConnection) -> list[EmailDomainBlock]:
    rows = await conn.execute(select(email_domain_blocks).order_by(email_domain_blocks.c.domain))
    return [EmailDomainBlock(row.id, row.domain, row.created_at) for row in rows]
