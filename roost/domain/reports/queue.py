"""The moderation queue: open reports in the order a small crew should take
them, each with its reported posts in context, and the one-click decisions.

**Order.** The category weighs first (``legal`` and ``violation`` above
``spam`` above ``other``), then how many different people reported the same
account among the open reports, then age: the oldest first.

**Context.** Each reported post is shown as the report kept it (the sealed
snapshot, which survives an edit or deletion), with the post it answered when
that post still exists and the moderator may see it, and a note when the
reported post was since deleted or edited.

**Decisions.** Take (assign to self, the next one or a given one: refused
past the daily limit, roost/domain/reports/exposure.py, in the admin API's
assign_to_self too), resolve, and resolve
by suspending the account (the suspension action of
roost/domain/accounts/moderation.py, which needs ``manage_users``); either
can name a rule template (one per instance rule: "Breaks rule 2: ..."), which
files the report as a violation of that rule and is the suspension's reason.
Every decision is the report action with its audit entry (``via: web``);
revealing a media item is an entry of its own (``report.media_reveal``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.db.engine import Tx
from roost.db.tables import accounts, statuses
from roost.domain import privacy
from roost.domain.accounts.moderation import do_suspend_account
from roost.domain.audit.chain import Staff, record
from roost.domain.instance.rules import rules
from roost.domain.reports import actions, exposure
from roost.domain.reports.model import Report, ReportedPost
from roost.domain.reports.queries import MANAGE, check_staff, open_reports, report_by_id
from roost.domain.roles.permissions import key
from roost.domain.types import Viewer
from roost.errors import NotFound, RuleBroken

WEIGHTS = {"legal": 3, "violation": 3, "spam": 2, "other": 1}
QUEUE_SIZE = 500

LIMIT_REACHED = (
    "You have looked at {exposed} reported items today, the limit this instance set "
    "({limit}). Take a break: the queue assigns you no more reports until tomorrow (UTC). "
    "You can still finish the reports you hold."
)


@dataclass(frozen=True)
class QueueItem:
    report: Report
    reporters: int  # different accounts reporting the same account, open reports
    target: str
    assignee: str | None
    media: int

    @property
    def created_at(self) -> datetime:
        return self.report.created_at


def priority(item: QueueItem) -> tuple[int, int, datetime, int]:
    return (
        -WEIGHTS.get(item.report.category, 0),
        -item.reporters,
        item.report.created_at,
        item.report.id,
    )


async def _names(conn: AsyncConnection, viewer: Viewer, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await privacy.visible_accounts(
        conn,
        viewer,
        select(accounts.c.id, accounts.c.username).where(accounts.c.id.in_(list(ids))),
        include_blocked=True,
    )
    return {int(row.value["id"]): str(row.value["username"]) for row in rows}


async def _reporter(conn: AsyncConnection, account_id: int, named: dict[int, str]) -> str:
    """The reporter's name; for a report another server forwarded (a Flag,
    filed as by its actor, roost/domain/federation/flags.py), its domain:
    the person who reported there is not known here."""
    domain = (
        await conn.execute(select(accounts.c.domain).where(accounts.c.id == account_id))
    ).scalar_one_or_none()
    if domain is not None:
        return str(domain)
    return named.get(account_id, "(gone)")


async def queue(conn: AsyncConnection, viewer: Viewer) -> list[QueueItem]:
    """Open reports, highest priority first."""
    check_staff(viewer)
    found = await open_reports(conn, QUEUE_SIZE)
    reporters: dict[int, set[int]] = {}
    for report in found:
        reporters.setdefault(report.target_account_id, set()).add(report.account_id)
    named = await _names(
        conn,
        viewer,
        {r.target_account_id for r in found}
        | {r.assigned_account_id for r in found if r.assigned_account_id is not None},
    )
    items = [
        QueueItem(
            report=report,
            reporters=len(reporters[report.target_account_id]),
            target=named.get(report.target_account_id, "(gone)"),
            assignee=(
                named.get(report.assigned_account_id, "(gone)")
                if report.assigned_account_id is not None
                else None
            ),
            media=sum(len(post.media) for post in report.posts),
        )
        for report in found
    ]
    return sorted(items, key=priority)


@dataclass(frozen=True)
class PostInContext:
    post: ReportedPost  # as the report kept it
    still_there: bool
    edited_since: bool
    parent_author: str | None
    parent_content: str | None  # HTML of the post it answered, when shown


@dataclass(frozen=True)
class RuleTemplate:
    rule_id: int
    number: int
    text: str


@dataclass(frozen=True)
class ReportInContext:
    report: Report
    reporter: str
    target: str
    assignee: str | None
    posts: list[PostInContext]
    rules_cited: list[RuleTemplate]
    templates: list[RuleTemplate]


async def templates(conn: AsyncConnection) -> list[RuleTemplate]:
    """One short decision text per instance rule, in the rules' order."""
    return [
        RuleTemplate(rule.id, number, f"Breaks rule {number}: {rule.text}")
        for number, rule in enumerate(await rules(conn), 1)
    ]


