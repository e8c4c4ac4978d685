"""Reading collections: one with its items, an account's, those featuring one.

Everything goes through the privacy policy: a collection whose owner the
viewer may not see as part of a list (suspended, or a block either way) is not
found; an item is shown only when its account is one the viewer may see that
way too. Of the items, everyone sees the accepted ones; the owner sees every
item with its state, and a featured account sees its own item whatever its
state (so it learns what waits for its consent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import accounts, collection_items, collections
from roost.domain import privacy
from roost.domain.privacy import Visible
from roost.domain.types import Viewer
from roost.errors import NotFound

STATES = ("pending", "accepted", "rejected", "revoked")


@dataclass(frozen=True)
class Item:
    id: int
    account_id: int
    state: str
    created_at: datetime


@dataclass(frozen=True)
class Collection:
    id: int
    account_id: int
    owner_username: str
    name: str
    description: str
    language: str | None
    tag_name: str | None
    sensitive: bool
    discoverable: bool
    created_at: datetime
    updated_at: datetime
    items: list[Item]


@dataclass(frozen=True)
class Shown:
    """A collection as one viewer may see it, with the accounts it names
    (owner first, then each shown item's), each cleared by the policy."""

    collection: Collection
    accounts: list[Visible[RowMapping]]


def _item_seen(viewer: Viewer, owner: int) -> Any:
    """Which items of a collection owned by ``owner`` the viewer sees."""
    accepted = collection_items.c.state == "accepted"
    if viewer.account_id is None:
        return accepted
    if viewer.account_id == owner:
        return collection_items.c.id.is_not(None)
    return or_(accepted, collection_items.c.account_id == viewer.account_id)


async def _visible_owners(
    conn: AsyncConnection, viewer: Viewer, owner_ids: set[int]
) -> dict[int, Visible[RowMapping]]:
    if not owner_ids:
        return {}
    found: dict[int, Visible[RowMapping]] = {}
    mine = viewer.account_id in owner_ids
    if mine:
        assert viewer.account_id is not None
        own = await privacy.check_account(conn, viewer, viewer.account_id)
        found[viewer.account_id] = own
    others = [i for i in owner_ids if i != viewer.account_id]
    if others:
        rows = await privacy.visible_accounts(
            conn, viewer, select(accounts).where(accounts.c.id.in_(others))
        )
        found |= {int(r.value["id"]): r for r in rows}
    return found


async def _shown(conn: AsyncConnection, viewer: Viewer, rows: list[Any]) -> list[Shown]:
    """Collections rows -> those the viewer may see, each with its shown items."""
    owners = await _visible_owners(conn, viewer, {int(r.account_id) for r in rows})
    rows = [r for r in rows if int(r.account_id) in owners]
    if not rows:
        return []
    items_by: dict[int, list[Any]] = {int(r.id): [] for r in rows}
    for row in rows:
        owner = int(row.account_id)
        for item in await conn.execute(
            select(collection_items)
            .where(collection_items.c.collection_id == row.id, _item_seen(viewer, owner))
            .order_by(collection_items.c.position, collection_items.c.id)
        ):
            items_by[int(row.id)].append(item)
    wanted = {int(i.account_id) for found in items_by.values() for i in found}
    featured = {
        int(r.value["id"]): r
        for r in (
            await privacy.visible_accounts(
                conn, viewer, select(accounts).where(accounts.c.id.in_(wanted))
            )
            if wanted
            else []
        )
    }
    shown: list[Shown] = []
    for row in rows:
        owner_row = owners[int(row.account_id)]
        items = [
            Item(
                id=int(i.id),
                account_id=int(i.account_id),
                state=i.state,
                created_at=i.created_at,
            )
            for i in items_by[int(row.id)]
            if int(i.account_id) in featured
        ]
        shown.append(
            Shown(
                collection=Collection(
                    id=int(row.id),
                    account_id=int(row.account_id),
                    owner_username=owner_row.value["username"],
                    name=row.name,
                    description=row.description,
                    language=row.language,
                    tag_name=row.tag_name,
                    sensitive=bool(row.sensitive),
                    discoverable=bool(row.discoverable),
                    created_at=row.created_at,
                    updated_at=row.updated_at,
                    items=items,
                ),
                accounts=[owner_row, *(featured[i.account_id] for i in items)],
            )
        )
    return shown


async def _apart(conn: AsyncConnection, viewer: Viewer, account_id: int) -> bool:
    """NotFound for an account the viewer may not see at all; true when a block
    stands between the two, whose lists then show nothing."""
    await privacy.check_account(conn, viewer, account_id)
    if viewer.account_id is None or viewer.account_id == account_id:
        return False
    return await privacy.is_blocked_either_way(conn, viewer.account_id, account_id)


async def collection(conn: AsyncConnection, viewer: Viewer, collection_id: int) -> Shown:
    """One collection as the viewer may see it; NotFound when it is not there
    or its owner is hidden from the viewer."""
    row = (await conn.execute(select(collections).where(collections.c.id == collection_id))).first()
    shown = await _shown(conn, viewer, [row] if row is not None else [])
    if not shown:
        raise NotFound()
    return shown[0]


async def owned_by(
    conn: AsyncConnection, viewer: Viewer, account_id: int, offset: int, limit: int
) -> tuple[list[Shown], bool]:
    """An account's collections, newest first, and whether more follow."""
    if await _apart(conn, viewer, account_id):
        return [], False
    rows = (
        await conn.execute(
            select(collections)
            .where(collections.c.account_id == account_id)
            .order_by(collections.c.id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
    ).all()
    return await _shown(conn, viewer, list(rows[:limit])), len(rows) > limit


async def featuring(
    conn: AsyncConnection, viewer: Viewer, account_id: int, offset: int, limit: int
) -> tuple[list[Shown], bool]:
    """The collections an account is featured in, newest first: where its item
    is accepted, or, to the account itself, in any state."""
    if await _apart(conn, viewer, account_id):
        return [], False
    states = STATES if viewer.account_id == account_id else ("accepted",)
    rows = (
        await conn.execute(
            select(collections)
            .where(
                collections.c.id.in_(
                    select(collection_items.c.collection_id).where(
                        and_(
                            collection_items.c.account_id == account_id,
                            collection_items.c.state.in_(states),
                        )
                    )
                )
            )
            .order_by(collections.c.id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
    ).all()
    return await _shown(conn, viewer, list(rows[:limit])), len(rows) > limit


async def count_owned(conn: AsyncConnection, account_id: int) -> int:
    return int(
        (
            await conn.execute(
                select(func.count())
                .select_from(collections)
                .where(collections.c.account_id == account_id)
            )
        ).scalar_one()
    )
