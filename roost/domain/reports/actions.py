"""Filing a report, and what staff do with it.

A report names an account and, optionally, posts of it that the reporter can
see; each post is copied into the report as it is now (content, content
warning, attachments, visibility, time), sealed under its author's key like
the post itself, so a later edit or deletion does not change what staff
review. ``violation`` needs the ids of the instance rules broken. A report
about an account of another server with ``forward`` is sent there as a Flag
(roost/domain/federation/flags.py); a Flag received from another server is
filed by ``do_receive_report``.

Staff actions (assign to self, unassign, resolve, reopen, change category or
rules) need ``manage_reports`` and are each an audit entry. Resolving queues a
mail to the reporter (roost/domain/reports/handlers.py) telling them the report
was reviewed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update

from roost.clock import utcnow
from roost.db.engine import Tx
from roost.db.tables import (
    accounts,
    instance_rules,
    media_attachments,
    report_rules,
    report_statuses,
    reports,
    statuses,
)
from roost.domain import privacy
from roost.domain.audit.chain import Staff, record
from roost.domain.federation.jobs import SendFlag
from roost.domain.reports.jobs import ReportFiled, ReportResolvedMail
from roost.domain.reports.model import CATEGORIES, MAX_COMMENT, MAX_STATUSES, Report
from roost.domain.reports.queries import MANAGE, check_staff, report_by_id
from roost.domain.roles.permissions import key
from roost.domain.types import Viewer
from roost.errors import NotFound, RuleBroken
from roost.ids import new_id
from roost.jobs.outbox import enqueue
from roost.keys.ring import seal


@dataclass(frozen=True)
class NewReport:
    target_account_id: int
    status_ids: list[int] = field(default_factory=list)
    comment: str = ""
    category: str | None = None
    rule_ids: list[int] = field(default_factory=list)
    forward: bool = False


async def _check_rules(tx: Tx, category: str, rule_ids: list[int]) -> list[int]:
    wanted = sorted(set(rule_ids))
    if category != "violation":
        return []
    if not wanted:
        raise RuleBroken("a violation report names the rules broken (rule_ids)")
    known = set(
        (
            await tx.execute(select(instance_rules.c.id).where(instance_rules.c.id.in_(wanted)))
        ).scalars()
    )
    unknown = [str(r) for r in wanted if r not in known]
    if unknown:
        raise RuleBroken(f"no such rule: {', '.join(unknown)}")
    return wanted


def _category(new: NewReport) -> str:
    category = new.category or ("violation" if new.rule_ids else "other")
    if category not in CATEGORIES:
        raise RuleBroken(f"category {category!r} is not one of {', '.join(CATEGORIES)}")
    return category


async def do_create_report(tx: Tx, viewer: Viewer, new: NewReport) -> Report:
    """File a report; NotFound for an account or post the reporter cannot see."""
    assert viewer.account_id is not None
    if new.target_account_id == viewer.account_id:
        raise RuleBroken("you cannot report yourself")
    if len(new.comment) > MAX_COMMENT:
        raise RuleBroken(f"the comment is {MAX_COMMENT} characters at most")
    wanted_posts = sorted(set(new.status_ids))
    if len(wanted_posts) > MAX_STATUSES:
        raise RuleBroken(f"a report names {MAX_STATUSES} posts at most")
    category = _category(new)
    rule_ids = await _check_rules(tx, category, new.rule_ids)
    await privacy.check_account(tx.conn, viewer, new.target_account_id)
    posts = []
    if wanted_posts:
        posts = await privacy.visible_statuses(
            tx.conn,
            viewer,
            select(statuses).where(
                statuses.c.id.in_(wanted_posts),
                statuses.c.account_id == new.target_account_id,
            ),
        )
        if len(posts) != len(wanted_posts):
            raise NotFound(
                "Record not found: a post is not the reported account's, or not shown to you"
            )
    now = utcnow()
    report_id = new_id()
    await tx.execute(
        reports.insert().values(
            id=report_id,
            account_id=viewer.account_id,
            target_account_id=new.target_account_id,
            comment=seal(viewer.account_id, new.comment) if new.comment else "",
            category=category,
            forward=new.forward,
            created_at=now,
            updated_at=now,
        )
    )
    for rule_id in rule_ids:
        await tx.execute(report_rules.insert().values(report_id=report_id, rule_id=rule_id))
    await _snapshot(tx, report_id, [row.value for row in posts])
    await enqueue(tx, ReportFiled(report_id))
    if new.forward and await _of_another_server(tx, new.target_account_id):
        # Forwarded to the reported account's server, as a Flag from this
        # server's actor: the reporter is not named there
        # (roost/domain/federation/flags.py).
        await enqueue(tx, SendFlag(report_id))
    return await report_by_id(tx.conn, report_id)


async def _of_another_server(tx: Tx, account_id: int) -> bool:
    domain = (
        await tx.execute(select(accounts.c.domain).where(accounts.c.id == account_id))
    ).scalar_one_or_none()
    return domain is not None


async def do_receive_report(
    tx: Tx, reporter_id: int, target_account_id: int, status_ids: list[int], comment: str
) -> int:
    """A report another server forwarded (a received Flag): filed as from
    ``reporter_id``, the account of that server's actor, about a local
    account and those of its posts the Flag names (other posts are left
    out); staff are told as of any report. The report's id."""
    posts = []
    wanted = sorted(set(status_ids))[:MAX_STATUSES]
    if wanted:
        posts = list(
            (
                await tx.execute(
                    select(statuses).where(
                        statuses.c.id.in_(wanted), statuses.c.account_id == target_account_id
                    )
                )
            ).mappings()
        )
    now = utcnow()
    report_id = new_id()
    text = comment[:MAX_COMMENT]
    await tx.execute(
        reports.insert().values(
            id=report_id,
            account_id=reporter_id,
            target_account_id=target_account_id,
            comment=seal(reporter_id, text) if text else "",
            category="other",
            forward=False,
            created_at=now,
            updated_at=now,
        )
    )
    await _snapshot(tx, report_id, posts)
    await enqueue(tx, ReportFiled(report_id))
    return report_id


