"""``moved`` on every account shown: the account it moved to.

An account that moved (``account_moves``, roost/domain/federation/moves.py)
shows the account it moved to as its ``moved``, wherever it is shown: as the
author of a post or a boost, the sender of a notification, in search and in
lists of accounts, as on ``GET /api/v1/accounts/:id``. The target shows when
the viewer may see it (the privacy policy's account check, as there). A page
asks ``account_moves`` once for all its accounts (for posts, as a branch of
the page's facts query, roost/domain/statuses/extras.py; for notifications'
senders, as a column of their read, ``privacy.listed_accounts_by_ids``) and
reads the targets only when some moved, which few do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import String, cast, literal, null, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import account_moves
from roost.domain import privacy
from roost.domain.types import Account, Viewer
from roost.errors import NotFound


def facts_branch(among: Callable[[Any], Any]) -> Any:
    """The part of a page's facts query that says which accounts moved, and
    where: rows of ("moved", account id, target id, NULL) (``among(column)``:
    the column is one of the page's authors)."""
    return select(
        literal("moved").label("kind"),
        account_moves.c.account_id.label("status_id"),
        account_moves.c.target_account_id.label("number"),
        cast(null(), String(16)).label("word"),
    ).where(among(account_moves.c.account_id))


async def moved_targets(conn: AsyncConnection, account_ids: Iterable[int]) -> dict[int, int]:
    """The accounts among ``account_ids`` that moved: their targets' ids."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return {}
    rows = await conn.execute(
        select(account_moves.c.account_id, account_moves.c.target_account_id).where(
            account_moves.c.account_id.in_(wanted)
        )
    )
    return {int(r.account_id): int(r.target_account_id) for r in rows}


async def shown_targets(
    conn: AsyncConnection, viewer: Viewer, moves: Mapping[int, int]
) -> dict[int, Account]:
    """The target of each move the viewer may see, by the moved account's id."""
    found: dict[int, Account] = {}
    for target_id in set(moves.values()):
        try:
            row = await privacy.check_account(conn, viewer, target_id)
        except NotFound:
            continue
        found[target_id] = Account.from_row(row.value)
    return {origin: found[target] for origin, target in moves.items() if target in found}


def with_target(account: Account, targets: Mapping[int, Account]) -> Account:
    """``account`` with its ``moved`` set, when it moved (the same object if not)."""
    target = targets.get(account.id)
    if target is None or account.moved is target:
        return account
    return replace(account, moved=target)


async def with_moved(
    conn: AsyncConnection, viewer: Viewer, accounts: Iterable[Account]
) -> dict[int, Account]:
    """The targets of the accounts among ``accounts`` that moved, by their
    ids, for ``with_target``: one query, and the targets' reads only when
    some moved."""
    moves = await moved_targets(conn, (a.id for a in accounts))
    return await shown_targets(conn, viewer, moves) if moves else {}
