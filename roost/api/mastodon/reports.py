"""POST /api/v1/reports, and Mastodon's admin API for reports
(/api/v1/admin/reports...), each admin route needing ``manage_reports``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncConnection

from roost.api.auth import services, user
from roost.api.mastodon import entities, schema
from roost.api.mastodon._common import PageParams, as_account, flag
from roost.api.mastodon.admin import staff
from roost.api.mastodon.serializers import account, report_fields
from roost.api.openapi import answers
from roost.api.params import Id, Ids, OptionalId, Params, body, query
from roost.api.responses import JSON, paged_json, timestamp
from roost.domain import privacy
from roost.domain.accounts.moderation import StaffView, staff_account
from roost.domain.instance.rules import Rule
from roost.domain.instance.rules import rules as instance_rules
from roost.domain.reports import actions
from roost.domain.reports import queue as moderation
from roost.domain.reports.model import Report
from roost.domain.reports.queries import MANAGE, ReportFilter, staff_report, staff_reports
from roost.domain.types import Viewer
from roost.errors import NotFound
from roost.visibility import Visibility

router = APIRouter()
READ = "admin:read:reports"
WRITE = "admin:write:reports"


class ReportEntity(schema.Entity):
    id: schema.IdText
    action_taken: bool
    action_taken_at: schema.Timestamp | None
    category: str
    comment: str
    forwarded: bool
    created_at: schema.Timestamp
    status_ids: list[schema.IdText] | None
    rule_ids: list[schema.IdText] | None
    target_account: schema.Account


class AdminReportEntity(schema.Entity):
    id: schema.IdText
    action_taken: bool
    action_taken_at: schema.Timestamp | None
    category: str
    comment: str
    forwarded: bool
    created_at: schema.Timestamp
    updated_at: schema.Timestamp
    account: schema.AdminAccount
    target_account: schema.AdminAccount
    assigned_account: schema.AdminAccount | None
    action_taken_by_account: schema.AdminAccount | None
    statuses: list[dict[str, Any]]
    rules: list[dict[str, Any]]


def _common(report: Report) -> dict[str, Any]:
    shown = report_fields(report)
    del shown["status_ids"], shown["rule_ids"]
    return shown


class ReportParams(Params):
    account_id: OptionalId = Field(default=None, description="The account reported")
    status_ids: Ids = Field(default=[], description="Its posts that are reported")
    comment: str = Field(default="", description="Why (1000 characters at most)")
    forward: str | bool | None = Field(default=None, description="Forward to the remote server")
    category: str | None = Field(default=None, description="spam, legal, violation or other")
    rule_ids: Ids = Field(default=[], description="The rules broken (for violation)")


@router.post("/api/v1/reports", responses=answers(ReportEntity))
async def file_report(
    request: Request,
    viewer: Viewer = Depends(user("write:reports")),
    params: ReportParams = Depends(body(ReportParams)),
) -> JSON:
    if params.account_id is None:
        raise NotFound("Record not found")
    svc = services(request)
    async with svc.db.write() as tx:
        report = await actions.do_create_report(
            tx,
            viewer,
            actions.NewReport(
                target_account_id=params.account_id,
                status_ids=list(params.status_ids),
                comment=params.comment,
                category=params.category or None,
                rule_ids=list(params.rule_ids),
                forward=flag(params.forward),
            ),
        )
    async with svc.db.read() as conn:
        target = await privacy.check_account(conn, viewer, report.target_account_id)
    shown = _common(report)
    shown["status_ids"] = [str(i) for i in report.status_ids]
    shown["rule_ids"] = [str(i) for i in report.rule_ids]
    shown["target_account"] = account(as_account(target), svc.settings.base_url)
    return JSON(shown)


async def _admin_json(
    conn: AsyncConnection, viewer: Viewer, report: Report, base: str, rules: list[Rule]
) -> dict[str, Any]:
    views: dict[int, StaffView] = {}

    async def staff_view(account_id: int | None) -> dict[str, Any] | None:
        if account_id is None:
            return None
        if account_id not in views:
            try:
                views[account_id] = await staff_account(conn, viewer, account_id, permission=MANAGE)
            except NotFound:
                return None
        return entities.admin_account(views[account_id], base)

    shown = _common(report)
    shown["updated_at"] = timestamp(report.updated_at)
    shown["account"] = await staff_view(report.account_id)
    shown["target_account"] = await staff_view(report.target_account_id)
    shown["assigned_account"] = await staff_view(report.assigned_account_id)
    shown["action_taken_by_account"] = await staff_view(report.action_taken_by_account_id)
    target = shown["target_account"]
    shown["statuses"] = [
        {
            "id": str(post.status_id),
            "created_at": timestamp(post.posted_at),
            "content": post.content,
            "spoiler_text": post.spoiler_text,
            "sensitive": bool(post.spoiler_text),
            "visibility": Visibility(post.visibility).label,
            "media_attachments": [
                {"id": m["id"], "type": m["type"], "description": m.get("description")}
                for m in post.media
            ],
            "account": target["account"] if target else None,
            # The post as reported: it may have been edited or deleted since.
            "snapshot": True,
        }
        for post in report.posts
    ]
    by_id = {rule.id: rule for rule in rules}
    shown["rules"] = [
        {"id": str(r), "text": by_id[r].text, "hint": by_id[r].hint}
        for r in report.rule_ids
        if r in by_id
    ]
    return shown


class AdminReportsParams(PageParams):
    resolved: str | None = None
    account_id: OptionalId = None
    target_account_id: OptionalId = None


@router.get("/api/v1/admin/reports", responses=answers(list[AdminReportEntity]))
async def list_reports(
    request: Request,
    viewer: Viewer = Depends(staff(READ, MANAGE)),
    params: AdminReportsParams = Depends(query(AdminReportsParams)),
) -> JSON:
    svc = services(request)
    wanted = ReportFilter(
        resolved=flag(params.resolved),
        account_id=params.account_id,
        target_account_id=params.target_account_id,
    )
    async with svc.db.read() as conn:
        found, newest, oldest = await staff_reports(
            conn, viewer, wanted, params.page(max_limit=200, default_limit=100)
        )
        rules = await instance_rules(conn)
        shown = [await _admin_json(conn, viewer, r, svc.settings.base_url, rules) for r in found]
    return paged_json(request, shown, newest, oldest)


@router.get("/api/v1/admin/reports/{report_id}", responses=answers(AdminReportEntity))
async def get_report(
    request: Request, report_id: Id, viewer: Viewer = Depends(staff(READ, MANAGE))
) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        report = await staff_report(conn, viewer, report_id)
    # Opening one report through a moderation app is opening it in the
    # queue: it counts toward the moderator's exposure (once a day).
    async with svc.db.write() as tx:
        await moderation.do_open(tx, viewer, report.id)
    async with svc.db.read() as conn:
        rules = await instance_rules(conn)
        return JSON(await _admin_json(conn, viewer, report, svc.settings.base_url, rules))


async def _answer(request: Request, viewer: Viewer, report: Report) -> JSON:
    svc = services(request)
    async with svc.db.read() as conn:
        rules = await instance_rules(conn)
        return JSON(await _admin_json(conn, viewer, report, svc.settings.base_url, rules))


@router.post(
    "/api/v1/admin/reports/{report_id}/assign_to_self", responses=answers(AdminReportEntity)
)
async def assign_to_self(
    request: Request, report_id: Id, viewer: Viewer = Depends(staff(WRITE, MANAGE))
) -> JSON:
    """Refused (422) past the moderator's daily limit, as the queue's "take"."""
    svc = services(request)
    async with svc.db.write() as tx:
        report = await moderation.do_take(
            tx, viewer, report_id, limit=svc.settings.moderation_daily_limit, via="api"
        )
    return await _answer(request, viewer, report)


@router.post("/api/v1/admin/reports/{report_id}/unassign", responses=answers(AdminReportEntity))
async def unassign(
    request: Request, report_id: Id, viewer: Viewer = Depends(staff(WRITE, MANAGE))
) -> JSON:
    async with services(request).db.write() as tx:
        report = await actions.do_unassign(tx, viewer, report_id)
    return await _answer(request, viewer, report)


@router.post("/api/v1/admin/reports/{report_id}/resolve", responses=answers(AdminReportEntity))
async def resolve(
    request: Request, report_id: Id, viewer: Viewer = Depends(staff(WRITE, MANAGE))
) -> JSON:
    async with services(request).db.write() as tx:
        report = await actions.do_resolve(tx, viewer, report_id)
    return await _answer(request, viewer, report)


@router.post("/api/v1/admin/reports/{report_id}/reopen", responses=answers(AdminReportEntity))
async def reopen(
    request: Request, report_id: Id, viewer: Viewer = Depends(staff(WRITE, MANAGE))
) -> JSON:
    async with services(request).db.write() as tx:
        report = await actions.do_reopen(tx, viewer, report_id)
    return await _answer(request, viewer, report)


class UpdateReportParams(Params):
    category: str | None = Field(default=None, description="spam, legal, violation or other")
    rule_ids: Ids | None = Field(default=None, description="The rules broken (for violation)")


@router.put("/api/v1/admin/reports/{report_id}", responses=answers(AdminReportEntity))
async def update_report(
    request: Request,
    report_id: Id,
    viewer: Viewer = Depends(staff(WRITE, MANAGE)),
    params: UpdateReportParams = Depends(body(UpdateReportParams)),
) -> JSON:
    async with services(request).db.write() as tx:
        report = await actions.do_update(
            tx,
            viewer,
            report_id,
            category=params.category or None,
            rule_ids=None if params.rule_ids is None else list(params.rule_ids),
        )
    return await _answer(request, viewer, report)