async def in_context(conn: AsyncConnection, viewer: Viewer, report_id: int) -> ReportInContext:
    check_staff(viewer)
    report = await report_by_id(conn, report_id)
    now_rows = {
        int(row.value["id"]): row.value
        for row in await privacy.visible_statuses(
            conn, viewer, select(statuses).where(statuses.c.id.in_(report.status_ids))
        )
    }
    parent_ids = {
        int(row["in_reply_to_id"]) for row in now_rows.values() if row["in_reply_to_id"] is not None
    }
    parents = {
        int(row.value["id"]): row.value
        for row in await privacy.visible_statuses(
            conn, viewer, select(statuses).where(statuses.c.id.in_(list(parent_ids)))
        )
    }
    people = {report.account_id, report.target_account_id}
    people |= {int(p["account_id"]) for p in parents.values()}
    if report.assigned_account_id is not None:
        people.add(report.assigned_account_id)
    named = await _names(conn, viewer, people)
    posts = []
    for post in report.posts:
        now: Any = now_rows.get(post.status_id)
        parent: Any = parents.get(now["in_reply_to_id"]) if now is not None else None
        posts.append(
            PostInContext(
                post=post,
                still_there=now is not None,
                edited_since=now is not None and now["content"] != post.content,
                parent_author=named.get(int(parent["account_id"])) if parent else None,
                parent_content=str(parent["content"]) if parent else None,
            )
        )
    all_templates = await templates(conn)
    cited = [t for t in all_templates if t.rule_id in report.rule_ids]
    return ReportInContext(
        report=report,
        reporter=await _reporter(conn, report.account_id, named),
        target=named.get(report.target_account_id, "(gone)"),
        assignee=(
            named.get(report.assigned_account_id, "(gone)")
            if report.assigned_account_id is not None
            else None
        ),
        posts=posts,
        rules_cited=cited,
        templates=all_templates,
    )


async def do_open(tx: Tx, viewer: Viewer, report_id: int) -> bool:
    """Count the report as seen by the moderator today (once a day)."""
    report = await report_by_id(tx.conn, report_id)
    return await exposure.count_report_opened(tx, viewer, report_id, report.category)


async def _check_allowance(tx: Tx, viewer: Viewer, limit: int) -> None:
    allowed = await exposure.allowance(tx.conn, viewer, limit)
    if allowed.reached:
        raise RuleBroken(LIMIT_REACHED.format(exposed=allowed.exposed, limit=allowed.limit))


async def do_take(
    tx: Tx, viewer: Viewer, report_id: int, *, limit: int, via: str = "web"
) -> Report:
    """Assign the report to the viewer, unless today's limit is reached (the
    queue's "take" and the admin API's assign_to_self alike)."""
    check_staff(viewer)
    report = await report_by_id(tx.conn, report_id)
    if report.assigned_account_id == viewer.account_id:
        return report
    await _check_allowance(tx, viewer, limit)
    return await actions.do_assign_to_self(tx, viewer, report_id, via=via)


async def do_take_next(tx: Tx, viewer: Viewer, *, limit: int) -> Report | None:
    """Assign the highest-priority open report nobody holds; None when there is none."""
    check_staff(viewer)
    await _check_allowance(tx, viewer, limit)
    for item in await queue(tx.conn, viewer):
        if item.report.assigned_account_id is None:
            return await actions.do_assign_to_self(tx, viewer, item.report.id, via="web")
    return None


async def do_reveal(tx: Tx, viewer: Viewer, report_id: int, media_id: str) -> dict[str, Any]:
    """Count and record one media item of the report shown unblurred; the item."""
    check_staff(viewer)
    report = await report_by_id(tx.conn, report_id)
    for post in report.posts:
        for item in post.media:
            if item.get("id") == media_id:
                await exposure.count_media_revealed(tx, viewer, report.category)
                await record(
                    tx,
                    action="report.media_reveal",
                    permission=key(MANAGE),
                    by=Staff(viewer.account_id, "web"),
                    subject_type="report",
                    subject_id=report_id,
                    target_account_id=report.target_account_id,
                    details={"media_id": media_id, "category": report.category},
                )
                return item
    raise NotFound()


async def _template(tx: Tx, rule_id: int | None) -> RuleTemplate | None:
    if rule_id is None:
        return None
    for template in await templates(tx.conn):
        if template.rule_id == rule_id:
            return template
    raise RuleBroken(f"no such rule: {rule_id}")


async def do_resolve(tx: Tx, viewer: Viewer, report_id: int, rule_id: int | None) -> Report:
    """Close the report; with a rule, filed as a violation of that rule first."""
    check_staff(viewer)
    template = await _template(tx, rule_id)
    if template is not None:
        await actions.do_update(
            tx, viewer, report_id, category="violation", rule_ids=[template.rule_id], via="web"
        )
    return await actions.do_resolve(tx, viewer, report_id, via="web")


async def do_suspend_and_resolve(
    tx: Tx, viewer: Viewer, report_id: int, rule_id: int | None
) -> Report:
    """Suspend the reported account (the template is the reason) and close the report."""
    check_staff(viewer)
    report = await report_by_id(tx.conn, report_id)
    template = await _template(tx, rule_id)
    await do_suspend_account(
        tx,
        report.target_account_id,
        reason=template.text if template else None,
        by=viewer,
        actor=Staff(viewer.account_id, "web"),
    )
    if template is not None:
        await actions.do_update(
            tx, viewer, report_id, category="violation", rule_ids=[template.rule_id], via="web"
        )
    return await actions.do_resolve_by_action(
        tx, viewer, report_id, report.target_account_id, via="web"
    )
