"""The staff page for custom emoji (``/admin/emoji``: list, upload, delete;
``manage_custom_emojis``), through the same domain actions as ``roost emoji``.
The staff area's permission checks are roost/web/pages/staff.py's."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from roost.domain.audit.chain import record
from roost.domain.emojis import actions as emoji_actions
from roost.domain.emojis.queries import all_emojis
from roost.domain.roles.permissions import key
from roost.errors import Invalid, NotFound
from roost.web.csrf import checked_form
from roost.web.pages.staff import P, acting_staff, back_to, form_text, staff_page, staff_render
from roost.web.viewer import WebViewer, services

router = APIRouter(include_in_schema=False)


async def _emoji_page(
    request: Request, web: WebViewer, *, status: int = 200, error: str = ""
) -> Response:
    async with services(request).db.read() as conn:
        found = await all_emojis(conn)
    return staff_render(
        request, web, "staff/emoji.html", "Custom emoji", "/admin/emoji",
        status=status, error=error, emojis=found, max_bytes=emoji_actions.MAX_BYTES,
    )  # fmt: skip


@router.get("/admin/emoji")
async def emoji_page(
    request: Request, web: WebViewer = Depends(staff_page(P.MANAGE_CUSTOM_EMOJIS))
) -> Response:
    return await _emoji_page(request, web)


_FORM_OVERHEAD = 16 * 1024  # the form's other fields and multipart framing


@router.post("/admin/emoji")
async def add_emoji(
    request: Request, web: WebViewer = Depends(staff_page(P.MANAGE_CUSTOM_EMOJIS))
) -> Response:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > emoji_actions.MAX_BYTES + _FORM_OVERHEAD:
        # Refused before the body is read: an emoji is small.
        return await _emoji_page(
            request, web, status=413,
            error=f"The image is larger than {emoji_actions.MAX_BYTES // 1024} KiB.",
        )  # fmt: skip
    try:
        return await _add_emoji(request, web)
    finally:
        await (await request.form()).close()  # the upload's spooled file, whatever happened


async def _add_emoji(request: Request, web: WebViewer) -> Response:
    form = await checked_form(request, web)
    svc = services(request)
    shortcode = form_text(form, "shortcode").strip().strip(":")
    image = form.get("image")
    try:
        if not isinstance(image, UploadFile):
            raise Invalid("Choose an image file")
        data = await image.read(emoji_actions.MAX_BYTES + 1)
        await emoji_actions.screen(svc.db, svc.settings, data, web.account_id)
        async with svc.db.write() as tx:
            made = await emoji_actions.do_add_emoji(
                tx,
                svc.settings.data_dir,
                shortcode,
                data,
                category=form_text(form, "category").strip() or None,
                visible_in_picker=form_text(form, "visible_in_picker") == "on",
            )
            await record(
                tx,
                action="custom_emoji.create",
                permission=key(P.MANAGE_CUSTOM_EMOJIS),
                by=acting_staff(web),
                subject_type="custom_emoji",
                subject_id=made,
                details={"shortcode": shortcode},
            )
    except Invalid as error:  # Conflict is an Invalid
        return await _emoji_page(request, web, status=422, error=error.message)
    return back_to("/admin/emoji", "emoji-added")


@router.post("/admin/emoji/{shortcode}/delete")
async def remove_emoji(
    request: Request, shortcode: str, web: WebViewer = Depends(staff_page(P.MANAGE_CUSTOM_EMOJIS))
) -> Response:
    await checked_form(request, web)
    if not emoji_actions.SHORTCODE.match(shortcode):
        raise NotFound()
    async with services(request).db.write() as tx:
        await emoji_actions.do_remove_emoji(tx, services(request).settings.data_dir, shortcode)
        await record(
            tx,
            action="custom_emoji.remove",
            permission=key(P.MANAGE_CUSTOM_EMOJIS),
            by=acting_staff(web),
            subject_type="custom_emoji",
            details={"shortcode": shortcode},
        )
    return back_to("/admin/emoji", "emoji-removed")


# Jobs ------------------------------------------------------------------------
