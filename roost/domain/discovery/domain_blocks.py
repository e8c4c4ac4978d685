"""Domains an account hides (Mastodon's user domain blocks).

Stored now, as Mastodon's clients expect; every account is local until
federation lands, so there is nothing yet for them to hide. When remote
accounts arrive, their posts, notifications and follows from a blocked domain
are hidden from the account that blocked it, as on Mastodon.

A domain is kept in its ASCII form (IDNA), lower case, without a trailing dot.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import account_domain_blocks
from roost.domain.pagination import newest_first, page_of
from roost.domain.types import Page, Viewer
from roost.errors import RuleBroken
from roost.ids import new_id

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_domain(text: str) -> str:
    """The domain as stored; Invalid (422) for anything that is not a host name."""
    name = text.strip().lower().rstrip(".")
    if "://" in name:
        name = name.split("://", 1)[1].split("/", 1)[0]
    try:
        ascii_name = name.encode("idna").decode("ascii") if name else ""
    except UnicodeError:
        ascii_name = ""
    labels = ascii_name.split(".")
    if not ascii_name or len(ascii_name) > 253 or len(labels) < 2:
        raise RuleBroken("Domain is not a valid domain name")
    if not all(_LABEL.match(label) for label in labels):
        raise RuleBroken("Domain is not a valid domain name")
    return ascii_name


async def do_block_domain(tx: Tx, viewer: Viewer, text: str) -> str:
    """Hide ``text``'s domain from the viewer (idempotent); returns it normalised."""
    domain = normalise_domain(text)
    exists = (
        await tx.execute(
            select(account_domain_blocks.c.id).where(
                account_domain_blocks.c.account_id == viewer.account_id,
                account_domain_blocks.c.domain == domain,
            )
        )
    ).first()
    if exists is None:
        await tx.execute(
            account_domain_blocks.insert().values(
                id=new_id(), account_id=viewer.account_id, domain=domain, created_at=utcnow()
            )
        )
    return domain


async def do_unblock_domain(tx: Tx, viewer: Viewer, text: str) -> None:
    """Stop hiding the domain (idempotent)."""
    domain = normalise_domain(text)
    await tx.execute(
        delete(account_domain_blocks).where(
            account_domain_blocks.c.account_id == viewer.account_id,
            account_domain_blocks.c.domain == domain,
        )
    )


async def blocked_domains(
    conn: AsyncConnection, viewer: Viewer, page: Page
) -> tuple[list[str], int | None, int | None]:
    """The viewer's blocked domains, newest first, with the keys for a Link header."""
    query = select(account_domain_blocks.c.id, account_domain_blocks.c.domain).where(
        account_domain_blocks.c.account_id == viewer.account_id
    )
    rows = newest_first(
        (await conn.execute(page_of(query, account_domain_blocks.c.id, page))).all(), page
    )
    if not rows:
        return [], None, None
    return [r.domain for r in rows], int(rows[0].id), int(rows[-1].id)
