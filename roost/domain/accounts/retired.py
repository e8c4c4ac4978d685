"""Usernames of erased accounts, retired for good.

Other servers know a local account by its address (``/users/NAME``): they
keep its follows, its posts' replies and its key under that name. Given to
a newcomer, the name would make them the erased person to every server that
knew the first one (a Mastodon server does not give a deleted account's name
again either). So erasure keeps a digest of the name, never the name: a
sign-up with it is refused as taken, and its actor address answers 410 Gone
(roost/federation/routes.py), as Mastodon's does for a deleted account.

The digest is SHA-256 of the lowercased name under a fixed label: it names
no one by itself, and anyone can tell whether a given name was retired by
asking for its address anyway (the 410), so a key would hide nothing more.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import retired_usernames

_LABEL = b"roost retired username\x00"


def digest(username: str) -> str:
    return hashlib.sha256(_LABEL + username.lower().encode()).hexdigest()


async def do_retire(tx: Tx, username: str) -> None:
    """Retire ``username`` (an erased local account's), once."""
    if not await is_retired(tx.conn, username):
        await tx.execute(
            retired_usernames.insert().values(digest=digest(username), retired_at=utcnow())
        )


async def is_retired(conn: AsyncConnection, username: str) -> bool:
    found = await conn.execute(
        select(retired_usernames.c.digest).where(retired_usernames.c.digest == digest(username))
    )
    return found.first() is not None
