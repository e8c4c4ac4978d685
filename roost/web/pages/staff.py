"""The staff area, /admin: the pages a staff member's role opens.

Every page and every form behind it names ONE permission of Mastodon's role
model (roost/domain/roles/permissions.py), checked with ``Viewer.may``, the
same check the admin API (roost/api/mastodon/admin.py) makes: a visitor is
sent to sign in, a signed-in account whose role lacks the permission gets the
403 page before anything is read or changed. ``STAFF_PAGES`` lists them; the
home page shows the ones the viewer's role opens.

    /admin                  the list (any staff role)
    /admin/settings         manage_settings: what the instance shows (read-only:
                            they are settings of the server's environment)
    /admin/rules            manage_rules: the rules (roost rules)
    /admin/warning-presets  manage_settings: warning presets
                            (staff_presets.py, roost warning-presets)
    /admin/announcements    manage_announcements (roost announcements)
    /admin/emoji            manage_custom_emojis (roost emoji)
    /admin/jobs             devops: the queue, parked jobs, retry and discard
                            (roost jobs)
    /admin/doctor           devops: roost doctor's checks
    /admin/lawful           manage_users: lawful requests (roost lawful)
    /admin/queue            manage_reports: the moderation queue (staff_queue.py)
    /admin/spam             manage_reports: spam waves, one action per cluster
                            (roost spam)

Each action is the domain action the command line uses, in a transaction
that also appends its entry to the audit log (``via: web``), naming the
permission it needed. Free text a staff member wrote (a rule, an
announcement) goes in the entry's personal part, which an erasure can blank.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from roost.domain.announcements import actions as announcement_actions
from roost.domain.announcements.queries import AnnouncementView, all_announcements
from roost.domain.audit.chain import Staff, record
from roost.domain.instance import rules as rule_actions
from roost.domain.instance.texts import instance_text
from roost.domain.roles.permissions import Permission, is_staff, key
from roost.errors import Forbidden, Invalid, NotFound
from roost.web.csrf import checked_form
from roost.web.render import render
from roost.web.viewer import WebViewer, services, signed_in

router = APIRouter(include_in_schema=False)

P = Permission


@dataclass(frozen=True)
class StaffPage:
    path: str
    title: str
    permission: Permission
    about: str


STAFF_PAGES: tuple[StaffPage, ...] = (
    StaffPage(
        "/admin/settings",
        "Instance settings",
        P.MANAGE_SETTINGS,
        "The title, description, contact and registrations the instance shows.",
    ),
    StaffPage("/admin/rules", "Rules", P.MANAGE_RULES, "The rules shown on the about page."),
    StaffPage(
        "/admin/warning-presets",
        "Warning presets",
        P.MANAGE_SETTINGS,
        "Texts to pick when warning or acting on an account.",
    ),
    StaffPage(
        "/admin/announcements",
        "Announcements",
        P.MANAGE_ANNOUNCEMENTS,
        "Notices shown to everyone signed in.",
    ),
    StaffPage(
        "/admin/emoji",
        "Custom emoji",
        P.MANAGE_CUSTOM_EMOJIS,
        "The instance's own emoji for posts and names.",
    ),
    StaffPage("/admin/jobs", "Jobs", P.DEVOPS, "The background queue: what waits, what failed."),
    StaffPage("/admin/doctor", "Doctor", P.DEVOPS, "The server's health checks."),
    StaffPage(
        "/admin/queue",
        "Moderation queue",
        P.MANAGE_REPORTS,
        "Open reports by urgency, media blurred until shown, your daily count.",
    ),
    StaffPage(
        "/admin/lawful",
        "Lawful requests",
        P.MANAGE_USERS,
        "Authorities' requests for an account's data: approvals, refusals, packages.",
    ),
    StaffPage(
        "/admin/appeals",
        "Appeals",
        P.MANAGE_APPEALS,
        "People's appeals against moderation decisions: accept (undo) or reject.",
    ),
    StaffPage(
        "/admin/spam",
        "Spam waves",
        P.MANAGE_REPORTS,
        "Near-duplicate new posts in clusters: suspend, delete or release each at once.",
    ),
)

SignedInStaff = Callable[[Request], Awaitable[WebViewer]]


def staff_page(permission: Permission) -> SignedInStaff:
    """A signed-in account whose role grants ``permission`` (kept on the
    dependency as ``roost_permission``, where the tests find it)."""

    async def dependency(request: Request) -> WebViewer:
        web = await signed_in(request)
        if not web.viewer.may(permission):
            raise Forbidden(f"Your role does not allow this page: it needs {key(permission)}.")
        return web

    setattr(dependency, "roost_permission", permission)  # noqa: B010  (a function attribute)
    return dependency


async def any_staff(request: Request) -> WebViewer:
    web = await signed_in(request)
    if not is_staff(web.viewer.permissions):
        raise Forbidden("Only staff may see this page.")
    return web


def acting_staff(web: WebViewer) -> Staff:
    return Staff(web.account_id, "web")


def _pages_for(web: WebViewer) -> list[StaffPage]:
    return [page for page in STAFF_PAGES if web.viewer.may(page.permission)]


def staff_render(
    request: Request,
    web: WebViewer,
    template: str,
    title: str,
    current: str,
    *,
    status: int = 200,
    error: str = "",
    **context: Any,
) -> Response:
    return render(
        request,
        template,
        viewer=web,
        status=status,
        title=title,
        staff_pages=_pages_for(web),
        current=current,
        error=error,
        notice=_NOTICES.get(request.query_params.get("done", ""), ""),
        meta={"robots": "noindex"},
        **context,
    )


_NOTICES = {
    "rule-added": "The rule was added.",
    "rule-removed": "The rule was removed.",
    "preset-added": "The warning preset was added.",
    "preset-removed": "The warning preset was removed.",
    "announcement-added": "The announcement is published.",
    "announcement-saved": "The announcement was saved.",
    "announcement-removed": "The announcement was removed.",
    "emoji-added": "The emoji was added.",
    "emoji-removed": "The emoji was removed.",
    "job-retried": "The job is back in the queue.",
    "jobs-retried": "Every parked job is back in the queue.",
    "job-discarded": "The job was discarded.",
}


def back_to(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={done}", status_code=303)


def form_text(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def parse_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 19:
        raise NotFound()
    return int(raw)


@router.get("/admin")
async def home(request: Request, web: WebViewer = Depends(any_staff)) -> Response:
    return staff_render(request, web, "staff/home.html", "Staff", "/admin")


# Instance settings -----------------------------------------------------------


@router.get("/admin/settings")
async def instance_settings(
    request: Request, web: WebViewer = Depends(staff_page(P.MANAGE_SETTINGS))
) -> Response:
    settings = services(request).settings
    shown = [
        ("Title", "ROOST_INSTANCE_TITLE", settings.instance_title),
        ("Description", "ROOST_INSTANCE_DESCRIPTION", settings.instance_description),
        ("Contact email", "ROOST_CONTACT_EMAIL", settings.contact_email or "(none)"),
        ("Registrations", "ROOST_REGISTRATIONS", str(settings.registrations)),
        ("Address", "ROOST_PUBLIC_URL", settings.base_url),
    ]
    texts = []
    for name, label in (("about", "About"), ("terms", "Terms"), ("privacy", "Privacy policy")):
        found = await asyncio.to_thread(instance_text, settings.data_dir, name)
        texts.append((label, f"instance/{name}.html", found is not None))
    return staff_render(
        request,
        web,
        "staff/settings.html",
        "Instance settings",
        "/admin/settings",
        shown=shown,
        texts=texts,
        data_dir=str(settings.data_dir),
    )


# Rules -----------------------------------------------------------------------


async def _rules_page(
    request: Request, web: WebViewer, *, status: int = 200, error: str = ""
) -> Response:
    async with services(request).db.read() as conn:
        found = await rule_actions.rules(conn)
    return staff_render(
        request, web, "staff/rules.html", "Rules", "/admin/rules",
        status=status, error=error, rules=found,
    )  # fmt: skip


@router.get("/admin/rules")
async def rules_page(
    request: Request, web: WebViewer = Depends(staff_page(P.MANAGE_RULES))
) -> Response:
    return await _rules_page(request, web)


@router.post("/admin/rules")
async def add_rule(
    request: Request, web: WebViewer = Depends(staff_page(P.MANAGE_RULES))
) -> Response:
    form = await checked_form(request, web)
    try:
        async with services(request).db.write() as tx:
            rule = await rule_actions.do_add_rule(
                tx, form_text(form, "text"), form_text(form, "hint")
            )
            await record(
                tx,
                action="rule.create",
                permission=key(P.MANAGE_RULES),
                by=acting_staff(web),
                subject_type="rule",
                subject_id=rule.id,
                personal={"text": rule.text, "hint": rule.hint},
            )
    except Invalid as error:
        return await _rules_page(request, web, status=422, error=error.message)
    return back_to("/admin/rules", "rule-added")


@router.post("/admin/rules/{rule_id}/delete")
async def remove_rule(
    request: Request, rule_id: str, web: WebViewer = Depends(staff_page(P.MANAGE_RULES))
) -> Response:
    await checked_form(request, web)
    number = parse_id(rule_id)
    async with services(request).db.write() as tx:
        await rule_actions.do_remove_rule(tx, number)
        await record(
            tx,
            action="rule.remove",
            permission=key(P.MANAGE_RULES),
            by=acting_staff(web),
            subject_type="rule",
            subject_id=number,
        )
    return back_to("/admin/rules", "rule-removed")


# Announcements ---------------------------------------------------------------


def _moment(raw: str, label: str) -> datetime | None:
    """A ``datetime-local`` field's value, read as UTC."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{label} is not a date and time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _new_announcement(form: dict[str, Any]) -> announcement_actions.NewAnnouncement:
    return announcement_actions.NewAnnouncement(
        text=form_text(form, "text"),
        starts_at=_moment(form_text(form, "starts_at"), "The start"),
        ends_at=_moment(form_text(form, "ends_at"), "The end"),
        all_day=form_text(form, "all_day") == "on",
    )


