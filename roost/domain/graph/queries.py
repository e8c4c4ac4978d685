"""Reading the social graph: relationships, follower lists, and one's own lists
of requests, blocks, mutes and endorsed accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import Row, RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import (
    account_notes,
    accounts,
    blocks,
    endorsements,
    follow_requests,
    follows,
    mutes,
)
from roost.domain import privacy
from roost.domain.graph.mutes import muted_ids
from roost.domain.pagination import newest_first, page_of
from roost.domain.privacy import Visible
from roost.domain.types import Page, Relationship, Viewer
from roost.errors import NotFound

Listed = tuple[list[Visible[RowMapping]], int | None, int | None]


async def _pairs(
    conn: AsyncConnection, query: Select[Any], key: str = "target_account_id"
) -> dict[int, Row[Any]]:
    return {int(getattr(r, key)): r for r in await conn.execute(query)}


async def relationships(
    conn: AsyncConnection, viewer: Viewer, ids: list[int]
) -> list[Relationship]:
    """The viewer's relationship with each visible account of ``ids``, in order.

    Accounts on the other side of a block are included: the relationship is
    where an app learns of the block (``blocking``, ``blocked_by``).
    """
    me = viewer.account_id
    assert me is not None
    visible = {
        r.value["id"]
        for r in await privacy.visible_accounts(
            conn, viewer, select(accounts.c.id).where(accounts.c.id.in_(ids)), include_blocked=True
        )
    }
    wanted = [i for i in dict.fromkeys(ids) if i in visible]
    if not wanted:
        return []

    def mine(table: Any) -> Select[Any]:
        return select(table).where(table.c.account_id == me, table.c.target_account_id.in_(wanted))

    def theirs(table: Any) -> Select[Any]:
        return select(table.c.account_id).where(
            table.c.target_account_id == me, table.c.account_id.in_(wanted)
        )

    outgoing = await _pairs(conn, mine(follows))
    requested = await _pairs(conn, mine(follow_requests))
    blocking = await _pairs(conn, mine(blocks))
    endorsed = await _pairs(conn, mine(endorsements))
    notes = await _pairs(conn, mine(account_notes))
    muting = await _pairs(
        conn,
        select(mutes).where(
            mutes.c.account_id == me,
            mutes.c.target_account_id.in_(wanted),
            mutes.c.target_account_id.in_(muted_ids(me)),
        ),
    )
    incoming = await _pairs(conn, theirs(follows), "account_id")
    requested_by = await _pairs(conn, theirs(follow_requests), "account_id")
    blocked_by = await _pairs(conn, theirs(blocks), "account_id")
    result = []
    for target in wanted:
        follow = outgoing.get(target)
        request = requested.get(target)
        options = follow or request
        mute = muting.get(target)
        note = notes.get(target)
        result.append(
            Relationship(
                id=target,
                following=follow is not None,
                showing_reblogs=bool(options.show_reblogs) if options else False,
                notifying=bool(options.notify) if options else False,
                followed_by=target in incoming,
                requested=request is not None,
                requested_by=target in requested_by,
                blocking=target in blocking,
                blocked_by=target in blocked_by,
                muting=mute is not None,
                muting_notifications=bool(mute.hide_notifications) if mute else False,
                endorsed=target in endorsed,
                note=note.comment if note else "",
            )
        )
    return result


async def follow_list(
    conn: AsyncConnection, viewer: Viewer, account_id: int, direction: str, page: Page
) -> Listed:
    """Followers or following of an account, newest follow first.

    Empty when the owner hides these lists (except to the owner) or blocks the
    viewer; accounts on either side of a block with the viewer are left out.
    """
    owner = (await privacy.check_account(conn, viewer, account_id)).value
    if viewer.account_id != account_id:
        if owner["hide_collections"]:
            return [], None, None
        if viewer.account_id is not None and await privacy.is_blocked_either_way(
            conn, viewer.account_id, account_id
        ):
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
    return await _own_list(conn, viewer, source, follows.c.id, page)


async def pending_requests(conn: AsyncConnection, viewer: Viewer, page: Page) -> Listed:
    assert viewer.account_id is not None
    source = select(follow_requests.c.id, follow_requests.c.account_id.label("other")).where(
        follow_requests.c.target_account_id == viewer.account_id
    )
    return await _own_list(conn, viewer, source, follow_requests.c.id, page)


async def blocked_accounts(conn: AsyncConnection, viewer: Viewer, page: Page) -> Listed:
    assert viewer.account_id is not None
    source = select(blocks.c.id, blocks.c.target_account_id.label("other")).where(
        blocks.c.account_id == viewer.account_id
    )
    return await _own_list(conn, viewer, source, blocks.c.id, page, include_blocked=True)


@dataclass(frozen=True, slots=True)
class MuteInfo:
    expires_at: datetime | None


async def muted_accounts(
    conn: AsyncConnection, viewer: Viewer, page: Page
) -> tuple[list[Visible[RowMapping]], dict[int, MuteInfo], int | None, int | None]:
    """The accounts the viewer mutes now, with when each mute ends."""
    me = viewer.account_id
    assert me is not None
    source = select(mutes.c.id, mutes.c.target_account_id.label("other")).where(
        mutes.c.account_id == me, mutes.c.target_account_id.in_(muted_ids(me))
    )
    rows, newest, oldest = await _own_list(
        conn, viewer, source, mutes.c.id, page, include_blocked=True
    )
    ends = await _pairs(
        conn,
        select(mutes.c.target_account_id, mutes.c.expires_at).where(
            mutes.c.account_id == me,
            mutes.c.target_account_id.in_([r.value["id"] for r in rows]),
        ),
    )
    info = {other: MuteInfo(expires_at=row.expires_at) for other, row in ends.items()}
    return rows, info, newest, oldest


async def endorsed_accounts(conn: AsyncConnection, viewer: Viewer, page: Page) -> Listed:
    assert viewer.account_id is not None
    source = select(endorsements.c.id, endorsements.c.target_account_id.label("other")).where(
        endorsements.c.account_id == viewer.account_id
    )
    return await _own_list(conn, viewer, source, endorsements.c.id, page)


async def endorsed_by(conn: AsyncConnection, viewer: Viewer, account_id: int, page: Page) -> Listed:
    """The accounts ``account_id`` features on its profile, as ``viewer`` may see them."""
    source = select(endorsements.c.id, endorsements.c.target_account_id.label("other")).where(
        endorsements.c.account_id == account_id
    )
    return await _own_list(conn, viewer, source, endorsements.c.id, page)


async def _own_list(
    conn: AsyncConnection,
    viewer: Viewer,
    source: Select[Any],
    key: Any,
    page: Page,
    *,
    include_blocked: bool = False,
) -> Listed:
    """A page of (key, other account) rows -> the visible accounts, in order, and
    the keys at both ends for the Link header."""
    rows = newest_first((await conn.execute(page_of(source, key, page))).all(), page)
    if not rows:
        return [], None, None
    by_id = {
        r.value["id"]: r
        for r in await privacy.visible_accounts(
            conn,
            viewer,
            select(accounts).where(accounts.c.id.in_([r.other for r in rows])),
            include_blocked=include_blocked,
        )
    }
    shown = [by_id[r.other] for r in rows if r.other in by_id]
    return shown, int(rows[0].id), int(rows[-1].id)
