"""Reading one's notifications.

What is shown is decided now, not when the notification was made: one whose
sender the recipient may not see in a list (suspended, or a block either way),
whose sender's notifications the recipient has muted, or whose post the
recipient may no longer see, is left out; the filter is SQL, so pages stay full
and the unread count agrees with the list. The account and the post each shown
notification points at are then cleared through the privacy policy again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache, partial
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import ReadScope
from roost.db.fastread import Prepared
from roost.db.tables import accounts, notifications, statuses
from roost.db.types import Id
from roost.domain import privacy
from roost.domain.accounts import moved
from roost.domain.accounts.interned import interned
from roost.domain.graph.mutes import mute_time, muted_ids
from roost.domain.markers.queries import markers_of
from roost.domain.pagination import newest_first, page_of
from roost.domain.privacy import Visible
from roost.domain.reports.model import Report
from roost.domain.reports.queries import MANAGE as MANAGE_REPORTS
from roost.domain.reports.queries import report_by_id
from roost.domain.statuses.feed import Accounts, by_ids
from roost.domain.statuses.queries import statuses_by_ids
from roost.domain.strikes.model import Warning
from roost.domain.strikes.queries import warnings_by_id
from roost.domain.timelines.quiet import read_time
from roost.domain.types import Account, NotificationView, Page, StatusView, Viewer
from roost.errors import NotFound

# Mastodon caps the unread count; apps show "99+" rather than an exact figure.
UNREAD_LIMIT_DEFAULT = 100
UNREAD_LIMIT_MAX = 1000


_NOTIFIED = statuses.alias("notified_status")


@lru_cache(maxsize=256)
def _post_shown(account_id: int, is_admin: bool) -> ColumnElement[bool]:
    """True when the notification names no post or one the viewer may see.
    Built once per recent viewer (as ``privacy.status_clause`` is for the
    statuses table): building the policy's clause cost more than running it."""
    return _post_shown_clause(Viewer(account_id=account_id, is_admin=is_admin))


def _post_shown_clause(viewer: Viewer) -> ColumnElement[bool]:
    return or_(
        notifications.c.status_id.is_(None),
        exists(
            select(_NOTIFIED.c.id).where(
                _NOTIFIED.c.id == notifications.c.status_id,
                privacy.status_clause(viewer, _NOTIFIED),
            )
        ),
    )


def shown_conditions(
    viewer: Viewer, *, manages_reports: bool | None = None, now: Any = None
) -> list[ColumnElement[bool]]:
    """``manages_reports`` and ``now`` given: for a statement compiled once,
    whose viewer is ``privacy.parametric_viewer``'s."""
    me = viewer.account_id
    assert me is not None
    if manages_reports is None:
        manages_reports = viewer.may(MANAGE_REPORTS)
    staff_only = [] if manages_reports else [notifications.c.type != "admin.report"]
    return [
        *staff_only,
        notifications.c.account_id == me,
        privacy.listed_account_id(viewer, notifications.c.from_account_id),
        notifications.c.from_account_id.not_in(muted_ids(me, hiding_notifications=True, now=now)),
        _post_shown(me, viewer.is_admin) if now is None else _post_shown_clause(viewer),
    ]


def shown_query(
    query: Select[Any],
    viewer: Viewer,
    types: list[str] | None,
    exclude_types: list[str] | None,
    from_account_id: int | None,
    *,
    include_filtered: bool = False,
) -> Select[Any]:
    """``query`` over notifications, narrowed to those the viewer is shown now
    (and asked for); those held back by the notification policy only with
    ``include_filtered``."""
    query = query.where(*shown_conditions(viewer))
    if not include_filtered:
        query = query.where(notifications.c.filtered.is_(False))
    if types:
        query = query.where(notifications.c.type.in_(types))
    if exclude_types:
        query = query.where(notifications.c.type.not_in(exclude_types))
    if from_account_id is not None:
        query = query.where(notifications.c.from_account_id == from_account_id)
    return query


async def notification_list(
    conn: AsyncConnection,
    viewer: Viewer,
    page: Page,
    *,
    types: list[str] | None = None,
    exclude_types: list[str] | None = None,
    from_account_id: int | None = None,
    include_filtered: bool = False,
    reads: ReadScope | None = None,
) -> tuple[list[Visible[NotificationView]], int | None, int | None]:
    """A page of the viewer's notifications; ``reads`` (the request's, over
    ``conn``) reads their posts as timelines do (``feed.by_ids``)."""
    query = shown_query(
        select(notifications),
        viewer,
        types,
        exclude_types,
        from_account_id,
        include_filtered=include_filtered,
    )
    rows = newest_first(
        list((await conn.execute(page_of(query, notifications.c.id, page))).mappings().all()),
        page,
    )
    views = await _views(conn, viewer, rows, reads)
    if not rows:
        return views, None, None
    return views, int(rows[0]["id"]), int(rows[-1]["id"])