def _local(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M") if moment is not None else ""


async def _announcements_page(
    request: Request,
    web: WebViewer,
    *,
    status: int = 200,
    error: str = "",
    editing: AnnouncementView | None = None,
    draft: dict[str, Any] | None = None,
) -> Response:
    async with services(request).db.read() as conn:
        found = await all_announcements(conn)
    return staff_render(
        request,
        web,
        "staff/announcements.html",
        "Announcements",
        "/admin/announcements",
        status=status,
        error=error,
        announcements=list(reversed(found)),
        editing=editing,
        draft=draft or {},
        local=_local,
    )


@router.get("/admin/announcements")
async def announcements_page(
    request: Request, web: WebViewer = Depends(staff_page(P.MANAGE_ANNOUNCEMENTS))
) -> Response:
    return await _announcements_page(request, web)


@router.post("/admin/announcements")
async def add_announcement(
    request: Request, web: WebViewer = Depends(staff_page(P.MANAGE_ANNOUNCEMENTS))
) -> Response:
    form = await checked_form(request, web)
    svc = services(request)
    try:
        new = _new_announcement(form)
        async with svc.db.write() as tx:
            made = await announcement_actions.do_add_announcement(
                tx, new, base_url=svc.settings.base_url
            )
            await record(
                tx,
                action="announcement.create",
                permission=key(P.MANAGE_ANNOUNCEMENTS),
                by=acting_staff(web),
                subject_type="announcement",
                subject_id=made,
                personal={"text": new.text},
            )
    except Invalid as error:
        return await _announcements_page(request, web, status=422, error=error.message, draft=form)
    return back_to("/admin/announcements", "announcement-added")


async def _announcement(request: Request, announcement_id: str) -> AnnouncementView:
    number = parse_id(announcement_id)
    async with services(request).db.read() as conn:
        found = await all_announcements(conn)
    for item in found:
        if item.id == number:
            return item
    raise NotFound()


@router.get("/admin/announcements/{announcement_id}/edit")
async def edit_announcement(
    request: Request,
    announcement_id: str,
    web: WebViewer = Depends(staff_page(P.MANAGE_ANNOUNCEMENTS)),
) -> Response:
    editing = await _announcement(request, announcement_id)
    return await _announcements_page(request, web, editing=editing)


@router.post("/admin/announcements/{announcement_id}/edit")
async def save_announcement(
    request: Request,
    announcement_id: str,
    web: WebViewer = Depends(staff_page(P.MANAGE_ANNOUNCEMENTS)),
) -> Response:
    form = await checked_form(request, web)
    editing = await _announcement(request, announcement_id)
    svc = services(request)
    try:
        changed = _new_announcement(form)
        async with svc.db.write() as tx:
            await announcement_actions.do_update_announcement(
                tx, editing.id, changed, base_url=svc.settings.base_url
            )
            await record(
                tx,
                action="announcement.update",
                permission=key(P.MANAGE_ANNOUNCEMENTS),
                by=acting_staff(web),
                subject_type="announcement",
                subject_id=editing.id,
                personal={"text": changed.text},
            )
    except Invalid as error:
        return await _announcements_page(
            request, web, status=422, error=error.message, editing=editing, draft=form
        )
    return back_to("/admin/announcements", "announcement-saved")


@router.post("/admin/announcements/{announcement_id}/delete")
async def remove_announcement(
    request: Request,
    announcement_id: str,
    web: WebViewer = Depends(staff_page(P.MANAGE_ANNOUNCEMENTS)),
) -> Response:
    await checked_form(request, web)
    number = parse_id(announcement_id)
    async with services(request).db.write() as tx:
        await announcement_actions.do_remove_announcement(tx, number)
        await record(
            tx,
            action="announcement.remove",
            permission=key(P.MANAGE_ANNOUNCEMENTS),
            by=acting_staff(web),
            subject_type="announcement",
            subject_id=number,
        )
    return back_to("/admin/announcements", "announcement-removed")


# Custom emoji ----------------------------------------------------------------
