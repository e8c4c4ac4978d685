"""Reading one's notifications.

What is shown is decided now, not when the notification was made: one whose
sender the recipient may not see in a list (suspended, or a block either way),
whose sender's notifications the recipient has muted, or whose post the
recipient may no longer see, is left out; the filter is SQL, so pages stay full
and the unread count agrees with the list. The account and the post each shown
notification points at are then cleared through the privacy policy again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import ReadScope
from roost.db.tables import accounts, notifications, statuses
from roost.domain import privacy
from roost.domain.accounts import moved
from roost.domain.graph.mutes import muted_ids
from roost.domain.markers.queries import markers_of
from roost.domain.pagination import newest_first, page_of
from roost.domain.privacy import Visible
from roost.domain.reports.model import Report
from roost.domain.reports.queries import MANAGE as MANAGE_REPORTS
from roost.domain.reports.queries import report_by_id
from roost.domain.statuses.feed import by_ids
from roost.domain.statuses.queries import statuses_by_ids
from roost.domain.strikes.model import Warning
from roost.domain.strikes.queries import warnings_by_id
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
    viewer = Viewer(account_id=account_id, is_admin=is_admin)
    return or_(
        notifications.c.status_id.is_(None),
        exists(
            select(_NOTIFIED.c.id).where(
                _NOTIFIED.c.id == notifications.c.status_id,
                privacy.status_clause(viewer, _NOTIFIED),
            )
        ),
    )


def _shown(viewer: Viewer) -> list[ColumnElement[bool]]:
    me = viewer.account_id
    assert me is not None
    staff_only = [] if viewer.may(MANAGE_REPORTS) else [notifications.c.type != "admin.report"]
    return [
        *staff_only,
        notifications.c.account_id == me,
        privacy.listed_account_id(viewer, notifications.c.from_account_id),
        notifications.c.from_account_id.not_in(muted_ids(me, hiding_notifications=True)),
        _post_shown(me, viewer.is_admin),
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
    query = query.where(*_shown(viewer))
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
    conn: AsyncConnection,
    viewer: Viewer,
    rows: list[RowMapping],
    reads: ReadScope | None = None,
) -> list[Visible[NotificationView]]:
    if not rows:
        return []
    from_ids = {r["from_account_id"] for r in rows}
    senders = {
        r.value["id"]: r
        for r in await privacy.visible_accounts(
            conn, viewer, select(accounts).where(accounts.c.id.in_(from_ids))
        )
    }
    # Senders that moved show where (``moved``, roost/domain/accounts/moved.py).
    moves = await moved.moved_targets(conn, senders)
    targets = await moved.shown_targets(conn, viewer, moves) if moves else {}
    status_ids = [r["status_id"] for r in rows if r["status_id"] is not None]
    found = (
        await by_ids(reads, viewer, status_ids)
        if reads is not None
        else await statuses_by_ids(conn, viewer, status_ids)
    )
    posts = {v.value.status.id: v for v in found}
    reported = await _reports(conn, viewer, [r["report_id"] for r in rows if r["report_id"]])
    strikes = await warnings_by_id(
        conn, viewer, [r["account_warning_id"] for r in rows if r["account_warning_id"]]
    )
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
    row: RowMapping,
    post: StatusView | None,
    report: Report | None = None,
    target: Account | None = None,
    *,
    warning: Warning | None = None,
    targets: dict[int, Account] | None = None,
) -> Callable[[RowMapping], NotificationView]:
    def make(sender: RowMapping) -> NotificationView:
        return NotificationView(
            id=row["id"],
            type=row["type"],
            created_at=row["created_at"],
            account=moved.with_target(Account.from_row(sender), targets or {}),
            status=post,
            group_key=row["group_key"],
            report=report,
            report_target=target,
            warning=warning,
        )

    return make
