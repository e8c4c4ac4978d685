"""The staff pages of lawful requests (``/admin/lawful``), all on ``manage_users``:
the list, each request with its approvals, and the forms to approve, refuse and
package it; a disclosed request's package is downloaded from its page. Each
form is the domain action ``roost lawful`` runs (roost/domain/lawful), which
checks every rule again in its transaction and appends the audit entry
(docs/moderation.md, "Lawful requests")."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from roost.domain.accounts.queries import account_id_for_username
from roost.domain.lawful import actions
from roost.domain.lawful.model import APPROVALS_NEEDED, KINDS, LawfulRequest
from roost.errors import Forbidden, Invalid, NotFound
from roost.export.lawful import disclose, package_path
from roost.web.csrf import checked_form
from roost.web.pages.staff import (
    P,
    acting_staff,
    back_to,
    form_text,
    parse_id,
    staff_page,
    staff_render,
)
from roost.web.viewer import WebViewer, services

router = APIRouter(include_in_schema=False)

NOTICES = {
    "entered": "The request is entered: it needs two approvals by other staff.",
    "approved": "Your approval is recorded.",
    "refused": "The request is refused; the reason is recorded.",
    "packaged": "The package is built and recorded.",
}


async def _list(
    request: Request, web: WebViewer, *, status: int = 200, error: str = ""
) -> Response:
    async with services(request).db.read() as conn:
        found = await actions.listed(conn, acting_staff(web))
    return staff_render(
        request, web, "staff/lawful.html", "Lawful requests", "/admin/lawful",
        status=status, error=error, requests=found, kinds=KINDS,
    )  # fmt: skip


@router.get("/admin/lawful")
async def lawful_list(
    request: Request, web: WebViewer = Depends(staff_page(P.MANAGE_USERS))
) -> Response:
    return await _list(request, web)


def _day(text: str, *, end: bool) -> datetime:
    """A date from the form (``2026-11-01``, UTC); an end date includes its day."""
    try:
        value = datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise Invalid("Dates are written as 2026-11-01.") from None
    return value + timedelta(days=1) if end else value


def _kinds(form: dict[str, Any]) -> str:
    value = form.get("kinds", [])
    chosen = [value] if isinstance(value, str) else list(value)
    return ",".join(k for k in chosen if isinstance(k, str))


@router.post("/admin/lawful")
async def lawful_create(
    request: Request, web: WebViewer = Depends(staff_page(P.MANAGE_USERS))
) -> Response:
    form = await checked_form(request, web)
    try:
        starts_at = _day(form_text(form, "from"), end=False)
        ends_at = _day(form_text(form, "until"), end=True)
        async with services(request).db.write() as tx:
            names = {}
            for field in ("account", "verified_by"):
                name = form_text(form, field).strip().lstrip("@")
                found = await account_id_for_username(tx.conn, name) if name else None
                if found is None:
                    raise Invalid(f"There is no account named {name or '(empty)'}.")
                names[field] = found
            request_id = await actions.create(
                tx,
                acting_staff(web),
                account_id=names["account"],
                authority=form_text(form, "authority"),
                legal_basis=form_text(form, "legal_basis"),
                verification=form_text(form, "verification"),
                verified_by_account_id=names["verified_by"],
                starts_at=starts_at,
                ends_at=ends_at,
                kinds=actions.parse_kinds(_kinds(form)),
            )
    except Invalid as error:
        return await _list(request, web, status=422, error=error.message)
    return RedirectResponse(f"/admin/lawful/{request_id}?done=entered", status_code=303)


async def _detail(
    request: Request, web: WebViewer, raw: str, *, status: int = 200, error: str = ""
) -> Response:
    async with services(request).db.read() as conn:
        found: LawfulRequest = await actions.show(conn, acting_staff(web), parse_id(raw))
    done = request.query_params.get("done", "")
    return staff_render(
        request, web, "staff/lawful_request.html", f"Lawful request {found.id}", "/admin/lawful",
        status=status, error=error, item=found, needed=APPROVALS_NEEDED,
        done=NOTICES.get(done, ""), me=web.account_id,
    )  # fmt: skip


@router.get("/admin/lawful/{request_id}")
async def lawful_detail(
    request: Request, request_id: str, web: WebViewer = Depends(staff_page(P.MANAGE_USERS))
) -> Response:
    return await _detail(request, web, request_id)


@router.post("/admin/lawful/{request_id}/approve")
async def lawful_approve(
    request: Request, request_id: str, web: WebViewer = Depends(staff_page(P.MANAGE_USERS))
) -> Response:
    await checked_form(request, web)
    number = parse_id(request_id)
    try:
        async with services(request).db.write() as tx:
            await actions.approve(tx, acting_staff(web), number)
    except Forbidden as error:
        return await _detail(request, web, request_id, status=403, error=error.message)
    except Invalid as error:
        return await _detail(request, web, request_id, status=422, error=error.message)
    return back_to(f"/admin/lawful/{number}", "approved")


@router.post("/admin/lawful/{request_id}/refuse")
async def lawful_refuse(
    request: Request, request_id: str, web: WebViewer = Depends(staff_page(P.MANAGE_USERS))
) -> Response:
    form = await checked_form(request, web)
    number = parse_id(request_id)
    try:
        async with services(request).db.write() as tx:
            await actions.refuse(tx, acting_staff(web), number, form_text(form, "reason"))
    except Invalid as error:
        return await _detail(request, web, request_id, status=422, error=error.message)
    return back_to(f"/admin/lawful/{number}", "refused")


@router.post("/admin/lawful/{request_id}/package")
async def lawful_package(
    request: Request, request_id: str, web: WebViewer = Depends(staff_page(P.MANAGE_USERS))
) -> Response:
    await checked_form(request, web)
    number = parse_id(request_id)
    found = services(request)
    try:
        await disclose(found.db, found.settings, acting_staff(web), number)
    except Invalid as error:
        return await _detail(request, web, request_id, status=422, error=error.message)
    return back_to(f"/admin/lawful/{number}", "packaged")


@router.get("/admin/lawful/{request_id}/package")
async def lawful_download(
    request: Request, request_id: str, web: WebViewer = Depends(staff_page(P.MANAGE_USERS))
) -> Response:
    number = parse_id(request_id)
    found = services(request)
    async with found.db.read() as conn:
        item = await actions.show(conn, acting_staff(web), number)
    path = await asyncio.to_thread(package_path, found.settings, item)
    if path is None:
        raise NotFound("This request has no package.")
    async with found.db.write() as tx:
        await actions.downloaded(tx, acting_staff(web), number)
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"lawful-request-{number}.zip",
        headers={"Cache-Control": "private, no-store"},
    )
