"""What a user's domain blocks hide, as SQL for the filters that honour them
(roost/domain/discovery/domain_blocks.py stores them).

As on Mastodon, a domain block is not a visibility rule (see
roost/domain/privacy.py): a post of that server stays readable by link. The
blocker's public and hashtag timelines leave out the accounts of that server,
their home leaves out boosts of those accounts' posts, and their notifications
from an account of that server are not recorded unless they follow it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import account_domain_blocks, accounts


def hidden_domains(me: int) -> Select[Any]:
    """The domains ``me`` blocks."""
    return select(account_domain_blocks.c.domain).where(account_domain_blocks.c.account_id == me)


def hidden_domain_accounts(me: int) -> Select[Any]:
    """Ids of the accounts of the domains ``me`` blocks (local accounts have no
    domain, so never among them)."""
    return select(accounts.c.id).where(accounts.c.domain.in_(hidden_domains(me)))


async def hides_domain_of(conn: AsyncConnection, me: int, other: int) -> bool:
    """True when ``me`` blocks the domain of the account ``other``."""
    query = hidden_domain_accounts(me).where(accounts.c.id == other)
    return (await conn.execute(query)).first() is not None
