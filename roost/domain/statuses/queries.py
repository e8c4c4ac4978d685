"""Reading posts. Every function here takes its rows from the privacy policy,
and builds ``StatusView``s only from cleared rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

from sqlalchemy import CompoundSelect, bindparam, literal_column, null, select, union_all
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.fastread import FastReader, Prepared
from roost.db.tables import (
    accounts,
    applications,
    bookmarks,
    favourites,
    mentions,
    pins,
    status_tags,
    statuses,
    tags,
)
from roost.domain import privacy
from roost.domain.accounts.interned import interned
from roost.domain.cards.queries import cards_for
from roost.domain.media import queries as media_queries
from roost.domain.pagination import newest_first, page_of
from roost.domain.privacy import Visible
from roost.domain.statuses.assembly import assemble
from roost.domain.statuses.extras import with_extras
from roost.domain.statuses.muted import has_muted_threads, muted_among
from roost.domain.statuses.versions import versions
from roost.domain.tags.lookup import tag_key
from roost.domain.types import Account, AppInfo, Page, Status, StatusEdit, StatusView, Viewer
from roost.errors import NotFound


async def hydrate(
    conn: AsyncConnection,
    viewer: Viewer,
    rows: Sequence[Visible[RowMapping]],
    *,
    nested: bool = False,
) -> list[Visible[StatusView]]:
    """Cleared status rows -> cleared views, in a fixed number of queries.

    A boost whose original the viewer may not see is dropped: the original is
    fetched through the policy like any other read. ``nested``: the views are
    quoted posts, whose own quotes are named, not shown.
    """
    if not rows:
        return []
    values = [r.value for r in rows]
    boosted_ids = {v["reblog_of_id"] for v in values if v["reblog_of_id"] is not None}
    parent_ids = {v["in_reply_to_id"] for v in values if v["in_reply_to_id"] is not None}
    # Boosted originals and replied-to parents come through the policy in one
    # query: each query is a round trip and a statement to build.
    related = await _visible_by_id(conn, viewer, boosted_ids | parent_ids)
    originals = {i: related[i] for i in boosted_ids if i in related}
    every = values + [o.value for o in originals.values()]
    status_ids = [s["id"] for s in every]
    # A reply names its parent only to a viewer who may see the parent: the id
    # of a hidden post must not leak through a visible reply. Every parent was
    # asked about above except those of boosted originals.
    shown_parents = set(related)
    asked = boosted_ids | parent_ids
    unasked = {
        o.value["in_reply_to_id"]
        for o in originals.values()
        if o.value["in_reply_to_id"] is not None and o.value["in_reply_to_id"] not in asked
    }
    if unasked:
        shown_parents |= await privacy.visible_status_ids(conn, viewer, unasked)
    account_ids = {s["account_id"] for s in every}

    mention_rows, tag_map = await links(conn, status_ids)
    account_ids |= {account_id for _status_id, account_id in mention_rows}
    account_map = {
        row.value["id"]: interned(row.value)
        for row in await privacy.visible_accounts(
            conn, viewer, select(accounts).where(accounts.c.id.in_(account_ids))
        )
    }
    mention_map: dict[int, list[Account]] = {}
    for status_id, account_id in mention_rows:
        if account_id in account_map:
            mention_map.setdefault(status_id, []).append(account_map[account_id])
    app_map = await applications_by_id(
        conn, {s["application_id"] for s in every if s["application_id"] is not None}
    )

    flags = await _viewer_flags(conn, viewer, status_ids)
    muted: set[int] = set()
    if viewer.account_id is not None and await has_muted_threads(conn, viewer.account_id):
        muted = await muted_among(conn, viewer.account_id, status_ids)
    media_map = await media_queries.for_statuses(conn, status_ids)
    card_map = await cards_for(conn, status_ids)

    def view(row: RowMapping, reblog: StatusView | None) -> StatusView | None:
        author = account_map.get(row["account_id"])
        if author is None:
            return None
        sid = row["id"]
        status = Status.from_row(row)
        if status.in_reply_to_id is not None and status.in_reply_to_id not in shown_parents:
            status = replace(status, in_reply_to_id=None, in_reply_to_account_id=None)
        return StatusView(
            status=status,
            account=author,
            mentions=mention_map.get(sid, []),
            tags=tag_map.get(sid, []),
            reblog=reblog,
            application=app_map.get(row["application_id"]) if row["application_id"] else None,
            favourited=sid in flags["favourited"],
            reblogged=sid in flags["reblogged"],
            bookmarked=sid in flags["bookmarked"],
            pinned=sid in flags["pinned"],
            muted=sid in muted,
            media=media_map.get(sid, []),
            card=card_map.get(sid),
        )

    def original(status_id: int) -> RowMapping | None:
        found = originals.get(status_id)
        return None if found is None else found.value

    result = assemble(rows, boosted=lambda row: row["reblog_of_id"], original=original, view=view)
    return await with_extras(conn, viewer, result, load=None if nested else quoted_views)


async def quoted_views(
    conn: AsyncConnection, viewer: Viewer, ids: set[int]
) -> list[Visible[StatusView]]:
    """The quoted posts the viewer may see, through the policy."""
    rows = await privacy.visible_statuses(
        conn, viewer, select(statuses).where(statuses.c.id.in_(ids))
    )
    return await hydrate(conn, viewer, rows, nested=True)


async def _visible_by_id(
    conn: AsyncConnection, viewer: Viewer, ids: set[int]
) -> dict[int, Visible[RowMapping]]:
    if not ids:
        return {}
    return {
        row.value["id"]: row
        for row in await privacy.visible_statuses(
            conn, viewer, select(statuses).where(statuses.c.id.in_(ids))
        )
    }


async def links(
    conn: AsyncConnection, status_ids: list[int]
) -> tuple[list[tuple[int, int]], dict[int, list[str]]]:
    """(post, mentioned account) pairs and each post's hashtags, in one query."""
    mention_rows: list[tuple[int, int]] = []
    tag_map: dict[int, list[str]] = {}
    for link in await conn.execute(_links(status_ids)):
        if link.tag is None:
            mention_rows.append((link.status_id, link.account_id))
        else:
            tag_map.setdefault(link.status_id, []).append(link.tag)
    return mention_rows, tag_map


