"""Profile and preferences editing on the web (``/settings/profile``,
``/settings/preferences``), through the same account actions as
``PATCH /api/v1/accounts/update_credentials``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from roost.domain.accounts import actions as account_actions
from roost.domain.accounts.queries import user_settings
from roost.domain.media import actions as media_actions
from roost.domain.privacy import check_account
from roost.domain.types import Account
from roost.errors import Invalid, RateLimited, RoostError, Unavailable
from roost.media.store import media_store
from roost.media.upload_size import size_of
from roost.ops.disk import check_upload_space
from roost.web import present
from roost.web.csrf import checked_form
from roost.web.pages.people import noindex
from roost.web.render import render
from roost.web.viewer import WebViewer, services, signed_in

router = APIRouter(include_in_schema=False)

LANGUAGES = ("", "en", "de", "es", "fr", "it", "ja", "nl", "pt", "sv")
MAX_FIELDS = 4
VISIBILITIES = (
    ("public", "Public"),
    ("unlisted", "Unlisted"),
    ("private", "Followers only"),
)
QUOTE_POLICIES = (
    ("public", "Anyone"),
    ("followers", "My followers"),
    ("nobody", "Only me"),
)


async def _profile_page(
    request: Request, web: WebViewer, *, error: str = "", notice: str = "", status: int = 200
) -> Response:
    svc = services(request)
    assert web.account_id is not None
    async with svc.db.read() as conn:
        me = await check_account(conn, web.viewer, web.account_id)
        prefs = await user_settings(conn, web.account_id)
    card = present.account(me.derive(Account.from_row), svc.settings.base_url)
    fields = [(f.name, f.value) for f in card.fields]
    fields += [("", "")] * (MAX_FIELDS - len(fields))
    return render(
        request,
        "app/profile_edit.html",
        viewer=web,
        status=status,
        title="Profile and preferences",
        account=card,
        fields=fields[:MAX_FIELDS],
        prefs=prefs,
        visibilities=VISIBILITIES,
        quote_policies=QUOTE_POLICIES,
        languages=LANGUAGES,
        error=error,
        notice=notice,
        meta=noindex(),
    )


@router.get("/settings/profile")
async def profile_page(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    return await _profile_page(request, web)


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


@router.post("/settings/profile")
async def save_profile(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    svc = services(request)
    settings = svc.settings
    if "multipart/form-data" in request.headers.get("content-type", ""):
        check_upload_space(settings)
        declared = request.headers.get("content-length", "")
        if not declared.isdigit() or int(declared) > 2 * settings.media_max_image_bytes + 65536:
            raise Invalid("The images are larger than this server accepts")
    form = await checked_form(request, web)
    assert web.account_id is not None
    images: dict[str, UploadFile] = {}
    for role in ("avatar", "header"):
        upload = form.get(role)
        if isinstance(upload, UploadFile) and upload.filename and size_of(upload) > 0:
            images[role] = upload
    fields = [
        (_text(form, f"field_name_{n}").strip(), _text(form, f"field_value_{n}").strip())
        for n in range(1, MAX_FIELDS + 1)
    ]
    change = account_actions.ProfileChange(
        display_name=_text(form, "display_name"),
        note=_text(form, "note"),
        locked=bool(_text(form, "locked")),
        bot=bool(_text(form, "bot")),
        fields=[(name, value) for name, value in fields if name or value],
    )
    try:
        async with svc.db.write() as tx:
            await account_actions.do_update_profile(tx, web.account_id, change)
        for role, upload in images.items():
            await media_actions.set_profile_image(
                svc.db,
                media_store(settings),
                settings,
                web.account_id,
                role,
                upload.file,
                size_of(upload),
            )
    except RoostError as error:
        if isinstance(error, (Unavailable, RateLimited)):
            raise
        return await _profile_page(request, web, error=error.message, status=422)
    finally:
        for upload in images.values():
            await upload.close()
    return await _profile_page(request, web, notice="Your profile is saved.")


@router.post("/settings/preferences")
async def save_preferences(request: Request, web: WebViewer = Depends(signed_in)) -> Response:
    form = await checked_form(request, web)
    assert web.account_id is not None
    visibility = _text(form, "default_visibility")
    language = _text(form, "default_language")
    # Absent (an older form): the default stays as it is.
    quote_policy = _text(form, "default_quote_policy") or None
    if (
        visibility not in {v for v, _ in VISIBILITIES}
        or language not in LANGUAGES
        or quote_policy not in {None, *(p for p, _ in QUOTE_POLICIES)}
    ):
        return await _profile_page(request, web, error="Choose from the lists.", status=422)
    change = account_actions.ProfileChange(
        default_visibility=visibility,
        default_sensitive=bool(_text(form, "default_sensitive")),
        default_language=language or None,
        default_quote_policy=quote_policy,
    )
    async with services(request).db.write() as tx:
        await account_actions.do_update_profile(tx, web.account_id, change)
    return await _profile_page(request, web, notice="Your preferences are saved.")