async def _snapshot(tx: Tx, report_id: int, rows: list[Any]) -> None:
    if not rows:
        return
    media: dict[int, list[dict[str, Any]]] = {row["id"]: [] for row in rows}
    attached = await tx.execute(
        select(media_attachments)
        .where(media_attachments.c.status_id.in_(list(media)))
        .order_by(media_attachments.c.position)
    )
    for item in attached:
        media[item.status_id].append(
            {
                "id": str(item.id),
                "type": item.type,
                "file_key": item.file_key,
                "preview_key": item.preview_key,
                "description": item.description,
            }
        )
    for row in rows:
        author = row["account_id"]
        await tx.execute(
            report_statuses.insert().values(
                report_id=report_id,
                status_id=row["id"],
                account_id=author,
                content=seal(author, row["content"]),
                spoiler_text=seal(author, row["spoiler_text"]) if row["spoiler_text"] else "",
                media=seal(author, json.dumps(media[row["id"]])),
                visibility=int(row["visibility"]),
                posted_at=row["created_at"],
            )
        )


async def _staff_change(
    tx: Tx,
    viewer: Viewer,
    report_id: int,
    action: str,
    values: dict[str, Any],
    details: dict[str, Any] | None = None,
    via: str = "api",
) -> Report:
    check_staff(viewer)
    report = await report_by_id(tx.conn, report_id)
    await tx.execute(
        update(reports).where(reports.c.id == report_id).values(updated_at=utcnow(), **values)
    )
    await record(
        tx,
        action=action,
        permission=key(MANAGE),
        by=Staff(viewer.account_id, via),
        subject_type="report",
        subject_id=report_id,
        target_account_id=report.target_account_id,
        details=details,
    )
    return await report_by_id(tx.conn, report_id)


async def do_assign_to_self(tx: Tx, viewer: Viewer, report_id: int, *, via: str = "api") -> Report:
    return await _staff_change(
        tx,
        viewer,
        report_id,
        "report.assign",
        {"assigned_account_id": viewer.account_id},
        via=via,
    )


async def do_unassign(tx: Tx, viewer: Viewer, report_id: int) -> Report:
    return await _staff_change(
        tx, viewer, report_id, "report.unassign", {"assigned_account_id": None}
    )


async def do_resolve(tx: Tx, viewer: Viewer, report_id: int, *, via: str = "api") -> Report:
    """Close the report and queue the mail that tells the reporter."""
    check_staff(viewer)
    before = await report_by_id(tx.conn, report_id)
    report = await _staff_change(
        tx,
        viewer,
        report_id,
        "report.resolve",
        {"action_taken_at": utcnow(), "action_taken_by_account_id": viewer.account_id},
        via=via,
    )
    if not before.action_taken:
        await enqueue(tx, ReportResolvedMail(report_id), max_attempts=10)
    return report


async def do_reopen(tx: Tx, viewer: Viewer, report_id: int) -> Report:
    return await _staff_change(
        tx,
        viewer,
        report_id,
        "report.reopen",
        {"action_taken_at": None, "action_taken_by_account_id": None},
    )


async def do_update(
    tx: Tx,
    viewer: Viewer,
    report_id: int,
    *,
    category: str | None,
    rule_ids: list[int] | None,
    via: str = "api",
) -> Report:
    """Change the category and the rules (Mastodon's PUT /api/v1/admin/reports/:id)."""
    check_staff(viewer)
    report = await report_by_id(tx.conn, report_id)
    new_category = category or report.category
    if new_category not in CATEGORIES:
        raise RuleBroken(f"category {new_category!r} is not one of {', '.join(CATEGORIES)}")
    rules = await _check_rules(tx, new_category, report.rule_ids if rule_ids is None else rule_ids)
    await tx.execute(delete(report_rules).where(report_rules.c.report_id == report_id))
    for rule_id in rules:
        await tx.execute(report_rules.insert().values(report_id=report_id, rule_id=rule_id))
    return await _staff_change(
        tx,
        viewer,
        report_id,
        "report.update",
        {"category": new_category},
        {"category": new_category, "rule_ids": [str(r) for r in rules]},
        via=via,
    )


async def do_resolve_by_action(
    tx: Tx, viewer: Viewer, report_id: int, target_account_id: int, *, via: str = "api"
) -> Report:
    """A moderation action on ``target_account_id`` that names the report
    closes it (the report must be about that account)."""
    check_staff(viewer)
    report = await report_by_id(tx.conn, report_id)
    if report.target_account_id != target_account_id:
        raise RuleBroken("the report is about another account")
    if report.action_taken:
        return report
    return await do_resolve(tx, viewer, report_id, via=via)
