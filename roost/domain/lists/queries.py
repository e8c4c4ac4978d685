"""Reading lists: the owner's lists, their members, and a list's timeline.

A list is private to its owner: anyone else asking for it gets NotFound, as if
it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import ReadScope
from roost.db.fastread import Prepared
from roost.db.tables import accounts, follows, list_accounts, lists, statuses
from roost.db.types import Id
from roost.domain import privacy
from roost.domain.pagination import newest_first, page_of
from roost.domain.privacy import Visible
from roost.domain.types import Page, Viewer
from roost.errors import NotFound

REPLIES_POLICIES = ("followed", "list", "none")


@dataclass(frozen=True)
class ListInfo:
    id: int
    title: str
    replies_policy: str
    exclusive: bool


def _info(row: Any) -> ListInfo:
    return ListInfo(
        id=int(row.id),
        title=row.title,
        replies_policy=row.replies_policy,
        exclusive=bool(row.exclusive),
    )


async def owned_list(conn: AsyncConnection, viewer: Viewer, list_id: int) -> ListInfo:
    """The viewer's list, or NotFound (someone else's is not found either)."""
    row = (
        await conn.execute(
            select(lists).where(lists.c.id == list_id, lists.c.account_id == viewer.account_id)
        )
    ).first()
    if row is None:
        raise NotFound()
    return _info(row)


_OWNED = Prepared(
    lambda: select(lists.c.id, lists.c.title, lists.c.replies_policy, lists.c.exclusive).where(
        lists.c.id == bindparam("list_id", type_=Id),
        lists.c.account_id == bindparam("owner", type_=Id),
    )
)


async def owned_list_read(reads: ReadScope, viewer: Viewer, list_id: int) -> ListInfo:
    """``owned_list`` as a prepared read, for a list timeline's every page."""
    rows = await reads.fast.all(_OWNED, list_id=list_id, owner=viewer.account_id)
    if not rows:
        raise NotFound()
    found_id, title, replies_policy, exclusive = rows[0]
    return ListInfo(
        id=int(found_id), title=title, replies_policy=replies_policy, exclusive=bool(exclusive)
    )


async def lists_of(conn: AsyncConnection, viewer: Viewer) -> list[ListInfo]:
    rows = await conn.execute(
        select(lists).where(lists.c.account_id == viewer.account_id).order_by(lists.c.id)
    )
    return [_info(r) for r in rows]


async def lists_with_member(
    conn: AsyncConnection, viewer: Viewer, account_id: int
) -> list[ListInfo]:
    """The viewer's lists that hold ``account_id``."""
    rows = await conn.execute(
        select(lists)
        .join(list_accounts, list_accounts.c.list_id == lists.c.id)
        .where(lists.c.account_id == viewer.account_id, list_accounts.c.account_id == account_id)
        .order_by(lists.c.id)
    )
    return [_info(r) for r in rows]


def member_ids(list_id: int) -> Select[Any]:
    return select(list_accounts.c.account_id).where(list_accounts.c.list_id == list_id)


async def members(
    conn: AsyncConnection, viewer: Viewer, list_id: int, page: Page | None
) -> tuple[list[Visible[RowMapping]], int | None, int | None]:
    """The list's accounts, most recently added first (all of them when
    ``page`` is None), with the membership ids at both ends for Link headers."""
    await owned_list(conn, viewer, list_id)
    query = select(list_accounts.c.id, list_accounts.c.account_id).where(
        list_accounts.c.list_id == list_id
    )
    if page is None:
        rows = (await conn.execute(query.order_by(list_accounts.c.id.desc()))).all()
    else:
        rows = newest_first(
            (await conn.execute(page_of(query, list_accounts.c.id, page))).all(), page
        )
    shown = {
        r.value["id"]: r
        for r in await privacy.visible_accounts(
            conn, viewer, select(accounts).where(accounts.c.id.in_([r.account_id for r in rows]))
        )
    }
    ordered = [shown[r.account_id] for r in rows if r.account_id in shown]
    if not rows:
        return ordered, None, None
    return ordered, int(rows[0].id), int(rows[-1].id)


def list_rule(owner: Any, list_id: Any, policy: Any) -> ColumnElement[bool]:
    """Which posts belong on a list's timeline: those by its members, and of
    replies, always a thread's own continuation and replies to the owner; then
    replies to anyone the owner follows (``followed``), to the list's members
    (``list``), or nobody else (``none``).

    ``owner`` and ``list_id`` are values or SQL expressions (a bound parameter,
    a column); ``policy`` a replies policy, or a column holding one. Every
    reader of a list applies this rule (roost/domain/timelines/: the
    database's page, and a cache's fan-out, rebuilds and reads), so they
    cannot drift apart.
    """
    replied_to = statuses.c.in_reply_to_account_id
    followed = replied_to.in_(
        select(follows.c.target_account_id).where(follows.c.account_id == owner)
    )
    in_list = replied_to.in_(member_ids(list_id))
    shown: list[ColumnElement[bool]] = [
        statuses.c.in_reply_to_id.is_(None),
        replied_to == statuses.c.account_id,
        replied_to == owner,
    ]
    if isinstance(policy, str):
        if policy == "followed":
            shown.append(followed)
        elif policy == "list":
            shown.append(in_list)
    else:
        shown += [and_(policy == "followed", followed), and_(policy == "list", in_list)]
    return and_(statuses.c.account_id.in_(member_ids(list_id)), or_(*shown))
