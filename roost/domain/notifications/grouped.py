"""Reading notifications in groups (Mastodon 4.3's /api/v2/notifications).

A page holds up to ``limit`` groups, in the order of each group's newest
notification within the page's bounds; a group of many notifications may
show again on an older page, as Mastodon's does. Every notification counted
is one the viewer is shown now (``queries.shown_query``: the privacy policy in
SQL); the accounts and posts returned beside the groups are cleared again
through the policy, and a group whose post is no longer visible is left out.

Above 500 lines: the page is read two ways with the same rules, through
SQLAlchemy (filtered pages, large groups) and through prepared reads (what
apps ask on every refresh), and the two are kept side by side so that a rule
changed in one is seen beside the other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import ReadScope, Tx
from roost.db.fastread import Prepared
from roost.db.tables import accounts, notifications
from roost.db.types import Id
from roost.domain import privacy
from roost.domain.accounts import moved
from roost.domain.accounts.interned import interned
from roost.domain.graph.mutes import mute_time
from roost.domain.markers.queries import markers_of
from roost.domain.notifications.groups import GROUPABLE, shown_key, ungrouped_id
from roost.domain.notifications.queries import (
    UNREAD_LIMIT_MAX,
    shown_conditions,
    shown_query,
    shown_rows,
)
from roost.domain.privacy import Visible
from roost.domain.reports.queries import MANAGE as MANAGE_REPORTS
from roost.domain.statuses.feed import Accounts, by_ids
from roost.domain.statuses.queries import statuses_by_ids
from roost.domain.timelines.quiet import read_time
from roost.domain.types import Account, Page, StatusView, Viewer
from roost.errors import NotFound

SAMPLE_ACCOUNTS = 8
# How many of a group's newest notifications are read for its sample accounts.
SAMPLE_SCAN = 200
_COLUMNS = (
    notifications.c.id,
    notifications.c.type,
    notifications.c.group_key,
    notifications.c.from_account_id,
    notifications.c.status_id,
    notifications.c.created_at,
)


class _Note(NamedTuple):
    """A notification as groups are made of it: ``_COLUMNS``."""

    id: int
    type: str
    group_key: str | None
    from_account_id: int
    status_id: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Kinds:
    """Which notifications the client asks for, and which types it groups."""

    types: list[str] | None = None
    exclude_types: list[str] | None = None
    from_account_id: int | None = None
    grouped_types: frozenset[str] = frozenset(GROUPABLE)
    include_filtered: bool = False


@dataclass(frozen=True, slots=True)
class NotificationGroup:
    group_key: str
    type: str
    notifications_count: int
    most_recent_notification_id: int
    latest_at: datetime
    sample_account_ids: list[int]
    status_id: int | None
    page_min_id: int | None = None
    page_max_id: int | None = None


@dataclass(frozen=True, slots=True)
class GroupedPage:
    groups: list[NotificationGroup]
    accounts: list[Visible[Account]]  # cleared sample accounts, in order
    statuses: list[Visible[StatusView]]
    newest_id: int | None = None
    oldest_id: int | None = None


def _query(viewer: Viewer, kinds: Kinds) -> Select[Any]:
    return shown_query(
        select(*_COLUMNS),
        viewer,
        kinds.types,
        kinds.exclude_types,
        kinds.from_account_id,
        include_filtered=kinds.include_filtered,
    )


def _group_clause(key: str) -> ColumnElement[bool]:
    single = ungrouped_id(key)
    if single is not None:
        return notifications.c.id == single
    return notifications.c.group_key == key


async def _collect(
    conn: AsyncConnection, viewer: Viewer, page: Page, kinds: Kinds
) -> dict[str, list[Any]]:
    """Rows of the page by shown group key, first met first, in read order."""
    ascending = page.min_id is not None
    base = _query(viewer, kinds)
    if page.max_id is not None:
        base = base.where(notifications.c.id < page.max_id)
    if page.since_id is not None:
        base = base.where(notifications.c.id > page.since_id)
    if page.min_id is not None:
        base = base.where(notifications.c.id > page.min_id)
    order = notifications.c.id.asc() if ascending else notifications.c.id.desc()

    async def batch(cursor: int | None, size: int) -> Sequence[Any]:
        query = base
        if cursor is not None:
            query = query.where(
                notifications.c.id > cursor if ascending else notifications.c.id < cursor
            )
        rows: Sequence[Any] = (await conn.execute(query.order_by(order).limit(size))).all()
        return rows

    return await _in_groups(batch, page, kinds)


async def _collect_read(
    reads: ReadScope, viewer: Viewer, page: Page, kinds: Kinds
) -> dict[str, list[Any]]:
    """``_collect`` through ``queries.shown_rows``' prepared read (all types):
    each batch is the page's bounds with the cursor as ``max_id`` (or
    ``min_id``, reading upwards), which lies within them."""

    async def batch(cursor: int | None, size: int) -> Sequence[Any]:
        bounds = page
        if cursor is not None:
            ascending = page.min_id is not None
            bounds = replace(page, min_id=cursor) if ascending else replace(page, max_id=cursor)
        rows = await shown_rows(
            reads, viewer, replace(bounds, limit=size), include_filtered=kinds.include_filtered
        )
        return [_note(row) for row in rows]

    return await _in_groups(batch, page, kinds)


def _note(row: Mapping[str, Any]) -> _Note:
    return _Note(*(row[column.key] for column in _COLUMNS))


async def _in_groups(
    batch: Callable[[int | None, int], Awaitable[Sequence[Any]]], page: Page, kinds: Kinds
) -> dict[str, list[Any]]:
    size = max(page.limit * 4, 40)
    groups: dict[str, list[Any]] = {}
    cursor: int | None = None
    while True:
        rows = await batch(cursor, size)
        for row in rows:
            key = shown_key(row.id, row.type, row.group_key, kinds.grouped_types)
            if key not in groups:
                if len(groups) == page.limit:
                    return groups
                groups[key] = []
            groups[key].append(row)
        if len(rows) < size:
            return groups
        cursor = rows[-1].id


def _group_query(viewer: Viewer, kinds: Kinds, key: str, up_to: int | None) -> Select[Any]:
    query = _query(viewer, kinds).where(_group_clause(key))
    if up_to is not None:
        query = query.where(notifications.c.id <= up_to)
    return query


async def _aggregate(
    conn: AsyncConnection, viewer: Viewer, kinds: Kinds, key: str, up_to: int | None
) -> NotificationGroup | None:
    """The group ``key`` over its notifications up to id ``up_to`` (all if None)."""
    query = _group_query(viewer, kinds, key, up_to)
    # The newest ones give the sample; a popular post's thousands are only counted.
    recent = query.order_by(notifications.c.id.desc()).limit(SAMPLE_SCAN)
    rows = (await conn.execute(recent)).all()

    async def connection() -> AsyncConnection:
        return conn

    return await _summary(connection, viewer, kinds, key, up_to, rows)


# (viewer kind, manages reports, include_filtered, up_to)
_GroupShape = tuple[str, bool, bool, bool]
_GROUPS: dict[_GroupShape, Prepared] = {}


def _group_read(shape: _GroupShape) -> Select[Any]:
    """``_aggregate``'s read of a stored group (``key``) as a prepared one,
    for all types: the viewer, the key and ``up_to`` are parameters."""
    kind, manages_reports, include_filtered, has_up_to = shape
    viewer = privacy.parametric_viewer(kind)
    query = select(*_COLUMNS).where(
        *shown_conditions(viewer, manages_reports=manages_reports, now=read_time()),
        notifications.c.group_key == bindparam("key", type_=String()),
    )
    if not include_filtered:
        query = query.where(notifications.c.filtered.is_(False))
    if has_up_to:
        query = query.where(notifications.c.id <= bindparam("up_to", type_=Id))
    return query.order_by(notifications.c.id.desc()).limit(bindparam("scan", type_=Integer()))


async def _aggregate_read(
    reads: ReadScope, viewer: Viewer, kinds: Kinds, key: str, up_to: int | None
) -> NotificationGroup | None:
    """``_aggregate`` of a stored group in one prepared read (all types); a
    group of more than ``SAMPLE_SCAN`` is counted through ``reads``'
    connection."""
    assert ungrouped_id(key) is None, "a notification alone is read with the page"
    shape: _GroupShape = (
        privacy.viewer_kind(viewer),
        viewer.may(MANAGE_REPORTS),
        kinds.include_filtered,
        up_to is not None,
    )
    prepared = _GROUPS.get(shape)
    if prepared is None:
        prepared = _GROUPS[shape] = Prepared(partial(_group_read, shape))
    values: dict[str, Any] = {
        "key": key,
        "scan": SAMPLE_SCAN,
        "now": mute_time(),
        **privacy.viewer_parameters(viewer),
    }
    if up_to is not None:
        values["up_to"] = up_to
    rows = [_Note(*row) for row in await reads.fast.all(prepared, **values)]
    return await _summary(reads.conn, viewer, kinds, key, up_to, rows)


async def _summary(
    connection: Callable[[], Awaitable[AsyncConnection]],
    viewer: Viewer,
    kinds: Kinds,
    key: str,
    up_to: int | None,
    rows: Sequence[Any],
) -> NotificationGroup | None:
    """The group of its newest ``SAMPLE_SCAN`` rows (newest first)."""
    if not rows:
        return None
    count = len(rows)
    if count == SAMPLE_SCAN:
        query = _group_query(viewer, kinds, key, up_to)
        counted = select(func.count()).select_from(query.subquery())
        count = int((await (await connection()).execute(counted)).scalar_one())
    return _group_of(key, rows, count)


def _group_of(key: str, rows: Sequence[Any], count: int) -> NotificationGroup:
    newest = rows[0]
    samples: list[int] = []
    for row in rows:
        if row.from_account_id not in samples:
            samples.append(row.from_account_id)
            if len(samples) == SAMPLE_ACCOUNTS:
                break
    return NotificationGroup(
        group_key=key,
        type=newest.type,
        notifications_count=count,
        most_recent_notification_id=newest.id,
        latest_at=newest.created_at,
        sample_account_ids=samples,
        status_id=newest.status_id,
    )


async def _with_entities(
    conn: AsyncConnection, viewer: Viewer, groups: list[NotificationGroup]
) -> GroupedPage:
    account_ids = list(dict.fromkeys(a for g in groups for a in g.sample_account_ids))
    cleared_accounts = {
        row.value["id"]: row
        for row in await privacy.visible_accounts(
            conn, viewer, select(accounts).where(accounts.c.id.in_(account_ids))
        )
    }
    status_ids = list(dict.fromkeys(g.status_id for g in groups if g.status_id is not None))
    posts = await statuses_by_ids(conn, viewer, status_ids)
    kept = _kept(groups, cleared_accounts, posts)
    shown_accounts = list(dict.fromkeys(a for g in kept for a in g.sample_account_ids))
    # Accounts that moved show where (``moved``, roost/domain/accounts/moved.py).
    moves = await moved.moved_targets(conn, shown_accounts)
    targets = await moved.shown_targets(conn, viewer, moves) if moves else {}
    return _entities(kept, cleared_accounts, posts, targets)


async def _with_entities_read(
    reads: ReadScope, viewer: Viewer, groups: list[NotificationGroup]
) -> GroupedPage:
    """``_with_entities`` through prepared reads (``feed.by_ids`` is
    ``statuses_by_ids``, and the accounts it reads beside the posts are
    ``visible_accounts`` of a list); a connection only for a moved account's
    target."""
    # The accounts are read with the posts' mentions (one read), with their moves.
    beside = Accounts(wanted={a for g in groups for a in g.sample_account_ids})
    status_ids = list(dict.fromkeys(g.status_id for g in groups if g.status_id is not None))
    posts = await by_ids(reads, viewer, status_ids, beside=beside)
    cleared_accounts = {row.value["id"]: row for row in beside.listed}
    moved_to = beside.moves
    kept = _kept(groups, cleared_accounts, posts)
    shown_accounts = {a for g in kept for a in g.sample_account_ids}
    moves = {a: t for a, t in moved_to.items() if a in shown_accounts}
    targets = await moved.shown_targets(await reads.conn(), viewer, moves) if moves else {}
    return _entities(kept, cleared_accounts, posts, targets)


def _kept(
    groups: list[NotificationGroup],
    cleared_accounts: Mapping[int, Visible[Any]],
    posts: Sequence[Visible[StatusView]],
) -> list[NotificationGroup]:
    """The groups whose post (if any) and some sample account the viewer may
    see, with only those sample accounts."""
    cleared_statuses = {v.value.status.id for v in posts}
    kept: list[NotificationGroup] = []
    for group in groups:
        if group.status_id is not None and group.status_id not in cleared_statuses:
            continue
        samples = [a for a in group.sample_account_ids if a in cleared_accounts]
        if not samples:
            continue
        kept.append(replace(group, sample_account_ids=samples))
    return kept


def _entities(
    kept: list[NotificationGroup],
    cleared_accounts: Mapping[int, Visible[Any]],
    posts: Sequence[Visible[StatusView]],
    targets: Mapping[int, Account],
) -> GroupedPage:
    cleared_statuses = {v.value.status.id: v for v in posts}
    shown_accounts = list(dict.fromkeys(a for g in kept for a in g.sample_account_ids))
    shown_statuses = list(dict.fromkeys(g.status_id for g in kept if g.status_id is not None))
    return GroupedPage(
        groups=kept,
        accounts=[
            cleared_accounts[a].derive(lambda v: moved.with_target(interned(v), targets))
            for a in shown_accounts
        ],
        statuses=[cleared_statuses[s] for s in shown_statuses],
    )


async def grouped_page(
    conn: AsyncConnection, viewer: Viewer, page: Page, kinds: Kinds
) -> GroupedPage:
    collected = await _collect(conn, viewer, page, kinds)
    return await _grouped(
        collected,
        partial(_aggregate, conn, viewer, kinds),
        partial(_with_entities, conn, viewer),
    )


async def grouped_page_read(
    reads: ReadScope, viewer: Viewer, page: Page, kinds: Kinds
) -> GroupedPage:
    """``grouped_page`` for a request's reads. Without ``types``,
    ``exclude_types`` or ``from_account_id`` (what apps ask on every refresh)
    the notifications, each group, its accounts and its posts are prepared
    reads of the same rules (roost/db/fastread.py); a SQLAlchemy connection is
    opened only for what is rare (a group of more than ``SAMPLE_SCAN``, a
    moved account's target, a post's poll or quote)."""
    if kinds.types or kinds.exclude_types or kinds.from_account_id is not None:
        return await grouped_page(await reads.conn(), viewer, page, kinds)
    collected = await _collect_read(reads, viewer, page, kinds)
    return await _grouped(
        collected,
        partial(_aggregate_read, reads, viewer, kinds),
        partial(_with_entities_read, reads, viewer),
    )


async def _grouped(
    collected: dict[str, list[Any]],
    aggregate: Callable[[str, int | None], Awaitable[NotificationGroup | None]],
    with_entities: Callable[[list[NotificationGroup]], Awaitable[GroupedPage]],
) -> GroupedPage:
    groups: list[NotificationGroup] = []
    for key, rows in collected.items():
        ids = [r.id for r in rows]
        if ungrouped_id(key) is not None:
            # A notification alone in its group (``ungrouped-<id>``): the row
            # the page read, through the same rules, is the whole group.
            found: NotificationGroup | None = _group_of(key, rows, len(rows))
        else:
            found = await aggregate(key, max(ids))
        if found is None:
            continue
        groups.append(replace(found, page_min_id=min(ids), page_max_id=max(ids)))
    groups.sort(key=lambda g: g.most_recent_notification_id, reverse=True)
    result = await with_entities(groups)
    every = [r.id for rows in collected.values() for r in rows]
    if not every:
        return result
    return GroupedPage(result.groups, result.accounts, result.statuses, max(every), min(every))


async def group(conn: AsyncConnection, viewer: Viewer, key: str, kinds: Kinds) -> GroupedPage:
    """One group whole; NotFound when the viewer is shown none of it."""
    found = await _aggregate(conn, viewer, kinds, key, None)
    if found is None:
        raise NotFound()
    result = await _with_entities(conn, viewer, [found])
    if not result.groups:
        raise NotFound()
    return result


async def group_accounts(conn: AsyncConnection, viewer: Viewer, key: str) -> list[Visible[Any]]:
    """The accounts behind a group's notifications, most recent first."""
    query = _query(viewer, Kinds(include_filtered=True)).where(_group_clause(key))
    rows = (await conn.execute(query.order_by(notifications.c.id.desc()))).all()
    if not rows:
        raise NotFound()
    ordered = list(dict.fromkeys(r.from_account_id for r in rows))
    cleared = {
        row.value["id"]: row
        for row in await privacy.visible_accounts(
            conn, viewer, select(accounts).where(accounts.c.id.in_(ordered))
        )
    }
    return [cleared[a] for a in ordered if a in cleared]


