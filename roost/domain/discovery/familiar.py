"""Familiar followers: which of the accounts the viewer follows follow another.

An account that hides its collections (``hide_collections``) is never named:
that would tell whom it follows.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import accounts, follows
from roost.domain import privacy
from roost.domain.privacy import Visible
from roost.domain.types import Viewer

MAX_SHOWN = 40


async def familiar_followers(
    conn: AsyncConnection, viewer: Viewer, ids: list[int]
) -> list[tuple[int, list[Visible[RowMapping]]]]:
    """For each visible account of ``ids`` (in order, once each): the accounts
    the viewer follows that follow it."""
    me = viewer.account_id
    assert me is not None
    visible = {
        r.value["id"]
        for r in await privacy.visible_accounts(
            conn, viewer, select(accounts.c.id).where(accounts.c.id.in_(ids))
        )
    }
    wanted = [i for i in dict.fromkeys(ids) if i in visible]
    if not wanted:
        return []
    mine = follows.alias("mine")
    pairs = (
        await conn.execute(
            select(follows.c.target_account_id, follows.c.account_id)
            .join(mine, mine.c.target_account_id == follows.c.account_id)
            .where(mine.c.account_id == me, follows.c.target_account_id.in_(wanted))
            .order_by(follows.c.id.desc())
        )
    ).all()
    followers = {int(p.account_id) for p in pairs}
    rows = {
        r.value["id"]: r
        for r in await privacy.visible_accounts(
            conn,
            viewer,
            select(accounts).where(
                accounts.c.id.in_(followers), accounts.c.hide_collections.is_(False)
            ),
        )
    }
    by_target: dict[int, list[Visible[RowMapping]]] = {i: [] for i in wanted}
    for pair in pairs:
        shown = by_target[int(pair.target_account_id)]
        row = rows.get(int(pair.account_id))
        if row is not None and len(shown) < MAX_SHOWN:
            shown.append(row)
    return [(i, by_target[i]) for i in wanted]
