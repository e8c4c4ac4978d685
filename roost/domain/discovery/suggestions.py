"""Whom to follow: accounts staff feature, and friends of friends.

A suggestion is a discoverable, approved account (roost/domain/discovery/
directory.py) the viewer does not follow, has not asked to follow, does not
block or mute, and has not dismissed. Friends of friends are the accounts
followed by the accounts the viewer follows, most shared first; a follow is
only counted when its follower shows their collections (``hide_collections``
off), so a suggestion never reveals whom someone who hides it follows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import (
    accounts,
    featured_accounts,
    follow_requests,
    follows,
    mutes,
    suggestion_dismissals,
)
from roost.domain import privacy
from roost.domain.discovery.directory import discoverable_people
from roost.domain.privacy import Visible
from roost.domain.types import Viewer
from roost.errors import Invalid
from roost.ids import new_id

FEATURED = "featured"
FRIENDS_OF_FRIENDS = "friends_of_friends"


@dataclass(frozen=True)
class Suggestion:
    account: Visible[RowMapping]
    sources: tuple[str, ...]  # FEATURED and/or FRIENDS_OF_FRIENDS, in that order


async def suggestions(conn: AsyncConnection, viewer: Viewer, limit: int) -> list[Suggestion]:
    """Up to ``limit`` suggestions: featured accounts first (oldest featured
    first), then friends of friends by how many of the viewer's follows follow
    them, then newest account first."""
    me = viewer.account_id
    assert me is not None
    excluded = [
        select(follows.c.target_account_id).where(follows.c.account_id == me),
        select(follow_requests.c.target_account_id).where(follow_requests.c.account_id == me),
        select(mutes.c.target_account_id).where(mutes.c.account_id == me),
        select(suggestion_dismissals.c.target_account_id).where(
            suggestion_dismissals.c.account_id == me
        ),
    ]
    featured_ids = [
        int(r.account_id)
        for r in await conn.execute(
            select(featured_accounts.c.account_id).order_by(featured_accounts.c.id)
        )
    ]
    via = follows.alias("via")
    shown_by = accounts.alias("shown_by")
    shared = func.count().label("shared")
    fof = await conn.execute(
        select(follows.c.target_account_id, shared)
        .join(via, via.c.target_account_id == follows.c.account_id)
        .join(shown_by, shown_by.c.id == follows.c.account_id)
        .where(
            via.c.account_id == me,
            shown_by.c.hide_collections.is_(False),
            follows.c.target_account_id != me,
        )
        .group_by(follows.c.target_account_id)
        .order_by(shared.desc(), follows.c.target_account_id.desc())
        .limit(limit * 4 + 40)
    )
    fof_ids = [int(r.target_account_id) for r in fof]
    wanted = list(dict.fromkeys([*featured_ids, *fof_ids]))
    if not wanted:
        return []
    query = discoverable_people().where(accounts.c.id.in_(wanted), accounts.c.id != me)
    for subquery in excluded:
        query = query.where(accounts.c.id.not_in(subquery))
    found = {r.value["id"]: r for r in await privacy.visible_accounts(conn, viewer, query)}
    featured, friends = set(featured_ids), set(fof_ids)
    result = []
    for account_id in wanted:
        row = found.get(account_id)
        if row is None:
            continue
        sources = tuple(
            s
            for s, ids in ((FEATURED, featured), (FRIENDS_OF_FRIENDS, friends))
            if account_id in ids
        )
        result.append(Suggestion(row, sources))
        if len(result) >= limit:
            break
    return result


async def do_dismiss(tx: Tx, viewer: Viewer, account_id: int) -> None:
    """Never suggest this account to the viewer again (idempotent)."""
    me = viewer.account_id
    assert me is not None
    await privacy.check_account(tx.conn, viewer, account_id)
    exists = (
        await tx.execute(
            select(suggestion_dismissals.c.id).where(
                suggestion_dismissals.c.account_id == me,
                suggestion_dismissals.c.target_account_id == account_id,
            )
        )
    ).first()
    if exists is None:
        await tx.execute(
            suggestion_dismissals.insert().values(
                id=new_id(), account_id=me, target_account_id=account_id, created_at=utcnow()
            )
        )


async def _account_id(conn: AsyncConnection, username: str) -> int:
    row = (
        await conn.execute(
            select(accounts.c.id).where(accounts.c.username_key == username.strip().lower())
        )
    ).first()
    if row is None:
        raise Invalid(f"no account named {username}")
    return int(row.id)


async def do_feature_account(tx: Tx, username: str) -> bool:
    """Staff: suggest this account to everyone. False if it already was."""
    account_id = await _account_id(tx.conn, username)
    suspended = (
        await tx.execute(select(accounts.c.suspended_at).where(accounts.c.id == account_id))
    ).scalar_one()
    if suspended is not None:
        raise Invalid("a suspended account cannot be suggested")
    exists = (
        await tx.execute(
            select(featured_accounts.c.id).where(featured_accounts.c.account_id == account_id)
        )
    ).first()
    if exists is not None:
        return False
    await tx.execute(
        featured_accounts.insert().values(id=new_id(), account_id=account_id, created_at=utcnow())
    )
    return True


async def do_unfeature_account(tx: Tx, username: str) -> bool:
    """Staff: stop suggesting this account to everyone. False if it was not."""
    account_id = await _account_id(tx.conn, username)
    result = await tx.execute(
        delete(featured_accounts).where(featured_accounts.c.account_id == account_id)
    )
    return bool(result.rowcount)


async def featured_usernames(conn: AsyncConnection) -> list[str]:
    rows = await conn.execute(
        select(accounts.c.username)
        .join(featured_accounts, featured_accounts.c.account_id == accounts.c.id)
        .order_by(featured_accounts.c.id)
    )
    return [r.username for r in rows]