async def applications_by_id(conn: AsyncConnection, ids: set[int]) -> dict[int, AppInfo]:
    """The apps posts were written with, by id (shown to their authors)."""
    if not ids:
        return {}
    found = await conn.execute(
        select(applications.c.id, applications.c.name, applications.c.website).where(
            applications.c.id.in_(ids)
        )
    )
    return {row.id: AppInfo(name=row.name, website=row.website) for row in found}


def _links(status_ids: list[int]) -> CompoundSelect[Any]:
    """Mentions (tag NULL) and tags (account_id NULL) of the posts, in one
    query: each post's mentions in the order of the accounts' ids, its tags in
    the order of theirs, on every engine (the answer to a post, made from what
    its write linked, lists them so too: roost/domain/statuses/written.py)."""
    return union_all(
        select(
            mentions.c.status_id.label("status_id"),
            mentions.c.account_id.label("account_id"),
            null().label("tag_id"),
            null().label("tag"),
        ).where(mentions.c.status_id.in_(status_ids)),
        select(status_tags.c.status_id, null(), status_tags.c.tag_id, tags.c.name)
        .join(tags, tags.c.id == status_tags.c.tag_id)
        .where(status_tags.c.status_id.in_(status_ids)),
    ).order_by(literal_column("status_id"), literal_column("account_id"), literal_column("tag_id"))


_FLAG_SOURCES = (("favourited", favourites), ("bookmarked", bookmarks), ("pinned", pins))


async def _viewer_flags(
    conn: AsyncConnection, viewer: Viewer, status_ids: list[int]
) -> dict[str, set[int]]:
    """Which of the posts the viewer favourited, boosted, bookmarked, pinned (one query)."""
    flags: dict[str, set[int]] = {
        "favourited": set(),
        "reblogged": set(),
        "bookmarked": set(),
        "pinned": set(),
    }
    if viewer.account_id is None:
        return flags
    me = viewer.account_id
    parts = [
        select(
            literal_column(f"'{name}'").label("flag"), table.c.status_id.label("status_id")
        ).where(table.c.account_id == me, table.c.status_id.in_(status_ids))
        for name, table in _FLAG_SOURCES
    ]
    parts.append(
        select(literal_column("'reblogged'"), statuses.c.reblog_of_id).where(
            statuses.c.account_id == me, statuses.c.reblog_of_id.in_(status_ids)
        )
    )
    for row in await conn.execute(union_all(*parts)):
        flags[row.flag].add(row.status_id)
    return flags


async def status(conn: AsyncConnection, viewer: Viewer, status_id: int) -> Visible[StatusView]:
    row = await privacy.check_status(conn, viewer, status_id)
    views = await hydrate(conn, viewer, [row])
    if not views:
        raise NotFound()
    return views[0]


