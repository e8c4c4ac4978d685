"""Reading reports: the reporter's own, and staff's list and single report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.tables import report_rules, report_statuses, reports
from roost.domain.pagination import newest_first, page_of
from roost.domain.reports.model import Report, ReportedPost
from roost.domain.roles.permissions import Permission
from roost.domain.types import Page, Viewer
from roost.errors import Forbidden, NotFound

MANAGE = Permission.MANAGE_REPORTS


def check_staff(viewer: Viewer) -> None:
    if not viewer.may(MANAGE):
        raise Forbidden("This action is not allowed")


async def _complete(conn: AsyncConnection, rows: list[Any]) -> list[Report]:
    ids = [row.id for row in rows]
    if not ids:
        return []
    posts: dict[int, list[ReportedPost]] = {i: [] for i in ids}
    for row in await conn.execute(
        select(report_statuses)
        .where(report_statuses.c.report_id.in_(ids))
        .order_by(report_statuses.c.status_id)
    ):
        posts[row.report_id].append(
            ReportedPost(
                status_id=row.status_id,
                account_id=row.account_id,
                content=row.content,
                spoiler_text=row.spoiler_text,
                media=json.loads(row.media) if row.media else [],
                visibility=row.visibility,
                posted_at=row.posted_at,
            )
        )
    rules: dict[int, list[int]] = {i: [] for i in ids}
    for row in await conn.execute(
        select(report_rules)
        .where(report_rules.c.report_id.in_(ids))
        .order_by(report_rules.c.rule_id)
    ):
        rules[row.report_id].append(row.rule_id)
    return [
        Report(
            id=row.id,
            account_id=row.account_id,
            target_account_id=row.target_account_id,
            comment=row.comment,
            category=row.category,
            forward=row.forward,
            assigned_account_id=row.assigned_account_id,
            action_taken_at=row.action_taken_at,
            action_taken_by_account_id=row.action_taken_by_account_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
            status_ids=[p.status_id for p in posts[row.id]],
            rule_ids=rules[row.id],
            posts=posts[row.id],
        )
        for row in rows
    ]


async def report_by_id(conn: AsyncConnection, report_id: int) -> Report:
    """Any report (for the actions, which check who asks)."""
    rows = (await conn.execute(select(reports).where(reports.c.id == report_id))).all()
    if not rows:
        raise NotFound()
    return (await _complete(conn, list(rows)))[0]


async def staff_report(conn: AsyncConnection, viewer: Viewer, report_id: int) -> Report:
    check_staff(viewer)
    return await report_by_id(conn, report_id)


@dataclass(frozen=True)
class ReportFilter:
    resolved: bool | None = None
    account_id: int | None = None  # the reporter
    target_account_id: int | None = None


async def staff_reports(
    conn: AsyncConnection, viewer: Viewer, wanted: ReportFilter, page: Page
) -> tuple[list[Report], int | None, int | None]:
    """Reports, newest first (unresolved only unless asked, as Mastodon lists them)."""
    check_staff(viewer)
    query = select(reports)
    if wanted.resolved:
        query = query.where(reports.c.action_taken_at.is_not(None))
    else:
        query = query.where(reports.c.action_taken_at.is_(None))
    if wanted.account_id is not None:
        query = query.where(reports.c.account_id == wanted.account_id)
    if wanted.target_account_id is not None:
        query = query.where(reports.c.target_account_id == wanted.target_account_id)
    rows = (await conn.execute(page_of(query, reports.c.id, page))).all()
    found = await _complete(conn, newest_first(list(rows), page))
    if not found:
        return [], None, None
    return found, found[0].id, found[-1].id


async def open_reports(conn: AsyncConnection, limit: int) -> list[Report]:
    """The oldest ``limit`` open reports (for the queue, which orders them)."""
    rows = (
        await conn.execute(
            select(reports)
            .where(reports.c.action_taken_at.is_(None))
            .order_by(reports.c.created_at, reports.c.id)
            .limit(limit)
        )
    ).all()
    return await _complete(conn, list(rows))
