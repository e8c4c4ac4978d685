"""/admin/warning-presets: the texts staff pick when they warn or act on an
account (Mastodon's warning presets; roost/domain/strikes/presets.py), the
same as ``roost warning-presets``. Page and forms need ``manage_settings``,
as on Mastodon; each change is an audit entry (``via: web``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from roost.domain.roles.permissions import Permission
from roost.domain.strikes import presets
from roost.errors import Invalid
from roost.web.csrf import checked_form
from roost.web.pages.staff import (
    acting_staff,
    back_to,
    form_text,
    parse_id,
    staff_page,
    staff_render,
)
from roost.web.viewer import WebViewer, services

router = APIRouter(include_in_schema=False)

PATH = "/admin/warning-presets"
SETTINGS = Permission.MANAGE_SETTINGS


async def _page(
    request: Request, web: WebViewer, *, status: int = 200, error: str = ""
) -> Response:
    async with services(request).db.read() as conn:
        found = await presets.presets(conn)
    return staff_render(
        request, web, "staff/warning_presets.html", "Warning presets", PATH,
        status=status, error=error, presets=found,
    )  # fmt: skip


@router.get("/admin/warning-presets")
async def presets_page(
    request: Request, web: WebViewer = Depends(staff_page(SETTINGS))
) -> Response:
    return await _page(request, web)


@router.post("/admin/warning-presets")
async def add_preset(request: Request, web: WebViewer = Depends(staff_page(SETTINGS))) -> Response:
    form = await checked_form(request, web)
    try:
        async with services(request).db.write() as tx:
            await presets.do_create(
                tx,
                title=form_text(form, "title"),
                text=form_text(form, "text"),
                actor=acting_staff(web),
            )
    except Invalid as error:
        return await _page(request, web, status=422, error=error.message)
    return back_to(PATH, "preset-added")


@router.post("/admin/warning-presets/{preset_id}/delete")
async def remove_preset(
    request: Request, preset_id: str, web: WebViewer = Depends(staff_page(SETTINGS))
) -> Response:
    await checked_form(request, web)
    number = parse_id(preset_id)
    async with services(request).db.write() as tx:
        await presets.do_remove(tx, number, actor=acting_staff(web))
    return back_to(PATH, "preset-removed")