async def do_dismiss_group(tx: Tx, viewer: Viewer, key: str) -> None:
    """Remove every notification of the group; NotFound when there is none."""
    result = await tx.execute(
        delete(notifications).where(
            notifications.c.account_id == viewer.account_id, _group_clause(key)
        )
    )
    if not result.rowcount:
        raise NotFound()


async def unread_group_count(
    conn: AsyncConnection, viewer: Viewer, kinds: Kinds, limit: int
) -> int:
    """How many groups have a notification newer than the read marker, up to ``limit``."""
    marker = (await markers_of(conn, viewer, ["notifications"])).get("notifications")
    grouped = sorted(kinds.grouped_types)
    key = case(
        (
            notifications.c.group_key.is_not(None) & notifications.c.type.in_(grouped),
            notifications.c.group_key,
        ),
        else_=literal("ungrouped-") + cast(notifications.c.id, String),
    )
    query = shown_query(
        select(key.label("key")),
        viewer,
        kinds.types,
        kinds.exclude_types,
        kinds.from_account_id,
    )
    if marker is not None:
        query = query.where(notifications.c.id > marker.last_read_id)
    capped = query.distinct().limit(max(1, min(limit, UNREAD_LIMIT_MAX))).subquery()
    return int((await conn.execute(select(func.count()).select_from(capped))).scalar_one())
