"""Reading the social graph: relationships and follower lists."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import accounts, follow_requests, follows
from roost.domain import privacy
from roost.domain.pagination import newest_first, page_of
from roost.domain.privacy import Visible
from roost.domain.types import Page, Relationship, Viewer
from roost.errors import NotFound


async def relationships(
    conn: AsyncConnection, viewer: Viewer, ids: list[int]
) -> list[Relationship]:
    me = viewer.account_id
    assert me is not None
    visible = {
        r.value["id"]
        for r in await privacy.visible_accounts(
            conn, viewer, select(accounts.c.id).where(accounts.c.id.in_(ids))
        )
    }
    wanted = [i for i in dict.fromkeys(ids) if i in visible]
    outgoing = {
        r.target_account_id: r
        for r in await conn.execute(
            select(follows).where(
                follows.c.account_id == me, follows.c.target_account_id.in_(wanted)
            )
        )
    }
    incoming = {
        r.account_id
        for r in await conn.execute(
            select(follows.c.account_id).where(
                follows.c.target_account_id == me, follows.c.account_id.in_(wanted)
            )
        )
    }
    requested = {
        r.target_account_id: r
        for r in await conn.execute(
            select(follow_requests).where(
                follow_requests.c.account_id == me,
                follow_requests.c.target_account_id.in_(wanted),
            )
        )
    }
    requested_by = {
        r.account_id
        for r in await conn.execute(
            select(follow_requests.c.account_id).where(
                follow_requests.c.target_account_id == me,
                follow_requests.c.account_id.in_(wanted),
            )
        )
    }
    result = []
    for target in wanted:
        follow = outgoing.get(target)
        request = requested.get(target)
        options = follow or request
        result.append(
            Relationship(
                id=target,
                following=follow is not None,
                showing_reblogs=bool(options.show_reblogs) if options else False,
                notifying=bool(options.notify) if options else False,
                followed_by=target in incoming,
                requested=request is not None,
                requested_by=target in requested_by,
            )
        )
    return result


async def follow_list(
    conn: AsyncConnection, viewer: Viewer, account_id: int, direction: str, page: Page
) -> tuple[list[Visible[RowMapping]], int | None, int | None]:
    """Followers or following of an account, newest follow first."""
    owner = (await privacy.check_account(conn, viewer, account_id)).value
    if owner["hide_collections"] and viewer.account_id != account_id:
        return [], None, None
    if direction == "followers":
        source = select(follows.c.id, follows.c.account_id.label("other")).where(
            follows.c.target_account_id == account_id
        )
    elif direction == "following":
        source = select(follows.c.id, follows.c.target_account_id.label("other")).where(
            follows.c.account_id == account_id
        )
    else:
        raise NotFound()
    rows = newest_first((await conn.execute(page_of(source, follows.c.id, page))).all(), page)
    return await _accounts_in_order(conn, viewer, rows)


async def pending_requests(
    conn: AsyncConnection, viewer: Viewer, page: Page
) -> tuple[list[Visible[RowMapping]], int | None, int | None]:
    assert viewer.account_id is not None
    source = select(follow_requests.c.id, follow_requests.c.account_id.label("other")).where(
        follow_requests.c.target_account_id == viewer.account_id
    )
    rows = newest_first(
        (await conn.execute(page_of(source, follow_requests.c.id, page))).all(), page
    )
    return await _accounts_in_order(conn, viewer, rows)


async def _accounts_in_order(
    conn: AsyncConnection, viewer: Viewer, rows: list[Any]
) -> tuple[list[Visible[RowMapping]], int | None, int | None]:
    if not rows:
        return [], None, None
    by_id = {
        r.value["id"]: r
        for r in await privacy.visible_accounts(
            conn, viewer, select(accounts).where(accounts.c.id.in_([r.other for r in rows]))
        )
    }
    return [by_id[r.other] for r in rows if r.other in by_id], rows[0].id, rows[-1].id