_COLUMNS = tuple(column.key for column in notifications.c)
# (viewer kind, manages reports, include_filtered, max_id, since_id, min_id)
_Shape = tuple[str, bool, bool, bool, bool, bool]
_PAGES: dict[_Shape, Prepared] = {}


def _page_read(shape: _Shape) -> Select[Any]:
    kind, manages_reports, include_filtered, has_max, has_since, has_min = shape
    viewer = privacy.parametric_viewer(kind)
    query = select(notifications).where(
        *shown_conditions(viewer, manages_reports=manages_reports, now=read_time())
    )
    if not include_filtered:
        query = query.where(notifications.c.filtered.is_(False))
    key = notifications.c.id
    if has_max:
        query = query.where(key < bindparam("max_id", type_=Id))
    if has_since:
        query = query.where(key > bindparam("since_id", type_=Id))
    limit = bindparam("limit", type_=Integer())
    if has_min:
        return query.where(key > bindparam("min_id", type_=Id)).order_by(key.asc()).limit(limit)
    return query.order_by(key.desc()).limit(limit)


async def notification_page(
    reads: ReadScope,
    viewer: Viewer,
    page: Page,
    *,
    types: list[str] | None = None,
    exclude_types: list[str] | None = None,
    from_account_id: int | None = None,
    include_filtered: bool = False,
) -> tuple[list[Visible[NotificationView]], int | None, int | None]:
    """``notification_list``'s page. Without ``types``, ``exclude_types`` or
    ``from_account_id`` (what apps ask on every refresh) it is one prepared
    read of the same rules (roost/db/fastread.py), compiled once per shape,
    and the senders and their moves are prepared reads too."""
    if types or exclude_types or from_account_id is not None:
        return await notification_list(
            await reads.conn(),
            viewer,
            page,
            types=types,
            exclude_types=exclude_types,
            from_account_id=from_account_id,
            include_filtered=include_filtered,
            reads=reads,
        )
    rows = newest_first(
        await shown_rows(reads, viewer, page, include_filtered=include_filtered), page
    )
    views = await _views(None, viewer, rows, reads)
    # Prepared reads on SQLite run on the loop, each giving it one turn: a
    # page of them may end a turn after its last read, and admission control
    # (roost/api/admission.py) tells a queue by the loop's turns. Two turns
    # let it see the loop caught up, as a read through the database's thread
    # does; without them a client that asks again in the same task (the
    # in-process transport of the privacy model's test) was taken for a
    # queue behind a slow page and refused.
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    if not rows:
        return views, None, None
    return views, int(rows[0]["id"]), int(rows[-1]["id"])


async def shown_rows(
    reads: ReadScope, viewer: Viewer, page: Page, *, include_filtered: bool
) -> list[dict[str, Any]]:
    """The rows of the viewer's notifications ``shown_query`` lets through
    (all types) within ``page``, in the order ``page_of`` reads them: one
    prepared read, compiled once per shape."""
    shape: _Shape = (
        privacy.viewer_kind(viewer),
        viewer.may(MANAGE_REPORTS),
        include_filtered,
        page.max_id is not None,
        page.since_id is not None,
        page.min_id is not None,
    )
    prepared = _PAGES.get(shape)
    if prepared is None:
        prepared = _PAGES[shape] = Prepared(partial(_page_read, shape))
    values: dict[str, Any] = {"limit": page.limit, "now": mute_time()}
    for name in ("max_id", "since_id", "min_id"):
        if getattr(page, name) is not None:
            values[name] = getattr(page, name)
    values.update(privacy.viewer_parameters(viewer))
    found = await reads.fast.all(prepared, **values)
    return [dict(zip(_COLUMNS, row, strict=True)) for row in found]


async def notification(
    conn: AsyncConnection, viewer: Viewer, notification_id: int
) -> Visible[NotificationView]:
    query = shown_query(
        select(notifications), viewer, None, None, None, include_filtered=True
    ).where(notifications.c.id == notification_id)
    row = (await conn.execute(query)).mappings().first()
    views = await _views(conn, viewer, [row] if row is not None else [])
    if not views:
        raise NotFound()
    return views[0]


