"""The moderation queue (``/admin/queue``), on ``manage_reports``: open reports
by priority and age, each report with its posts in context, media blurred
and in greyscale until revealed one item at a time, the moderator's exposure
counts and the daily limit (roost/domain/reports/queue.py and exposure.py).

    /admin/queue                        the queue, today's count, take the next
    /admin/queue/exposure               counts by day and category (an
                                        administrator sees every moderator's)
    /admin/queue/ID                     one report (opening it is counted)
    /admin/queue/ID/assign              take it
    /admin/queue/ID/media/MID/reveal    show one media item (counted, audited);
                                        htmx swaps just that item, without
                                        script the page comes back with it shown
    /admin/queue/ID/resolve             close it (optionally naming a rule)
    /admin/queue/ID/suspend             suspend the account and close it
                                        (``manage_users``)

Media files are the reported posts' own files, through the signed media URLs
(roost/media/urls.py), so a file the moderator may not see is not served.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from roost.domain.reports import exposure
from roost.domain.reports import queue as moderation
from roost.domain.reports.model import CATEGORIES
from roost.errors import Invalid, RuleBroken
from roost.media import urls as media_urls
from roost.web.csrf import checked_form
from roost.web.pages.staff import P, form_text, parse_id, staff_page, staff_render
from roost.web.render import render
from roost.web.viewer import WebViewer, services

router = APIRouter(include_in_schema=False)

NOTICES = {
    "assigned": "The report is yours.",
    "resolved": "The report is closed; the reporter is told.",
    "suspended": "The account is suspended and the report closed; the reporter is told.",
    "empty": "No report is waiting for someone to take it: the queue is clear.",
}


@dataclass(frozen=True)
class ShownMedia:
    id: str
    type: str
    description: str
    url: str  # the original file
    preview: str | None  # an image to show, blurred until revealed
    revealed: bool


def _shown(base: str, web: WebViewer, item: dict[str, Any], revealed: str | None) -> ShownMedia:
    media_id = int(item["id"])

    def url(variant: str, key: str) -> str:
        name = key.rsplit("/", 1)[-1]
        return media_urls.attachment_url(base, media_id, variant, name, signed_for=web.account_id)

    original = url("original", str(item["file_key"]))
    preview_key = item.get("preview_key")
    if preview_key:
        preview: str | None = url("small", str(preview_key))
    else:
        preview = original if item.get("type") == "image" else None
    return ShownMedia(
        id=str(item["id"]),
        type=str(item.get("type") or "unknown"),
        description=str(item.get("description") or ""),
        url=original,
        preview=preview,
        revealed=item["id"] == revealed,
    )


def _limit(request: Request) -> int:
    return services(request).settings.moderation_daily_limit


@router.get("/admin/queue")
async def queue_page(
    request: Request, web: WebViewer = Depends(staff_page(P.MANAGE_REPORTS))
) -> Response:
    async with services(request).db.read() as conn:
        items = await moderation.queue(conn, web.viewer)
        allowed = await exposure.allowance(conn, web.viewer, _limit(request))
    notice = NOTICES.get(request.query_params.get("done", ""), "")
    return staff_render(
        request, web, "staff/queue.html", "Moderation queue", "/admin/queue",
        items=items, allowed=allowed, me=web.account_id, queue_notice=notice,
    )  # fmt: skip


@router.post("/admin/queue/next")
async def take_next(
    request: Request, web: WebViewer = Depends(staff_page(P.MANAGE_REPORTS))
) -> Response:
    await checked_form(request, web)
    try:
        async with services(request).db.write() as tx:
            taken = await moderation.do_take_next(tx, web.viewer, limit=_limit(request))
    except RuleBroken as error:
        return await _refused(request, web, error.message)
    if taken is None:
        return RedirectResponse("/admin/queue?done=empty", status_code=303)
    return RedirectResponse(f"/admin/queue/{taken.id}?done=assigned", status_code=303)


async def _refused(request: Request, web: WebViewer, message: str) -> Response:
    async with services(request).db.read() as conn:
        items = await moderation.queue(conn, web.viewer)
        allowed = await exposure.allowance(conn, web.viewer, _limit(request))
    return staff_render(
        request, web, "staff/queue.html", "Moderation queue", "/admin/queue",
        status=422, error=message, items=items, allowed=allowed, me=web.account_id,
        queue_notice="",
    )  # fmt: skip


@router.get("/admin/queue/exposure")
async def exposure_page(
    request: Request, web: WebViewer = Depends(staff_page(P.MANAGE_REPORTS))
) -> Response:
    everyone = web.viewer.may(exposure.OVERSEES)
    async with services(request).db.read() as conn:
        days = await exposure.exposures(conn, web.viewer, everyone=everyone)
        allowed = await exposure.allowance(conn, web.viewer, _limit(request))
    return staff_render(
        request, web, "staff/queue_exposure.html", "Exposure", "/admin/queue",
        days=days, categories=CATEGORIES, everyone=everyone, allowed=allowed,
    )  # fmt: skip


async def _report_page(
    request: Request,
    web: WebViewer,
    report_id: int,
    *,
    revealed: str | None = None,
    status: int = 200,
    error: str = "",
) -> Response:
    svc = services(request)
    async with svc.db.write() as tx:
        await moderation.do_open(tx, web.viewer, report_id)
    async with svc.db.read() as conn:
        shown = await moderation.in_context(conn, web.viewer, report_id)
        allowed = await exposure.allowance(conn, web.viewer, _limit(request))
    base = svc.settings.base_url
    media = {
        post.post.status_id: [_shown(base, web, item, revealed) for item in post.post.media]
        for post in shown.posts
    }
    notice = NOTICES.get(request.query_params.get("done", ""), "")
    return staff_render(
        request, web, "staff/queue_report.html", f"Report {report_id}", "/admin/queue",
        status=status, error=error, shown=shown, media=media, allowed=allowed,
        me=web.account_id, may_suspend=web.viewer.may(P.MANAGE_USERS), queue_notice=notice,
    )  # fmt: skip


@router.get("/admin/queue/{report_id}")
async def report_page(
    request: Request, report_id: str, web: WebViewer = Depends(staff_page(P.MANAGE_REPORTS))
) -> Response:
    return await _report_page(request, web, parse_id(report_id))


@router.post("/admin/queue/{report_id}/assign")
async def assign(
    request: Request, report_id: str, web: WebViewer = Depends(staff_page(P.MANAGE_REPORTS))
) -> Response:
    await checked_form(request, web)
    number = parse_id(report_id)
    try:
        async with services(request).db.write() as tx:
            await moderation.do_take(tx, web.viewer, number, limit=_limit(request))
    except RuleBroken as error:
        return await _report_page(request, web, number, status=422, error=error.message)
    return RedirectResponse(f"/admin/queue/{number}?done=assigned", status_code=303)


@router.post("/admin/queue/{report_id}/media/{media_id}/reveal")
async def reveal(
    request: Request,
    report_id: str,
    media_id: str,
    web: WebViewer = Depends(staff_page(P.MANAGE_REPORTS)),
) -> Response:
    await checked_form(request, web)
    number = parse_id(report_id)
    wanted = str(parse_id(media_id))
    async with services(request).db.write() as tx:
        item = await moderation.do_reveal(tx, web.viewer, number, wanted)
    if request.headers.get("hx-request") == "true":
        shown = _shown(services(request).settings.base_url, web, item, wanted)
        return render(request, "staff/_queue_media.html", viewer=web, item=shown, report_id=number)
    return await _report_page(request, web, number, revealed=wanted)


def _rule(form: dict[str, Any]) -> int | None:
    raw = form_text(form, "rule_id").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 19:
        raise Invalid("That is not one of the rules.")
    return int(raw)


@router.post("/admin/queue/{report_id}/resolve")
async def resolve(
    request: Request, report_id: str, web: WebViewer = Depends(staff_page(P.MANAGE_REPORTS))
) -> Response:
    form = await checked_form(request, web)
    number = parse_id(report_id)
    try:
        async with services(request).db.write() as tx:
            await moderation.do_resolve(tx, web.viewer, number, _rule(form))
    except (RuleBroken, Invalid) as error:
        return await _report_page(request, web, number, status=422, error=error.message)
    return RedirectResponse("/admin/queue?done=resolved", status_code=303)


@router.post("/admin/queue/{report_id}/suspend")
async def suspend(
    request: Request, report_id: str, web: WebViewer = Depends(staff_page(P.MANAGE_USERS))
) -> Response:
    form = await checked_form(request, web)
    number = parse_id(report_id)
    try:
        async with services(request).db.write() as tx:
            await moderation.do_suspend_and_resolve(tx, web.viewer, number, _rule(form))
    except (RuleBroken, Invalid) as error:
        return await _report_page(request, web, number, status=422, error=error.message)
    return RedirectResponse("/admin/queue?done=suspended", status_code=303)