async def statuses_by_ids(
    conn: AsyncConnection, viewer: Viewer, ids: Sequence[int]
) -> list[Visible[StatusView]]:
    """The visible ones among ``ids``, in the order given."""
    if not ids:
        return []
    rows = await privacy.visible_statuses(
        conn, viewer, select(statuses).where(statuses.c.id.in_(list(ids)))
    )
    views = {v.value.status.id: v for v in await hydrate(conn, viewer, rows)}
    return [views[i] for i in ids if i in views]


async def paged(
    conn: AsyncConnection, viewer: Viewer, query: Any, page: Page
) -> list[Visible[StatusView]]:
    """A page of a status query, newest first, through the policy."""
    rows = await privacy.visible_statuses(conn, viewer, page_of(query, statuses.c.id, page))
    return await hydrate(conn, viewer, newest_first(rows, page))


async def history(
    conn: AsyncConnection, viewer: Viewer, status_id: int
) -> tuple[Visible[StatusView], list[StatusEdit]]:
    view = await status(conn, viewer, status_id)  # NotFound for a post not shown
    edits = await versions(conn, status_id)
    return view, edits


def account_statuses_query(
    account_id: int,
    *,
    exclude_replies: bool,
    exclude_reblogs: bool,
    tagged: str | None,
    pinned_only: bool,
    only_media: bool = False,
) -> Any:
    query = select(statuses).where(statuses.c.account_id == account_id)
    if only_media:
        query = query.where(media_queries.with_media_each())
    if exclude_replies:
        # Replies to oneself (threads) still belong on the profile.
        query = query.where(
            (statuses.c.in_reply_to_id.is_(None))
            | (statuses.c.in_reply_to_account_id == account_id)
        )
    if exclude_reblogs:
        query = query.where(statuses.c.reblog_of_id.is_(None))
    if tagged:
        query = query.where(
            statuses.c.id.in_(
                select(status_tags.c.status_id)
                .join(tags, tags.c.id == status_tags.c.tag_id)
                .where(tags.c.name_key == tag_key(tagged))
            )
        )
    if pinned_only:
        query = query.where(
            statuses.c.id.in_(select(pins.c.status_id).where(pins.c.account_id == account_id))
        )
    return query


# A page cache asks this of posts other processes made (roost/web/cache.py):
# a prepared read, not a SQLAlchemy transaction of its own (four round trips).
_PARENT = Prepared(
    lambda: select(statuses.c.in_reply_to_id).where(statuses.c.id == bindparam("status_id"))
)


async def parent_of(reader: FastReader, status_id: int) -> int | None:
    """The id of the post ``status_id`` replies to (None: none, or no such post)."""
    rows = await reader.all(_PARENT, status_id=status_id)
    return None if not rows else rows[0][0]


Marks = Literal["favourites", "bookmarks"]
_MARKED = {"favourites": favourites, "bookmarks": bookmarks}


async def interaction_list(
    conn: AsyncConnection, viewer: Viewer, kind: Marks, page: Page
) -> tuple[list[Visible[StatusView]], int | None, int | None]:
    """The viewer's favourites or bookmarks, paged by when they acted.

    Returns the views and the interaction ids at both ends, for Link headers.
    """
    assert viewer.account_id is not None
    table = _MARKED[kind]
    query = page_of(
        select(table.c.id, table.c.status_id).where(table.c.account_id == viewer.account_id),
        table.c.id,
        page,
    )
    rows = newest_first((await conn.execute(query)).all(), page)
    views = await statuses_by_ids(conn, viewer, [r.status_id for r in rows])
    if not rows:
        return views, None, None
    return views, rows[0].id, rows[-1].id


async def interacting_accounts(
    conn: AsyncConnection, viewer: Viewer, status_id: int, kind: str, page: Page
) -> tuple[list[Visible[RowMapping]], int | None, int | None]:
    """Who favourited or boosted a post the viewer can see."""
    await privacy.check_status(conn, viewer, status_id)
    if kind == "favourited_by":
        source = select(favourites.c.id.label("key"), favourites.c.account_id).where(
            favourites.c.status_id == status_id
        )
        key = favourites.c.id
    else:
        source = select(statuses.c.id.label("key"), statuses.c.account_id).where(
            statuses.c.reblog_of_id == status_id
        )
        key = statuses.c.id
    rows = newest_first((await conn.execute(page_of(source, key, page))).all(), page)
    by_id = {
        r.value["id"]: r
        for r in await privacy.visible_accounts(
            conn,
            viewer,
            select(accounts).where(accounts.c.id.in_([row.account_id for row in rows])),
        )
    }
    ordered = [by_id[row.account_id] for row in rows if row.account_id in by_id]
    if not rows:
        return ordered, None, None
    return ordered, rows[0].key, rows[-1].key
