"""The local accounts a received activity names, found when it is stored
(``inbox_activity_accounts``), so erasing one of them removes the activity's
raw body too, whichever inbox it came to (roost/erasure/tables.py).

Every string in the activity, at any depth (its addressing, its object, a
Note's tags and HTML content), is searched for this server's addresses of an
account: its actor and anything under it (``BASE/users/NAME``, its posts'
``BASE/users/NAME/statuses/ID``), its pages (``BASE/@NAME``) and its handle
(``@NAME@HOST``). The JSON is read parsed, so escaped slashes and the like
hide nothing; names are compared as usernames are, regardless of case. An
activity naming an account that does not exist here links nobody.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import insert, select

from roost.db.engine import Tx
from roost.db.tables import accounts, inbox_activity_accounts

_MAX_DEPTH = 32


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def usernames_named(activity: Any, base_url: str) -> set[str]:
    """The (lower-cased) usernames of this server that ``activity`` names."""
    host = urlsplit(base_url).netloc
    pattern = re.compile(
        re.escape(base_url.rstrip("/")) + r"/(?:users/|@)([A-Za-z0-9_]+)"
        r"|(?<![A-Za-z0-9_])@([A-Za-z0-9_]+)@" + re.escape(host) + r"(?![A-Za-z0-9.-])",
        re.IGNORECASE,
    )
    found: set[str] = set()
    for text in _strings(activity):
        for by_address, by_handle in pattern.findall(text):
            found.add((by_address or by_handle).lower())
    return found


async def do_link_named(tx: Tx, inbox_activity_id: int, activity: Any, base_url: str) -> int:
    """Link the stored activity to the local accounts it names; how many."""
    names = usernames_named(activity, base_url)
    if not names:
        return 0
    ids = (
        await tx.execute(
            select(accounts.c.id).where(
                accounts.c.username_key.in_(sorted(names)), accounts.c.domain.is_(None)
            )
        )
    ).scalars()
    rows = [{"inbox_activity_id": inbox_activity_id, "account_id": int(i)} for i in ids]
    if rows:
        await tx.execute(insert(inbox_activity_accounts), rows)
    return len(rows)