async def unread_count(
    conn: AsyncConnection,
    viewer: Viewer,
    since_id: int | None,
    *,
    limit: int = UNREAD_LIMIT_DEFAULT,
    types: list[str] | None = None,
    exclude_types: list[str] | None = None,
    from_account_id: int | None = None,
) -> int:
    """How many shown notifications are newer than ``since_id`` (by default the
    account's notifications read marker, as Mastodon counts), up to ``limit``."""
    if since_id is None:
        marker = (await markers_of(conn, viewer, ["notifications"])).get("notifications")
        since_id = marker.last_read_id if marker is not None else None
    query = shown_query(select(notifications.c.id), viewer, types, exclude_types, from_account_id)
    if since_id is not None:
        query = query.where(notifications.c.id > since_id)
    capped = query.limit(max(1, min(limit, UNREAD_LIMIT_MAX))).subquery()
    return int((await conn.execute(select(func.count()).select_from(capped))).scalar_one())


async def _views(
    conn: AsyncConnection | None,
    viewer: Viewer,
    rows: Sequence[Mapping[str, Any]],
    reads: ReadScope | None = None,
) -> list[Visible[NotificationView]]:
    """Views of notification rows; with ``conn`` None, ``reads`` reads them
    (prepared reads where there are, its connection for the rest)."""
    if not rows:
        return []

    async def connection() -> AsyncConnection:
        if conn is not None:
            return conn
        assert reads is not None
        return await reads.conn()

    from_ids = {r["from_account_id"] for r in rows}
    status_ids = [r["status_id"] for r in rows if r["status_id"] is not None]
    senders: dict[int, Visible[Any]]
    if conn is None:
        assert reads is not None
        # The senders are read with the posts' mentions, and carry their
        # moves: a sender that moved shows where (roost/domain/accounts/moved.py).
        beside = Accounts(wanted=from_ids)
        found = await by_ids(reads, viewer, status_ids, beside=beside)
        senders = {r.value["id"]: r for r in beside.listed}
        moves = beside.moves
    else:
        senders = {
            r.value["id"]: r
            for r in await privacy.visible_accounts(
                conn, viewer, select(accounts).where(accounts.c.id.in_(from_ids))
            )
        }
        moves = await moved.moved_targets(conn, senders)
        found = await statuses_by_ids(conn, viewer, status_ids)
    targets = await moved.shown_targets(await connection(), viewer, moves) if moves else {}
    posts = {v.value.status.id: v for v in found}
    report_ids = [r["report_id"] for r in rows if r["report_id"]]
    reported = await _reports(await connection(), viewer, report_ids) if report_ids else {}
    warning_ids = [r["account_warning_id"] for r in rows if r["account_warning_id"]]
    strikes = await warnings_by_id(await connection(), viewer, warning_ids) if warning_ids else {}
    result: list[Visible[NotificationView]] = []
    for r in rows:
        sender = senders.get(r["from_account_id"])
        if sender is None:
            continue
        if r["report_id"] is not None:
            if r["report_id"] not in reported:
                continue
            report, target = reported[r["report_id"]]
            result.append(
                sender.derive(_notification_view(r, None, report, target, targets=targets))
            )
            continue
        if r["account_warning_id"] is not None:
            strike = strikes.get(r["account_warning_id"])
            if strike is not None:
                result.append(
                    sender.derive(_notification_view(r, None, warning=strike, targets=targets))
                )
            continue
        post = None
        if r["status_id"] is not None:
            cleared = posts.get(r["status_id"])
            if cleared is None:
                continue
            post = cleared.value
        result.append(sender.derive(_notification_view(r, post, targets=targets)))
    return result


async def _reports(
    conn: AsyncConnection, viewer: Viewer, report_ids: list[int]
) -> dict[int, tuple[Report, Account]]:
    """The reports of ``admin.report`` notifications, each with its target as
    the policy shows it to the (staff) viewer."""
    if not report_ids or not viewer.may(MANAGE_REPORTS):
        return {}
    found: dict[int, tuple[Report, Account]] = {}
    for report_id in set(report_ids):
        try:
            report = await report_by_id(conn, report_id)
            target = await privacy.check_account(conn, viewer, report.target_account_id)
        except NotFound:
            continue
        found[report_id] = (report, Account.from_row(target.value))
    return found


def _notification_view(
    row: Mapping[str, Any],
    post: StatusView | None,
    report: Report | None = None,
    target: Account | None = None,
    *,
    warning: Warning | None = None,
    targets: dict[int, Account] | None = None,
) -> Callable[[Mapping[str, Any]], NotificationView]:
    def make(sender: Mapping[str, Any]) -> NotificationView:
        return NotificationView(
            id=row["id"],
            type=row["type"],
            created_at=row["created_at"],
            account=moved.with_target(interned(sender), targets or {}),
            status=post,
            group_key=row["group_key"],
            report=report,
            report_target=target,
            warning=warning,
        )

    return make
